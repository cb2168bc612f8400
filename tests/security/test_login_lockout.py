"""Password guessing is stopped by django-axes: after AXES_FAILURE_LIMIT wrong
passwords for one username from one address, that pair is locked for
AXES_COOLOFF_TIME, with a page that says so (HTTP 429)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services

PASSWORD = "correct horse battery staple"  # tests/conftest.py's PASSWORD


def _login(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _logged_in_as(client) -> str | None:
    response = client.get(reverse("home"))
    return response.context["user"].username if response.status_code == 200 else None


def _fail(client, username: str, times: int, **extra):
    response = None
    for _ in range(times):
        response = _login(client, username, "not the password", **extra)
    return response


def _minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def test_the_limit_and_cooloff_are_sane():
    # A typo or two never locks anyone out, and the lock is not forever.
    assert 3 <= settings.AXES_FAILURE_LIMIT <= 20
    assert timedelta(minutes=1) <= settings.AXES_COOLOFF_TIME <= timedelta(days=1)
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_wrong_passwords_below_the_limit_just_fail(client, alice):
    response = _fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200
    assert b"didn't match" in response.content
    _login(client, "alice", PASSWORD)
    assert _logged_in_as(client) == "alice"


def test_n_wrong_passwords_lock_the_account_with_a_clear_page(client, alice):
    response = _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert f"locked for {_minutes()} minutes" in page
    assert "Traceback" not in page


def test_the_right_password_is_refused_while_locked(client, alice):
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    response = _login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert _logged_in_as(client) is None


def test_the_admin_login_is_locked_too(client, alice):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            reverse("admin:login"), {"username": "alice", "password": "not the password"}
        )
    assert response.status_code == 429
    response = client.post(reverse("admin:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert _logged_in_as(client) is None


def test_a_lock_on_one_username_does_not_lock_another_user(client, alice, bob):
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    # Same browser, same address: bob is not alice.
    _login(client, "bob", PASSWORD)
    assert _logged_in_as(client) == "bob"


def test_a_lock_from_one_address_does_not_lock_the_user_elsewhere(client, alice):
    # Someone guessing alice's password can't lock alice herself out.
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="203.0.113.9")
    assert _login(client, "alice", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    _login(client, "alice", PASSWORD, REMOTE_ADDR="198.51.100.20")
    assert _logged_in_as(client) == "alice"


def test_a_success_resets_the_count(client, alice):
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    _login(client, "alice", PASSWORD)
    assert _logged_in_as(client) == "alice"
    client.post(reverse("logout"))
    # Without the reset, one more failure would lock.
    response = _fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200
    _login(client, "alice", PASSWORD)
    assert _logged_in_as(client) == "alice"


def test_the_lockout_expires_after_the_cooloff(client, alice):
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert _login(client, "alice", PASSWORD).status_code == 429
    # Travel in time: the last failure happened one cooloff (and a second) ago.
    past = AccessAttempt.objects.get(username="alice").attempt_time - (
        settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    )
    AccessAttempt.objects.filter(username="alice").update(attempt_time=past)
    _login(client, "alice", PASSWORD)
    assert _logged_in_as(client) == "alice"


def test_the_lockout_does_not_expire_a_second_early(client, alice):
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    past = AccessAttempt.objects.get(username="alice").attempt_time - (
        settings.AXES_COOLOFF_TIME - timedelta(seconds=30)
    )
    AccessAttempt.objects.filter(username="alice").update(attempt_time=past)
    assert _login(client, "alice", PASSWORD).status_code == 429


@pytest.mark.parametrize(
    "command", [("axes_reset",), ("axes_reset_username", "alice")], ids=lambda c: c[0]
)
def test_an_admin_lifts_a_lock_with_manage_py(client, alice, command):
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    call_command(*command)
    _login(client, "alice", PASSWORD)
    assert _logged_in_as(client) == "alice"


def test_the_wrong_password_is_not_stored(client, alice):
    _login(client, "alice", "hunter2-my-other-password")
    attempt = AccessAttempt.objects.get(username="alice")
    assert "hunter2" not in attempt.post_data


def test_the_lockout_page_answers_json_to_scripts(client, alice):
    response = _fail(
        client, "alice", settings.AXES_FAILURE_LIMIT, HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    assert response.status_code == 429
    assert response.json()["failure_limit"] == settings.AXES_FAILURE_LIMIT


# --- the client's address behind a reverse proxy ------------------------------------


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, alice):
    # A guesser can't dodge the lock by sending a new X-Forwarded-For each time.
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = _login(client, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert response.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "127.0.0.1"


def test_behind_one_proxy_the_address_the_proxy_saw_counts(client, alice, settings):
    settings.TASTEBASE_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    # The guesser's own claim (left) is ignored; the proxy appended the real address.
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = _login(
            client, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9", **proxy
        )
    assert response.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.9"
    # alice, from her own address through the same proxy, is not locked.
    _login(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.20", **proxy)
    assert _logged_in_as(client) == "alice"


def test_behind_two_proxies_the_outer_proxys_entry_counts(client, alice, settings):
    settings.TASTEBASE_TRUSTED_PROXIES = 2
    _login(
        client, "alice", "wrong",
        HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.9, 10.0.0.1", REMOTE_ADDR="10.0.0.2",
    )  # fmt: skip
    assert AccessAttempt.objects.get().ip_address == "203.0.113.9"


def test_a_request_that_skipped_the_proxy_counts_by_its_own_address(client, alice, settings):
    settings.TASTEBASE_TRUSTED_PROXIES = 1
    _login(client, "alice", "wrong", REMOTE_ADDR="198.51.100.7")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"


# --- other ways in still work ---------------------------------------------------------


def test_api_tokens_work_with_the_lockout_backend(alice, team):
    _, secret = token_services.token_create(user=alice, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/me/").json()["username"] == "alice"


def test_signup_still_logs_the_new_user_in(client, db):
    response = client.post(
        reverse("signup"),
        {
            "username": "dora",
            "email": "dora@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, response.content
    assert _logged_in_as(client) == "dora"
