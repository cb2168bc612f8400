"""Every API endpoint against every persona: the pages' rules, in JSON.

For each endpoint the personas go from least to most trusted: anonymous and a revoked
token get 401, an outsider 404 (the object is not visible: same as the pages), a
member whose role is too low 403, and the first persona with the role needed
succeeds. Writes stop there, so each success happens once, on unchanged data; reads
check every allowed persona.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generation import rendering as generation_rendering
from generation import services as generation_services
from generation.models import Generation
from moodboards import services as board_services
from moodboards.models import Board, BoardImage, Membership
from moodboards.samples import sample_jpeg
from taste import services as taste_services
from taste.models import TasteProfile

from .conftest import PERSONAS, QuickRenderer

ANY, VIEW, EDIT, OWN = "any", "viewer", "editor", "owner"
RANK = {"charlie": 0, "carol": 1, "bob": 2, "alice": 3}
NEED = {ANY: 0, VIEW: 1, EDIT: 2, OWN: 3}

# (id, method, path, role needed, body, success status, fixtures the path needs)
ENDPOINTS = [
    ("me", "get", "/api/me/", ANY, None, 200, ()),
    ("teams", "get", "/api/teams/", ANY, None, 200, ()),
    ("team-create", "post", "/api/teams/", ANY, {"name": "Night shift"}, 201, ()),
    ("team", "get", "/api/teams/{team}/", VIEW, None, 200, ()),
    ("members", "get", "/api/teams/{team}/members/", VIEW, None, 200, ()),
    ("member-invite", "post", "/api/teams/{team}/members/", OWN,
     {"identifier": "erin", "role": "viewer"}, 202, ("erin",)),
    # Addressed to charlie, the first persona tried: only the invited user may answer.
    ("invitations", "get", "/api/invitations/", ANY, None, 200, ()),
    ("invitation-accept", "post", "/api/invitations/{invitation}/accept/", ANY, None, 200,
     ("charlie_invitation",)),
    ("invitation-decline", "post", "/api/invitations/{invitation}/decline/", ANY, None, 200,
     ("charlie_invitation",)),
    ("member-role", "patch", "/api/teams/{team}/members/{dave_membership}/", OWN,
     {"role": "editor"}, 200, ("dave",)),
    ("member-remove", "delete", "/api/teams/{team}/members/{dave_membership}/", OWN,
     None, 204, ("dave",)),
    ("boards", "get", "/api/boards/", ANY, None, 200, ()),
    ("board-create", "post", "/api/boards/", EDIT, {"team": "{team}", "title": "Spring"}, 201, ()),
    ("board", "get", "/api/boards/{board}/", VIEW, None, 200, ()),
    ("board-update", "patch", "/api/boards/{board}/", EDIT, {"title": "Renamed"}, 200, ()),
    ("board-delete", "delete", "/api/boards/{board}/", OWN, None, 204, ()),
    ("images", "get", "/api/boards/{board}/images/", VIEW, None, 200, ()),
    ("upload", "post", "/api/boards/{board}/images/", EDIT, "files", 200, ()),
    ("reorder", "post", "/api/boards/{board}/reorder/", EDIT, {"order": ["{image}"]}, 204, ()),
    ("image", "get", "/api/boards/{board}/images/{image}/", VIEW, None, 200, ()),
    ("image-update", "patch", "/api/boards/{board}/images/{image}/", EDIT,
     {"caption": "lovely"}, 200, ()),
    ("image-delete", "delete", "/api/boards/{board}/images/{image}/", EDIT, None, 204, ()),
    ("image-file", "get", "/api/boards/{board}/images/{image}/thumb/", VIEW, None, 200, ()),
    ("analyses", "get", "/api/boards/{board}/analyses/", VIEW, None, 200, ()),
    ("analysis-start", "post", "/api/boards/{board}/analyses/", EDIT, {}, 202, ()),
    ("analysis", "get", "/api/analyses/{analysis}/", VIEW, None, 200, ("analysis",)),
    ("profiles", "get", "/api/boards/{board}/profiles/", VIEW, None, 200, ()),
    ("profile", "get", "/api/boards/{board}/profiles/{version}/", VIEW, None, 200,
     ("small_profile",)),
    ("export-cube", "get", "/api/boards/{board}/profiles/{version}/exports/look.cube", VIEW,
     None, 200, ("small_profile",)),
    ("export-ase", "get", "/api/boards/{board}/profiles/{version}/exports/palette.ase", VIEW,
     None, 200, ("small_profile",)),
    ("search-similar", "get", "/api/search/similar/?image={image}", VIEW, None, 200, ()),
    ("search-keyword", "get", "/api/search/keyword/?q=grainy", ANY, None, 200, ()),
    ("search-colour", "get", "/api/search/colour/?hex=808080", ANY, None, 200, ()),
    ("profile-ref", "get", "/api/profiles/{code}/", VIEW, None, 200, ("small_profile",)),
    ("profile-rank", "post", "/api/profiles/{profile}/rank/", VIEW, {"images": ["{image}"]},
     200, ("small_profile",)),
    ("profile-rank-files", "post", "/api/profiles/{code}/rank/", VIEW, "files", 200,
     ("small_profile",)),
    ("profile-more", "get", "/api/profiles/{code}/more/?cluster=0", VIEW, None, 200,
     ("small_profile",)),
    ("profile-off-taste", "get", "/api/profiles/{profile}/off-taste/", VIEW, None, 200,
     ("small_profile",)),
    ("profile-steer", "post", "/api/profiles/{code}/steer/", EDIT, {"pin": ["film grain"]},
     201, ("small_profile",)),
    ("image-tags", "get", "/api/boards/{board}/images/{image}/tags/", VIEW, None, 200, ()),
    ("image-tag-add", "post", "/api/boards/{board}/images/{image}/tags/", EDIT,
     {"term": "hero shot"}, 201, ()),
    ("image-tag-remove", "delete", "/api/boards/{board}/images/{image}/tags/", EDIT,
     {"term": "hero shot"}, 200, ()),
    ("generation-create-by-code", "post", "/api/generations/", EDIT,
     {"ingredients": [{"profile_code": "{code}"}], "content_images": ["{image}"], "count": 1},
     202, ("small_profile",)),
    ("generations", "get", "/api/generations/", ANY, None, 200, ()),
    ("generation-create", "post", "/api/generations/", EDIT,
     {"ingredients": [{"profile": "{profile}"}], "content_images": ["{image}"], "count": 1},
     202, ("small_profile",)),
    ("generation", "get", "/api/generations/{generation}/", VIEW, None, 200,
     ("finished_generation",)),
    ("generation-delete", "delete", "/api/generations/{generation}/", EDIT, None, 204,
     ("finished_generation",)),
    ("generation-rerun", "post", "/api/generations/{generation}/rerun/", EDIT, None, 202,
     ("finished_generation",)),
    ("output-file", "get", "/api/generations/{generation}/outputs/0/", VIEW, None, 200,
     ("finished_generation",)),
    ("output-upscale", "post", "/api/generations/{generation}/outputs/0/upscale/", EDIT, None,
     202, ("finished_generation",)),
]  # fmt: skip


# One team, board, photo, profile and finished generation for the whole module
# (tests/conftest.py: module_studio); each test's writes are rolled back before the next.
@pytest.fixture
def team(studio_team):
    return studio_team


@pytest.fixture
def board(studio_board):
    return studio_board


@pytest.fixture
def image(studio_image):
    return studio_image


@pytest.fixture(scope="module")
def module_runs(module_studio, builders):
    """The profile and the finished one-image run the matrix's paths need, made once."""

    def build():
        from taste import services as taste_services

        # On a second board of the team: the first must stay deletable by its owner.
        alice = builders.persona("alice")
        board = builders.studio_board(team_id=module_studio["team"], title="Runs")
        builders.fill(board, alice, ("mono_contrast", "warm_film"), 3)
        analysis = taste_services.analysis_start(board=board, user=alice)
        profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
        generation = generation_services.generation_create(
            user=alice, ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
            contents=[BoardImage.objects.get(pk=module_studio["image"])], count=1,
        )  # fmt: skip
        generation_rendering.generation_run(
            generation_id=generation.pk, renderer_factory=QuickRenderer
        )
        return {"profile": profile.pk, "generation": generation.pk}

    yield from builders.module_data(build)


