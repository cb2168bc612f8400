"""Generate images in the taste of a folder of references, for scripts and benchmarks.

python manage.py generate --profile-from DIR --content IMG [--content IMG ...]
    --strength S --count N --cohesion C --seed X --out OUTDIR [--json]
python manage.py generate --profile CODE --user USERNAME --content IMG ...

The profile is built from DIR exactly as `analyze_images` builds it, or is a saved
version named by its short code (``tb-7f3a2c``), which USERNAME must be allowed to see
(the same check as the pages); a steered version's sub-styles are used as steered.
Outputs are rendered by the stylize backend and scored for style fidelity.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from taste.management.commands.analyze_images import load_images
from taste.profile import analyze_pil_images


class Command(BaseCommand):
    help = "Stylize content images in the taste of a folder of references."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--profile-from", type=Path, help="folder of reference images")
        source.add_argument("--profile", help="a saved profile version's code, e.g. tb-7f3a2c")
        parser.add_argument("--user", help="whose access --profile is checked against")
        parser.add_argument(
            "--content",
            type=Path,
            action="append",
            required=True,
            help="image to restyle (repeatable)",
        )
        parser.add_argument("--strength", type=float, default=0.8)
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--cohesion", type=float, default=1.0, help="1 cohesive … 0 diverse")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", type=Path, required=True, help="output folder")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from generation.batch import plan_batch
        from generation.fidelity import fidelity_score
        from generation.stylize import blend_style, stylize

        references = options["profile_from"]
        if references is not None and not references.is_dir():
            raise CommandError(f"{references} is not a directory")
        if not 0.0 <= options["strength"] <= 1.0 or not 0.0 <= options["cohesion"] <= 1.0:
            raise CommandError("--strength and --cohesion are between 0 and 1")
        if not 1 <= options["count"] <= 16:
            raise CommandError("--count is 1 to 16")
        saved = self._saved_profile(options) if options["profile"] else None
        images: list = []
        if saved is None:
            images, _ = load_images(references)
            if not images:
                raise CommandError(f"no readable images in {references}")
        contents = []
        for path in options["content"]:
            loaded, _ = load_images(path.parent) if path.is_file() else ([], [])
            match = [img for name, img in loaded if name == path.name]
            if not match:
                raise CommandError(f"{path} is not a readable image")
            contents.append((path, match[0]))

        started = time.perf_counter()
        profile = saved.document if saved is not None else analyze_pil_images(images)
        clusters = [(c.style_vector, c.weight) for c in profile.clusters]
        taste = blend_style([v for v, _ in clusters], [w for _, w in clusters])
        plan = plan_batch(
            clusters, count=options["count"], cohesion=options["cohesion"], seed=options["seed"]
        )
        out_dir: Path = options["out"]
        out_dir.mkdir(parents=True, exist_ok=True)
        results = []
        for index, style in enumerate(plan):
            path, content = contents[index % len(contents)]
            output = stylize(content, style, strength=options["strength"])
            target = out_dir / f"{path.stem}-{index + 1:02d}.png"
            output.save(target)
            score = fidelity_score(output, content, taste)
            results.append(
                {
                    "path": str(target),
                    "content": str(path),
                    "width": output.width,
                    "height": output.height,
                    "fidelity": score.output,
                    "content_fidelity": score.content,
                    "fidelity_gain": score.gain,
                }
            )
        summary = {
            "profile": {
                **({"code": saved.code, "version": saved.version} if saved else {}),
                "images": profile.n_images,
                "sub_styles": len(profile.clusters),
                "summary": profile.summary,
            },
            "outputs": results,
            "seconds": round(time.perf_counter() - started, 2),
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        for r in results:
            self.stdout.write(
                f"{r['path']}  fidelity {r['fidelity']:.2f} (content {r['content_fidelity']:.2f}, {r['fidelity_gain']:+.2f})"
            )

    def _saved_profile(self, options: dict[str, Any]):
        from django.contrib.auth import get_user_model
        from django.http import Http404

        from taste.access import profile_by_code_for_user

        if not options["user"]:
            raise CommandError("--profile needs --user: the code is checked against their access")
        user = get_user_model().objects.filter(username=options["user"]).first()
        try:
            if user is None:
                raise Http404
            return profile_by_code_for_user(user, options["profile"])
        except Http404:
            raise CommandError(
                f"no profile {options['profile']} that {options['user']} can see"
            ) from None
