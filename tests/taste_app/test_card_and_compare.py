"""The taste card as PNG and PDF, and two versions compared side by side."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from taste import services


@pytest.fixture
def two_versions(board, alice, profile, add_image):
    """v1 (two looks), then v2 with two more photographs."""
    add_image(board, alice, "coffee")
    add_image(board, alice, "astronaut")
    analysis = services.analysis_start(board=board, user=alice)
    return profile, services.analysis_run(analysis_id=analysis.pk).profile


def test_the_taste_card_downloads_as_png_and_pdf(client, carol, board, profile):
    client.force_login(carol)
    png = client.get(reverse("profile_card", args=[board.pk, profile.version, "taste-card.png"]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png["Content-Disposition"].startswith("attachment")
    picture = Image.open(io.BytesIO(png.content))
    assert picture.size == (1600, 1000)
    # The card shows the pictures: far from a flat page of text on one colour.
    assert len(set(picture.convert("RGB").resize((80, 50)).getdata())) > 500
    pdf = client.get(reverse("profile_card", args=[board.pk, profile.version, "taste-card.pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    missing = reverse("profile_card", args=[board.pk, profile.version, "taste-card.gif"])
    assert client.get(missing).status_code == 404


def test_the_profile_page_leads_with_the_card(client, carol, board, profile):
    client.force_login(carol)
    page = client.get(profile.get_absolute_url()).content.decode()
    assert 'class="taste-card"' in page
    assert reverse("profile_card", args=[board.pk, profile.version, "taste-card.png"]) in page
    assert 'style="' not in page  # colours are SVG attributes: the CSP allows no inline style
    assert "Compare with" not in page  # only one version


def test_compare_says_what_was_added_removed_and_changed(client, carol, board, two_versions):
    first, second = two_versions
    client.force_login(carol)
    url = reverse("profile_compare", args=[board.pk, second.version])
    page = client.get(url).content.decode()
    assert "v1 and v2 side by side" in page
    assert "+2" in page and "coffee.jpg" in page and "astronaut.jpg" in page
    diff_terms = {k["term"] for k in second.data["keywords"]} ^ {
        k["term"] for k in first.data["keywords"]
    }
    for term in diff_terms:
        assert term in page
    for colour in second.data["palette"]:
        assert colour["hex"] in page or colour["name"] in page
    # From the profile page, and either way round.
    assert url in client.get(second.get_absolute_url()).content.decode()
    other = client.get(reverse("profile_compare", args=[board.pk, first.version]) + "?with=2")
    assert "v1 and v2 side by side" in other.content.decode()


def test_a_first_version_has_nothing_to_compare(client, bob, board, profile):
    client.force_login(bob)
    response = client.get(reverse("profile_compare", args=[board.pk, profile.version]), follow=True)
    assert "nothing to compare" in response.content.decode()


def test_compare_follows_the_board_roles(client, charlie, board, profile):
    client.force_login(charlie)
    assert client.get(reverse("profile_compare", args=[board.pk, 1])).status_code == 404
    card = reverse("profile_card", args=[board.pk, 1, "taste-card.png"])
    assert client.get(card).status_code == 404


def test_a_finished_analysis_lands_through_its_page(client, bob, board, profile):
    """The status says where to go when done: the analysis page, which shows the run's
    notes (such as "no new version was made") on the profile it redirects to."""
    client.force_login(bob)
    client.post(reverse("analysis_start", args=[board.pk]))
    again = board.analyses.exclude(profile=profile).first() or board.analyses.latest("created")
    services.analysis_run(analysis_id=again.pk)
    status = client.get(reverse("analysis_status", args=[board.pk, again.pk])).json()
    assert status["done_url"] == again.get_absolute_url()
    page = client.get(status["done_url"], follow=True).content.decode()
    assert "no new version was made" in page
