"""Production settings, loaded in their own process exactly as a deployment loads
them: `check --deploy` is clean, the dev secret key is refused when asked, and
secrets can come from files."""

from __future__ import annotations

import json

SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
names = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE", "CSRF_COOKIE_HTTPONLY", "X_FRAME_OPTIONS",
    "SECURE_REFERRER_POLICY", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY", "SILENCED_SYSTEM_CHECKS",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def _settings(run_python, env) -> dict:
    result = run_python(SHOW_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_settings(run_manage, production_env):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output, output


def test_check_deploy_fails_without_https(run_manage, production_env):
    # The check above can fail: the same command catches a deployment without TLS.
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(TASTEBASE_HTTPS="0")
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS
    assert "security.W012" in result.stderr  # session cookie not secure


def test_https_turns_on_the_documented_settings(run_python, production_env):
    values = _settings(run_python, production_env())
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_HTTPONLY": False,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "SILENCED_SYSTEM_CHECKS": [],
    }


def test_without_https_cookies_are_not_secure_and_there_is_no_hsts(run_python, production_env):
    # The embedded mode on http://127.0.0.1 must keep working: no redirect, no HSTS.
    values = _settings(run_python, production_env(TASTEBASE_HTTPS=None))
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_an_operator_can_opt_out_of_hsts_preload(run_manage, run_python, production_env):
    env = production_env(DJANGO_HSTS_PRELOAD="0")
    values = _settings(run_python, env)
    assert values["SECURE_HSTS_PRELOAD"] is False
    # Opting out is a decision, not an oversight: check --deploy stays clean.
    assert values["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_required_secret_refuses_the_dev_key(run_manage, production_env):
    result = run_manage(
        "check", env=production_env(DJANGO_SECRET_KEY=None, TASTEBASE_REQUIRE_SECRET="1")
    )
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) in production." in result.stderr


def test_required_secret_refuses_the_dev_key_even_when_set_explicitly(run_manage, production_env):
    env = production_env(
        DJANGO_SECRET_KEY="dev-only-insecure-key-never-use-in-production",
        TASTEBASE_REQUIRE_SECRET="1",
    )
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_required_secret_accepts_a_real_key(run_manage, production_env):
    result = run_manage("check", env=production_env(TASTEBASE_REQUIRE_SECRET="1"))
    assert result.returncode == 0, result.stderr


def test_the_secret_key_can_come_from_a_file(run_python, production_env, tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("k" * 20 + "-from-a-docker-secret-" + "z" * 20 + "\n")
    env = production_env(
        DJANGO_SECRET_KEY=None,
        DJANGO_SECRET_KEY_FILE=str(secret_file),
        TASTEBASE_REQUIRE_SECRET="1",
    )
    result = run_python(
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.SECRET_KEY)",
        env,
    )
    assert result.returncode == 0, result.stderr
    # Read from the file, trailing newline stripped.
    assert result.stdout.strip() == secret_file.read_text().strip()
