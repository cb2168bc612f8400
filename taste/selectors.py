"""Reads for taste profiles, shaped for pages and JSON."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from django.urls import reverse

from moodboards.models import Board, ImageStatus

from .document import Keyword
from .exports import export_type, sub_style_of
from .keywords import keyword_rank
from .models import Analysis, TasteProfile
from .vocabulary import FACETS, load_vocabulary

CLUSTER_COLOURS = [
    "#2f5d50",
    "#c2571a",
    "#3b6fb6",
    "#a23b72",
    "#8a7a1f",
    "#5b4a9e",
    "#2a8a8a",
    "#b03a2e",
]


def profiles_of(board: Board):
    return board.profiles.order_by("-version")


def latest_profile(board: Board) -> TasteProfile | None:
    # For the board page's panel: leave out the per-image JSON (tens of kB on a big
    # board) that only the profile page reads.
    return board.profiles.defer("images", "changes").order_by("-version").first()


def active_analysis(board: Board) -> Analysis | None:
    return board.analyses.filter(status__in=["queued", "running"]).first()


def board_panel_context(board: Board) -> dict[str, Any]:
    """What the board page's taste panel shows."""
    from .encoders import list_encoders

    return {
        "latest_profile": latest_profile(board),
        "active_analysis": active_analysis(board),
        "installed_encoders": [e for e in list_encoders() if e.installed],
    }


def thumb_urls(profile: TasteProfile, *, share_token: str | None = None) -> dict[str, str]:
    """key -> thumbnail URL, for images of the profile still on the board."""
    alive = profile.board.images.filter(
        pk__in=[int(k) for k in profile.images], status=ImageStatus.READY
    ).values_list("pk", flat=True)
    if share_token:
        return {
            str(pk): reverse("shared_image_file", args=[share_token, pk, "thumb"]) for pk in alive
        }
    return {str(pk): reverse("image_file", args=[profile.board_id, pk, "thumb"]) for pk in alive}


def profile_json(profile: TasteProfile) -> dict[str, Any]:
    """The profile as `analyze_images --json` prints it, plus image references.

    Cluster `images` are file names (as the command prints them); `members` keep the
    board image ids so a script can fetch the pictures.
    """
    data = dict(profile.data)
    names = {k: v["name"] for k, v in profile.images.items()}
    data["clusters"] = [
        {**c, "images": [names.get(k, k) for k in c["members"]]} for c in profile.data["clusters"]
    ]
    data["board"] = profile.board_id
    data["profile_version"] = profile.version
    data["created"] = profile.created.isoformat()
    data["image_names"] = names
    return data


def palette_segments(palette: list[dict]) -> list[dict]:
    """Palette colours laid out along a 0-100 bar (an SVG draws them: the page's CSP
    allows no inline styles)."""
    total = sum(c["share"] for c in palette) or 1.0
    x, out = 0.0, []
    for c in palette:
        w = 100.0 * c["share"] / total
        out.append({**c, "x": round(x, 3), "w": round(w + 0.05, 3)})  # overlap: no hairlines
        x += w
    return out


def ranked_terms(keywords: Sequence[Keyword]) -> list[str]:
    """Keyword terms best first by the profile's own rank (taste.keywords.keyword_rank,
    as the summary orders them): the medium a board is made in leads (priority 1.4)
    rather than sitting behind tone terms that every photo-like board carries."""
    vocab = load_vocabulary()
    return [k.term for k in sorted(keywords, key=lambda k: -keyword_rank(k, vocab))]


# The page draws at most this many map points: a 560 px plot holds no more that can be
# told apart and hovered, and 10,000 SVG links would make the page several MB.
MAP_POINTS_SHOWN = 1500


