"""With TASTEBASE_SERVER_TIMING on, every response says how long Django spent on it:
`Server-Timing: app;dur=<ms>`. Off (the default), no response says it."""

from __future__ import annotations

import re
import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from config.middleware import ServerTimingMiddleware

APP_DUR = re.compile(r"(?:^|, )app;dur=(\d+(?:\.\d+)?)$")


@pytest.fixture(autouse=True)
def _server_timing_on(request, settings):
    settings.TASTEBASE_SERVER_TIMING = "off_by_default" not in request.node.name


def test_off_by_default_it_tells_nothing(client, carol, board):
    # Finding 9: the header told a hidden board (a membership query) from a missing one.
    client.force_login(carol)
    for url in (board.get_absolute_url(), reverse("board_detail", args=[board.pk + 1000])):
        assert "Server-Timing" not in client.get(url)


def test_the_setting_is_off_unless_the_environment_turns_it_on():
    from config import settings as project_settings

    assert project_settings.TASTEBASE_SERVER_TIMING is False


def app_ms(response) -> float:
    match = APP_DUR.search(response["Server-Timing"])
    assert match, response["Server-Timing"]
    return float(match.group(1))


def test_pages_errors_json_and_files_carry_it(client, carol, board, image):
    assert app_ms(client.get(reverse("login"))) >= 0  # anonymous page
    client.force_login(carol)
    for url in (
        board.get_absolute_url(),
        reverse("board_grid", args=[board.pk]),
        reverse("image_file", args=[board.pk, image.pk, "thumb"]),  # a streamed file
        reverse("board_detail", args=[board.pk + 1000]),  # 404
        "/api/me/",  # DRF JSON
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        app_ms(response)


def test_it_measures_the_time_spent_in_django():
    def slow_view(request):
        time.sleep(0.05)
        return HttpResponse("ok")

    response = ServerTimingMiddleware(slow_view)(RequestFactory().get("/"))
    assert app_ms(response) >= 50


def test_it_keeps_metrics_a_view_set():
    def view(request):
        response = HttpResponse("ok")
        response["Server-Timing"] = 'db;dur=3.2;desc="queries"'
        return response

    response = ServerTimingMiddleware(view)(RequestFactory().get("/"))
    assert response["Server-Timing"].startswith('db;dur=3.2;desc="queries", app;dur=')
    app_ms(response)
