"""The profile's words for people: sub-style labels and the summary paragraph."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .document import Avoid, Cluster, Keyword, PaletteColour
from .vocabulary import Vocabulary, load_vocabulary

_NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _phrases(keywords: Sequence[Keyword], vocab: Vocabulary, facet: str, n: int) -> list[str]:
    by_name = vocab.by_name
    out = []
    for k in keywords:
        if k.facet == facet and len(out) < n:
            out.append(by_name[k.term].phrase if k.term in by_name else k.term)
    return out


def cluster_label(keywords: Sequence[Keyword], vocab: Vocabulary | None = None) -> str:
    vocab = vocab or load_vocabulary()
    parts: list[str] = []
    for facet in ("colour", "tone", "texture", "mood"):
        parts += _phrases(keywords, vocab, facet, 1)
        if len(parts) >= 3:
            break
    return ", ".join(parts) if parts else "mixed"


def summary_text(
    *,
    n: int,
    keywords: Sequence[Keyword],
    avoids: Sequence[Avoid],
    palette: Sequence[PaletteColour],
    clusters: Sequence[Cluster],
    outliers: Sequence[str],
    board_coherence: float,
    vocab: Vocabulary,
) -> str:
    # Wording varies with the board (seeded by its keywords) but is reproducible.
    seed = int(hashlib.sha256("|".join(k.term for k in keywords).encode()).hexdigest(), 16)

    def pick(options: Sequence[str], salt: int) -> str:
        return options[(seed >> (salt * 3)) % len(options)]

    colour = _phrases(keywords, vocab, "colour", 3)
    tone = _phrases(keywords, vocab, "tone", 3)
    texture = _phrases(keywords, vocab, "texture", 2)
    comp = _phrases(keywords, vocab, "composition", 2)
    mood = _phrases(keywords, vocab, "mood", 3)
    sentences = []

    real = [c for c in clusters if not c.is_outlier_group]
    lead = colour[:2] + tone[:2]
    look = _join(lead)
    if n == 1:
        # One picture is a reference, not yet a taste: say so rather than "a board of 1".
        sentences.append(
            f"A single reference so far: {look}." if look else "A single reference so far."
        )
    elif len(real) <= 1:
        tight = "tight, consistent" if board_coherence >= 0.5 else "loosely related"
        if look:
            sentences.append(
                pick(
                    [
                        f"A {tight} board of {n} images: {look}.",
                        f"These {n} references hold together as one {tight} look: {look}.",
                        f"One look runs through all {n} images, {look}; the set is {tight}.",
                    ],
                    0,
                )
            )
        else:
            sentences.append(f"A {tight} board of {n} images without a strong colour or tone.")
    else:
        k = _NUMBERS.get(len(real), str(len(real)))
        groups = "; ".join(f"{c.label} ({c.weight:.0%})" for c in real)
        sentences.append(
            pick(
                [
                    f"A board of {n} images that splits into {k} distinct looks: {groups}.",
                    f"The {n} images fall into {k} sub-styles: {groups}.",
                    f"Rather than one look, these {n} references hold {k}: {groups}.",
                ],
                0,
            )
        )
        if look:
            sentences.append(f"What they share: {look}.")
    if texture:
        sentences.append(
            pick(
                [
                    f"Surfaces show {_join(texture)}.",
                    f"Texture: {_join(texture)}.",
                    f"In texture it reads as {_join(texture)}.",
                ],
                2,
            )
        )
    if comp:
        sentences.append(
            pick(
                [
                    f"Composition: {_join(comp)}.",
                    f"The framing is {_join(comp)}.",
                    f"Compositionally, {_join(comp)}.",
                ],
                3,
            )
        )
    if mood:
        sentences.append(
            pick(
                [
                    f"The overall mood is {_join(mood)}.",
                    f"It feels {_join(mood)}.",
                    f"Emotionally it lands as {_join(mood)}.",
                ],
                4,
            )
        )
    if palette:
        names = [p.name for p in palette[:4]]
        sentences.append(
            pick(
                [
                    f"The palette is led by {names[0]}"
                    + (f", with {_join(names[1:])}." if len(names) > 1 else "."),
                    f"Key colours: {_join(names)}.",
                    f"Colour-wise it draws on {_join(names)}.",
                ],
                5,
            )
        )
    if avoids:
        terms = [a.term for a in avoids[:4]]
        sentences.append(
            pick(
                [
                    f"Steer clear of {_join(terms)}.",
                    f"Avoid {_join(terms)}.",
                    f"It has no place for {_join(terms)}.",
                ],
                6,
            )
        )
    if outliers:
        count = len(outliers)
        sentences.append(
            f"{'One image' if count == 1 else f'{count} images'} "
            f"({_join(outliers[:3])}{', …' if count > 3 else ''}) "
            f"{'sits' if count == 1 else 'sit'} outside these looks."
        )
    return " ".join(sentences)
