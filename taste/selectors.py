"""Reads for taste profiles, shaped for pages and JSON."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.urls import reverse

from moodboards.models import Board, ImageStatus

from .exports import EXPORTS
from .models import Analysis, TasteProfile
from .vocabulary import FACETS

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


def profile_page_context(profile: TasteProfile, thumbs: dict[str, str]) -> dict[str, Any]:
    data = profile.data
    names = {k: v["name"] for k, v in profile.images.items()}
    by_facet: OrderedDict[str, list[dict]] = OrderedDict((f, []) for f in FACETS)
    for kw in data["keywords"]:
        by_facet.setdefault(kw["facet"], []).append(kw)
    clusters = []
    for c in data["clusters"]:
        clusters.append(
            {
                **c,
                "colour": CLUSTER_COLOURS[c["index"] % len(CLUSTER_COLOURS)],
                "percent": round(c["weight"] * 100),
                "reps": [
                    {"key": k, "url": thumbs.get(k), "name": names.get(k, k)}
                    for k in c["representatives"]
                ],
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
            "name": names.get(p["key"], p["key"]),
        }
        for p in data["map"]
    ]
    positive = ", ".join(k["term"] for k in sorted(data["keywords"], key=lambda k: -k["score"]))
    negative = ", ".join(a["term"] for a in data["avoids"])
    return {
        "data": data,
        "facets": [(f, kws) for f, kws in by_facet.items() if kws],
        "clusters": clusters,
        "outliers": [
            {"key": k, "url": thumbs.get(k), "name": names.get(k, k)} for k in data["outliers"]
        ],
        "points": points,
        "prompt": positive,
        "negative_prompt": negative,
        "thumbs": thumbs,
        "names": names,
    }


# --- exports ------------------------------------------------------------------------------

LUT_SAMPLE = "coffee"  # the same photo for every profile, so previews compare


def profile_export(profile: TasteProfile, name: str) -> bytes:
    """Prompt text, .ase/.gpl swatches, a 33³ .cube LUT, or the LUT's before/after
    (names in `taste.exports.EXPORTS`).

    Versions are immutable, so each export is computed once and kept in the cache,
    for the page and the API alike.
    """
    from django.core.cache import cache

    if name not in EXPORTS:
        raise ValueError(f"unknown export {name!r}")
    return cache.get_or_set(
        # Keyed by content too: an id alone can name another version after a restore.
        f"profile-export:{profile.pk}:{profile.fingerprint[:16]}:{name}",
        lambda: _build_export(profile, name),
        None,
    )


def profile_export_filename(profile: TasteProfile, name: str) -> str:
    """The name a download is saved under: board title, version and export."""
    return f"{profile.board.title}-v{profile.version}-{name}".replace(" ", "-")


def _build_export(profile: TasteProfile, name: str) -> bytes:
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
    lut = exports.build_lut(doc.tone)
    if name == "look.cube":
        return exports.cube_text(lut, title=f"Tastebase {title}").encode()
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
