"""The search, rank, steering and tag endpoints: answers, refusals (4xx with a reason)
and no image of another user's library in any answer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from taste.models import TasteProfile

from .conftest import REAL

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _ids(response) -> set[int]:
    return {r["image"] for r in response.json()["results"]}


def test_similar_over_the_api_stays_in_the_users_library(library, alice, charlie):
    theirs = {i.pk for i in library.paintings}
    r = api(alice).get(f"/api/search/similar/?image={library.pixel[0].pk}&limit=200")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["results"] and body["backend"]
    assert not theirs & _ids(r)
    assert all("thumbnail_url" in x and 0 <= x["score"] <= 1 for x in body["results"])
    # charlie asking about alice's image: it does not exist for him.
    assert api(charlie).get(f"/api/search/similar/?image={library.pixel[0].pk}").status_code == 404
    mine = api(charlie).get(f"/api/search/similar/?image={library.paintings[0].pk}&limit=200")
    assert _ids(mine) <= theirs


@pytest.mark.parametrize(
    "query",
    ["", "image=abc", "image=1&limit=0", "image=1&limit=9999", "image=1&min_score=2",
     "image=1&min_score=nan"],
)  # fmt: skip
def test_bad_similar_queries_get_a_400_with_a_reason(library, alice, query):
    r = api(alice).get(f"/api/search/similar/?{query}")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["message"]


def test_keyword_and_colour_search_over_the_api(library, alice, charlie):
    api(alice).post(
        f"/api/boards/{library.board.pk}/images/{library.photos[0].pk}/tags/",
        {"term": "hero shot"},
        format="json",
    )
    r = api(alice).get("/api/search/keyword/?q=hero%20shot")
    assert r.status_code == 200 and _ids(r) == {library.photos[0].pk}
    assert api(charlie).get("/api/search/keyword/?q=hero%20shot").status_code == 400
    r = api(alice).get("/api/search/colour/?hex=zzzzzz")
    assert r.status_code == 400 and r.json()["error"]["message"]
    r = api(alice).get("/api/search/colour/?hex=7f7f7f&delta_e=50")
    assert r.status_code == 200
    assert not {i.pk for i in library.paintings} & _ids(r)


def test_rank_a_board_by_code_with_why(library, alice, charlie):
    code = library.profile.code
    r = api(alice).post(f"/api/profiles/{code}/rank/", {"board": library.lines.pk}, format="json")
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert len(results) == len(library.line_art)
    assert [x["score"] for x in results] == sorted((x["score"] for x in results), reverse=True)
    assert all(x["agree"] or x["disagree"] for x in results)
    # charlie can't rank with alice's profile, nor rank alice's board with his own.
    assert api(charlie).post(f"/api/profiles/{code}/rank/", {"board": library.lines.pk},
                             format="json").status_code == 404  # fmt: skip
    his = TasteProfile.objects.get(board=library.private)
    r = api(charlie).post(f"/api/profiles/{his.code}/rank/", {"board": library.lines.pk},
                          format="json")  # fmt: skip
    assert r.status_code == 404
    r = api(alice).post(f"/api/profiles/{code}/rank/", {}, format="json")
    assert r.status_code == 400
    for ref in ("99999999999999999999999", "tb-000000", "0"):
        assert api(alice).get(f"/api/profiles/{ref}/").status_code == 404
    r = api(alice).get(f"/api/profiles/{code}/")
    assert r.status_code == 200 and r.json()["id"] == library.profile.pk


def test_rank_uploaded_files_stores_nothing(library, alice):
    files = [
        SimpleUploadedFile(p.name, p.read_bytes()) for p in sorted((REAL / "pixel_art").iterdir())
    ][:2] + [
        SimpleUploadedFile(p.name, p.read_bytes()) for p in sorted((REAL / "line_art").iterdir())
    ][:2]
    r = api(alice).post(f"/api/profiles/{library.profile.pk}/rank/", {"files": files},
                        format="multipart")  # fmt: skip
    assert r.status_code == 200, r.content
    names = [x["name"] for x in r.json()["results"]]
    assert len(names) == 4
    bad = SimpleUploadedFile("notes.jpg", b"not an image at all")
    r = api(alice).post(f"/api/profiles/{library.profile.pk}/rank/", {"files": [bad]},
                        format="multipart")  # fmt: skip
    assert r.status_code == 400 and "notes.jpg" in r.content.decode()


def test_steer_over_the_api(library, alice, bob, carol, charlie):
    code = library.profile.code
    body = {
        "negative_boards": [library.lines.pk],
        "pin": ["film grain"],
        "exclude": [str(library.photos[0].pk)],
    }
    assert api(carol).post(f"/api/profiles/{code}/steer/", body, format="json").status_code == 403
    assert api(charlie).post(f"/api/profiles/{code}/steer/", body, format="json").status_code == 404
    # bob (editor) can't steer away from charlie's private board: it does not exist for him.
    r = api(bob).post(f"/api/profiles/{code}/steer/", {"negative_boards": [library.private.pk]},
                      format="json")  # fmt: skip
    assert r.status_code == 404
    r = api(bob).post(f"/api/profiles/{code}/steer/", body, format="json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["version"] == 2 and out["code"] != code
    assert out["changes"]["pinned"] == ["film grain"]
    assert out["steering"]["negatives"]
    for bad in ({"weights": {"1": 5}}, {"pin": ["no such word"]}, {"weights": {"abc": 1}}):
        r = api(bob).post(f"/api/profiles/{code}/steer/", bad, format="json")
        assert r.status_code == 400, (bad, r.content)
    assert TasteProfile.objects.filter(board=library.board).count() == 2
