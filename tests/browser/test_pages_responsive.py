"""Every page at a phone size (390x844) and a desktop size (1440x900), as an editor and as
a viewer: no page scrolls sideways, axe-core finds no serious or critical violation, and
the viewer sees no control their role can't use. Screenshots land in var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from config.celery import app
from generation import rendering
from generation import services as generation_services
from moodboards import services
from taste import services as taste_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def _add(board, user, path: Path):
    result = services.board_add_image(
        board=board, user=user, name=path.name, data=path.read_bytes()
    )
    assert result.status == "added", result
    return result.image_id


@pytest.fixture
def studio(team, alice, bob, carol, make_user):
    """A board of real photographs with two profile versions, a generation, an upscale
    job waiting for a worker and a share link (thumbnails are made inline: eager tasks)."""
    board = services.board_create(
        team=team, user=alice, title="Harbour at dusk", description="Cool shadows, warm lights."
    )
    photos = sorted((REAL / "photo").glob("*.jpg")) + sorted((REAL / "photograph").glob("*.jpg"))
    ids = [_add(board, alice, p) for p in photos[:5]]
    first = taste_services.analysis_run(
        analysis_id=taste_services.analysis_start(board=board, user=alice).pk
    ).profile
    ids += [_add(board, alice, p) for p in photos[5:7]]
    analysis = taste_services.analysis_start(board=board, user=alice)
    second = taste_services.analysis_run(analysis_id=analysis.pk).profile
    image = board.images.get(pk=ids[0])
    generation = generation_services.generation_create(
        user=alice, ingredients=[generation_services.IngredientSpec(second, None, 1.0)],
        contents=[image], count=1, seed=7,
    )  # fmt: skip
    rendering.generation_run(generation_id=generation.pk)
    waiting = services.board_create(team=team, user=alice, title="Night market")
    _add(waiting, alice, photos[-1])
    # Work waiting for a worker: queued on the broker, not run inline.
    app.conf.task_always_eager = False
    try:
        upscale = generation_services.generation_upscale(user=alice, source=image)
        queued = taste_services.analysis_start(board=waiting, user=alice)
    finally:
        app.conf.task_always_eager = True
    services.board_share_enable(board=board)
    board.refresh_from_db()
    admin = make_user("root")
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    return {
        "board": board, "image": image, "first": first, "second": second,
        "analysis": queued, "generation": generation, "upscale": upscale, "team": team,
    }  # fmt: skip


def _pages(s) -> list[tuple[str, str]]:
    board, second = s["board"], s["second"]
    return [
        ("home", reverse("home")),
        ("board", board.get_absolute_url()),
        ("image", s["image"].get_absolute_url()),
        ("team", s["team"].get_absolute_url()),
        ("profile", second.get_absolute_url()),
        ("compare", reverse("profile_compare", args=[board.pk, second.version])),
        ("analysis", s["analysis"].get_absolute_url()),
        ("generate", reverse("generation_new")),
        ("generations", reverse("generation_list")),
        ("generation", s["generation"].get_absolute_url()),
        ("upscale", s["upscale"].get_absolute_url()),
        ("tokens", reverse("api:tokens")),
        ("search-similar", f"{reverse('search')}?similar={s['image'].pk}"),
        ("search-colour", f"{reverse('search')}?colour=%23808080&delta_e=30"),
        ("rank", f"{reverse('profile_rank', args=[board.pk, second.version])}?board={board.pk}"),
    ]


def _check(page, ui, name: str, size: str, problems: list[str]) -> None:
    overflow = ui.sideways_scroll(page)
    if overflow > 0:
        problems.append(f"{name} at {size} scrolls sideways by {overflow}px")
    for v in ui.serious_axe_violations(page):
        problems.append(f"{name} at {size}: axe {v['impact']} {v['id']} ({v['help']}) {v['nodes']}")
    ui.screenshot(page, f"{name}-{size}")


@pytest.mark.parametrize("username", ["bob", "carol"])
def test_no_page_scrolls_sideways_or_fails_axe(new_page, ui, live_server, studio, username):
    problems: list[str] = []
    for size, viewport in (("390", ui.PHONE), ("1440", ui.DESKTOP)):
        page = new_page(viewport)
        ui.log_in(page, live_server, username)
        for name, url in _pages(studio):
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            _check(page, ui, f"{username}-{name}", size, problems)
        if size == "390":
            # The narrow-screen menu: folded, then open, and Log out within reach.
            page.goto(live_server.url + reverse("home"))
            assert page.locator("#menu-toggle").is_visible()
            assert not page.locator("#site-nav").is_visible()
            page.click("#menu-toggle")
            logout = page.get_by_role("button", name="Log out")
            assert logout.is_visible()
            box = logout.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
            _check(page, ui, f"{username}-menu-open", size, problems)
    assert not problems, "\n".join(problems)


def test_public_and_admin_pages_fit_too(new_page, ui, live_server, studio):
    problems: list[str] = []
    for size, viewport in (("390", ui.PHONE), ("1440", ui.DESKTOP)):
        page = new_page(viewport)
        for name, url in (
            ("login", reverse("login")),
            ("signup", reverse("signup")),
            ("shared", reverse("shared_board", args=[studio["board"].share_token])),
        ):
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            _check(page, ui, name, size, problems)
        ui.log_in(page, live_server, "root")
        page.goto(live_server.url + reverse("server_status"))
        _check(page, ui, "status", size, problems)
    assert not problems, "\n".join(problems)


def test_a_viewer_sees_no_control_they_cannot_use(new_page, ui, live_server, studio):
    page = new_page(ui.DESKTOP)
    ui.log_in(page, live_server, "carol")
    board = studio["board"]

    page.goto(live_server.url + board.get_absolute_url())
    assert page.locator(".tile").count() == board.images.count()
    for absent in ("#dropzone", "#url-form", ".tile-tools", ".tile-move", "#analyze-board"):
        assert page.locator(absent).count() == 0, absent
    assert "Analyze Board" not in page.content()
    assert page.locator("#download-zip").is_visible()  # viewers may download

    page.goto(live_server.url + studio["second"].get_absolute_url())
    assert page.get_by_text("Generate with this taste").count() == 0
    assert page.get_by_role("button", name="Analyze again").count() == 0
    assert page.get_by_text("Card as PNG").is_visible()

    page.goto(live_server.url + reverse("generation_new"))
    assert page.locator("#recipe").count() == 0
    assert "You can look, not generate" in page.inner_text("#viewer-note")

    page.goto(live_server.url + studio["generation"].get_absolute_url())
    assert page.get_by_role("button", name="Run again").count() == 0
    assert page.get_by_role("button", name="Upscale ×4").count() == 0
    assert page.get_by_text("Download").first.is_visible()

    page.goto(live_server.url + studio["team"].get_absolute_url())
    assert page.locator("select[name=role]").count() == 0
    assert page.get_by_role("button", name="Invite").count() == 0
    assert page.get_by_role("button", name="Leave").count() == 1  # her own membership
