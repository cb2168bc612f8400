"""Rank a folder of images by fit to the taste of another folder, for scripts.

python manage.py taste_search --profile-from DIR --rank DIR2 [--top N] [--cluster K] --json

The profile is built from DIR exactly as `analyze_images` builds it; the images of DIR2
are embedded the same way and ranked in the search space, best first. Nothing is stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from taste.management.commands.analyze_images import load_images
from taste.profile import build_profile, embed_images
from taste.search import SEARCH_ENCODER, ProfileTarget, SearchError, rank_vectors
from taste.vectors import search_space


class Command(BaseCommand):
    help = "Rank the images of a folder by fit to the taste of another folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--profile-from", type=Path, required=True, help="reference folder")
        parser.add_argument("--rank", type=Path, required=True, help="folder of images to rank")
        parser.add_argument("--top", type=int, default=None, help="print only the best N")
        parser.add_argument("--cluster", type=int, default=None, help="fit to one sub-style")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        refs, candidates = options["profile_from"], options["rank"]
        for folder in (refs, candidates):
            if not folder.is_dir():
                raise CommandError(f"{folder} is not a directory")
        if options["top"] is not None and options["top"] < 1:
            raise CommandError("--top is at least 1")
        references, _ = load_images(refs)
        if not references:
            raise CommandError(f"no readable images in {refs}")
        to_rank, skipped = load_images(candidates)
        if not to_rank:
            raise CommandError(f"no readable images in {candidates}")

        # 1. The profile, as analyze_images builds it.
        items, _ = embed_images(references, SEARCH_ENCODER)
        profile = build_profile(items, encoder_id=SEARCH_ENCODER)
        ref_vectors = search_space(np.stack([it.embedding for it in items]), SEARCH_ENCODER)
        try:
            target = ProfileTarget.from_vectors(
                profile,
                options["cluster"],
                {it.key: v for it, v in zip(items, ref_vectors, strict=True)},
            )
        except SearchError as exc:
            raise CommandError(exc.message) from None

        # 2. The candidates, embedded the same way, ranked by fit.
        ranked_items, _ = embed_images(to_rank, SEARCH_ENCODER)
        vectors = search_space(np.stack([it.embedding for it in ranked_items]), SEARCH_ENCODER)
        ranked = rank_vectors(target, vectors, [it.descriptors for it in ranked_items])
        rows = [
            {"path": str(candidates / it.key), "score": score, "sub_style": sub,
             "agree": agree, "disagree": disagree}
            for it, (score, sub, agree, disagree) in zip(ranked_items, ranked, strict=True)
        ]  # fmt: skip
        rows.sort(key=lambda r: (-r["score"], r["path"]))
        if options["top"] is not None:
            rows = rows[: options["top"]]
        if options["json"]:
            self.stdout.write(json.dumps([{"path": r["path"], "score": r["score"]} for r in rows]))
            return
        for r in rows:
            self.stdout.write(f"{r['score']:.3f}  {r['path']}")
        for note in skipped:
            self.stderr.write(f"skipped {note}")