@pytest.fixture
def small_profile(module_runs):
    return TasteProfile.objects.get(pk=module_runs["profile"])


@pytest.fixture
def finished_generation(module_runs):
    return Generation.objects.get(pk=module_runs["generation"])


def _context(request, needs) -> dict:
    board = request.getfixturevalue("board")
    image = request.getfixturevalue("image")
    ctx = {"team": board.team_id, "board": board.pk, "image": image.pk}
    if "erin" in needs:
        request.getfixturevalue("make_user")("erin")
    if "charlie_invitation" in needs:
        request.getfixturevalue("charlie")
        invitation = board_services.team_invite(
            team=board.team, identifier="charlie", role="viewer"
        )
        ctx["invitation"] = invitation.pk
    if "dave" in needs:
        dave = request.getfixturevalue("dave")
        ctx["dave_membership"] = Membership.objects.get(user=dave, team=board.team).pk
    if "analysis" in needs:
        ctx["analysis"] = taste_services.analysis_start(board=board, user=board.created_by).pk
    if "small_profile" in needs or "finished_generation" in needs:
        profile = request.getfixturevalue("small_profile")
        ctx.update(
            profile=profile.pk, code=profile.code, version=profile.version,
            board=profile.board_id,
        )  # fmt: skip
    if "finished_generation" in needs:
        ctx["generation"] = request.getfixturevalue("finished_generation").pk
    return ctx


