"""What a script sees: tokens, errors, pagination, filters, ETags, uploads, long work."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from api.models import ApiToken, hash_secret
from generation.models import Generation
from moodboards import services as board_services
from moodboards.models import BoardImage
from moodboards.samples import sample_jpeg
from taste import selectors as taste_selectors
from taste import services as taste_services
from taste.models import Analysis

# --- tokens ------------------------------------------------------------------------------


def test_the_settings_page_shows_a_new_secret_once_and_stores_only_its_hash(client, alice):
    client.force_login(alice)
    response = client.post("/api/tokens/", {"name": "render farm"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("tb_") and secret.encode() in response.content
    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == hash_secret(secret) and secret not in token.prefix + token.key_hash
    page = client.get("/api/tokens/")
    assert secret.encode() not in page.content
    assert b"render farm" in page.content and token.prefix.encode() in page.content


def test_a_revoked_token_stops_working_at_once(client, alice, token_for):
    secret = token_for(alice)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/me/").status_code == 200
    client.force_login(alice)
    token = ApiToken.objects.get(user=alice)
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    response = api.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "This token was revoked.",
    }


def test_nobody_revokes_someone_elses_token(client, alice, bob, token_for):
    token_for(alice)
    token = ApiToken.objects.get(user=alice)
    client.force_login(bob)
    assert client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_keyword_works_and_last_use_is_written_at_most_once_a_minute(alice, token_for):
    secret = token_for(alice)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/me/").json()["username"] == "alice"
    token = ApiToken.objects.get(user=alice)
    first = token.last_used_at
    assert first is not None
    api.get("/api/me/")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/api/me/")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1)


def test_a_wrong_token_gets_401_with_the_error_body(db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer tb_nope")
    response = api.get("/api/boards/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_browser_session_works_but_needs_csrf_for_writes(alice, team):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(alice)
    assert api.get("/api/boards/").status_code == 200
    response = api.post("/api/teams/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_create_api_token_command_prints_a_working_token(alice, capsys):
    from django.core.management import call_command

    call_command("create_api_token", "alice", "cli")
    secret = capsys.readouterr().out.strip()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/me/").json()["username"] == "alice"


# --- errors, pagination, filters ---------------------------------------------------------------


def test_unknown_urls_and_impossible_ids_answer_404_in_json(alice_api):
    for path in ("/api/nothing-here/", "/api/boards/99999999999999999999999/", "/api/boards/-1/"):
        response = alice_api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_validation_errors_name_the_field(alice_api, team):
    response = alice_api.post("/api/boards/", {"team": team.pk, "title": ""}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("title:")
    assert "title" in error["details"]


def test_lists_are_paginated_and_filtered_by_team(alice_api, alice, team):
    personal = board_services.personal_team_for(alice)
    for i in range(3):
        board_services.board_create(team=team, user=alice, title=f"Team {i}")
    board_services.board_create(team=personal, user=alice, title="Mine")
    page = alice_api.get("/api/boards/", {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    only_team = alice_api.get("/api/boards/", {"team": team.pk}).json()
    assert {b["title"] for b in only_team["results"]} == {"Team 0", "Team 1", "Team 2"}
    assert alice_api.get("/api/boards/", {"team": "x"}).status_code == 400


def test_generations_filter_by_board(alice_api, finished_generation, alice, team):
    other = board_services.board_create(team=team, user=alice, title="Other")
    assert alice_api.get("/api/generations/", {"board": other.pk}).json()["count"] == 0
    board = finished_generation.ingredients.first().profile.board_id
    results = alice_api.get("/api/generations/", {"board": board}).json()["results"]
    assert [g["id"] for g in results] == [finished_generation.pk]


# --- rate limits -------------------------------------------------------------------------------


def test_token_calls_are_rate_limited_with_retry_after(alice_api, settings):
    settings.TASTEBASE_API_RATES = {"token": "3/min"}
    statuses = [alice_api.get("/api/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = alice_api.get("/api/me/")
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"


def test_uploads_have_their_own_stricter_limit(api_as, board, settings):
    settings.TASTEBASE_API_RATES = {"token": "100/min", "uploads": "1/min"}
    bob = api_as("bob")
    files = {"files": [SimpleUploadedFile("a.jpg", sample_jpeg("rocket"))]}
    assert bob.post(f"/api/boards/{board.pk}/images/", files, format="multipart").status_code == 200
    files = {"files": [SimpleUploadedFile("b.jpg", sample_jpeg("coffee"))]}
    response = bob.post(f"/api/boards/{board.pk}/images/", files, format="multipart")
    assert response.status_code == 429 and response["Retry-After"]
    assert bob.get(f"/api/boards/{board.pk}/images/").status_code == 200  # reads still work


# --- uploads -------------------------------------------------------------------------------------


def test_upload_gives_a_result_per_file_like_the_page(api_as, board):
    bob = api_as("bob")
    files = [
        SimpleUploadedFile("rocket.jpg", sample_jpeg("rocket")),
        SimpleUploadedFile("again.jpg", sample_jpeg("rocket")),
        SimpleUploadedFile("notes.jpg", b"this is text, not a picture"),
    ]
    body = bob.post(f"/api/boards/{board.pk}/images/", {"files": files}, format="multipart").json()
    assert [r["status"] for r in body["results"]] == ["added", "duplicate", "rejected"]
    assert (body["added"], body["duplicate"], body["rejected"]) == (1, 1, 1)
    assert body["results"][2]["message"]
    assert BoardImage.objects.filter(board=board).count() == 1


def test_upload_without_files_is_a_validation_error(api_as, board):
    response = api_as("bob").post(f"/api/boards/{board.pk}/images/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["files"]


# --- analyses and profiles ------------------------------------------------------------------------


def test_analysis_returns_202_then_polls_to_the_profile(
    api_as, board, alice, fill_board, django_capture_on_commit_callbacks
):
    fill_board(board, alice, looks=("mono_contrast", "warm_film"), per_look=3)
    bob = api_as("bob")
    with django_capture_on_commit_callbacks(execute=True):
        response = bob.post(f"/api/boards/{board.pk}/analyses/", {}, format="json")
    assert response.status_code == 202
    status_url = response.json()["status_url"]
    assert response["Location"] == status_url
    status = bob.get(status_url).json()
    assert status["status"] == "done" and status["percent"] == 100
    profile = bob.get(status["profile_url"])
    assert profile.status_code == 200
    body = profile.json()
    expected = taste_selectors.profile_json(board.profiles.get())
    assert body["clusters"] == expected["clusters"] and body["keywords"] == expected["keywords"]
    assert {r["image_id"] for r in body["image_refs"]} == set(
        board.images.values_list("pk", flat=True)
    )
    again = bob.get(status["profile_url"], HTTP_IF_NONE_MATCH=profile["ETag"])
    assert again.status_code == 304
    assert profile["Last-Modified"]


def test_a_failed_analysis_says_why(api_as, board, image):
    analysis = taste_services.analysis_start(board=board, user=None)
    taste_services.analysis_fail(analysis_id=analysis.pk, reason="The worker ran out of memory.")
    body = api_as("carol").get(f"/api/analyses/{analysis.pk}/").json()
    assert body["status"] == "failed" and body["error"] == "The worker ran out of memory."
    assert body["profile_url"] is None


def test_analysing_an_empty_board_is_a_clear_400(api_as, board):
    response = api_as("bob").post(f"/api/boards/{board.pk}/analyses/", {}, format="json")
    assert response.status_code == 400
    assert "empty" in response.json()["error"]["message"]
    assert not Analysis.objects.exists()


def test_exports_download_a_cube_lut_and_swatches(api_as, small_profile):
    carol = api_as("carol")
    base = f"/api/boards/{small_profile.board_id}/profiles/{small_profile.version}/exports/"
    cube = carol.get(base + "look.cube")
    text = b"".join(cube.streaming_content) if cube.streaming else cube.content
    assert b"LUT_3D_SIZE 33" in text
    assert "attachment" in cube["Content-Disposition"]
    gpl = carol.get(base + "palette.gpl").content
    assert gpl.startswith(b"GIMP Palette")
    assert carol.get(base + "nope.txt").status_code == 404


# --- generations --------------------------------------------------------------------------------


def test_generation_returns_202_then_outputs_with_fidelity_and_a_download(
    api_as, small_profile, image, django_capture_on_commit_callbacks
):
    bob = api_as("bob")
    recipe = {
        "ingredients": [{"profile": small_profile.pk, "weight": 1.0}],
        "content_images": [image.pk],
        "count": 1,
        "strength": 0.9,
        "seed": 7,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = bob.post("/api/generations/", recipe, format="json")
    assert response.status_code == 202, response.content
    status = bob.get(response["Location"]).json()
    assert status["status"] == "done", status
    [output] = status["outputs"]
    assert output["ok"] and output["fidelity"] is not None
    download = bob.get(output["file_url"])
    assert download.status_code == 200 and download["Content-Type"] in ("image/jpeg", "image/png")
    assert Generation.objects.get().created_by.username == "bob"


def test_a_recipe_with_a_profile_you_cannot_see_is_404(api_as, small_profile, image, charlie):
    outsider = api_as("charlie")
    recipe = {"ingredients": [{"profile": small_profile.pk}], "content_images": [image.pk]}
    response = outsider.post("/api/generations/", recipe, format="json")
    assert response.status_code == 404
    assert not Generation.objects.exists()


def test_a_bad_recipe_is_a_400_from_the_service(api_as, small_profile):
    recipe = {"ingredients": [{"profile": small_profile.pk}], "content_images": []}
    response = api_as("bob").post("/api/generations/", recipe, format="json")
    assert response.status_code == 400
    assert "image" in response.json()["error"]["message"]


# --- schema and docs -----------------------------------------------------------------------------


def test_the_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["openapi"].startswith("3.") and "/api/boards/" in body["paths"]
    assert "tokenAuth" in body["components"]["securitySchemes"]
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/redoc/").status_code == 200


def test_image_urls_lead_to_the_files(api_as, board, image):
    carol = api_as("carol")
    body = carol.get(f"/api/boards/{board.pk}/images/{image.pk}/").json()
    assert body["thumbnail_url"].endswith(f"/api/boards/{board.pk}/images/{image.pk}/thumb/")
    response = carol.get(body["thumbnail_url"])
    assert response.status_code == 200 and response["Content-Type"].startswith("image/")
