"""The search, rank and steering pages: results a user may see, reasons for bad input
(a 400, never a 500), and nothing from another user's library."""

from __future__ import annotations

import pytest
from django.urls import reverse

from taste.models import TasteProfile

from .conftest import REAL

pytestmark = pytest.mark.django_db


def _names(response) -> str:
    return response.content.decode()


def test_search_page_finds_similar_and_hides_other_libraries(client, library, alice, charlie):
    client.force_login(alice)
    r = client.get(reverse("search"), {"similar": library.pixel[0].pk})
    assert r.status_code == 200
    page = _names(r)
    assert "search-results" in page and library.pixel[1].original_name in page
    for painting in library.paintings:
        assert painting.original_name not in page
    client.force_login(charlie)
    assert client.get(reverse("search"), {"similar": library.pixel[0].pk}).status_code == 404


@pytest.mark.parametrize(
    "query",
    [{"similar": "abc"}, {"similar": "1", "min_score": "7"}, {"colour": "red"},
     {"colour": "#808080", "delta_e": "nan"}, {"q": "zzz not a word"}, {"more": "tb-000000"}],
)  # fmt: skip
def test_bad_searches_say_why(client, library, alice, query):
    client.force_login(alice)
    r = client.get(reverse("search"), query)
    assert r.status_code in (400, 404)
    if r.status_code == 400:
        assert 'role="alert"' in _names(r)


def test_keyword_colour_more_and_off_taste_pages(client, library, alice):
    client.force_login(alice)
    code = library.profile.code
    assert client.get(reverse("search"), {"q": "film grain"}).status_code == 200
    assert client.get(reverse("search"), {"colour": "#7f7f7f", "delta_e": "30"}).status_code == 200
    r = client.get(reverse("search"), {"more": code, "cluster": "0"})
    assert r.status_code == 200 and "More like sub-style 1" in _names(r)
    r = client.get(reverse("search"), {"off": code})
    assert r.status_code == 200 and "Off-taste" in _names(r)


def test_tagging_from_the_search_page(client, library, alice, carol):
    image = library.photos[0]
    url = reverse("image_tag", args=[image.board_id, image.pk])
    client.force_login(carol)  # a viewer can't tag
    assert client.post(url, {"term": "hero"}).status_code == 403
    client.force_login(alice)
    r = client.post(url, {"term": "hero"}, follow=True)
    assert r.status_code == 200 and "hero" in _names(r)
    assert image.tags.filter(term="hero").exists()


def test_rank_page_ranks_a_board_and_uploads(client, library, alice, charlie):
    client.force_login(alice)
    url = reverse("profile_rank", args=[library.board.pk, library.profile.version])
    r = client.get(url, {"board": library.lines.pk})
    assert r.status_code == 200
    page = _names(r)
    assert all(i.original_name in page for i in library.line_art) and "why" in page
    assert client.get(url, {"board": library.private.pk}).status_code == 404  # charlie's
    with (REAL / "line_art" / sorted(p.name for p in (REAL / "line_art").iterdir())[0]).open(
        "rb"
    ) as fh:
        r = client.post(url, {"files": [fh]})
    assert r.status_code == 200 and "Your files" in _names(r)
    r = client.post(url, {})
    assert r.status_code == 400
    client.force_login(charlie)
    assert client.get(url).status_code == 404


def test_steer_from_the_profile_page(client, library, alice, carol):
    profile = library.profile
    url = reverse("profile_steer", args=[library.board.pk, profile.version])
    client.force_login(carol)
    assert client.post(url, {"pin": "film grain"}).status_code == 403
    client.force_login(alice)
    r = client.post(url, {"pin": "film grain"}, follow=True)
    assert r.status_code == 200
    steered = TasteProfile.objects.get(board=library.board, version=2)
    page = _names(r)
    assert steered.code in page and "Pinned" in page and "film grain" in page
    r = client.post(
        reverse("profile_steer", args=[library.board.pk, 2]),
        {"negative_board": library.lines.pk},
        follow=True,
    )
    assert "Steering away from" in _names(r)
    r = client.post(url, {"image": next(iter(profile.images)), "weight": "9"}, follow=True)
    assert "from -2 to 2" in _names(r) or "-2 to 2" in _names(r)
    assert TasteProfile.objects.filter(board=library.board).count() == 3


