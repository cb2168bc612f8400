"""Start and stop the production stack for a benchmark, and clean up after it.

    with Stack(port=8765, db_name="tastebase_load", redis_db=14) as stack:
        ...  # stack.url, stack.env, stack.logs

What runs is what an operator runs: `manage.py migrate` and `collectstatic`, then
`gunicorn config.wsgi` (several workers and threads) and two Celery workers on
separate queues (`default` for thumbnails, `ml,diffusion` for analysis and
generation), against PostgreSQL (a database created for the run and dropped after
it) and Redis (one db number, emptied before and after) for the broker and cache.
Processes get their own session so a Ctrl-C reaches only the bench, which then
stops them in order; everything is stopped and dropped even when the run fails.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
MARKER = ".tastebase-bench-stack"


@dataclass
class Stack:
    port: int = 8765
    db_name: str = "tastebase_load"
    redis_db: int = 14
    var_dir: Path = Path("/tmp/tb-load")
    web_workers: int = 3
    web_threads: int = 4
    default_concurrency: int = 2
    ml_concurrency: int = 1
    # Workers run at a lower CPU priority than the web server: on one machine, a page
    # should not wait behind a batch job (0: the same priority).
    worker_nice: int = 10
    keep: bool = False
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.db_name.replace("_", "").isalnum():
            raise ValueError(f"Database name {self.db_name!r}: letters, digits and _ only.")
        # The stack's own folder (database-less: media, static files, logs), removed
        # with the run; only a folder this class made is ever removed.
        self.home = Path(self.var_dir) / "load-stack"
        self.logs = self.home / "logs"
        self.url = f"http://127.0.0.1:{self.port}"
        redis = f"redis://127.0.0.1:6379/{self.redis_db}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.db_name}",
            "CACHE_URL": redis,
            "CELERY_BROKER_URL": redis,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "TASTEBASE_VAR_DIR": str(self.home),
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The load run reads the server's own time per request.
            "TASTEBASE_SERVER_TIMING": "1",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            "PYTHONUNBUFFERED": "1",
        }

    # --- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> Stack:
        # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so the `finally` below runs.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.keep and exc[0] is None:
            print(f"\n--keep: the stack stays up at {self.url} (logs in {self.logs}).")
            print(f"Stop it with: kill {' '.join(str(p.pid) for p in self.procs.values())}")
            print(f"then: dropdb -h 127.0.0.1 -U postgres {self.db_name}")
            return
        self.stop()

    def start(self) -> None:
        t0 = time.perf_counter()
        self._remove_home()  # media of an earlier run would point at a dropped database
        self.logs.mkdir(parents=True)
        (self.home / MARKER).touch()
        self._redis_flush()
        self._sql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{self.db_name}"')
        py = sys.executable
        self._run("migrate", [py, "manage.py", "migrate", "--noinput"])
        self._run("collectstatic", [py, "manage.py", "collectstatic", "--noinput"])
        self._spawn(
            "web",
            [py, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.web_workers), "--threads", str(self.web_threads),
             "--timeout", "120", "--access-logfile", "-"],
        )  # fmt: skip
        for name, queues, concurrency in (
            ("worker-a", "default", self.default_concurrency),
            ("worker-b", "ml,diffusion", self.ml_concurrency),
        ):
            nice = ["nice", "-n", str(self.worker_nice)] if self.worker_nice else []
            self._spawn(
                name,
                [*nice, py, "-m", "celery", "-A", "config", "worker", "-Q", queues,
                 "-c", str(concurrency), "-n", f"{name}-{os.getpid()}@%h", "-l", "info"],
            )  # fmt: skip
        self._wait(lambda: self._http_ok("/login/"), "gunicorn to answer", "web")
        for name in ("worker-a", "worker-b"):
            self._wait(lambda n=name: b" ready." in self._log(n).read_bytes(), f"{name}", name)
        print(
            f"stack up in {time.perf_counter() - t0:.1f} s: gunicorn {self.web_workers}×"
            f"{self.web_threads} threads on {self.url}, worker A -Q default "
            f"(-c {self.default_concurrency}), worker B -Q ml,diffusion "
            f"(-c {self.ml_concurrency}), workers at nice {self.worker_nice}, "
            f"database {self.db_name}, redis db {self.redis_db}",
            flush=True,
        )

    def stop(self) -> None:
        """Stop every process (TERM, then KILL), drop the database, empty the Redis db."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 30
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time: killing it", file=sys.stderr)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
        try:
            self._sql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            self._redis_flush()
            # Keep the logs of the last run (they explain a failure); drop the media.
            if self.logs.exists():
                kept = self.home.parent / "load-logs"
                shutil.rmtree(kept, ignore_errors=True)
                shutil.move(self.logs, kept)
            self._remove_home()

    # --- helpers ----------------------------------------------------------------------

    def _remove_home(self) -> None:
        if not self.home.exists():
            return
        if not (self.home / MARKER).exists():
            raise RuntimeError(f"{self.home} exists but was not made by a bench: not removing it.")
        shutil.rmtree(self.home)

    def _log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def _run(self, name: str, cmd: list[str]) -> None:
        with open(self._log(name), "wb") as log:
            done = subprocess.run(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd[1:])} failed:\n{self._tail(name)}")

    def _spawn(self, name: str, cmd: list[str]) -> None:
        with open(self._log(name), "wb") as log:
            self.procs[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def _wait(self, check, what: str, name: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited while waiting for {what}:\n{self._tail(name)}")
            time.sleep(0.3)
        raise RuntimeError(f"Timed out waiting for {what}:\n{self._tail(name)}")

    def _tail(self, name: str, chars: int = 3000) -> str:
        path = self._log(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _http_ok(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(statement)

    def _redis_flush(self) -> None:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=self.redis_db).flushdb()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
