"""Generate images in the taste of a folder of references, for scripts and benchmarks.

python manage.py generate --profile-from DIR --content IMG [--content IMG ...]
    [--backend auto|grade|stylize] --strength S [--colour C --tone T --texture X]
    --count N --cohesion C --seed X --out OUTDIR [--json]
python manage.py generate --profile CODE --user USERNAME --content IMG ...

The profile is built from DIR exactly as `analyze_images` builds it (its colour grade
included), or is a saved version named by its short code (``tb-7f3a2c``), which
USERNAME must be allowed to see (the same check as the pages); a steered version's
sub-styles are used as steered. `--backend auto` (the default) grades photographic
boards and stylizes painted and illustrated ones, and says which ran and why. Outputs
are scored for style fidelity; grade outputs also say what the taste added (ΔE from
the content).
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
        parser.add_argument(
            "--backend", choices=["auto", "grade", "stylize"], default="auto",
            help="auto: grade for photographs (or unknown medium), stylize for the rest",
        )  # fmt: skip
        parser.add_argument("--strength", type=float, default=0.8)
        for name in ("colour", "tone", "texture"):
            parser.add_argument(f"--{name}", type=float, default=1.0, help="grade slider, 0-1")
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--cohesion", type=float, default=1.0, help="1 cohesive … 0 diverse")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", type=Path, required=True, help="output folder")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        references = options["profile_from"]
        if references is not None and not references.is_dir():
            raise CommandError(f"{references} is not a directory")
        for name in ("strength", "cohesion", "colour", "tone", "texture"):
            if not 0.0 <= options[name] <= 1.0:
                raise CommandError(f"--{name} is between 0 and 1")
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
        backend, reason = self._backend(profile, options["backend"])
        count = options["count"]
        if options["cohesion"] >= 1.0:
            count = min(count, len(contents))  # more would be identical copies
        render = self._grader(profile, options, count) if backend == "grade" else None
        if render is None:
            render = self._stylizer(profile, options, count)
        out_dir: Path = options["out"]
        out_dir.mkdir(parents=True, exist_ok=True)
        results = []
        for index in range(count):
            path, content = contents[index % len(contents)]
            output, score, added = render(index, content)
            target = out_dir / f"{path.stem}-{index + 1:02d}.png"
            output.save(target)
            results.append(
                {
                    "path": str(target), "content": str(path),
                    "width": output.width, "height": output.height,
                    "fidelity": score.output, "content_fidelity": score.content,
                    "fidelity_gain": score.gain, "delta_e": added,
                }
            )  # fmt: skip
        summary = {
            "profile": {
                **({"code": saved.code, "version": saved.version} if saved else {}),
                "images": profile.n_images,
                "sub_styles": len(profile.clusters),
                "medium": profile.medium,
                "summary": profile.summary,
            },
            "backend": backend,
            "backend_reason": reason,
            "outputs": results,
            "seconds": round(time.perf_counter() - started, 2),
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(f"backend: {backend} ({reason})")
        for r in results:
            added = f", the taste changed colours by dE {r['delta_e']:.1f}" if r["delta_e"] else ""
            self.stdout.write(
                f"{r['path']}  fidelity {r['fidelity']:.2f} (content {r['content_fidelity']:.2f}, "
                f"{r['fidelity_gain']:+.2f}{added})"
            )

    @staticmethod
    def _backend(profile, requested: str) -> tuple[str, str]:
        from generation.grade import choose_backend

        if requested != "auto":
            if requested == "grade" and not profile.grade:
                raise CommandError("the colour grade could not be recovered from these images")
            return requested, "chosen with --backend"
        return choose_backend([(profile, None, 1.0)])

    @staticmethod
    def _grader(profile, options: dict, count: int):
        from generation.fidelity import grade_fidelity, mean_delta_e
        from generation.grade import GradeSliders, grade, plan_looks

        looks = plan_looks(
            [(profile, None, 1.0)], count=count, cohesion=options["cohesion"], seed=options["seed"]
        )
        sliders = GradeSliders(
            options["strength"], options["colour"], options["tone"], options["texture"]
        )

        def render(index: int, content):
            out = grade(content, looks[index], sliders, seed=options["seed"] + index)
            reference = grade(content, looks[index], GradeSliders(texture=0.0), max_side=256)
            score = grade_fidelity(out, content, reference)
            return out, score, round(mean_delta_e(content, out), 2)

        return render

    @staticmethod
    def _stylizer(profile, options: dict, count: int):
        from generation.batch import plan_batch
        from generation.fidelity import fidelity_score
        from generation.stylize import blend_style, stylize

        clusters = [(c.style_vector, c.weight) for c in profile.clusters]
        taste = blend_style([v for v, _ in clusters], [w for _, w in clusters])
        plan = plan_batch(clusters, count=count, cohesion=options["cohesion"], seed=options["seed"])

        def render(index: int, content):
            out = stylize(content, plan[index], strength=options["strength"])
            return out, fidelity_score(out, content, taste), None

        return render

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
