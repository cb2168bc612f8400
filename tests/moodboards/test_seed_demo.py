"""The demo: real, attributed pictures on boards the viewer account can see."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from django.core.management import call_command

from moodboards import access
from moodboards.models import Board, Role

DEMO = Path(__file__).resolve().parents[2] / "moodboards" / "demo"


def test_seed_demo_puts_every_board_where_the_viewer_sees_it(db, django_user_model):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # idempotent
    client = django_user_model.objects.get(username="client")
    boards = Board.objects.filter(title__startswith="Demo: ")
    assert boards.count() == 3
    manifest = json.loads((DEMO / "boards.json").read_text())
    for board in boards:
        _, role = access.board_for_user(client, board.pk)
        assert role == Role.VIEWER
        spec = next((b for b in manifest["boards"] if b["title"] == board.title), None)
        if spec:
            assert board.images.count() == len(spec["files"])


def test_every_demo_file_is_attributed_and_small(db):
    manifest = json.loads((DEMO / "boards.json").read_text())
    notice = (DEMO / "DEMO_ASSETS.md").read_text()
    files = [f for b in manifest["boards"] for f in b["files"]]
    assert {b.get("grade", {}).get("package") for b in manifest["boards"]} >= {"obs-studio"}
    for f in files:
        assert (DEMO / f["file"]).is_file()
        assert f["licence"] and f["package"] and f["original"]
        assert f"`{f['file']}`" in notice
    on_disk = {str(p.relative_to(DEMO)) for p in DEMO.rglob("*") if p.suffix in (".jpg", ".png")}
    assert on_disk == {f["file"] for f in files}  # nothing unattributed
    assert sum((DEMO / f["file"]).stat().st_size for f in files) < 4 * 1024 * 1024


def test_the_demo_does_not_use_the_test_scaffolding():
    source = (DEMO.parent / "management" / "commands" / "seed_demo.py").read_text()
    imports = [
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])
    ]
    assert not any(str(m).startswith("testkit") for m in imports)
