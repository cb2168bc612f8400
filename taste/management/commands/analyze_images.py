"""Analyse a folder of images and print its taste profile (text, or JSON with --json).

python manage.py analyze_images DIR [--encoder ID] [--json]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from PIL import Image, ImageOps, UnidentifiedImageError

from taste.encoders import DEFAULT_ENCODER_ID, get_encoder
from taste.profile import TasteProfileData, analyze_pil_images

MAX_PIXELS = 80_000_000  # refuse decompression bombs rather than exhausting memory


def load_images(directory: Path) -> tuple[list[tuple[str, Image.Image]], list[str]]:
    """(file name, RGB image) for every readable image in `directory` (not recursive),
    sorted by name, plus a note for each file left out (unreadable, or the same bytes
    as an earlier file: a board holds a picture once, and so does its profile)."""
    import hashlib

    import pillow_heif

    pillow_heif.register_heif_opener()
    images, skipped = [], []
    seen: dict[str, str] = {}
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        if path.name.startswith("."):
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            skipped.append(f"{path.name}: the same file as {seen[digest]} (counted once)")
            continue
        seen[digest] = path.name
        try:
            with Image.open(path) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise ValueError("image too large")
                # Phones store rotation in EXIF; the board shows the upright image.
                upright = ImageOps.exif_transpose(im)
                upright.load()
                images.append((path.name, upright.convert("RGB")))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            skipped.append(f"{path.name}: not a readable image")
    return images, skipped


def profile_json(profile: TasteProfileData) -> dict[str, Any]:
    """The profile as JSON, with each cluster's members also listed as `images`."""
    data = profile.to_dict()
    for cluster in data["clusters"]:
        cluster["images"] = cluster["members"]
    return data


class Command(BaseCommand):
    help = "Print the taste profile (clusters, keywords, avoids, palette, summary) of a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--encoder", default=DEFAULT_ENCODER_ID, help="encoder id")
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        try:
            get_encoder(options["encoder"])
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc
        images, skipped = load_images(directory)
        for note in skipped:
            self.stderr.write(f"skipped {note}")
        if not images:
            raise CommandError(f"no readable images in {directory}")

        def progress(stage: str, done: int, total: int) -> None:
            if options["verbosity"] >= 2:
                self.stderr.write(f"[{done}/{total}] {stage}")

        profile = analyze_pil_images(images, options["encoder"], progress=progress)
        if options["json"]:
            self.stdout.write(json.dumps(profile_json(profile), indent=2))
        else:
            self.stdout.write(render_text(profile))


def render_text(profile: TasteProfileData) -> str:
    lines = [profile.summary, ""]
    lines.append(f"{profile.n_images} images, coherence {profile.coherence:.2f}")
    for c in profile.clusters:
        lines.append(f"\nSub-style {c.index + 1}: {c.label} ({c.weight:.0%}, {len(c.members)})")
        lines.append("  keywords: " + ", ".join(k.term for k in c.keywords))
        lines.append("  representatives: " + ", ".join(c.representatives))
    if profile.outliers:
        lines.append("\nOutliers: " + ", ".join(profile.outliers))
    lines.append("\nKeywords:")
    for k in profile.keywords:
        ev = "; ".join(
            f"{e.measurement} {e.value:.3g} (typical {e.typical:.3g}, rule {e.rule})"
            for e in k.evidence
        )
        lines.append(f"  [{k.facet}] {k.term} {k.score:.2f}  {ev}")
    lines.append("\nAvoid:")
    lines += [f"  {a.term}: {a.why}" for a in profile.avoids]
    lines.append("\nPalette:")
    lines += [f"  {p.hex} {p.name} {p.share:.0%}" for p in profile.palette]
    return "\n".join(lines)
