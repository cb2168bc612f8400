"""Findings 2-5: every request's memory and CPU bounded before work starts, and every
bad number a 4xx with the reason, never a 500, and never a stored row that breaks a page.

2. POST /generate/ read every named image into memory before the "at most 16" check.
3. POST /boards/<id>/reorder/ was quadratic, uncapped, and 500'd on 1e400 or deep JSON.
4. Every upload was decoded in full, with no budget per request; the page upload had no
   rate limit.
5. weight=inf was stored (and broke /api/generations/ for the whole team); cluster=abc,
   count=inf, seed=1e400, an unknown preview sub-style and deep JSON each gave a 500.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.fields.files import FieldFile
from django.test import TestCase
from django.urls import reverse

from generation import services as generation_services
from generation.models import Generation, Ingredient
from moodboards.samples import sample_jpeg
from tests.fuzz import strategies as fz

# --- 2. memory of POST /generate/ ------------------------------------------------------------


@pytest.fixture
def count_reads(monkeypatch):
    """How many stored files a request opens."""
    opened = []
    original = FieldFile.open

    def counting(self, mode="rb"):
        opened.append(self.name)
        return original(self, mode)

    monkeypatch.setattr(FieldFile, "open", counting)
    return opened


def _recipe(profile, **extra):
    return {"profile_0": profile.pk, "weight_0": "1", "strength": "0.8", "count": "1", **extra}


def test_too_many_content_images_are_refused_before_one_is_read(
    client, bob, profile, image, count_reads
):
    client.force_login(bob)
    data = _recipe(profile, content_ids=[image.pk] * 60)
    response = client.post(reverse("generation_new"), data, follow=True)
    assert "Use at most 16 content images (60 were sent)" in response.content.decode()
    assert count_reads == []  # was: 60 reads of the image, then the refusal
    assert not Generation.objects.exists()


def test_too_many_uploaded_contents_are_refused_before_one_is_read(bob, profile, monkeypatch):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.files.uploadedfile import InMemoryUploadedFile
    from django.test import RequestFactory

    from generation import views

    files = [SimpleUploadedFile(f"c{i}.jpg", sample_jpeg("coffee")) for i in range(17)]
    request = RequestFactory().post(
        reverse("generation_new"), {**_recipe(profile), "content_files": files}
    )
    request.user, request.session = bob, SessionStore()
    request._messages = FallbackStorage(request)
    request.FILES  # noqa: B018 (Django parses the upload: not a read by our code)
    reads = []
    monkeypatch.setattr(
        InMemoryUploadedFile,
        "read",
        property(lambda self: reads.append(self.name) or self.file.read),
    )
    response = views.generation_new(request)
    assert response.status_code == 400  # the form comes back filled in, with the reason
    assert "Use at most 16 content images (17 were sent)." in [m.message for m in request._messages]
    assert reads == []  # was: every file read into memory, then the refusal


def test_content_pixels_have_a_budget_read_from_headers(client, bob, profile, image, settings):
    settings.TASTEBASE_GENERATE_MAX_REQUEST_PIXELS = 300_000  # the coffee photo is 240 000
    client.force_login(bob)
    upload = SimpleUploadedFile("extra.jpg", sample_jpeg("rocket"))
    response = client.post(
        reverse("generation_new"),
        {**_recipe(profile), "content_ids": [image.pk], "content_files": [upload]},
        follow=True,
    )
    assert "a run takes up to 0.3 MP" in response.content.decode()
    assert not Generation.objects.exists()


def test_a_form_with_a_thousand_fields_is_refused(client, bob, profile, image):
    client.force_login(bob)
    response = client.post(
        reverse("generation_new"), _recipe(profile, content_ids=[image.pk] * 999)
    )
    assert response.status_code == 400  # Django's TooManyFieldsSent: the cap is 300


# --- 3. reorder ------------------------------------------------------------------------------


def _reorder(client, board, body: str):
    return client.post(
        reverse("board_reorder", args=[board.pk]), body, content_type="application/json"
    )


def test_a_reorder_list_longer_than_the_cap_is_refused(client, bob, board, image):
    client.force_login(bob)
    response = _reorder(client, board, json.dumps({"order": list(range(1, 10_002))}))
    assert response.status_code == 400
    assert "at most 10000" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        '{"order": [1e400]}',
        '{"order": [NaN]}',
        '{"order": [1.5]}',
        '{"order": ["x"]}',
        '{"order": [99999999999999999999999]}',
        '{"order": 5}',
        "[" * 50_000 + "]" * 50_000,
        '{"order": ' + "[" * 50 + "]" * 50 + "}",
        "\xff\xfe",
    ],
    ids=["1e400", "NaN", "float", "text", "huge", "not-a-list", "deep", "deep-in-order", "bytes"],
)
def test_bad_reorder_bodies_are_400s_that_change_nothing(client, bob, board, image, body):
    client.force_login(bob)
    before = list(board.images.values_list("pk", "position"))
    response = _reorder(client, board, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert list(board.images.values_list("pk", "position")) == before


def test_reorder_is_a_few_queries_whatever_the_list(
    client, bob, board, add_image, alice, django_assert_max_num_queries
):
    images = [add_image(board, alice, name) for name in ("coffee", "rocket", "astronaut")]
    client.force_login(bob)
    wanted = [images[2].pk, images[0].pk, *range(10**6, 10**6 + 9_000)]
    with django_assert_max_num_queries(12):
        assert _reorder(client, board, json.dumps({"order": wanted})).status_code == 200
    assert list(board.images.order_by("position").values_list("pk", flat=True)) == [
        images[2].pk,
        images[0].pk,
        images[1].pk,
    ]


# --- 4. uploads ------------------------------------------------------------------------------


def _upload(client, board, files):
    return client.post(reverse("board_upload", args=[board.pk]), {"files": files})


def test_an_upload_request_has_a_pixel_budget(client, bob, board, settings):
    settings.TASTEBASE_MAX_REQUEST_PIXELS = 300_000  # one 600×400 photo fits, not two
    client.force_login(bob)
    files = [
        SimpleUploadedFile("coffee.jpg", sample_jpeg("coffee")),
        SimpleUploadedFile("rocket.jpg", sample_jpeg("rocket")),
    ]
    results = _upload(client, board, files).json()["results"]
    assert [r["status"] for r in results] == ["added", "rejected"]
    assert "went over 0.3 megapixels in one request" in results[1]["message"]
    assert board.images.count() == 1


def test_a_zip_counts_against_the_same_budget(client, bob, board, settings):
    settings.TASTEBASE_MAX_REQUEST_PIXELS = 300_000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in ("coffee", "rocket", "astronaut"):
            archive.writestr(f"{name}.jpg", sample_jpeg(name))
    client.force_login(bob)
    results = _upload(client, board, [SimpleUploadedFile("refs.zip", buf.getvalue())]).json()
    assert [r["status"] for r in results["results"]] == ["added", "rejected", "rejected"]


def test_the_page_upload_is_throttled_with_the_apis_budget(client, bob, board, settings):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    cache.clear()
    settings.TASTEBASE_API_RATES = {"token": "1000/min", "uploads": "2/min"}
    client.force_login(bob)
    first = _upload(client, board, [SimpleUploadedFile("a.jpg", sample_jpeg("coffee"))])
    assert first.status_code == 200
    api = APIClient()
    api.force_authenticate(bob)
    api_upload = api.post(
        f"/api/boards/{board.pk}/images/",
        {"files": [SimpleUploadedFile("b.jpg", sample_jpeg("rocket"))]},
        format="multipart",
    )
    assert api_upload.status_code == 200
    third = _upload(client, board, [SimpleUploadedFile("c.jpg", sample_jpeg("astronaut"))])
    assert third.status_code == 429
    assert int(third["Retry-After"]) > 0
    assert "Too many uploads" in third.json()["error"]
    assert board.images.count() == 2
    cache.clear()


def test_inspecting_an_upload_keeps_its_full_size_and_a_stable_hash():
    """inspect_image now decodes JPEGs at a reduced DCT scale and hashes a shrunk copy:
    the stored size is still the picture's, and the hash still finds the same picture."""
    from PIL import Image

    from moodboards import imaging

    data = sample_jpeg("astronaut")
    info = imaging.inspect_image(data, max_pixels=10**8)
    assert (info.width, info.height) == (512, 512)
    png = io.BytesIO()
    Image.open(io.BytesIO(data)).save(png, "PNG")  # the same picture, decoded in full
    again = imaging.inspect_image(png.getvalue(), max_pixels=10**8)
    assert imaging.phash_distance(info.phash, again.phash) <= 4


