"""Fuzz the upload, decoding, worker, API and page-form paths with a large budget.

    .venv/bin/python bench/fuzz.py                      # 5000 cases per target
    .venv/bin/python bench/fuzz.py --cases 2000 --targets images,uploads
    .venv/bin/python bench/fuzz.py --seconds 300        # 300 s per target instead
    .venv/bin/python bench/fuzz.py --targets pages --cases 3000   # the page forms

The same properties and generators as tests/fuzz/ (tests/fuzz/strategies.py), with
random seeds instead of the tests' fixed ones. Prints, per target, the cases tried, how
they ended (accepted/rejected, statuses…), failures and time. Each failure is saved
under --out as a reproducer (the input bytes, or the request as JSON, plus the
traceback). A case running over --hang-seconds kills the run with every thread's stack;
its input is in --out/current-<target>.*. Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _django import ROOT, setup

CHUNK = 250  # examples per Hypothesis run; each run gets its own seed


@dataclass
class Report:
    target: str
    cases: int = 0
    outcomes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slowest: float = 0.0  # one case, seconds: a hang shows here long before the guard fires


class _OutOfTime(Exception):
    pass


def _save(out: Path, stem: str, case, exc: BaseException | None) -> Path:
    """Write one input so it can be replayed: bytes, a batch of files, or a request."""
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(case, bytes):
        path = out / f"{stem}.bin"
        path.write_bytes(case)
    elif isinstance(case, list):  # an upload batch: [(name, bytes)]
        path = out / stem
        path.mkdir(exist_ok=True)
        manifest = []
        for index, (name, data) in enumerate(case):
            (path / f"{index}.bin").write_bytes(data)
            manifest.append({"name": name, "file": f"{index}.bin"})
        (path / "manifest.json").write_text(json.dumps(manifest, indent=1))
    else:  # an ApiCase
        path = out / f"{stem}.json"
        path.write_text(case.as_json())
    if exc is not None:
        text = "".join(traceback.format_exception(exc))
        Path(f"{path}.traceback.txt").write_text(text)
    return path


def run_target(
    name: str,
    strategy,
    check: Callable[[object], list[str]],
    *,
    cases: int,
    seconds: float | None,
    seed: int,
    out: Path,
    hang_seconds: float,
) -> Report:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    from tests.fuzz import strategies as fz

    report = Report(name)
    started = time.monotonic()
    deadline = started + seconds if seconds else None
    chunk = 0
    current: dict = {}  # the case being run, for the failure report
    while report.cases < cases or deadline:
        if deadline and time.monotonic() > deadline:
            break
        budget = CHUNK if deadline else min(CHUNK, cases - report.cases)
        current.clear()

        @settings(
            max_examples=budget, deadline=None, database=None, phases=[Phase.generate],
            suppress_health_check=list(HealthCheck), derandomize=False,
        )  # fmt: skip
        @fixed_seed(seed * 100_003 + chunk)
        @given(strategy)
        def prop(case) -> None:
            if deadline and time.monotonic() > deadline:
                raise _OutOfTime
            report.cases += 1
            current["case"] = case
            _save(out, f"current-{name}", case, None)  # what a hang leaves behind
            began = time.monotonic()
            with fz.hang_guard(hang_seconds):
                for outcome in check(case):
                    report.outcomes[outcome] += 1
            report.slowest = max(report.slowest, time.monotonic() - began)

        try:
            prop()
        except _OutOfTime:
            break
        except (Exception, AssertionError) as exc:
            stem = f"{name}-failure-{len(report.failures) + 1}"
            path = _save(out, stem, current.get("case"), exc)
            summary = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            report.failures.append(f"{summary[:160]} -> {path}")
        chunk += 1
    report.seconds = time.monotonic() - started
    return report


# --- the targets ------------------------------------------------------------------------------


def _world():
    """Users, a team, boards, a processed image and a taste profile, like the tests'."""
    from moodboards import services
    from moodboards.models import Role
    from moodboards.samples import encode
    from taste import services as taste_services
    from testkit.looks import make_board

    alice = services.user_signup(username="alice", email="a@example.com", password="pw-alice-1")
    bob = services.user_signup(username="bob", email="bob@example.com", password="pw-bob-1")
    dave = services.user_signup(username="dave", email="d@example.com", password="pw-dave-1")
    services.user_signup(username="erin", email="e@example.com", password="pw-erin-1")
    team = services.team_create(user=alice, name="Studio")
    services.membership_add(team=team, user=bob, role=Role.EDITOR)
    membership = services.membership_add(team=team, user=dave, role=Role.VIEWER)
    board = services.board_create(team=team, user=alice, title="Fuzz")
    looks = services.board_create(team=team, user=alice, title="Looks")
    for item in make_board(("mono_contrast", "warm_film"), 3, seed=0):
        data = encode(item.image, "JPEG", quality=92)
        result = services.board_add_image(board=looks, user=alice, name=item.key, data=data)
        services.image_process(image_id=result.image_id)
    from tests.fuzz import strategies as fz

    first = services.board_add_image(board=board, user=alice, name="a.jpg", data=fz.seeds()["jpeg"])
    services.image_process(image_id=first.image_id)
    analysis = taste_services.analysis_start(board=looks, user=alice)
    profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
    ids = {
        "team": team.pk,
        "personal": services.personal_team_for(alice).pk,
        "board": board.pk,
        "image": first.image_id,
        "membership": membership.pk,
        "profile": profile.pk,
        "empty_board": services.board_create(team=team, user=alice, title="Empty").pk,
    }
    return alice, team, ids, dave


