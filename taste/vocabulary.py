"""The keyword vocabulary (data in taste/data/vocabulary.json) and colour naming.

A vocabulary term is either *licensed by measurements* (it has a ``rule`` naming
descriptor fields and thresholds, so the profile can show why it applies) or reachable
only through CLIP zero-shot ranking (no rule). Terms may list ``avoids``: what a board
that carries the term does not want (a muted board avoids "neon").

Rule format: ``{"field": [op, value]}`` with op ``"<"``, ``">"`` or ``"between"``
(value ``[lo, hi]``); several fields are ANDed. Thresholds are soft: an image exactly
at the threshold carries the term half-way, so a board is not flipped by a rounding.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from .calibration import BELIEF_FIELDS, belief_columns
from .descriptors import TYPICAL_SCALE, Descriptors

FACETS = ("colour", "tone", "texture", "composition", "mood")
FACET_LABELS = {
    "colour": "colour",
    "tone": "tone/light",
    "texture": "texture/medium",
    "composition": "composition",
    "mood": "mood",
}
# Width of the soft threshold as a fraction of the field's typical spread.
SOFT_WIDTH = 0.12
# Rules read the descriptor fields and the medium beliefs (taste.calibration).
RULE_FIELDS: tuple[str, ...] = Descriptors.VECTOR_FIELDS + BELIEF_FIELDS
FIELD_SCALE: dict[str, float] = {**TYPICAL_SCALE, **{f: 0.3 for f in BELIEF_FIELDS}}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # "<", ">", "between"
    lo: float
    hi: float

    def membership(self, values: np.ndarray) -> np.ndarray:
        """Soft truth in [0, 1] of this condition for an array of field values."""
        # Soft, but never wider than a quarter of the threshold itself: "colourfulness
        # < 3" must be sharp near zero, "contrast > 80" can be gentler.
        width = SOFT_WIDTH * FIELD_SCALE[self.field]
        edge = self.lo if self.op != "<" else self.hi
        if edge != 0 and math.isfinite(edge):
            width = min(width, 0.25 * abs(edge))
        with np.errstate(over="ignore"):
            above = 1.0 / (1.0 + np.exp(-(values - self.lo) / width))
            below = 1.0 / (1.0 + np.exp((values - self.hi) / width))
        if self.op == ">":
            return above
        if self.op == "<":
            return below
        return np.minimum(above, below)

    def describe(self) -> str:
        if self.op == ">":
            return f"> {self.lo:g}"
        if self.op == "<":
            return f"< {self.hi:g}"
        return f"between {self.lo:g} and {self.hi:g}"


@dataclass(frozen=True)
class Term:
    term: str
    facet: str
    rule: tuple[Condition, ...]
    avoids: tuple[str, ...]
    phrase: str  # how the summary says it ("black-and-white" for "black and white")
    priority: float = 1.0  # <1 for generic terms that should not lead a description
    # Measurements shown as evidence without gating the term (a medium term is decided
    # by the classifier's belief; these say what it saw).
    shows: tuple[str, ...] = ()

    @property
    def licensed(self) -> bool:
        return bool(self.rule)

    def membership(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per-image soft truth: fuzzy AND (minimum) of the rule's conditions."""
        out = None
        for cond in self.rule:
            m = cond.membership(columns[cond.field])
            out = m if out is None else np.minimum(out, m)
        if out is None:
            raise ValueError(f"{self.term!r} has no rule; it is reachable only through CLIP")
        return out


@dataclass(frozen=True)
class Vocabulary:
    terms: tuple[Term, ...]

    @property
    def by_name(self) -> dict[str, Term]:
        return {t.term: t for t in self.terms}

    @property
    def licensed(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.licensed)

    @property
    def names(self) -> list[str]:
        return [t.term for t in self.terms]