def map_points_shown(data: dict) -> list[dict]:
    """The map points the page draws: every point of a board up to MAP_POINTS_SHOWN;
    beyond that, first each sub-style's representatives (the best first, so every
    group is drawn) and the outliers, then an even spread of the rest in map order, so
    every group keeps its shape and share. Drawn in map order."""
    points = data["map"]
    if len(points) <= MAP_POINTS_SHOWN:
        return points
    reps = [c.get("representatives", []) for c in data["clusters"]]
    ranked = [r[i] for i in range(max(map(len, reps), default=0)) for r in reps if i < len(r)]
    must = list(dict.fromkeys([*ranked[: len(reps)], *data.get("outliers", []), *ranked]))
    chosen = set(must[:MAP_POINTS_SHOWN])
    rest = [p["key"] for p in points if p["key"] not in chosen]
    room = MAP_POINTS_SHOWN - len(chosen)
    if room > 0:
        step = len(rest) / room
        chosen.update(rest[int(i * step)] for i in range(room))
    return [p for p in points if p["key"] in chosen]


def profile_page_context(profile: TasteProfile, thumbs: dict[str, str]) -> dict[str, Any]:
    data = profile.data
    names = {k: v["name"] for k, v in profile.images.items()}
    by_facet: OrderedDict[str, list[dict]] = OrderedDict((f, []) for f in FACETS)
    for kw in data["keywords"]:
        by_facet.setdefault(kw["facet"], []).append(kw)
    effects = grade_effect_of(profile)
    clusters = []
    for c in data["clusters"]:
        clusters.append(
            {
                **c,
                "grade_effect": (effects or {}).get("clusters", {}).get(c["index"]),
                "colour": CLUSTER_COLOURS[c["index"] % len(CLUSTER_COLOURS)],
                "percent": round(c["weight"] * 100),
                "reps": [
                    {"key": k, "url": thumbs.get(k), "name": names.get(k, k)}
                    for k in c["representatives"]
                ],
                "palette_bar": palette_segments(c["palette"]),
            }
        )
    points = [
        {
            **p,
            "cx": round(20 + p["x"] * 560, 1),
            "cy": round(20 + (1 - p["y"]) * 360, 1),
            "colour": "#999"
            if p["cluster"] < 0
            else CLUSTER_COLOURS[p["cluster"] % len(CLUSTER_COLOURS)],
            "url": thumbs.get(p["key"], ""),
            "href": reverse("image_detail", args=[profile.board_id, int(p["key"])])
            if p["key"] in thumbs
            else "",
            "name": names.get(p["key"], p["key"]),
        }
        for p in map_points_shown(data)
    ]
    ranked = ranked_terms(profile.document.keywords)
    positive = ", ".join(ranked)
    negative = ", ".join(a["term"] for a in data["avoids"])
    return {
        "data": data,
        "facets": [(f, kws) for f, kws in by_facet.items() if kws],
        "clusters": clusters,
        "outliers": [
            {"key": k, "url": thumbs.get(k), "name": names.get(k, k)} for k in data["outliers"]
        ],
        "points": points,
        "map_total": len(data["map"]),
        "palette_bar": palette_segments(data["palette"]),
        "top_keywords": ranked[:14],
        "prompt": positive,
        "negative_prompt": negative,
        "thumbs": thumbs,
        "names": names,
        "grade_effect": effects,
    }


def grade_effect_of(profile: TasteProfile) -> dict[str, Any] | None:
    """How much the profile's recovered grades change a photo (mean CIEDE2000 on real
    ungraded photos) and the word for it: the board's, and each sub-style's by its
    index; None for versions made before grade recovery."""
    from .grade_effect import FAINT_EFFECT, effect_word, grade_effect
    from .grading import ProfileGrade

    grade = ProfileGrade.from_dict(profile.document.grade)
    if grade is None:
        return None

    def measured(table: Any) -> dict[str, Any]:
        effect = grade_effect(table)
        return {
            "delta_e": round(effect, 1),
            "word": effect_word(effect),
            "faint": effect < FAINT_EFFECT,
        }

    clusters = {k: measured(g.table(33)) for k, g in grade.clusters.items()}
    return {
        **measured(grade.board.table(33)),
        "clusters": clusters,
        "clusters_carry": any(not c["faint"] for c in clusters.values()),
    }


# --- exports ------------------------------------------------------------------------------

