"""Hostile requests to the API's JSON and multipart endpoints, as a real token user.

Property: never a 5xx; every 4xx answers the documented
`{"error": {"code", "message", "details"?}}` body and leaves every table as it was (a
rejected generation leaves no Generation/Ingredient rows, a rejected board no Board…).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodboards.models import BoardImage
from tests.fuzz import strategies as fz


@fz.fuzz_settings(250)
@given(case=fz.api_cases())
def test_fuzzed_requests_never_5xx_and_4xx_change_nothing(alice_api, api_ids, case):
    with fz.hang_guard():
        fz.check_api(alice_api, case, api_ids)


# --- regressions found by the fuzzer ---------------------------------------------------------


@pytest.mark.parametrize("depth", [5_000, 100_000])
@pytest.mark.parametrize("path", ["/api/teams/", "/api/generations/"])
def test_deeply_nested_json_is_a_400_parse_error(alice_api, team, path, depth):
    # Was: RecursionError from the JSON decoder, answered as an HTML 500.
    before = fz.row_counts()
    body = "[" * depth + "]" * depth
    response = alice_api.post(path, body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error" and "nested" in error["message"]
    assert fz.row_counts() == before


# --- limits under fuzzed input ------------------------------------------------------------------


def _post_files(client, url: str, files: list[tuple[str, bytes]]):
    body, content_type = fz.multipart({}, files)
    return client.post(url, body, content_type=content_type)


@fz.fuzz_settings(25)
@given(batches=st.lists(fz.upload_batches(), min_size=2, max_size=4), rate=st.integers(1, 2))
def test_the_upload_rate_limit_holds_whatever_is_sent(alice_api, board, settings, batches, rate):
    from django.core.cache import cache

    settings.TASTEBASE_API_RATES = {"token": "100000/min", "uploads": f"{rate}/min"}
    cache.clear()
    url = f"/api/boards/{board.pk}/images/"
    for sent, files in enumerate(batches):
        before = fz.row_counts()
        response = _post_files(alice_api, url, files)
        if sent < rate:
            assert response.status_code in (200, 400), response.content  # 400: no file left
            continue
        assert response.status_code == 429, response.content
        assert int(response["Retry-After"]) > 0
        assert response.json()["error"]["code"] == "throttled"
        assert fz.row_counts() == before  # a refused upload stores nothing
    assert alice_api.get(url).status_code == 200  # reads are not upload-limited


@fz.fuzz_settings(40)
@given(
    files=st.lists(fz.image_inputs().map(lambda d: ("f.img", d)), min_size=1, max_size=3),
    byte_cap=st.integers(300, 40_000),
    pixel_cap=st.integers(100, 20_000),
)
def test_size_and_pixel_caps_hold_through_the_api(
    alice_api, board, settings, files, byte_cap, pixel_cap
):
    settings.TASTEBASE_MAX_UPLOAD_BYTES = byte_cap
    settings.TASTEBASE_MAX_IMAGE_PIXELS = pixel_cap
    response = _post_files(alice_api, f"/api/boards/{board.pk}/images/", files)
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["results"]) == len(files)
    for (_, data), result in zip(files, body["results"], strict=True):
        if len(data) > byte_cap:
            assert result["status"] == "rejected" and "limit" in result["message"], result
        if result["status"] == "added":
            image = BoardImage.objects.get(pk=result["image_id"])
            assert image.byte_size <= byte_cap
            assert image.width * image.height <= pixel_cap