def _parse_condition(field: str, spec: Sequence[Any]) -> Condition:
    if field not in RULE_FIELDS:
        raise ValueError(f"vocabulary rule uses unknown descriptor {field!r}")
    op, value = spec
    if op == ">":
        return Condition(field, op, float(value), float("inf"))
    if op == "<":
        return Condition(field, op, float("-inf"), float(value))
    if op == "between":
        lo, hi = value
        return Condition(field, op, float(lo), float(hi))
    raise ValueError(f"unknown rule operator {op!r} for {field!r}")


def _check_field(field: str) -> str:
    if field not in Descriptors.VECTOR_FIELDS:
        raise ValueError(f"vocabulary evidence uses unknown descriptor {field!r}")
    return field


def parse_vocabulary(data: Mapping[str, Any]) -> Vocabulary:
    terms = []
    for raw in data["terms"]:
        if raw["facet"] not in FACETS:
            raise ValueError(f"term {raw['term']!r} has unknown facet {raw['facet']!r}")
        rule = tuple(_parse_condition(f, spec) for f, spec in (raw.get("rule") or {}).items())
        terms.append(
            Term(
                term=raw["term"],
                facet=raw["facet"],
                rule=rule,
                avoids=tuple(raw.get("avoids", ())),
                phrase=raw.get("phrase", raw["term"]),
                priority=float(raw.get("priority", 1.0)),
                shows=tuple(_check_field(f) for f in raw.get("shows", ())),
            )
        )
    return Vocabulary(tuple(terms))


@cache
def load_vocabulary() -> Vocabulary:
    text = (files("taste") / "data" / "vocabulary.json").read_text(encoding="utf-8")
    return parse_vocabulary(json.loads(text))


def descriptor_columns(descriptors: Sequence[Descriptors]) -> dict[str, np.ndarray]:
    """Field name -> (n,) values, the form rules are evaluated on: every descriptor
    field and the per-image medium beliefs."""
    matrix = np.stack([d.as_vector() for d in descriptors]).astype(np.float64)
    columns = {f: matrix[:, i] for i, f in enumerate(Descriptors.VECTOR_FIELDS)}
    columns.update(belief_columns(matrix))
    return columns


# --- colour names -------------------------------------------------------------------


@dataclass(frozen=True)
class ColourName:
    name: str
    hex: str
    delta_e: float  # CIEDE2000 distance from the named colour


def hex_to_rgb(hex_code: str) -> tuple[float, float, float]:
    h = hex_code.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def rgb_to_hex(rgb: Sequence[float]) -> str:
    r, g, b = (round(min(max(c, 0.0), 1.0) * 255) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def lab_to_hex(lab: Sequence[float]) -> str:
    from skimage import color

    rgb = color.lab2rgb(np.asarray(lab, dtype=np.float64).reshape(1, 1, 3))[0, 0]
    return rgb_to_hex(rgb)


def hex_to_lab(hex_code: str) -> np.ndarray:
    from skimage import color

    return color.rgb2lab(np.array(hex_to_rgb(hex_code)).reshape(1, 1, 3))[0, 0]


@cache
def _colour_table() -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    from skimage import color

    data = json.loads((files("taste") / "data" / "colour_names.json").read_text("utf-8"))
    names = tuple(c["name"] for c in data["colours"])
    hexes = tuple(c["hex"] for c in data["colours"])
    rgb = np.array([hex_to_rgb(h) for h in hexes]).reshape(-1, 1, 3)
    return names, hexes, color.rgb2lab(rgb).reshape(-1, 3)


def name_colour(lab: Sequence[float]) -> ColourName:
    """The human name closest to a Lab colour by CIEDE2000."""
    from skimage import color

    names, hexes, table = _colour_table()
    target = np.broadcast_to(np.asarray(lab, dtype=np.float64), table.shape)
    de = color.deltaE_ciede2000(table, target)
    i = int(np.argmin(de))
    return ColourName(names[i], hexes[i], float(de[i]))


def name_hex(hex_code: str) -> ColourName:
    return name_colour(hex_to_lab(hex_code))
