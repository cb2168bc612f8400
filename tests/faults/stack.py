"""A production-shaped Tastebase of its own for fault tests: a private PostgreSQL
cluster and Redis server (so a test may restart them without touching anyone else's),
gunicorn serving the app and a Celery worker, all as real processes."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, *, timeout: float, what: str, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:  # a service still starting
            result = None
        if result:
            return result
        time.sleep(poll)
    raise AssertionError(f"Timed out waiting for {what}")


def _postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def services_available() -> str:
    """Why the private services can't run here, or '' when they can."""
    if _postgres_bindir() is None:
        return "PostgreSQL server binaries are not installed (apt-get install postgresql)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is needed to run initdb as the postgres user"
    return ""


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port (trust auth, fsync off)."""

    def __init__(self) -> None:
        bindir = _postgres_bindir()
        assert bindir is not None
        self.bindir = bindir
        self.port = free_port()
        # The postgres user must reach the folder: not under root's private pytest tmp.
        self.root = Path(tempfile.mkdtemp(prefix="tastebase-pg-", dir="/tmp"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
        subprocess.run(
            [*self._as_postgres, str(bindir / "initdb"), "-D", str(self.data), "-A", "trust",
             "-U", "postgres", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.start()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q",
             "-c", "CREATE DATABASE tastebase"],
            check=True, capture_output=True,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/tastebase"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", opts, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A redis-server on a free port that keeps nothing on disk, like the default
    Debian setup here: a restart forgets every queued message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._pings, timeout=20, what="redis to start")

    def _pings(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    destroy = stop


class Stack:
    """gunicorn + one Celery worker on the private services, with a seeded user,
    board and API token."""

    def __init__(self, pg: PrivatePostgres, redis: PrivateRedis, var: Path, queues: str) -> None:
        self.pg, self.redis, self.var = pg, redis, var
        self.web_port = free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "CELERY_", "TASTEBASE_", "DATABASE_", "CACHE_"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            TASTEBASE_VAR_DIR=str(var),
            DATABASE_URL=pg.url,
            CELERY_BROKER_URL=redis.url(0),
            CACHE_URL=redis.url(1),
            # Seconds, not minutes: the test waits for recovery.
            TASTEBASE_LEASE_SECONDS="4",
            TASTEBASE_SWEEP_SECONDS="1",
            TASTEBASE_RESEND_QUEUED_AFTER="8",
            TASTEBASE_EMBED_BATCH="4",
            # The load here is the test's own: the per-user upload limit is tested elsewhere.
            TASTEBASE_API_UPLOAD_RATE="100000/min",
            DATABASE_CONN_MAX_AGE="60",
        )
        self.procs: dict[str, subprocess.Popen] = {}
        self.manage("migrate", "-v", "0")
        seeded = self.manage("shell", "-c", _SEED)
        info = json.loads(seeded.strip().splitlines()[-1])
        self.token, self.board_id = info["token"], info["board_id"]
        self.start_web()
        self.start_worker(queues)

    # --- processes ---------------------------------------------------------------------

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.var / f"{name}.log", "ab")  # noqa: SIM115 (lives with the process)
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def start_web(self) -> None:
        self._spawn(
            "web",
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{self.web_port}",
             "-w", "2", "--threads", "4", "--timeout", "60"],
        )  # fmt: skip
        wait_until(
            lambda: requests.get(f"{self.base}/", timeout=2).ok,
            timeout=60,
            what="gunicorn to serve",
        )

    def start_worker(self, queues: str, name: str = "worker") -> subprocess.Popen:
        proc = self._spawn(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-c", "1",
             "--pool", "solo", "-l", "info", "--without-gossip", "--without-mingle",
             "-n", f"{name}@%h"],
        )  # fmt: skip
        wait_until(lambda: b"ready" in self.log(name), timeout=60, what=f"{name} to start")
        return proc

    def log(self, name: str) -> bytes:
        return (self.var / f"{name}.log").read_bytes()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    # --- the API, as a script would use it -------------------------------------------------

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 30)
        return requests.request(method, f"{self.base}/api{path}", headers=headers, **kwargs)

    def board_images(self) -> list[dict]:
        rows, url = [], f"/boards/{self.board_id}/images/?page_size=200"
        while url:
            page = self.api("GET", url).json()
            rows += page["results"]
            url = page["next"] and page["next"].split("/api", 1)[1]
        return rows

    def media_files(self, folder: str) -> list[Path]:
        return [p for p in (self.var / "media" / folder).rglob("*") if p.is_file()]


_SEED = """
import json
from django.contrib.auth import get_user_model
from api.services import token_create
from moodboards import services
user = get_user_model().objects.create_user("studio", password="not-used-here-1")
board = services.board_create(team=services.personal_team_for(user), user=user, title="Faults")
print(json.dumps({"token": token_create(user=user, name="faults")[1], "board_id": board.pk}))
"""


def distinct_jpeg(seed: int, side: int = 192) -> bytes:
    """A small photo-like JPEG whose perceptual hash differs from every other seed's."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()