# --- 5. poisoned rows and 500s -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("weight_0", "inf", "Weight: use a finite number"),
        ("weight_0", "nan", "Weight: use a finite number"),
        ("weight_0", "1e400", "Weight: use a finite number"),
        ("weight_0", "-1", "Weight: use a number from 0 to 1000"),
        ("cluster_0", "abc", "Sub-style: “abc” is not a number"),
        ("cluster_0", "99", "has no sub-style 99"),
        ("count", "inf", "Batch: use a finite number"),
        ("count", "nan", "Batch: use a finite number"),
        ("count", "2.5", "Batch: use a whole number"),
        ("seed", "1e400", "Seed: use a finite number"),
        ("seed", "99999999999", "Seed: use a number from 0 to 2147483647"),
        ("strength", "nan", "Strength: use a finite number"),
        ("cohesion", "-inf", "Cohesion: use a finite number"),
        ("team", "abc", None),  # not an id: not found
    ],
)
def test_bad_numbers_on_the_generate_form_say_why_and_store_nothing(
    client, bob, profile, image, field, value, reason
):
    client.force_login(bob)
    data = {**_recipe(profile), "content_ids": [image.pk], field: value}
    response = client.post(reverse("generation_new"), data, follow=True)
    if reason is None:
        assert response.status_code == 404
    else:
        # The form comes back as it was sent, with the reason, and a 400.
        assert response.status_code == 400
        assert reason in response.content.decode()
    assert not Generation.objects.exists() and not Ingredient.objects.exists()


