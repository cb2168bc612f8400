"""The taste profile as a typed document: what a TasteProfile version holds.

Pure Python + numpy, no Django. `taste.profile.build_profile` makes one, the model stores
`to_dict()` as JSON and hands it back as `TasteProfile.document`. Other apps read a
profile only through this document and its small methods that return numpy (style
vectors, centroids) or plain text (prompt terms), never by digging into the JSON.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

PROFILE_VERSION = 1


@dataclass
class Evidence:
    measurement: str  # a Descriptors field, or "clip_similarity"
    value: float  # board (or cluster) median
    typical: float  # a typical photograph's value (or the vocabulary mean similarity)
    rule: str  # e.g. "< 3"
    images: list[str]  # keys of images that carry it (up to EVIDENCE_IMAGES)
    share: float  # fraction of the images that carry it


@dataclass
class Keyword:
    term: str
    facet: str
    score: float  # 0-1
    source: str  # "descriptors" or "clip"
    evidence: list[Evidence]


@dataclass
class Avoid:
    term: str
    facet: str
    why: str
    because_of: str  # the held keyword whose opposite this is


@dataclass
class PaletteColour:
    hex: str
    name: str
    share: float
    lab: list[float]


@dataclass
class Cluster:
    index: int
    label: str  # a short name built from its top keywords
    weight: float  # share of the board's images
    members: list[str]
    representatives: list[str]  # 4-6 keys closest to the centroid
    keywords: list[Keyword]
    palette: list[PaletteColour]
    style_vector: list[float]  # raw mean Magenta vector (100 floats) for the transformer
    centroid: list[float]  # mean embedding in the encoder's space
    coherence: float
    is_outlier_group: bool = False
    # The medium its images share ("photograph", "pixel art", ...; "" when mixed or not
    # measured): generation's `auto` backend grades photographs and stylizes the rest.
    medium: str = ""


@dataclass
class Tone:
    lab_mean: list[float]
    lab_std: list[float]
    l_quantiles: dict[str, float]  # p5, p25, p50, p75, p95


@dataclass
class MapPoint:
    key: str
    x: float
    y: float
    cluster: int  # -1 for outliers


@dataclass
class TasteProfileData:
    version: int
    encoder_id: str
    n_images: int
    clusters: list[Cluster]
    outliers: list[str]
    keywords: list[Keyword]
    avoids: list[Avoid]
    palette: list[PaletteColour]
    tone: Tone
    summary: str
    map: list[MapPoint]
    coherence: float
    method: str
    extra: dict[str, Any] = field(default_factory=dict)
    medium: str = ""  # the board's dominant medium, as on Cluster.medium
    # The recovered colour grades (taste.grading.ProfileGrade.to_dict(): the board's, per
    # sub-style and per image, plus grain); {} on versions made before grade recovery.
    grade: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TasteProfileData:
        """The document stored as JSON. Fields added in later versions take their
        defaults on older rows; keys this code does not know are ignored."""
        clusters = [
            _build(
                Cluster,
                c,
                keywords=[_keyword(k) for k in c.get("keywords", [])],
                palette=[_build(PaletteColour, p) for p in c.get("palette", [])],
            )
            for c in data["clusters"]
        ]
        return _build(
            cls,
            data,
            clusters=clusters,
            outliers=list(data.get("outliers", [])),
            keywords=[_keyword(k) for k in data.get("keywords", [])],
            avoids=[_build(Avoid, a) for a in data.get("avoids", [])],
            palette=[_build(PaletteColour, p) for p in data.get("palette", [])],
            tone=_build(Tone, data["tone"]),
            map=[_build(MapPoint, m) for m in data.get("map", [])],
            extra=dict(data.get("extra", {})),
            grade=dict(data.get("grade") or {}),
        )

    # --- what other apps read --------------------------------------------------------

    def has_sub_style(self, index: int) -> bool:
        return 0 <= index < len(self.clusters)

    def sub_styles(self, cluster: int | None = None) -> list[SubStyle]:
        """The sub-styles a recipe draws on, with their share of it (summing to 1):
        one chosen sub-style alone, or every sub-style in proportion to its share of
        the board."""
        if cluster is not None:
            if not self.has_sub_style(cluster):
                raise IndexError(f"the profile has no sub-style {cluster + 1}")
            chosen = [(self.clusters[cluster], 1.0)]
        else:
            total = sum(c.weight for c in self.clusters) or 1.0
            chosen = [(c, c.weight / total) for c in self.clusters]
        return [
            SubStyle(
                index=c.index,
                label=c.label,
                weight=c.weight,
                share=share,
                style_vector=np.asarray(c.style_vector, dtype=np.float32),
                centroid=np.asarray(c.centroid, dtype=np.float32),
            )
            for c, share in chosen
        ]

    def medium_of(self, cluster: int | None = None) -> str:
        """The medium of one sub-style, or of the board ("" when unknown or mixed)."""
        if cluster is not None and self.has_sub_style(cluster):
            return self.clusters[cluster].medium or self.medium
        return self.medium

    def prompt_terms(self, cluster: int | None = None) -> tuple[list[str], list[str]]:
        """(keyword terms, avoid terms), best first: the chosen sub-style's keywords or
        the board's; avoids are always the board's."""
        source = self.clusters[cluster].keywords if cluster is not None else self.keywords
        return [k.term for k in source], [a.term for a in self.avoids]


@dataclass(frozen=True)
class SubStyle:
    """One sub-style as numbers, for generation: its raw 100-d Magenta style vector
    (what the transformer takes), its centroid in the encoder's space, its share of
    the board (``weight``) and of the recipe's choice (``share``)."""

    index: int
    label: str
    weight: float
    share: float
    style_vector: np.ndarray
    centroid: np.ndarray


def _keyword(d: dict[str, Any]) -> Keyword:
    return _build(Keyword, d, evidence=[_build(Evidence, e) for e in d.get("evidence", [])])


def _build(cls: type, data: dict[str, Any], **overrides: Any) -> Any:
    known = {f.name for f in fields(cls)}
    return cls(**{**{k: v for k, v in data.items() if k in known}, **overrides})


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.floating | float):
        v = float(value)
        return round(v, 6) if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
