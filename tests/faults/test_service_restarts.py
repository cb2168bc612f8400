"""PostgreSQL and Redis restart while users upload and analyse: nothing accepted is
lost, nothing is half-written, and the app recovers by itself.

Each test runs its own PostgreSQL cluster, Redis server, gunicorn and Celery worker
(tests/faults/stack.py), so restarting them disturbs no one else.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from .stack import PrivatePostgres, PrivateRedis, Stack, distinct_jpeg, services_available

pytestmark = [pytest.mark.worker, pytest.mark.faults]

_missing = services_available()
if _missing and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the fault tests: {_missing}")


@pytest.fixture
def stack(tmp_path):
    if _missing:
        pytest.skip(_missing)
    pg, redis = PrivatePostgres(), PrivateRedis()
    app = None
    try:
        app = Stack(pg, redis, tmp_path, queues="default,ml,diffusion")
        yield app
    finally:
        if app is not None:
            app.stop()
        redis.destroy()
        pg.destroy()


@dataclass
class UploadLoad:
    """Uploader threads, each sending distinct images one at a time, recording what
    the server said about every one."""

    stack: Stack
    threads: int = 3
    accepted: dict[int, float] = field(default_factory=dict)  # image id -> when
    failures: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self, worker: int) -> None:
        n = 0
        while not self._stop.is_set():
            seed = worker * 100_000 + n
            n += 1
            files = {"files": (f"u{seed}.jpg", distinct_jpeg(seed), "image/jpeg")}
            try:
                r = self.stack.api(
                    "POST", f"/boards/{self.stack.board_id}/images/", files=files, timeout=60
                )
            except requests.RequestException as exc:
                with self._lock:
                    self.failures.append((time.monotonic(), type(exc).__name__))
                time.sleep(0.2)
                continue
            with self._lock:
                if r.status_code == 200 and r.json()["results"][0]["status"] == "added":
                    self.accepted[r.json()["results"][0]["image_id"]] = time.monotonic()
                else:
                    self.failures.append((time.monotonic(), f"{r.status_code} {r.text[:200]}"))

    def __enter__(self) -> UploadLoad:
        self._workers = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)
        ]
        for t in self._workers:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._workers:
            t.join(timeout=90)

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)


def _assert_nothing_lost_or_half_written(
    stack: Stack, accepted: set[int], failed_requests: int
) -> None:
    # Every accepted upload is on the board and gets its thumbnail: none is stuck.
    rows = stack.board_images()
    on_board = {r["id"] for r in rows}
    assert accepted <= on_board, f"lost uploads: {sorted(accepted - on_board)}"
    wait_for_all_ready(stack)
    rows = stack.board_images()
    assert {r["status"] for r in rows} == {"ready"}, [r for r in rows if r["status"] != "ready"]
    # Storage holds exactly what the rows point at: no orphan or half-written file.
    # Every row's original is there (each row became ready from it). A request that
    # failed while its COMMIT was cut off may leave its file unreferenced (the row's
    # fate was unknown, so the file was kept): at most one per failed request.
    originals = stack.media_files("originals")
    assert len(rows) <= len(originals) <= len(rows) + failed_requests, (
        len(originals), len(rows), failed_requests,
    )  # fmt: skip
    assert not [p for p in stack.media_files("") if p.name.startswith(".partial-")]
    assert len(stack.media_files("derived")) == 2 * len(rows)


def wait_for_all_ready(stack: Stack, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = [r["status"] for r in stack.board_images()]
        if statuses and all(s == "ready" for s in statuses):
            return
        time.sleep(0.5)
    pending = [r for r in stack.board_images() if r["status"] != "ready"]
    raise AssertionError(f"{len(pending)} image(s) never finished: {pending[:3]}")


def _wait_for_uploads(load: UploadLoad, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while load.count() < at_least:
        assert time.monotonic() < deadline, f"uploads stalled: {load.failures[-5:]}"
        time.sleep(0.1)


def test_postgres_restart_under_upload_load_loses_nothing(stack):
    with UploadLoad(stack) as load:
        _wait_for_uploads(load, 10)
        stack.pg.stop()
        time.sleep(3)  # users keep uploading into the outage
        stack.pg.start()
        restarted = time.monotonic()
        before = load.count()
        _wait_for_uploads(load, before + 15)  # it serves again, by itself
    # Requests failed only while the database was away (a clear 5xx/503, never a
    # hang), and none after it came back.
    late = [f for f in load.failures if f[0] > restarted + 5]
    assert not late, late
    _assert_nothing_lost_or_half_written(stack, set(load.accepted), len(load.failures))


def test_redis_restart_under_upload_load_loses_nothing(stack):
    """Redis is the broker and the cache. Restarted without persistence it forgets
    every queued message; uploads during the outage are still accepted (the task is
    sent once the broker is back) and the sweeper re-sends what was forgotten."""
    with UploadLoad(stack) as load:
        _wait_for_uploads(load, 10)
        stack.redis.stop()
        outage = load.count()
        time.sleep(3)
        during = load.count() - outage
        stack.redis.start()
        _wait_for_uploads(load, load.count() + 10)
    assert during > 0, "uploads must keep working while Redis is down"
    assert not load.failures, load.failures[:5]
    _assert_nothing_lost_or_half_written(stack, set(load.accepted), len(load.failures))


def test_postgres_restart_mid_analysis_finishes_one_version(stack):
    for first in range(0, 64, 16):
        files = [
            ("files", (f"a{seed}.jpg", distinct_jpeg(10_000 + seed, side=256), "image/jpeg"))
            for seed in range(first, first + 16)
        ]
        assert stack.api("POST", f"/boards/{stack.board_id}/images/", files=files).ok
    wait_for_all_ready(stack)
    started = stack.api("POST", f"/boards/{stack.board_id}/analyses/")
    assert started.status_code == 202, started.text
    analysis_url = started.headers["Location"].split("/api", 1)[1]

    def state() -> dict:
        return stack.api("GET", analysis_url).json()

    deadline = time.monotonic() + 120
    while (before := state())["status"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stack.pg.stop()
    assert before["status"] == "running", before  # the outage hits a running analysis
    time.sleep(3)
    stack.pg.start()

    deadline = time.monotonic() + 180
    while (current := state())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, current
        time.sleep(0.5)
    assert current["status"] == "done", current
    profiles = stack.api("GET", f"/boards/{stack.board_id}/profiles/").json()["results"]
    assert len(profiles) == 1