def targets(max_pixels: int):
    from django.conf import settings
    from django.test import Client
    from rest_framework.test import APIClient

    from api import services as token_services
    from moodboards import services
    from tests.fuzz import strategies as fz

    alice, team, ids, _ = _world()
    media = Path(settings.MEDIA_ROOT)

    def images(data: bytes) -> list[str]:
        return [fz.check_image(data, max_pixels=max_pixels)]

    upload_board = {"board": None, "used": 0}

    def uploads(files) -> list[str]:
        # A fresh board every 100 batches keeps duplicate checks and the media scan small.
        if upload_board["board"] is None or upload_board["used"] >= 100:
            if upload_board["board"] is not None:
                services.board_delete(board=upload_board["board"])
            upload_board["board"] = services.board_create(team=team, user=alice, title="Uploads")
            upload_board["used"] = 0
        upload_board["used"] += 1
        return fz.check_upload(
            board=upload_board["board"], user=alice, files=files, media_root=media
        )

    def processing(data: bytes) -> list[str]:
        board = services.board_create(team=team, user=alice, title="Processing")
        try:
            result = services.board_add_image(board=board, user=alice, name="fuzzed", data=data)
            if result.status != "added":
                return [f"not added ({result.status})"]
            return [fz.check_processing(result.image_id)]
        finally:
            services.board_delete(board=board)

    client = APIClient()
    secret = token_services.token_create(user=alice, name="fuzz")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    settings.TASTEBASE_API_RATES = {"token": "100000000/min", "uploads": "100000000/min"}

    def api(case) -> list[str]:
        return [f"{case.method} {case.path} {fz.check_api(client, case, ids)}"]

    browser = Client()  # a logged-in owner's browser, for the page forms
    browser.force_login(alice)

    def pages(case) -> list[str]:
        return [fz.check_page(browser, case, ids)]

    return {
        "images": (fz.image_inputs(), images),
        "uploads": (fz.upload_batches(), uploads),
        "processing": (fz.image_inputs(), processing),
        "api": (fz.api_cases(), api),
        "pages": (fz.page_cases(), pages),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=5000, help="cases per target")
    parser.add_argument("--seconds", type=float, help="time per target instead of a case count")
    parser.add_argument("--targets", default="images,uploads,processing,api,pages")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--max-pixels", type=int, default=16_000_000)
    parser.add_argument("--hang-seconds", type=float, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "fuzz")
    args = parser.parse_args()

    var = setup()
    import warnings

    from django.conf import settings

    warnings.simplefilter("ignore")  # Pillow warns about every corrupt tag it meets
    import logging

    logging.disable(logging.CRITICAL)  # 4xx warnings from django.request, per case
    settings.TASTEBASE_MAX_IMAGE_PIXELS = args.max_pixels
    available = targets(args.max_pixels)
    chosen = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(chosen) - set(available)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {sorted(available)}")
    print(f"fuzz: seed {args.seed}, var {var}, reproducers in {args.out}", flush=True)
    reports = []
    for name in chosen:
        strategy, check = available[name]
        report = run_target(
            name, strategy, check, cases=args.cases, seconds=args.seconds, seed=args.seed,
            out=args.out, hang_seconds=args.hang_seconds,
        )  # fmt: skip
        reports.append(report)
        print(
            f"{name:<11} {report.cases:>6} cases  {len(report.failures):>3} failures  "
            f"{report.seconds:7.1f} s  ({report.cases / max(report.seconds, 1e-9):.0f}/s, "
            f"slowest case {report.slowest:.2f} s)",
            flush=True,
        )
        for outcome, count in sorted(report.outcomes.items()):
            print(f"{'':<11} {count:>6}  {outcome}", flush=True)
        for failure in report.failures:
            print(f"{'':<11} FAIL {failure}", flush=True)
    failed = sum(len(r.failures) for r in reports)
    print(f"total: {sum(r.cases for r in reports)} cases, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
