"""Load run: simulated users on the production stack, with a per-route table.

    .venv/bin/python bench/load.py [--users 8] [--duration 60] [--keep]
    .venv/bin/python bench/load.py --scenario upscale [--users 6] [--duration 120]

`--scenario upscale` (finding 1 of the hardening issue): two users press "Upscale ×4"
on a ~0.8 MP photo again and again while the others upload photos; it prints how long
each upload waited for its thumbnail (target: every one within 30 s), how the upscales
went, and the "queued behind" states the upscalers saw. Everything needed to measure
again is printed: the command, the stack's layout and the load average before and after.

Starts the stack itself (bench/_stack.py: gunicorn, two Celery workers on separate
queues, PostgreSQL database `tastebase_load`, Redis db 14), seeds it (a team, a
board of 500 ready images uploaded through the upload endpoint, a small work board
per user, the big board analysed), then runs N users for a fixed time. Each user
logs in through the login form and does what the pages and their JavaScript do:
browse home, the team's board list, the 500-image board (and the thumbnails a
first screen loads), image pages, the taste profile page, generations; upload
photos (multipart, CSRF) and refresh the grid until thumbnails are made; click
Analyze Board and poll until done; open Generate, get a live preview, start a small
stylize batch and poll until done; and call the API with a token.

Prints per route: count, requests/s, p50/p95/p99 latency seen by the client, and
p95 of the server's own time (`Server-Timing: app;dur=`); every error; then checks
that no work was lost: every accepted upload became a ready image, every analysis
and generation finished. Exits non-zero when a target is missed: any 5xx or
unexpected status, lost or unfinished work, or a board page p95 server time of
150 ms or more. Stops the processes and drops the database at the end, also on
Ctrl-C or error (`--keep` leaves the stack up after a run that completed).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
from _stack import ROOT, Stack

BOARD_P95_TARGET_MS = 150.0
THUMBNAIL_TARGET_S = 30.0
BOARD_ROUTE = "board page (500 images)"
PASSWORD = "load-run-Pa55word!"
BIG_BOARD_SIZE = 500
FIRST_SCREEN_THUMBS = 24  # what a browser loads of a lazy grid before any scrolling


# --- photos --------------------------------------------------------------------------


class Photos:
    """Distinct small JPEGs from real sample photographs: a random crop, flip and
    colour change, and a luminance gradient so perceptual hashes differ (the board
    refuses near-duplicates)."""

    def __init__(self, side: int = 320) -> None:
        from moodboards.samples import SAMPLES, sample_image

        self.side = side
        self.sources = [sample_image(n).convert("RGB") for n in list(SAMPLES)[:12]]
        self.lock = threading.Lock()
        self.counter = 0

    def make(self) -> tuple[str, bytes]:
        import numpy as np
        from PIL import Image, ImageEnhance

        from moodboards.samples import encode

        with self.lock:
            i = self.counter
            self.counter += 1
        rng = random.Random(i)
        src = self.sources[i % len(self.sources)]
        w, h = src.size
        cw, ch = int(w * rng.uniform(0.45, 0.9)), int(h * rng.uniform(0.45, 0.9))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = src.crop((x, y, x + cw, y + ch))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crop = ImageEnhance.Color(crop).enhance(rng.uniform(0.5, 1.5))
        scale = self.side / max(crop.size)
        crop = crop.resize((round(crop.width * scale), round(crop.height * scale)))
        arr = np.asarray(crop, dtype=np.float32)
        yy, xx = np.mgrid[0 : arr.shape[0], 0 : arr.shape[1]]
        angle = rng.uniform(0, 2 * math.pi)
        ramp = np.cos(angle) * xx / arr.shape[1] + np.sin(angle) * yy / arr.shape[0]
        arr = arr * (0.55 + 0.45 * (ramp - ramp.min()) / (np.ptp(ramp) or 1))[..., None]
        image = Image.fromarray(arr.clip(0, 255).astype("uint8"))
        return f"photo-{i:04d}.jpg", encode(image, "JPEG", quality=88)


# --- recording -------------------------------------------------------------------------


@dataclass
class Sample:
    route: str
    status: int
    ms: float
    app_ms: float | None
    at: float
    ok: bool


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    uploads: list[int] = field(default_factory=list)  # image ids the server said it added
    analyses: list[int] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample, error: str | None = None) -> None:
        with self.lock:
            self.samples.append(sample)
            if error:
                self.errors.append(error)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    def note(self, kind: str, value: int) -> None:
        with self.lock:
            getattr(self, kind).append(value)


APP_DUR = re.compile(r"\bapp;dur=([\d.]+)")


class Browser:
    """One user's browser: a cookie session, CSRF like the pages' own JS, timings."""

    def __init__(self, base: str, rec: Recorder, who: str) -> None:
        self.base, self.rec, self.who = base, rec, who
        self.session = requests.Session()
        self.cached: set[str] = set()  # URLs the server let the browser keep (max-age)

    def call(
        self, route: str, method: str, path: str, *, expect=(200,), session=None, **kwargs
    ) -> requests.Response | None:
        session = session or self.session
        start = time.perf_counter()
        try:
            response = session.request(
                method, self.base + path, allow_redirects=False, timeout=180, **kwargs
            )
            response.content  # noqa: B018  (read the body: it is part of the latency)
        except requests.RequestException as exc:
            ms = (time.perf_counter() - start) * 1000
            self.rec.add(
                Sample(route, 0, ms, None, time.monotonic(), False),
                f"{route}: {method} {path} → {type(exc).__name__}: {exc}",
            )
            return None
        ms = (time.perf_counter() - start) * 1000
        match = APP_DUR.search(response.headers.get("Server-Timing", ""))
        ok = response.status_code in expect
        error = None
        if not ok:
            body = response.text[:300].replace("\n", " ") if response.content else ""
            error = f"{route}: {method} {path} → {response.status_code} ({self.who}) {body}"
        self.rec.add(
            Sample(
                route, response.status_code, ms, float(match[1]) if match else None,
                time.monotonic(), ok,
            ),
            error,
        )  # fmt: skip
        return response if ok else None

    def get_cacheable(self, route: str, path: str) -> None:
        """An image as a browser loads it: not again while its cache entry is fresh
        (thumbnails are served with `Cache-Control: private, max-age=86400`)."""
        if path in self.cached:
            return
        response = self.call(route, "GET", path)
        if response is not None and "max-age" in response.headers.get("Cache-Control", ""):
            self.cached.add(path)

    @property
    def csrf(self) -> str:
        return self.session.cookies.get("csrftoken", "")

    def login(self, username: str) -> bool:
        if not self.call("login page", "GET", "/login/"):
            return False
        response = self.call(
            "log in", "POST", "/login/", expect=(302,),
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf},
        )  # fmt: skip
        return response is not None


# --- the users ---------------------------------------------------------------------------


@dataclass
class World:
    """What the seed made, shared by every user."""

    team_id: int
    big_board: int
    big_image_ids: list[int]
    profile_version: int
    profile_id: int
    work_boards: dict[str, int]  # username -> board id
    tokens: dict[str, str]  # username -> API secret


class User:
    def __init__(self, name: str, world: World, base: str, rec: Recorder, photos: Photos):
        self.name, self.world, self.rec, self.photos = name, world, rec, photos
        self.browser = Browser(base, rec, name)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {world.tokens[name]}"
        self.rng = random.Random(name)
        self.work_board = world.work_boards[name]

    # What a user does, with how often (weights).
    def actions(self):
        return [
            (self.board_page, 20),
            (self.home, 10),
            (self.board_list, 6),
            (self.image_page, 10),
            (self.profile_page, 6),
            (self.generations_page, 4),
            (self.api_calls, 12),
            (self.upload, 8),
            (self.analyze, 2),
            (self.generate, 2),
        ]

    def run(self, stop: threading.Event, think: float) -> None:
        if not self.browser.login(self.name):
            return
        actions, weights = zip(*self.actions(), strict=True)
        while not stop.is_set():
            self.rng.choices(actions, weights)[0]()
            stop.wait(self.rng.uniform(0, 2 * think))

    def get(self, route: str, path: str, **kwargs) -> requests.Response | None:
        return self.browser.call(route, "GET", path, **kwargs)

    # --- browsing ---
    def home(self) -> None:
        self.get("home", "/")

    def board_list(self) -> None:
        self.get("team page (board list)", f"/teams/{self.world.team_id}/")

    def board_page(self) -> None:
        page = self.get(BOARD_ROUTE, f"/boards/{self.world.big_board}/")
        if page is None:
            return
        thumbs = re.findall(r'<img src="(/boards/\d+/images/\d+/thumb/)"', page.text)
        if len(thumbs) != BIG_BOARD_SIZE:
            self.rec.add(
                Sample(BOARD_ROUTE + " content", 200, 0, None, time.monotonic(), False),
                f"{BOARD_ROUTE}: {len(thumbs)} thumbnails on the page, not {BIG_BOARD_SIZE}",
            )
        # The first screen of the lazy grid, and half the time a scroll further down.
        shown = thumbs[:FIRST_SCREEN_THUMBS]
        if self.rng.random() < 0.5:
            at = self.rng.randrange(0, max(1, len(thumbs) - FIRST_SCREEN_THUMBS))
            shown += thumbs[at : at + FIRST_SCREEN_THUMBS]
        for url in shown:
            self.browser.get_cacheable("thumbnail", url)

    def image_page(self) -> None:
        image_id = self.rng.choice(self.world.big_image_ids)
        base = f"/boards/{self.world.big_board}/images/{image_id}/"
        if self.get("image page", base):
            self.browser.get_cacheable("image display file", base + "display/")

    def profile_page(self) -> None:
        self.get(
            "profile page", f"/boards/{self.world.big_board}/profiles/{self.world.profile_version}/"
        )

    def generations_page(self) -> None:
        self.get("generations list", "/generations/")

    def api_calls(self) -> None:
        call = self.browser.call
        call("api me", "GET", "/api/me/", session=self.api)
        call("api boards", "GET", "/api/boards/", session=self.api)
        page = self.rng.randint(1, BIG_BOARD_SIZE // 50)
        call("api board images", "GET", f"/api/boards/{self.world.big_board}/images/?page={page}",
             session=self.api)  # fmt: skip
        call("api generations", "GET", "/api/generations/", session=self.api)

    # --- work ---
    def upload(self) -> None:
        """Drop 1–3 photos on the work board, as board.js sends them (one per request),
        then refresh the grid until the thumbnails are made."""
        for _ in range(self.rng.randint(1, 3)):
            name, data = self.photos.make()
            response = self.browser.call(
                "upload", "POST", f"/boards/{self.work_board}/upload/",
                files={"files": (name, data, "image/jpeg")},
                headers={"X-CSRFToken": self.browser.csrf},
            )  # fmt: skip
            if response is None:
                continue
            for result in response.json()["results"]:
                if result["status"] == "added":
                    self.rec.note("uploads", result["image_id"])
                elif result["status"] == "rejected":
                    self.rec.error(f"upload: {name} rejected: {result['message']}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            grid = self.get("board grid refresh", f"/boards/{self.work_board}/grid/")
            if grid is None or grid.headers.get("X-Processing", "0") == "0":
                return
            time.sleep(1.2)  # board.js polls every 1.2 s

    def analyze(self) -> None:
        """Analyze Board on the work board, then follow the progress page to the profile."""
        response = self.browser.call(
            "analyze (start)", "POST", f"/boards/{self.work_board}/analyze/", expect=(302,),
            data={"csrfmiddlewaretoken": self.browser.csrf},
        )  # fmt: skip
        if response is None:
            return
        location = response.headers["Location"]
        match = re.search(r"/analyses/(\d+)/$", location)
        if not match:
            self.rec.error(f"analyze: redirected to {location}, not to an analysis")
            return
        self.rec.note("analyses", int(match[1]))
        self.get("analysis page", location, expect=(200, 302))
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            status = self.get("analysis status", location + "status/")
            if status is None:
                return
            body = status.json()
            if body["status"] == "done":
                self.get("profile page", body["profile_url"])
                return
            if body["status"] == "failed":
                self.rec.error(f"analysis {match[1]} failed: {body['error']}")
                return
            time.sleep(0.7)  # analysis.js polls every 0.7 s

    def generate(self) -> None:
        """Open Generate from the big board's profile, preview on a work image, start a
        batch of 2 (stylize) and watch it until every output is in."""
        world = self.world
        page = self.get("generate page", f"/generate/?profile={world.profile_id}")
        if page is None:
            return
        contents = re.findall(r'name="content_ids" value="(\d+)"', page.text)
        if not contents:
            self.rec.error("generate: the page offers no board image to stylize")
            return
        content = self.rng.choice(contents)
        ingredient = {"profile": str(world.profile_id), "cluster": "all", "weight": 1.0}
        self.browser.call(
            "generate preview", "POST", "/generate/preview/",
            json={"content": content, "ingredients": [ingredient], "strength": 0.8},
            headers={"X-CSRFToken": self.browser.csrf},
        )  # fmt: skip
        response = self.browser.call(
            "generate (start)", "POST", "/generate/", expect=(302,),
            data={
                "csrfmiddlewaretoken": self.browser.csrf, "profile_0": world.profile_id,
                "cluster_0": "all", "weight_0": "1", "content_ids": content, "strength": "0.8",
                "count": "2", "cohesion": "1", "seed": str(self.rng.randint(0, 99999)),
                "backend": "stylize", "prompt": "", "negative_prompt": "",
            },
        )  # fmt: skip
        if response is None:
            return
        location = response.headers["Location"]
        match = re.search(r"/generations/(\d+)/$", location)
        if not match:
            self.rec.error(f"generate: redirected to {location}, not to a generation")
            return
        self.rec.note("generations", int(match[1]))
        self.get("generation page", location)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            status = self.get("generation status", location + "status/")
            if status is None:
                return
            body = status.json()
            if body["status"] not in ("queued", "running"):
                self.get("generation page", location)
                for output in body["outputs"]:
                    if output["url"]:
                        self.get("generation output file", output["url"])
                return
            time.sleep(1.0)  # generation.js polls every second


# --- seeding -----------------------------------------------------------------------------


def seed(stack: Stack, users: int, photos: Photos, rec: Recorder) -> World:
    from api.services import token_create
    from moodboards import services
    from moodboards.models import BoardImage, ImageStatus, Role

    t0 = time.perf_counter()
    owner = services.user_signup(username="owner", email="owner@example.com", password=PASSWORD)
    team = services.team_create(user=owner, name="Load Studio")
    names = [f"user{i:02d}" for i in range(users)]
    for name in names:
        member = services.user_signup(username=name, email=f"{name}@example.com", password=PASSWORD)
        services.membership_add(team=team, user=member, role=Role.EDITOR)
    big = services.board_create(team=team, user=owner, title="Reference library")
    work = {
        name: services.board_create(team=team, user=owner, title=f"Work board {name}").pk
        for name in names
    }
    from django.contrib.auth import get_user_model

    tokens = {
        name: token_create(user=get_user_model().objects.get(username=name), name="load")[1]
        for name in names
    }

    # Uploads through the real endpoint, 10 files a request, 3 requests at a time.
    browser = Browser(stack.url, rec, "owner")
    if not browser.login("owner"):
        raise RuntimeError(f"The owner could not log in: {rec.errors}")

    def upload_batch(board_id: int, count: int) -> int:
        files = [("files", (n, d, "image/jpeg")) for n, d in (photos.make() for _ in range(count))]
        response = browser.call(
            "seed upload", "POST", f"/boards/{board_id}/upload/", files=files,
            headers={"X-CSRFToken": browser.csrf},
        )  # fmt: skip
        if response is None:
            raise RuntimeError(f"Seeding upload failed: {rec.errors[-1]}")
        return sum(r["status"] == "added" for r in response.json()["results"])

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        while (have := BoardImage.objects.filter(board=big).count()) < BIG_BOARD_SIZE:
            batches = [
                min(10, BIG_BOARD_SIZE - have - i) for i in range(0, BIG_BOARD_SIZE - have, 10)
            ]
            list(pool.map(lambda n: upload_batch(big.pk, n), batches))
        list(pool.map(lambda board_id: upload_batch(board_id, 3), work.values()))
    wait_for(
        lambda: not BoardImage.objects.filter(status=ImageStatus.PROCESSING).exists(),
        what="thumbnails of the seeded images", timeout=600,
    )  # fmt: skip
    failed = BoardImage.objects.filter(status=ImageStatus.FAILED).count()
    if failed:
        raise RuntimeError(f"{failed} seeded images failed to process")
    t_upload = time.perf_counter() - t0

    # Analyze the big board through the page's button, as the owner.
    t1 = time.perf_counter()
    response = browser.call(
        "seed analyze", "POST", f"/boards/{big.pk}/analyze/", expect=(302,),
        data={"csrfmiddlewaretoken": browser.csrf},
    )  # fmt: skip
    if response is None:
        raise RuntimeError(f"Could not start the seed analysis: {rec.errors[-1]}")
    from taste.models import Analysis

    analysis_id = int(re.search(r"/analyses/(\d+)/$", response.headers["Location"])[1])
    wait_for(
        lambda: Analysis.objects.get(pk=analysis_id).status in ("done", "failed"),
        what="the analysis of the 500-image board", timeout=1800,
    )  # fmt: skip
    analysis = Analysis.objects.select_related("profile").get(pk=analysis_id)
    if analysis.status != "done":
        raise RuntimeError(f"The seed analysis failed: {analysis.error}")
    uploads_ms = [x.ms for x in rec.samples if x.route == "seed upload"]
    print(
        f"seeded in {time.perf_counter() - t0:.0f} s: {BIG_BOARD_SIZE} images uploaded and "
        f"thumbnailed in {t_upload:.0f} s ({len(uploads_ms)} upload requests of up to 10 "
        f"files, p50 {percentile(uploads_ms, 50):.0f} ms, p95 {percentile(uploads_ms, 95):.0f} ms), "
        f"the board analysed in {time.perf_counter() - t1:.0f} s; {users} users (editors), "
        "a work board each",
        flush=True,
    )
    rec.samples.clear()  # the table is about the load run, not the seeding
    return World(
        team_id=team.pk,
        big_board=big.pk,
        big_image_ids=list(big.images.values_list("pk", flat=True)),
        profile_version=analysis.profile.version,
        profile_id=analysis.profile.pk,
        work_boards=work,
        tokens=tokens,
    )


def wait_for(check, *, what: str, timeout: float, poll: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(poll)
    raise RuntimeError(f"Timed out after {timeout:.0f} s waiting for {what}.")


# --- report ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(rec: Recorder, window: float, window_end: float) -> dict[str, float]:
    by_route: dict[str, list[Sample]] = defaultdict(list)
    for s in rec.samples:
        by_route[s.route].append(s)
    head = (
        f"{'route':<28} {'count':>6} {'rps':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'app p95':>8} {'errors':>6}"
    )
    print("\n" + head + "\n" + "-" * len(head))
    figures: dict[str, float] = {}
    for route in sorted(by_route, key=lambda r: (-len(by_route[r]), r)):
        samples = by_route[route]
        ms = [s.ms for s in samples]
        app = [s.app_ms for s in samples if s.app_ms is not None]
        in_window = sum(s.at <= window_end for s in samples)
        app_p95 = percentile(app, 95) if app else float("nan")
        if route == BOARD_ROUTE:
            figures["board_app_p95"] = app_p95
        print(
            f"{route:<28} {len(samples):>6} {in_window / window:>6.2f} {percentile(ms, 50):>8.0f} "
            f"{percentile(ms, 95):>8.0f} {percentile(ms, 99):>8.0f} {app_p95:>8.1f} "
            f"{sum(not s.ok for s in samples):>6}"
        )
    total = len(rec.samples)
    in_window = sum(s.at <= window_end for s in rec.samples)
    print("-" * len(head))
    print(
        f"{'all':<28} {total:>6} {in_window / window:>6.2f}   (latency: client side, "
        "request sent to body read; app p95: the server's own time, Server-Timing)"
    )
    statuses = Counter(s.status for s in rec.samples)
    print("statuses: " + ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(statuses.items())))
    figures["server_errors"] = sum(v for k, v in statuses.items() if k >= 500 or k == 0)
    return figures


def verify(rec: Recorder, drain: float) -> list[str]:
    """Every accepted upload is a ready image, every analysis and generation finished."""
    from generation.models import Generation
    from moodboards.models import BoardImage, ImageStatus
    from taste.models import Analysis

    problems: list[str] = []
    try:
        wait_for(
            lambda: (
                not BoardImage.objects.filter(pk__in=rec.uploads, status=ImageStatus.PROCESSING).exists()
                and not Analysis.objects.filter(pk__in=rec.analyses, status__in=["queued", "running"]).exists()
                and not Generation.objects.filter(pk__in=rec.generations, status__in=["queued", "running"]).exists()
            ),
            what="the last uploads, analyses and generations", timeout=drain,
        )  # fmt: skip
    except RuntimeError as exc:
        problems.append(str(exc))

    images = Counter(BoardImage.objects.filter(pk__in=rec.uploads).values_list("status", flat=True))
    missing = len(set(rec.uploads)) - sum(images.values())
    print(
        f"\nuploads accepted: {len(rec.uploads)} → ready {images['ready']}, processing "
        f"{images['processing']}, failed {images['failed']}, missing {missing}"
    )
    if images["ready"] != len(rec.uploads):
        problems.append(f"{len(rec.uploads) - images['ready']} accepted uploads are not ready")

    analyses = Counter(
        Analysis.objects.filter(pk__in=rec.analyses).values_list("status", flat=True)
    )
    print(
        f"analyses started: {len(rec.analyses)} → "
        + ", ".join(f"{k} {v}" for k, v in sorted(analyses.items()))
    )
    if analyses["done"] != len(set(rec.analyses)):
        problems.append(f"analyses not done: {dict(analyses)}")

    generations = Generation.objects.filter(pk__in=rec.generations)
    gen_status = Counter(generations.values_list("status", flat=True))
    outputs = sum(o.ok for g in generations.prefetch_related("outputs") for o in g.outputs.all())
    print(
        f"generations started: {len(rec.generations)} → "
        + ", ".join(f"{k} {v}" for k, v in sorted(gen_status.items()))
        + f"; {outputs} outputs"
    )
    if gen_status["done"] != len(set(rec.generations)):
        problems.append(f"generations not done: {dict(gen_status)}")
    return problems


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--think", type=float, default=0.5, help="mean pause between actions, s")
    parser.add_argument("--drain", type=float, default=600,
                        help="seconds to wait after the run for work still in flight")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="leave the stack up afterwards")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="tastebase_load", help="database name (created, dropped)")
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--var-dir", default="/tmp/tb-load")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--worker-nice", type=int, default=10,
                        help="CPU priority of the Celery workers (0: same as the web)")  # fmt: skip
    parser.add_argument("--scenario", choices=["mixed", "upscale"], default="mixed")
    parser.add_argument("--upscale-side", type=int, default=1024,
                        help="long side of the photo the two upscalers upscale")  # fmt: skip
    args = parser.parse_args()
    print(
        "command: "
        + " ".join(sys.argv)
        + "\nload average before: "
        + " ".join(f"{x:.2f}" for x in __import__("os").getloadavg())
        + f" on {__import__('os').cpu_count()} CPUs",
        flush=True,
    )

    stack = Stack(
        port=args.port, db_name=args.db, redis_db=args.redis_db, var_dir=Path(args.var_dir),
        web_workers=args.web_workers, web_threads=args.web_threads, keep=args.keep,
        worker_nice=args.worker_nice,
    )  # fmt: skip
    with stack:
        # This process reads and seeds the same database as the stack.
        os.environ.update(stack.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connections

        try:
            return (run_upscale if args.scenario == "upscale" else run)(stack, args)
        finally:
            connections.close_all()
            print(
                "load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
                flush=True,
            )


def run(stack: Stack, args: argparse.Namespace) -> int:
    rec = Recorder()
    photos = Photos()
    world = seed(stack, args.users, photos, rec)

    stop = threading.Event()
    users = [User(name, world, stack.url, rec, photos) for name in world.tokens]
    threads = [
        threading.Thread(target=u.run, args=(stop, args.think), name=u.name, daemon=True)
        for u in users
    ]
    print(f"{args.users} users for {args.duration:.0f} s …", flush=True)
    start = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    stop.set()
    window_end = time.monotonic()
    # Users finish what they are doing (a poll until an analysis is done, say).
    for thread in threads:
        thread.join(timeout=max(1.0, args.drain - (time.monotonic() - window_end)))
    drained = time.monotonic() - window_end
    print(
        f"load phase {window_end - start:.0f} s, then {drained:.0f} s for users to finish "
        "what they had started (requests then count in latency, not in rps)"
    )

    figures = report(rec, window_end - start, window_end)
    problems = verify(rec, max(10.0, args.drain - drained))

    if rec.errors:
        print(f"\nerrors ({len(rec.errors)}):")
        for line, count in Counter(rec.errors).most_common(25):
            print(f"  {count}× {line}")
    board_p95 = figures.get("board_app_p95", float("nan"))
    print("\ntargets:")
    checks = [
        (f"board page p95 server time {board_p95:.1f} ms < {BOARD_P95_TARGET_MS:.0f} ms",
         board_p95 < BOARD_P95_TARGET_MS),
        (f"no 5xx or failed request ({figures['server_errors']:.0f})", figures["server_errors"] == 0),
        (f"no unexpected status or error ({len(rec.errors)})", not rec.errors),
        ("no lost or unfinished work" + (f": {'; '.join(problems)}" if problems else ""),
         not problems),
    ]  # fmt: skip
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


# --- the upscale scenario: heavy work must not starve thumbnails ---------------------------


def _big_photo(side: int) -> bytes:
    from PIL import Image

    from moodboards.samples import encode, sample_image

    image = sample_image("astronaut").convert("RGB")
    return encode(image.resize((side, side * 4 // 5), Image.Resampling.LANCZOS), "JPEG", quality=90)


def seed_upscale(stack: Stack, users: int, rec: Recorder, side: int) -> dict:
    from django.contrib.auth import get_user_model

    from api.services import token_create
    from moodboards import services
    from moodboards.models import BoardImage, ImageStatus, Role

    owner = services.user_signup(username="owner", email="owner@example.com", password=PASSWORD)
    team = services.team_create(user=owner, name="Load Studio")
    names = [f"user{i:02d}" for i in range(users)]
    boards, tokens = {}, {}
    for name in names:
        member = services.user_signup(username=name, email=f"{name}@example.com", password=PASSWORD)
        services.membership_add(team=team, user=member, role=Role.EDITOR)
        boards[name] = services.board_create(team=team, user=owner, title=f"Work {name}").pk
        tokens[name] = token_create(user=get_user_model().objects.get(username=name), name="load")[
            1
        ]
    browser = Browser(stack.url, rec, "owner")
    if not browser.login("owner"):
        raise RuntimeError(f"The owner could not log in: {rec.errors}")
    big = _big_photo(side)
    sources = {}
    for name in names[:2]:  # the two upscalers
        response = browser.call(
            "seed upload", "POST", f"/boards/{boards[name]}/upload/",
            files={"files": ("big.jpg", big, "image/jpeg")}, headers={"X-CSRFToken": browser.csrf},
        )  # fmt: skip
        sources[name] = response.json()["results"][0]["image_id"]
    wait_for(
        lambda: not BoardImage.objects.filter(status=ImageStatus.PROCESSING).exists(),
        what="the upscalers' photos", timeout=300,
    )  # fmt: skip
    rec.samples.clear()
    return {"team": team.pk, "boards": boards, "tokens": tokens, "sources": sources, "names": names}


def run_upscale(stack: Stack, args: argparse.Namespace) -> int:
    from generation.models import Generation

    rec = Recorder()
    photos = Photos()
    world = seed_upscale(stack, args.users, rec, args.upscale_side)
    names = world["names"]
    upscalers, uploaders = names[:2], names[2:]
    if not uploaders:
        raise SystemExit("--users must be at least 3: two upscale, the others upload")
    waits: list[float] = []  # upload answered -> thumbnail ready, seconds
    not_ready: list[str] = []
    queue_reasons: Counter = Counter()
    stop = threading.Event()

    def upscaler(name: str) -> None:
        browser = Browser(stack.url, rec, name)
        if not browser.login(name):
            return
        board, image = world["boards"][name], world["sources"][name]
        while not stop.is_set():
            response = browser.call(
                "upscale (start)", "POST", f"/boards/{board}/images/{image}/upscale/",
                expect=(302,), data={"csrfmiddlewaretoken": browser.csrf},
            )  # fmt: skip
            if response is None:
                return
            location = response.headers["Location"]
            match = re.search(r"/generations/(\d+)/$", location)
            if not match:
                rec.error(f"upscale: redirected to {location}")
                return
            rec.note("generations", int(match[1]))
            # Click again while the first runs: the second one waits its turn.
            browser.call(
                "upscale (start)", "POST", f"/boards/{board}/images/{image}/upscale/",
                expect=(302,), data={"csrfmiddlewaretoken": browser.csrf},
            )  # fmt: skip
            while not stop.is_set():
                body = browser.call("generation status", "GET", location + "status/")
                if body is None:
                    return
                state = body.json()
                if state.get("queue"):
                    queue_reasons[state["queue"]["reason"].split(":")[0]] += 1
                if state["status"] not in ("queued", "running"):
                    break
                # generation.js polls every second. (A 2 s pause met gunicorn's 2 s
                # keep-alive: the server closed the idle connection as it was reused.)
                stop.wait(1.0)

    def uploader(name: str) -> None:
        browser = Browser(stack.url, rec, name)
        if not browser.login(name):
            return
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {world['tokens'][name]}"
        board = world["boards"][name]
        while not stop.is_set():
            filename, data = photos.make()
            response = browser.call(
                "upload", "POST", f"/boards/{board}/upload/",
                files={"files": (filename, data, "image/jpeg")},
                headers={"X-CSRFToken": browser.csrf},
            )  # fmt: skip
            if response is None:
                stop.wait(1)
                continue
            [result] = response.json()["results"]
            if result["status"] != "added":
                continue
            answered = time.monotonic()
            rec.note("uploads", result["image_id"])
            url = f"{stack.url}/api/boards/{board}/images/{result['image_id']}/"
            while time.monotonic() - answered < 120:
                try:
                    status = api.get(url, timeout=60).json().get("status")
                except (requests.RequestException, ValueError) as exc:
                    rec.error(f"thumbnail poll: {type(exc).__name__}: {exc}")
                    break
                if status != "processing":
                    waits.append(time.monotonic() - answered)
                    break
                time.sleep(0.25)
            else:
                not_ready.append(filename)
            stop.wait(rng.uniform(0, 2 * args.think))

    rng = random.Random(14)
    threads = [threading.Thread(target=upscaler, args=(n,), daemon=True) for n in upscalers]
    threads += [threading.Thread(target=uploader, args=(n,), daemon=True) for n in uploaders]
    print(
        f"{len(upscalers)} users upscaling a {args.upscale_side}×{args.upscale_side * 4 // 5} photo "
        f"(two clicks at a time), {len(uploaders)} uploading, for {args.duration:.0f} s …",
        flush=True,
    )
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=150)

    report(rec, args.duration, time.monotonic())
    runs = Generation.objects.filter(pk__in=rec.generations)
    statuses = Counter(runs.values_list("status", flat=True))
    durations = [
        (g.finished - g.started).total_seconds()
        for g in runs.exclude(started=None).exclude(finished=None)
    ]
    print(
        f"\nupscales clicked: {Generation.objects.filter(backend='upscale').count()} "
        f"(first clicks followed: {len(rec.generations)}); by status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        + (f"; run time p50 {percentile(durations, 50):.0f} s, max {max(durations):.0f} s"
           if durations else "")
    )  # fmt: skip
    print("queued states seen by the upscalers: " + (
        ", ".join(f"{v}× “{k}”" for k, v in queue_reasons.most_common()) or "none"))  # fmt: skip
    worst = max(waits) if waits else float("nan")
    if waits:
        print(
            f"thumbnails: {len(waits)} uploads; ready after p50 {percentile(waits, 50):.1f} s, "
            f"p95 {percentile(waits, 95):.1f} s, max {worst:.1f} s; not ready within 120 s: "
            f"{len(not_ready)}"
        )
    checks = [
        (f"every thumbnail ready within {THUMBNAIL_TARGET_S:.0f} s (max {worst:.1f} s)",
         bool(waits) and not not_ready and worst < THUMBNAIL_TARGET_S),
        (f"no unexpected status or error ({len(rec.errors)})", not rec.errors),
    ]  # fmt: skip
    for line, count in Counter(rec.errors).most_common(10):
        print(f"  {count}× {line}")
    print("\ntargets:")
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: the stack was stopped and its database dropped", file=sys.stderr)
        sys.exit(130)