def _fill(value, ctx):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ctx[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ctx) for v in value]
    return value


def _call(client, method, path, body):
    if body == "files":
        upload = SimpleUploadedFile("rocket.jpg", sample_jpeg("rocket"), "image/jpeg")
        return client.post(path, {"files": [upload]}, format="multipart")
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


def _expected(persona: str, need: str) -> tuple[int | None, str | None]:
    if persona == "anonymous":
        return 401, "not_authenticated"
    if persona == "revoked":
        return 401, "authentication_failed"
    if RANK[persona] >= NEED[need]:
        return None, None  # allowed
    if RANK[persona] == 0:
        return 404, "not_found"
    return 403, "permission_denied"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
# Asked for here, not through request.getfixturevalue: module data must be made before
# a test's own transaction begins, or that test's rollback would take it away.
@pytest.mark.usefixtures("module_runs")
def test_access_matrix(endpoint, request, api_as, team):
    _, method, path, need, body, ok_status, needs = endpoint
    ctx = _context(request, needs)
    path, body = path.format(**ctx), _fill(body, ctx)
    boards, images = Board.objects.count(), BoardImage.objects.count()
    for persona in PERSONAS:
        response = _call(api_as(persona), method, path, body)
        status, code = _expected(persona, need)
        if status is None:
            assert response.status_code == ok_status, (persona, response.content[:400])
            if method != "get":
                return  # one success per write, on data nobody changed before
            continue
        assert response.status_code == status, (persona, response.content[:400])
        assert response.json()["error"]["code"] == code, persona
        assert response.json()["error"]["message"]
        # A refused write changes nothing.
        assert (Board.objects.count(), BoardImage.objects.count()) == (boards, images)
    assert method == "get", "no persona was allowed"


def test_every_api_operation_is_in_the_matrix(alice_api):
    """A new endpoint without access tests fails here."""
    schema = alice_api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = {(m, p) for p, item in schema["paths"].items() for m in item}
    tested = {
        (m, p.replace("{team}", "{team_id}").replace("{board}", "{board_id}"))
        for _, m, p, *_ in ENDPOINTS
    }
    normalised = set()
    for method, path in tested:
        path = (
            path.split("?")[0]
            .replace("/api/profiles/{profile}/", "/api/profiles/{ref}/")
            .replace("/api/profiles/{code}/", "/api/profiles/{ref}/")
            .replace("{image}", "{image_id}")
            .replace("{dave_membership}", "{membership_id}")
            .replace("{analysis}", "{analysis_id}")
            .replace("{generation}", "{generation_id}")
            .replace("{invitation}", "{invitation_id}")
            .replace("/thumb/", "/{kind}/")
            .replace("/outputs/0/", "/outputs/{index}/")
            .replace("exports/look.cube", "exports/{name}")
            .replace("exports/palette.ase", "exports/{name}")
        )
        normalised.add((method, path))
    assert operations - normalised == set()
