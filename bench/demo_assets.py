"""Rebuild the demo boards' files (moodboards/demo/) from the real third-party data set.

    .venv/bin/python bench/demo_assets.py        # needs bench/realdata installed

The product never runs this: `seed_demo` reads only the committed files and
moodboards/demo/boards.json. This script records how they were made: which package
file each one comes from, its licence and author, and the one real third-party LUT
(obs-studio's "teal lows, orange highs", GPL-2+) that gives the first board its grade.
Photographs are resized to 1024 px on the long side and saved as JPEG q85; pixel art is
enlarged by an integer factor with nearest-neighbour and saved as PNG (JPEG would smear
its pixels).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import realdata as rd  # noqa: E402

OUT = ROOT / "moodboards" / "demo"
LUT_ID = "lut/obs-studio/teal-lows-orange-highs"
ENDLESS_SKY = "/usr/share/games/endless-sky/images/land"

# (id or path, licence, author) for each board. Endless Sky's un-suffixed land photos are
# public domain (morgue-file / unsplash donations, see its copyright file).
GRADED = [
    ("photo/enlightenment-data/sunset-hills", "BSD-2-Clause", "Enlightenment contributors"),
    ("photo/enlightenment-data/mountain", "BSD-2-Clause", "Enlightenment contributors"),
    ("photo/palapeli-data/citrus-fruits", "public domain", "US Department of Agriculture"),
    ("photo/tuxpaint-data/lighthouse", "GPL-2+", "Tux Paint contributors (Bill Kendrick et al.)"),
    ("photo/tuxpaint-data/cliff", "GPL-2+", "Tux Paint contributors (Bill Kendrick et al.)"),
    ("photo/tuxpaint-data/ocean-waves", "GPL-2+", "Tux Paint contributors (Bill Kendrick et al.)"),
    ("photo/palapeli-data/cincinnati-bridge", "public domain", "Derek Jensen"),
    (f"{ENDLESS_SKY}/beach0.jpg", "public domain", "unsplash donor (via Endless Sky)"),
    (f"{ENDLESS_SKY}/city9.jpg", "public domain", "unsplash donor (via Endless Sky)"),
    (f"{ENDLESS_SKY}/sea3.jpg", "public domain", "unsplash donor (via Endless Sky)"),
    (f"{ENDLESS_SKY}/fields9.jpg", "public domain", "unsplash donor (via Endless Sky)"),
    (f"{ENDLESS_SKY}/snow0.jpg", "public domain", "unsplash donor (via Endless Sky)"),
]
MIXED = [
    (
        "pixel_art/cataclysm-dda-data/cuteclysm-backdrop-0-0",
        "CC-BY-SA-3.0",
        "Cataclysm: DDA contributors (Kevin Granade et al.)",
    ),
    (
        "pixel_art/cataclysm-dda-data/cuteclysm-fillervehicles-0-0",
        "CC-BY-SA-3.0",
        "Cataclysm: DDA contributors (Kevin Granade et al.)",
    ),
    (
        "pixel_art/cataclysm-dda-data/chibiultica-normal-0-0",
        "CC-BY-SA-3.0",
        "Cataclysm: DDA contributors (Kevin Granade et al.)",
    ),
    (
        "pixel_art/cataclysm-dda-data/hodertileset-hodertiles-0-0",
        "CC-BY-SA-3.0",
        "Cataclysm: DDA contributors (Kevin Granade et al.)",
    ),
    (
        "pixel_art/cataclysm-dda-data/mshockxotto-overmap-0-0",
        "CC-BY-SA-3.0",
        "Cataclysm: DDA contributors (Kevin Granade et al.)",
    ),
    (
        "pixel_art/cataclysm-dda-data/ultimatecataclysm-incomplete-0-512",
        "CC-BY-SA-3.0",
        "Cataclysm: DDA contributors (Kevin Granade et al.)",
    ),
    ("painting/flare-game/female03", "CC-BY-SA-3.0+", "Clint Bellanger and the Flare contributors"),
    ("painting/flare-game/female07", "CC-BY-SA-3.0+", "Clint Bellanger and the Flare contributors"),
    ("painting/flare-game/female11", "CC-BY-SA-3.0+", "Clint Bellanger and the Flare contributors"),
    ("painting/flare-game/male02", "CC-BY-SA-3.0+", "Clint Bellanger and the Flare contributors"),
    ("painting/flare-game/male05", "CC-BY-SA-3.0+", "Clint Bellanger and the Flare contributors"),
    ("painting/flare-game/male13", "CC-BY-SA-3.0+", "Clint Bellanger and the Flare contributors"),
]
BOARDS = [
    {
        "slug": "teal-orange",
        "title": "Demo: teal and orange evenings",
        "description": "Landscapes, coasts and a city with one grade: teal shadows and orange "
        "highlights (obs-studio's LUT, applied to every photograph). One clear look: "
        "press Analyze Board and compare its LUT export with the grade.",
        "items": GRADED,
        "grade": LUT_ID,
    },
    {
        "slug": "pixel-and-paint",
        "title": "Demo: pixel art and painted portraits",
        "description": "Two media on one board: game tiles drawn pixel by pixel, and painted "
        "character portraits. Analyze Board should find the two sub-styles.",
        "items": MIXED,
    },
]


def _package_of(ref: str) -> tuple[str, str, str]:
    """(package, version, original path) of a manifest id or an Endless Sky file."""
    sources = {s["package"]: s for s in rd.load_sources()}
    if ref.startswith("/"):
        return "endless-sky-data", sources["endless-sky-data"]["version"], ref
    item = {i.id: i for i in rd.load_manifest()}[ref]
    return item.source, sources[item.source]["version"], item.path


def _open(ref: str) -> tuple[Image.Image, bool]:
    if ref.startswith("/"):
        return Image.open(ref).convert("RGB"), False
    item = {i.id: i for i in rd.load_manifest()}[ref]
    return rd.open_image(item, max_side=None), item.label == "pixel_art"


def _fit(image: Image.Image, pixel_art: bool, side: int = 1024) -> Image.Image:
    if pixel_art:
        factor = max(1, side // max(image.size))
        return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
    image = image.copy()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def build() -> None:
    lut = rd.read_lut({i.id: i for i in rd.load_manifest()}[LUT_ID])
    manifest = {"boards": []}
    for board in BOARDS:
        folder = OUT / board["slug"]
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for ref, licence, author in board["items"]:
            image, pixel_art = _open(ref)
            image = _fit(image, pixel_art)
            if board.get("grade"):
                rgb = np.asarray(image, dtype=np.float32) / 255.0
                graded = rd.apply_lut(lut.table, rgb)
                image = Image.fromarray((np.clip(graded, 0, 1) * 255 + 0.5).astype(np.uint8))
            stem = ref.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            name = f"{stem}.png" if pixel_art else f"{stem}.jpg"
            if pixel_art:
                image.save(folder / name, "PNG", optimize=True)
            else:
                image.save(folder / name, "JPEG", quality=85, optimize=True)
            package, version, path = _package_of(ref)
            files.append(
                {"file": f"{board['slug']}/{name}", "package": package, "version": version,
                 "licence": licence, "author": author, "original": path}
            )  # fmt: skip
        entry = {k: board[k] for k in ("slug", "title", "description")}
        entry["files"] = files
        if board.get("grade"):
            package, version, path = _package_of(board["grade"])
            entry["grade"] = {"lut": "teal_lows_orange_highs", "package": package,
                              "version": version, "licence": "GPL-2+", "original": path}  # fmt: skip
        manifest["boards"].append(entry)
    (OUT / "boards.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    _write_notice(manifest)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.1f} MB)")


def _write_notice(manifest: dict) -> None:
    lines = [
        "# Demo assets: attribution and licences",
        "",
        "The demo boards `manage.py seed_demo` creates are made of these files. Each is a",
        "resized copy (photographs 1024 px, JPEG q85; pixel art enlarged by an integer factor",
        "with nearest-neighbour, PNG) of a file installed by a Debian or PyPI package, made by",
        "`bench/demo_assets.py`. They keep their licences: redistribute them under the same",
        "terms, with this attribution. Copyright holders are as recorded in the package's",
        "`/usr/share/doc/<package>/copyright` (Debian) or the wheel's licence file (PyPI).",
        "",
    ]
    for board in manifest["boards"]:
        lines += [f"## {board['title']}", "", board["description"], ""]
        if "grade" in board:
            g = board["grade"]
            lines += [
                f"Every photograph on this board was graded with the LUT `{g['lut']}` from "
                f"{g['package']} {g['version']} ({g['licence']}, `{g['original']}`), applied "
                "with trilinear interpolation (bench/realdata `apply_lut`).",
                "",
            ]
        lines += [
            "| file | package | version | licence | author | original path |",
            "|---|---|---|---|---|---|",
        ]
        for f in board["files"]:
            lines.append(
                f"| `{f['file']}` | {f['package']} | {f['version']} | {f['licence']} | {f['author']} | `{f['original']}` |"
            )
        lines.append("")
    lines += [
        "## Demo: sample photographs",
        "",
        "Not stored here: `seed_demo` reads them from scikit-image (`skimage.data`, images as",
        "licensed in its `data/README.txt`: public domain or CC0) and scikit-learn",
        "(`load_sample_images`, see `sklearn/datasets/images/README.txt`), which the app",
        "installs anyway.",
        "",
    ]
    (OUT / "DEMO_ASSETS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    build()
