"""No secret is committed: every text file git knows about (tracked, or new and not
ignored) is scanned for private keys, cloud and service tokens, our own API tokens,
credentials in URLs and hard-coded passwords/secret keys/tokens.

Fake values that are fine to commit are allowed one by one below, each with its
reason and the only places it may appear.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RULES = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key\W{0,5}[=:]\s*[\"']?([A-Za-z0-9/+]{40})\b"
    ),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}"),
    "Tastebase API token": re.compile(r"\btb_[A-Za-z0-9_\-]{40,}"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s/:@'\"]+:[^\s/:@'\"]+)@"),
    "hard-coded secret": re.compile(
        r"(?i)\b[\w.-]*(?:secret|passw(?:or)?d|passphrase|token|api_?key|private_?key|credential)"
        r"[\w.-]*[\"']?\s*(?::|=|=>)\s*[bfr]?[\"']([^\"'\s]{6,}[^\"']*)[\"']"
    ),
}

# value -> (the paths it may appear in, why it is not a secret)
ALLOWED = {
    "dev-only-insecure-key-never-use-in-production": (
        ("config/settings.py", "tests/security/"),
        "the embedded mode's dev key; TASTEBASE_REQUIRE_SECRET refuses it",
    ),
    "correct horse battery staple": (("tests/",), "the test personas' password"),
    "tastebase-demo": (
        ("moodboards/management/commands/seed_demo.py", "README.md", "docs/", "bin/run"),
        "the documented demo account of `make run`",
    ),
    "a-long-passphrase-9": (("tests/moodboards/",), "a signup form filled in by a test"),
    "not-used-here-1": (("tests/faults/",), "a user of a fault test's throw-away database"),
    "moto-secret-key": (("tests/ops/",), "moto's fake S3 credentials"),
    "bench-pass-123": (("bench/",), "a user of the benchmarks' throw-away database"),
    "load-run-Pa55word!": (("bench/",), "a user of the load test's throw-away database"),
    "pw-alice-1": (("bench/fuzz.py",), "a user of the fuzz run's throw-away database"),
    "user:secret": (
        ("tests/moodboards/test_url_import_and_zip.py",),
        "a URL with credentials that add-by-URL must refuse",
    ),
    "pw-bob-1": (("bench/fuzz.py",), "a user of the fuzz run's throw-away database"),
    "pw-dave-1": (("bench/fuzz.py",), "a user of the fuzz run's throw-away database"),
    "pw-erin-1": (("bench/fuzz.py",), "a user of the fuzz run's throw-away database"),
}
# Passwords in URL examples that are obviously not one: user:pass, tastebase:…, $VAR.
URL_PASSWORD_PLACEHOLDERS = re.compile(r"pass|password|…|\.\.\.|\*+|<[^>]*>|\$\{?\w+\}?|x+")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    value: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) < 12 else self.value[:6] + "…"
        return f"{self.path}:{self.line}: {self.rule} ({shown!r})"


def _is_placeholder(value: str) -> bool:
    # Not values: code (env("X")), templates ({{ var }}, <token>, $VAR), rate limits
    # ("token": "600/min") and fetch()'s `credentials: "same-origin"`.
    return bool(
        re.fullmatch(r"[\w.]*\(.*|\{\{.*|<[^>]*>|\$\{?\w+\}?|\*+|x+|\.\.\.|…|\d+/\w+", value)
        or value in {"same-origin", "include", "omit"}
        or value.startswith(("settings.", "os.environ", "env(", "{", "$", "<", "%"))
    )


def scan_text(path: str, text: str) -> list[Finding]:
    findings = []
    for number, line in enumerate(text.splitlines(), 1):
        for rule, pattern in RULES.items():
            for match in pattern.finditer(line):
                value = match.group(1) if pattern.groups else match.group(0)
                if rule == "hard-coded secret" and _is_placeholder(value):
                    continue
                if rule == "credentials in a URL" and URL_PASSWORD_PLACEHOLDERS.fullmatch(
                    value.split(":", 1)[1]
                ):
                    continue
                allowed = ALLOWED.get(value)
                if allowed and path.startswith(allowed[0]):
                    continue
                findings.append(Finding(path, number, rule, value))
    return findings


def _repo_files() -> list[str]:
    def git(*args: str) -> list[str]:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        return [line for line in out.splitlines() if line]

    # Tracked files, and new files not yet committed (but not ignored ones).
    return sorted(set(git("ls-files") + git("ls-files", "--others", "--exclude-standard")))


def _text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None  # deleted in the work tree, not yet in git
    if b"\0" in data[:8192] or len(data) > 2_000_000:
        return None  # binary or data file
    return data.decode("utf-8", errors="replace")


def test_the_scanner_finds_each_kind_of_secret():
    # Built from pieces so this file itself holds no secret-looking string.
    samples = [
        ("private key", "-----BEGIN RSA " + "PRIVATE KEY-----"),
        ("AWS access key id", "key = 'AKIA" + "Q7XK2M4PZ8RT5WN3'"),
        (
            "AWS secret access key",
            "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY3Ab9Xq2Lm4",
        ),
        ("GitHub token", "ghp_" + "a1B2" * 9),
        ("Slack token", "xoxb-" + "1234567890-abcdef"),
        ("Tastebase API token", "tb_" + "Zx9_" * 11),
        ("credentials in a URL", "postgres://" + "admin:S3cr3tPw@db.internal/tastebase"),
        ("hard-coded secret", "SECRET_KEY = " + "'q8#v!2kx9-unique-production-key'"),
    ]
    for rule, text in samples:
        assert rule in {f.rule for f in scan_text("config/settings.py", text)}, rule
    # A real-looking password in settings, and the dev key outside its file, are found too.
    assert scan_text("config/prod.py", 'DB_PASSWORD = "' + 'hunter2hunter2"')
    assert scan_text(
        "api/x.py", 'k = {"secret": "' + 'dev-only-insecure-key-never-use-in-production"}'
    )


def test_placeholders_and_code_are_not_secrets():
    clean = [
        'SECRET_KEY = env("DJANGO_SECRET_KEY", _INSECURE_DEV_KEY)',
        "password = form.cleaned_data['password1']",
        'token = "{{ token }}"',
        "DATABASE_URL=postgres://user:" + "pass@host:5432/tastebase",
        "DATABASE_URL=postgres://tastebase:" + "…@db:5432/tastebase",
        '"token": "600/min", credentials: "same-origin"',
    ]
    assert not scan_text("README.md", "\n".join(clean))


def test_no_secret_in_the_repository():
    files = _repo_files()
    assert len(files) > 100 and "config/settings.py" in files
    findings = []
    for name in files:
        text = _text(ROOT / name)
        if text is not None:
            findings += scan_text(name, text)
    assert not findings, "Possible secrets (allow a fake value in ALLOWED, with its reason):\n" + (
        "\n".join(map(str, findings))
    )
