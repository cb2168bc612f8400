"""`manage.py generate --profile CODE --user NAME`: a saved (and steered) version by its
code, only for someone who may see it."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from taste.steering import profile_steer

from .conftest import REAL

pytestmark = pytest.mark.django_db


def test_generate_from_a_profile_code(library, alice, charlie, tmp_path, capsys):
    steered = profile_steer(profile=library.profile, user=alice, negative_boards=[library.lines])
    content = sorted((REAL / "photo").iterdir())[0]
    args = ["--content", str(content), "--out", str(tmp_path / "out"), "--strength", "0.6"]
    call_command("generate", "--profile", steered.code, "--user", "alice", *args, "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["profile"]["code"] == steered.code
    assert out["profile"]["version"] == 2
    assert len(out["outputs"]) == 1 and (tmp_path / "out").exists()
    with pytest.raises(CommandError, match="charlie can see"):
        call_command("generate", "--profile", steered.code, "--user", "charlie", *args)
    with pytest.raises(CommandError, match="needs --user"):
        call_command("generate", "--profile", steered.code, *args)
    with pytest.raises(CommandError):
        call_command("generate", "--profile", "tb-000000", "--user", "alice", *args)