def test_the_generate_page_takes_a_profile_code(client, library, alice, charlie):
    code = library.profile.code
    client.force_login(alice)
    r = client.get(reverse("generation_new"), {"profile": code})
    assert r.status_code == 200
    assert f'value="{library.profile.pk}" selected>' in _names(r)
    client.force_login(charlie)
    assert client.get(reverse("generation_new"), {"profile": code}).status_code == 404


def test_the_admin_lists_search_vectors_tags_and_codes(client, library, alice, make_user):
    from taste import search, tags

    tags.tag_add(image=library.photos[0], user=alice, term="hero")
    search.similar_to_image(user=alice, image=library.pixel[0], limit=5)  # fills the index
    root = make_user("root")
    root.is_staff = root.is_superuser = True
    root.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(root)
    for name in ("searchvector", "imagetag", "tasteprofile"):
        r = client.get(reverse(f"admin:taste_{name}_changelist"))
        assert r.status_code == 200, name
    assert library.profile.code in _names(
        client.get(reverse("admin:taste_tasteprofile_changelist"))
    )
    assert "hero" in _names(client.get(reverse("admin:taste_imagetag_changelist")))


def test_rank_a_search_result_by_a_profile(client, library, alice, charlie):
    client.force_login(alice)
    r = client.get(reverse("search"), {"similar": library.line_art[0].pk})
    assert r.status_code == 200 and "Rank these results by" in _names(r)
    ids = ",".join(str(i.pk) for i in library.line_art[1:4])
    r = client.get(reverse("rank_results"), {"profile": library.profile.code, "images": ids},
                   follow=True)  # fmt: skip
    assert r.status_code == 200 and "Your search results" in _names(r)
    assert all(i.original_name in _names(r) for i in library.line_art[1:4])
    url = reverse("profile_rank", args=[library.board.pk, library.profile.version])
    assert client.get(url, {"images": "1,x"}).status_code == 400
    # An image of charlie's in the list: not found, nothing ranked.
    assert client.get(url, {"images": str(library.paintings[0].pk)}).status_code == 404


def test_steer_a_taste_away_from_a_search_result(client, library, alice, carol, charlie):
    target = library.line_art[0]
    client.force_login(alice)
    r = client.get(reverse("search"), {"similar": target.pk})
    assert "Steer a taste away from this image" in _names(r)
    body = {"profile": library.profile.code, "negative_image": target.pk}
    client.force_login(carol)  # a viewer
    assert client.post(reverse("profile_steer_by_code"), body).status_code == 403
    client.force_login(charlie)  # can see neither
    assert client.post(reverse("profile_steer_by_code"), body).status_code == 404
    client.force_login(alice)
    r = client.post(reverse("profile_steer_by_code"), body, follow=True)
    steered = TasteProfile.objects.get(board=library.board, version=2)
    assert [n["sha256"] for n in steered.data["extra"]["steering"]["negatives"]] == [target.sha256]
    assert "Steering away from 1 image" in _names(r)
    # charlie's own painting can't be named as a negative reference by alice.
    r = client.post(
        reverse("profile_steer_by_code"),
        {"profile": library.profile.code, "negative_image": library.paintings[0].pk},
    )
    assert r.status_code == 404


def test_a_large_board_steers_an_image_by_its_file_name(client, library, alice, monkeypatch):
    """Over STEER_SELECT_MAX images (shrunk here) the form asks for the file name
    instead of listing every image; a wrong or ambiguous name is refused with why."""
    from taste import views

    monkeypatch.setattr(views, "STEER_SELECT_MAX", 2)
    profile = library.profile
    client.force_login(alice)
    page = client.get(reverse("profile_detail", args=[library.board.pk, profile.version]))
    html = page.content.decode()
    assert 'name="image_name"' in html and '<select name="image">' not in html
    url = reverse("profile_steer", args=[library.board.pk, profile.version])
    key, info = next(iter(profile.images.items()))
    r = client.post(url, {"image_name": "no-such-file.png", "weight": "1"}, follow=True)
    assert "No image of this version is named" in _names(r)
    assert TasteProfile.objects.filter(board=library.board).count() == 1
    r = client.post(url, {"image_name": info["name"].upper(), "weight": "2"}, follow=True)
    steered = TasteProfile.objects.get(board=library.board, version=2)
    assert steered.data["extra"]["steering"]["weights"] == {key: 2.0}
