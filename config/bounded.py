"""Reading what a client sends, within bounds, before any work starts.

Every number a form or a JSON body carries is parsed here: finite (no NaN, no
Infinity, no 1e400, which Python reads as Infinity), in its range, an integer where
one is meant, with a message naming the field. JSON bodies are refused when they are
too large or nested too deep, before the decoder (a recursive one) sees them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.core.exceptions import ValidationError

# The largest id any of our databases can hold (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class BadJSON(ValueError):
    """A body that is not the JSON document we accept; the message says why."""


def _num(x: float) -> str:
    """A number as a message shows it: whole numbers in full, huge ones cut short (10**400
    is a valid JSON integer, and too large to become a float)."""
    if isinstance(x, int):
        text = str(x)
        return text if len(text) <= 16 else f"{text[:6]}… ({len(text)} digits)"
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:g}"


def _range(lo: float, hi: float) -> str:
    return f"{_num(lo)} to {_num(hi)}" if math.isfinite(hi) else f"{_num(lo)} or more"


def number(
    value: Any,
    *,
    name: str,
    lo: float,
    hi: float,
    default: float | None = None,
    integer: bool = False,
) -> float | int:
    """A finite number in [lo, hi] from a form field or a JSON value, else ValidationError.

    Empty or missing gives ``default`` (an error when there is none). Booleans are not
    numbers. An integer field accepts "4" and 4.0, not "4.5".
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise ValidationError(f"{name}: a number is required.")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError(f"{name}: send a number, not {type(value).__name__}.")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40:
            raise ValidationError(f"{name}: “{text[:20]}…” is not a number.")
        try:
            parsed = int(text) if integer and re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise ValidationError(f"{name}: “{text}” is not a number.") from None
    else:
        parsed = value
    if isinstance(parsed, float) and not math.isfinite(parsed):
        raise ValidationError(f"{name}: use a finite number from {_range(lo, hi)}.")
    if integer and isinstance(parsed, float):
        if not parsed.is_integer():
            raise ValidationError(f"{name}: use a whole number from {_range(lo, hi)}.")
        parsed = int(parsed)
    if not lo <= parsed <= hi:
        raise ValidationError(f"{name}: use a number from {_range(lo, hi)} (got {_num(parsed)}).")
    return parsed


def object_id(value: Any) -> int | None:
    """An id from a URL, form or JSON field; None for anything no row can have."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        parsed = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{1,19}\s*", value):
        parsed = int(value)
    else:
        return None
    return parsed if 1 <= parsed <= MAX_ID else None


# --- JSON bodies ----------------------------------------------------------------------

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (linear; strings skipped)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(f"The number {text[:20]} is too large.")
    return value


def _no_constant(text: str) -> float:
    raise BadJSON(f"{text} is not a number JSON allows.")


def parse_json(body: bytes, *, max_bytes: int, max_depth: int) -> Any:
    """The document in ``body``, or BadJSON saying what is wrong with it."""
    if len(body) > max_bytes:
        raise BadJSON(f"The request body is over {max_bytes // 1024} KB.")
    if not body.strip():
        return {}
    if json_depth(body) > max_depth:
        raise BadJSON(f"The JSON is nested more than {max_depth} levels deep.")
    try:
        return json.loads(body, parse_float=_finite_float, parse_constant=_no_constant)
    except BadJSON:
        raise
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadJSON(f"The body is not valid JSON ({str(exc)[:80]}).") from None
