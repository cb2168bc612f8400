"""The layout the README promises: imports run one way, config <- moodboards <- taste <-
generation <- api; config imports no app; no product module imports the test scaffolding;
no product module grows past 600 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["config", "moodboards", "taste", "generation", "api"]
PRODUCT = [*ORDER, "ops"]
# ops reads every app through Django's model registry, never by import.
ALLOWED = {app: set(ORDER[: i + 1]) for i, app in enumerate(ORDER)} | {"ops": {"config", "ops"}}
OURS = {*PRODUCT, "testkit", "bench", "tests"}


def _modules() -> list[Path]:
    return [
        path
        for app in PRODUCT
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path):
    app = path.relative_to(ROOT).parts[0]
    wrong = _imported_packages(path) - ALLOWED[app]
    assert not wrong, f"{path.relative_to(ROOT)} ({app}) imports {sorted(wrong)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_product_module_is_over_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{path.relative_to(ROOT)} has {lines} lines: split it along a seam"
