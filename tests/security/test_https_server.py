"""The production settings served by a real gunicorn behind a (simulated) TLS proxy:
what a browser actually receives over https and over plain http."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long and boring passphrase"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, production_env, run_manage):
    """gunicorn with TASTEBASE_HTTPS=1 on a fresh SQLite database with one user."""
    env = production_env()
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    migrate = run_manage("migrate", "--noinput", env=env, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    create = run_manage(
        "shell", "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user('erin', 'erin@example.com', {PASSWORD!r})",
        env=env,
    )  # fmt: skip
    assert create.returncode == 0, create.stderr
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start")
    assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _request(port: int, method: str, path: str, *, https: bool, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = {"Host": "example.com", **(headers or {})}
    if https:
        # What the TLS-terminating proxy adds (docs/security.md).
        sent["X-Forwarded-Proto"] = "https"
    conn.request(method, path, body=body, headers=sent)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name, raw (with their attributes)."""
    return {
        header.split("=", 1)[0]: header for header in response.headers.get_all("Set-Cookie") or []
    }


def test_plain_http_is_redirected_to_https(server):
    response = _request(server, "GET", "/login/", https=False)
    assert response.status == 301
    assert response.headers["Location"] == "https://example.com/login/"


def test_https_responses_carry_hsts_and_the_safety_headers(server):
    response = _request(server, "GET", "/login/", https=True)
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_cookies_are_secure_and_the_session_cookie_is_http_only(server):
    page = _request(server, "GET", "/login/", https=True)
    csrf = _cookies(page)["csrftoken"]
    assert "; Secure" in csrf and "SameSite=Lax" in csrf
    token = SimpleCookie(page.headers["Set-Cookie"])["csrftoken"].value

    login = _request(
        server, "POST", "/login/", https=True,
        body=urlencode({"username": "erin", "password": PASSWORD, "csrfmiddlewaretoken": token}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
            "Referer": "https://example.com/login/",  # Django checks it over https
        },
    )  # fmt: skip
    assert login.status == 302, login.status
    session = _cookies(login)["sessionid"]
    assert "; Secure" in session
    assert "; HttpOnly" in session
    assert "SameSite=Lax" in session
    # The CSRF cookie must stay readable by the page's fetch() calls.
    assert not re.search(r";\s*HttpOnly", csrf)