LUT_SAMPLE = "coffee"  # the same photo for every profile, so previews compare


def profile_export(profile: TasteProfile, name: str, *, strength: float = 1.0) -> bytes:
    """Prompt text, .ase/.gpl swatches, a 33³ .cube LUT, or the LUT's before/after
    (names in `taste.exports.EXPORTS`, and look-sN.cube / look-sN-hald.png per
    sub-style), LUTs at ``strength`` (full by default).

    Versions are immutable, so each export is computed once and kept in the cache,
    for the page and the API alike.
    """
    from django.core.cache import cache

    if export_type(name) is None:
        raise ValueError(f"unknown export {name!r}")
    sub_style = sub_style_of(name)
    if sub_style is not None and not profile.document.has_sub_style(sub_style):
        raise ValueError(f"the profile has no sub-style {sub_style + 1}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError("strength is between 0 and 1")
    return cache.get_or_set(
        # Keyed by content too: an id alone can name another version after a restore.
        f"profile-export:{profile.pk}:{profile.fingerprint[:16]}:{name}:{strength:.3f}",
        lambda: _build_export(profile, name, strength),
        None,
    )


def profile_export_filename(profile: TasteProfile, name: str) -> str:
    """The name a download is saved under: board title, version and export."""
    return f"{profile.board.title}-v{profile.version}-{name}".replace(" ", "-")


def _lut(doc, name: str, strength: float, size: int = 33):
    """The LUT of an export: the recovered grade (the board's or one sub-style's) at
    ``strength``; versions made before grade recovery keep their tone-statistics LUT."""
    from . import exports
    from .grading import ProfileGrade

    grade = ProfileGrade.from_dict(doc.grade)
    if grade is None:
        return exports.build_lut(doc.tone, strength=strength, size=size)
    table = grade.for_cluster(sub_style_of(name)).table(size)
    return exports.grade_rgb_lut(table, strength=strength, size=size)


def _build_export(profile: TasteProfile, name: str, strength: float = 1.0) -> bytes:
    import io

    from PIL import Image

    from . import exports

    doc = profile.document
    title = f"{profile.board.title} v{profile.version}"
    if name == "prompt.txt":
        positive, negative = exports.prompt_text(doc.keywords, doc.avoids)
        return f"Prompt: {positive}\nNegative prompt: {negative}\n".encode()
    if name == "palette.ase":
        return exports.palette_ase(doc.palette, group=title)
    if name == "palette.gpl":
        return exports.palette_gpl(doc.palette, name=title).encode()
    if name.endswith("hald.png"):
        level = exports.HALD_LEVEL
        return exports.hald_png(_lut(doc, name, strength, level * level))
    lut = _lut(doc, name, strength)
    if name.endswith(".cube"):
        part = f" sub-style {sub_style_of(name) + 1}" if sub_style_of(name) is not None else ""
        return exports.cube_text(lut, title=f"Tastebase {title}{part}").encode()
    # lut-preview.jpg
    from moodboards.samples import sample_image

    before = sample_image(LUT_SAMPLE).convert("RGB")
    before.thumbnail((480, 480))
    after = exports.apply_cube(before, lut)
    pair = Image.new("RGB", (before.width * 2 + 6, before.height), "white")
    pair.paste(before, (0, 0))
    pair.paste(after, (before.width + 6, 0))
    buf = io.BytesIO()
    pair.save(buf, "JPEG", quality=88)
    return buf.getvalue()


# --- the taste card as a file, and comparing two versions ----------------------------------

CARD_FORMATS = {"png": "image/png", "pdf": "application/pdf"}


def profile_card(profile: TasteProfile, fmt: str) -> bytes:
    """The taste card as a PNG or a one-page PDF (computed once per version and board
    state: a representative removed from the board leaves its place empty)."""
    from django.core.cache import cache
    from PIL import Image

    from . import card

    if fmt not in CARD_FORMATS:
        raise ValueError(f"unknown card format {fmt!r}")
    images = {
        str(i.pk): i
        for i in profile.board.images.filter(
            pk__in=[int(k) for k in profile.images], status=ImageStatus.READY
        )
    }

    def load(key: str):
        image = images.get(key)
        if image is None or not image.display:
            return None
        try:
            with image.display.open("rb") as fh:
                pil = Image.open(fh)
                pil.draft("RGB", (900, 900))
                pil.load()
            return pil
        except OSError:
            return None

    def build() -> bytes:
        doc = profile.document
        subtitle = (
            f"Taste profile v{profile.version} · {profile.image_count} images · "
            f"{len(doc.clusters)} sub-style{'s' if len(doc.clusters) != 1 else ''} · "
            f"{profile.created:%d %b %Y}"
        )
        picture = card.render_card(doc, title=profile.board.title, subtitle=subtitle, load=load)
        return card.card_bytes(picture, fmt)

    import hashlib

    alive = hashlib.sha1(",".join(sorted(images)).encode()).hexdigest()[:12]
    key = f"taste-card:{profile.pk}:{fmt}:{alive}"
    return cache.get_or_set(key, build, 24 * 3600)


def card_filename(profile: TasteProfile, fmt: str) -> str:
    return f"{profile.board.title}-v{profile.version}-taste-card.{fmt}".replace(" ", "-")


def _delta_e(a: list[float], b: list[float]) -> float:
    """CIE76 colour difference: about 2.3 is the smallest difference people notice."""
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


SAME_COLOUR = 6.0  # ΔE under which two palette colours count as the same colour
SHIFTED_COLOUR = 15.0  # ... and under which as the same colour, shifted


def profile_compare(older: TasteProfile, newer: TasteProfile) -> dict[str, Any]:
    """What changed from `older` to `newer`: images, sub-styles, keywords (with their
    strength), avoids and palette colours matched by colour difference, so a colour
    that barely moved shows as the same colour even when its nearest name changed."""
    a, b = older.document, newer.document
    a_terms = {k.term: k for k in a.keywords}
    b_terms = {k.term: k for k in b.keywords}
    kept = [
        {
            "term": t,
            "before": a_terms[t].score,
            "after": k.score,
            "delta": k.score - a_terms[t].score,
        }
        for t, k in b_terms.items()
        if t in a_terms
    ]
    kept.sort(key=lambda d: -abs(d["delta"]))
    a_avoids, b_avoids = [x.term for x in a.avoids], [x.term for x in b.avoids]

    pairs, used = [], set()
    for colour in b.palette:
        best, best_d = None, None
        for i, old in enumerate(a.palette):
            if i in used:
                continue
            d = _delta_e(colour.lab, old.lab)
            if best_d is None or d < best_d:
                best, best_d = i, d
        if best is not None and best_d is not None and best_d < SHIFTED_COLOUR:
            used.add(best)
            old = a.palette[best]
            pairs.append(
                {"kind": "same" if best_d < SAME_COLOUR else "shifted", "before": old,
                 "after": colour, "delta_e": best_d, "renamed": old.name != colour.name}
            )  # fmt: skip
        else:
            pairs.append({"kind": "new", "before": None, "after": colour, "delta_e": None})
    for i, old in enumerate(a.palette):
        if i not in used:
            pairs.append({"kind": "gone", "before": old, "after": None, "delta_e": None})

    old_keys, new_keys = set(older.images), set(newer.images)
    return {
        "images_added": [newer.images[k]["name"] for k in sorted(new_keys - old_keys, key=int)],
        "images_removed": [older.images[k]["name"] for k in sorted(old_keys - new_keys, key=int)],
        "keywords_added": [k.term for k in b.keywords if k.term not in a_terms],
        "keywords_removed": [k.term for k in a.keywords if k.term not in b_terms],
        "keywords_changed": [d for d in kept if abs(d["delta"]) >= 0.05],
        "avoids_added": [t for t in b_avoids if t not in a_avoids],
        "avoids_removed": [t for t in a_avoids if t not in b_avoids],
        "palette": pairs,
        "sub_styles": ([c.label for c in a.clusters], [c.label for c in b.clusters]),
        "medium": (a.medium, b.medium),
    }
