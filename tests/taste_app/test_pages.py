"""Analyze Board and profile pages: access for every persona, and what the page shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from taste import services
from taste.models import Analysis

VIEW, EDIT = "viewer", "editor"
PERSONAS = {"alice": 3, "bob": 2, "carol": 1, "charlie": None, "anonymous": None}
NEEDS = {VIEW: 1, EDIT: 2}


@pytest.fixture
def profile(board, alice, fill_board):
    fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=6)
    analysis = services.analysis_start(board=board, user=alice)
    return services.analysis_run(analysis_id=analysis.pk).profile


def _urls(board, profile):
    analysis = profile.analyses.first()
    return [
        (reverse("analysis_start", args=[board.pk]), "post", EDIT),
        (reverse("analysis_detail", args=[board.pk, analysis.pk]), "get", VIEW),
        (reverse("analysis_status", args=[board.pk, analysis.pk]), "get", VIEW),
        (reverse("profile_detail", args=[board.pk, profile.version]), "get", VIEW),
        (reverse("profile_json", args=[board.pk, profile.version]), "get", VIEW),
    ]


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_taste_urls_follow_the_board_roles(client, persona, board, profile, request):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    for url, method, need in _urls(board, profile):
        response = getattr(client, method)(url)
        rank = PERSONAS[persona]
        if persona == "anonymous":
            assert response.status_code == 302 and "/login/" in response["Location"], url
        elif rank is None:
            assert response.status_code == 404, url
        elif rank < NEEDS[need]:
            assert response.status_code == 403, url
        else:
            assert response.status_code in (200, 302), url


def test_profile_of_another_board_is_404(client, alice, board, profile):
    from moodboards import services as board_services

    other = board_services.board_create(team=board.team, user=alice, title="Other")
    client.force_login(alice)
    assert (
        client.get(reverse("profile_detail", args=[other.pk, profile.version])).status_code == 404
    )


def test_profile_page_shows_every_part(client, carol, board, profile):
    client.force_login(carol)
    page = client.get(profile.get_absolute_url()).content.decode()
    data = profile.data
    assert data["summary"][:60] in page.replace("&#x27;", "'")
    for colour in data["palette"]:
        assert colour["hex"] in page and colour["name"] in page
    for kw in data["keywords"]:
        assert kw["term"] in page
    for avoid in data["avoids"]:
        assert avoid["term"] in page
    for cluster in data["clusters"]:
        thumb = reverse("image_file", args=[board.pk, int(cluster["representatives"][0]), "thumb"])
        assert thumb in page
    assert page.count('class="pt"') == profile.image_count  # one map point per image
    assert "Copy as prompt" in page and "Copy as negative prompt" in page
    assert "Magenta style" in page and "OpenCLIP" in page  # which encoders are active
    assert "Analyze again" not in page  # carol is a viewer


def test_board_page_offers_analyze_to_editors_only(client, bob, carol, board, profile):
    client.force_login(bob)
    page = client.get(board.get_absolute_url()).content.decode()
    assert "Analyze Board" in page and profile.get_absolute_url() in page
    client.force_login(carol)
    page = client.get(board.get_absolute_url()).content.decode()
    assert "Analyze Board" not in page and profile.get_absolute_url() in page


def test_profile_json_has_the_documented_shape(client, bob, board, profile):
    client.force_login(bob)
    data = client.get(reverse("profile_json", args=[board.pk, profile.version])).json()
    assert {"clusters", "keywords", "avoids", "palette", "summary", "map"} <= set(data)
    names = set(profile.images[k]["name"] for k in profile.images)
    for cluster in data["clusters"]:
        assert {"weight", "images", "keywords"} <= set(cluster)
        assert set(cluster["images"]) <= names
    for kw in data["keywords"]:
        assert {"term", "facet", "score", "evidence"} <= set(kw)
    for colour in data["palette"]:
        assert {"hex", "name", "share"} <= set(colour)


def test_analyze_button_on_an_empty_board_explains(client, bob, board):
    client.force_login(bob)
    response = client.post(reverse("analysis_start", args=[board.pk]), follow=True)
    assert "The board is empty" in response.content.decode()
    assert not Analysis.objects.exists()


def test_status_reports_progress(client, bob, board, fill_board):
    fill_board(board, bob, per_look=2)
    client.force_login(bob)
    response = client.post(reverse("analysis_start", args=[board.pk]))
    analysis = Analysis.objects.get()
    assert response["Location"] == analysis.get_absolute_url()
    status = client.get(reverse("analysis_status", args=[board.pk, analysis.pk])).json()
    assert status["status"] == "queued" and status["percent"] == 0
    services.analysis_run(analysis_id=analysis.pk)
    status = client.get(reverse("analysis_status", args=[board.pk, analysis.pk])).json()
    assert status["status"] == "done" and status["percent"] == 100
    assert status["profile_url"] == analysis.board.profiles.get().get_absolute_url()


def test_analyzing_an_unchanged_board_says_no_new_version(client, bob, board, profile):
    client.force_login(bob)
    client.post(reverse("analysis_start", args=[board.pk]))
    again = Analysis.objects.exclude(profile=profile).first() or Analysis.objects.latest("created")
    services.analysis_run(analysis_id=again.pk)
    page = client.get(
        reverse("analysis_detail", args=[board.pk, again.pk]), follow=True
    ).content.decode()
    assert "no new version was made" in page
    assert board.profiles.count() == 1


def test_the_map_of_a_large_board_draws_a_sample_that_keeps_every_group(
    client, carol, board, profile, monkeypatch
):
    """A 10,000-image board would be 10,000 SVG links: the page draws at most
    MAP_POINTS_SHOWN (shrunk here), always the representatives and outliers, and says so."""
    from taste import selectors

    monkeypatch.setattr(selectors, "MAP_POINTS_SHOWN", 5)
    client.force_login(carol)
    html = client.get(reverse("profile_detail", args=[board.pk, profile.version])).content.decode()
    n = len(profile.data["map"])
    shown = selectors.map_points_shown(profile.data)
    assert html.count('class="pt"') == len(shown) == 5
    assert f"Showing 5 of {n} images" in html
    keys = {p["key"] for p in shown}
    first_reps = {c["representatives"][0] for c in profile.data["clusters"]}
    assert first_reps <= keys
    assert {p["cluster"] for p in shown} == {p["cluster"] for p in profile.data["map"]}


def test_top_keywords_lead_with_the_medium_by_the_profiles_own_rank():
    """The page's top keywords and prompt follow keyword_rank (score x priority), as the
    summary does: "3D render" held by 80 % of a board leads "blown highlights" at 100 %
    (ordered by raw score it came 12th on real render boards and fell off the top 8)."""
    from taste import selectors
    from taste.document import Keyword

    kws = [
        Keyword(term=t, facet="tone", score=s, source="descriptors", evidence=[])
        for t, s in [("blown highlights", 1.0), ("3D render", 0.8), ("limited palette", 0.9)]
    ]
    assert selectors.ranked_terms(kws) == ["3D render", "blown highlights", "limited palette"]
