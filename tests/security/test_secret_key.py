"""Finding 8: the public dev SECRET_KEY signed cookies on a `make run` instance, so anyone
could forge a signed cookie (a flash message here; anything signed, in general).

Now an install without DJANGO_SECRET_KEY makes a random key once, keeps it under its var
dir (0600) and uses it on every start; production (TASTEBASE_REQUIRE_SECRET or
TASTEBASE_HTTPS) still refuses to start without one (tests/security/test_deploy_settings.py).
"""

from __future__ import annotations

import os
import stat

from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory, override_settings
from django.urls import reverse

PUBLIC_DEV_KEY = "dev-only-insecure-key-never-use-in-production"
PRINT_KEY = (
    "import django; from django.conf import settings; django.setup(); print(settings.SECRET_KEY)"
)


def _embedded_env(production_env, var_dir) -> dict[str, str]:
    return production_env(
        DJANGO_SECRET_KEY=None, TASTEBASE_HTTPS=None, TASTEBASE_VAR_DIR=str(var_dir)
    )


def test_an_install_makes_its_own_key_and_keeps_it(run_python, production_env, tmp_path):
    env = _embedded_env(production_env, tmp_path)
    first = run_python(PRINT_KEY, env)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert key != PUBLIC_DEV_KEY and len(key) >= 50
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # The next start (and the worker) uses the same key: sessions survive a restart.
    assert run_python(PRINT_KEY, env).stdout.strip() == key
    # Another install gets another key.
    other = run_python(PRINT_KEY, _embedded_env(production_env, tmp_path / "other"))
    assert other.stdout.strip() not in ("", key)


def test_a_cookie_signed_with_the_public_key_is_refused(client, db):
    assert settings.SECRET_KEY != PUBLIC_DEV_KEY
    forged_text = "Your account is suspended: call +1 555 0100"
    # What anyone who read the source could sign.
    with override_settings(SECRET_KEY=PUBLIC_DEV_KEY):
        storage = CookieStorage(RequestFactory().get("/"))
        value = storage._encode([Message(constants.ERROR, forged_text)])
    client.cookies[CookieStorage.cookie_name] = value
    page = client.get(reverse("login")).content.decode()
    assert forged_text not in page  # was shown: the dev key signed every cookie
