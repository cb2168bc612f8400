"""The weights registry: one JSON file recording which model weights this install has.

`manage.py register_weights DIR` checks a local folder and writes what it found here;
the diffusion backend and the OpenCLIP encoder read it when their settings don't name
a file themselves. The path is the TASTEBASE_WEIGHTS_REGISTRY setting (by default
VAR_DIR/weights.json); machines that share it (a shared volume) share the weights list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def registry_path() -> Path:
    from django.conf import settings

    return Path(settings.TASTEBASE_WEIGHTS_REGISTRY)


def read_registry(path: Path | str | None = None) -> dict[str, Any]:
    """The registry's sections ({} when there is none, or it can't be read)."""
    if path is None:
        from django.conf import settings

        if not settings.configured:
            return {}
        path = registry_path()
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_registry(sections: dict[str, Any], path: Path | str | None = None) -> Path:
    """Merge `sections` into the registry, atomically: a reader never sees half a file."""
    path = Path(path) if path is not None else registry_path()
    registry = read_registry(path)
    registry.update(sections)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(registry, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path