def _preview(client, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(reverse("generation_preview"), data, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        {"cluster": 99},
        {"cluster": "abc"},
        {"weight": 1e308 * 10},  # json.dumps writes Infinity
        {"weight": "NaN"},
        {"strength": "1e400"},
        {"strength": 10**400},  # found by the page fuzzer: a message tried float(10**400)
        {"weight": -(10**30)},
    ],
    ids=[
        "cluster-99",
        "cluster-abc",
        "weight-inf",
        "weight-nan",
        "strength-1e400",
        "strength-10**400",
        "weight-huge-int",
    ],
)
def test_bad_preview_inputs_are_400s_with_the_reason(client, bob, profile, image, body):
    client.force_login(bob)
    row = {"profile": profile.pk, "cluster": "all", "weight": 1.0}
    payload = {"content": image.pk, "strength": 0.8, "ingredients": [row]}
    if "strength" in body:
        payload["strength"] = body["strength"]
    else:
        row.update(body)
    response = _preview(client, payload)
    assert response.status_code == 400, response.content
    assert response.json()["error"]


def test_deep_json_on_preview_is_a_400(client, bob):
    client.force_login(bob)
    response = _preview(client, '{"ingredients": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert response.status_code == 400
    assert "nested" in response.json()["error"]


def test_a_stored_non_finite_number_cannot_break_the_api_list(alice, team, profile, image):
    """Rows saved before the checks: served as null, and repaired by the data migration."""
    from django.apps import apps
    from rest_framework.test import APIClient

    generation = generation_services.generation_create(
        user=alice,
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        contents=[image],
        count=1,
    )
    Ingredient.objects.filter(generation=generation).update(weight=math.inf)
    api = APIClient()
    api.force_authenticate(alice)
    response = api.get("/api/generations/")
    assert response.status_code == 200  # was: 500 for everyone in the team
    [row] = response.json()["results"]
    assert row["ingredients"][0]["weight"] is None

    importlib.import_module("generation.migrations.0004_repair_non_finite").repair(apps, None)
    assert Ingredient.objects.get(generation=generation).weight == 1.0


def test_editors_delete_generations_viewers_cannot(client, alice, bob, carol, profile, image):
    from django.core.files.storage import default_storage

    generation = generation_services.generation_create(
        user=alice,
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        contents=[image],
        count=1,
    )
    stored = generation.contents.get().file.name
    client.force_login(carol)
    url = reverse("generation_delete", args=[generation.pk])
    assert client.post(url).status_code == 403
    client.force_login(bob)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert not Generation.objects.filter(pk=generation.pk).exists()
    assert not default_storage.exists(stored)


def test_api_delete_of_a_generation(alice, profile, image):
    from rest_framework.test import APIClient

    generation = generation_services.generation_create(
        user=alice,
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        contents=[image],
        count=1,
    )
    api = APIClient()
    api.force_authenticate(alice)
    assert api.delete(f"/api/generations/{generation.pk}/").status_code == 204
    assert not Generation.objects.exists()


@pytest.mark.parametrize("body", ['{"ingredients": [{"profile": 1, "weight": NaN}]}'])
def test_the_api_refuses_nan_and_infinity(alice, body):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    before = fz.row_counts()
    response = api.post("/api/generations/", body, content_type="application/json")
    assert response.status_code == 400
    assert fz.row_counts() == before
