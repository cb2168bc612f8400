"""Peak memory of a real gunicorn web worker for one hostile POST /generate/ (finding 2).

    .venv/bin/python bench/request_memory.py [--files 60] [--mb 11] [--port 8814]

Seeds a throw-away embedded install (SQLite, its own var dir: a user, a board, a taste
profile), then for each case starts a fresh gunicorn (1 sync worker, no threads), logs
in through the login form, sends the request and reads the worker's peak resident
memory (VmHWM in /proc) before and after. Cases:

- `uploads`: the recipe form with N uploaded copies of one ~M MB photo (`content_files`),
  the request of the report: 60 × 11 MB took a worker from 380 to 963 MB;
- `sixteen`: 16 such copies (the allowed count; over the content pixel budget);
- `ids`: N repeats of one board image's id (`content_ids`).

Prints each case's status, the answer's first words, the worker's RSS before and its
peak after, with the load average; nothing is asserted (the tests check behaviour).
Runs against the code of the folder it lives in (copy it into another checkout to
measure that one).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-123"


def _photo(megabytes: float) -> bytes:
    """A real photograph (skimage's astronaut) made big and noisy enough to weigh ~M MB."""
    import numpy as np
    from PIL import Image
    from skimage import data

    rng = np.random.default_rng(0)
    side = 2400
    while True:
        base = np.asarray(Image.fromarray(data.astronaut()).resize((side, side)), dtype=np.int16)
        noisy = np.clip(base + rng.integers(-40, 40, base.shape), 0, 255).astype("uint8")
        buf = io.BytesIO()
        Image.fromarray(noisy).save(buf, "JPEG", quality=95)
        if buf.tell() >= megabytes * 1024 * 1024 or side > 8000:
            return buf.getvalue()
        side = int(side * 1.2)


def _seed(env: dict[str, str]) -> dict[str, int]:
    code = r"""
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from moodboards import services
from moodboards.samples import encode, sample_jpeg, SAMPLES
from taste import services as taste_services
user = services.user_signup(username="bench", email="bench@example.com", password=PASSWORD)
team = services.team_create(user=user, name="Bench")
board = services.board_create(team=team, user=user, title="Looks")
for name in list(SAMPLES)[:8]:
    result = services.board_add_image(board=board, user=user, name=name + ".jpg", data=sample_jpeg(name))
    services.image_process(image_id=result.image_id)
analysis = taste_services.analysis_start(board=board, user=user)
profile = taste_services.analysis_run(analysis_id=analysis.pk).profile
image = board.images.first()
print(json.dumps({"profile": profile.pk, "image": image.pk}))
""".replace("PASSWORD", repr(PASSWORD))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024  # MB
    return fields


def _worker_pid(master: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children")
        pids = children.read_text().split() if children.exists() else []
        if pids:
            return int(pids[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "1", "--timeout", "600", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _login(base: str) -> requests.Session:
    session = requests.Session()
    deadline = time.monotonic() + 120
    while True:
        try:
            session.get(base + "/login/", timeout=60)
            break
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    response = session.post(
        base + "/login/",
        data={"username": "bench", "password": PASSWORD,
              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False, timeout=30,
    )  # fmt: skip
    if response.status_code != 302:
        raise RuntimeError(f"login failed: {response.status_code}")
    return session


def _answer(response: requests.Response, session: requests.Session, base: str) -> str:
    """The page's message after the redirect (what the user reads)."""
    if response.status_code != 302:
        return response.text[:120].replace("\n", " ")
    page = session.get(base + response.headers["Location"], timeout=60).text
    found = re.findall(r'<li class="msg-[a-z ]*">(.*?)</li>', page, re.S)
    return (found[0] if found else response.headers["Location"]).strip()[:160]


def run_case(name: str, env, port: int, ids, photo: bytes, files: int, log: Path) -> None:
    server = _serve(env, port, log)
    try:
        base = f"http://127.0.0.1:{port}"
        session = _login(base)
        worker = _worker_pid(server.pid)
        before = _status(worker)
        recipe = {"csrfmiddlewaretoken": session.cookies["csrftoken"],
                  "profile_0": ids["profile"], "weight_0": "1", "count": "1",
                  "strength": "0.8", "backend": "stylize"}  # fmt: skip
        uploads = []
        if name == "uploads":
            uploads = [("content_files", (f"c{i}.jpg", photo, "image/jpeg")) for i in range(files)]
        elif name == "sixteen":
            uploads = [("content_files", (f"c{i}.jpg", photo, "image/jpeg")) for i in range(16)]
        else:
            recipe["content_ids"] = [str(ids["image"])] * files
        started = time.perf_counter()
        response = session.post(
            base + "/generate/", data=recipe, files=uploads or None, allow_redirects=False,
            timeout=600,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        after = _status(worker)
        body = _answer(response, session, base)
        mb = len(photo) / 1024 / 1024
        what = (
            f"{files if name != 'sixteen' else 16} × {mb:.1f} MB"
            if name != "ids"
            else f"{files} ids"
        )
        print(
            f"{name:<8} {what:<15} HTTP {response.status_code} in {seconds:5.1f} s  "
            f"worker RSS before {before['VmRSS']:>5} MB, peak after {after['VmHWM']:>5} MB "
            f"(+{after['VmHWM'] - before['VmRSS']} MB)  load {os.getloadavg()[0]:.1f}\n"
            f"         answer: {body}",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--mb", type=float, default=11)
    parser.add_argument("--port", type=int, default=8814)
    parser.add_argument("--cases", default="uploads,sixteen,ids")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="tastebase-memory-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TASTEBASE_VAR_DIR": str(var),
        "CELERY_TASK_ALWAYS_EAGER": "0",  # nothing is rendered: the request is the subject
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SECRET_KEY"):
        env.pop(name, None)
    print(
        f"code: {ROOT} (git {_git_head()}), var {var}, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs",
        flush=True,
    )
    ids = _seed(env)
    photo = _photo(args.mb)
    log = var / "gunicorn.log"
    for name in [c.strip() for c in args.cases.split(",") if c.strip()]:
        run_case(name, env, args.port, ids, photo, args.files, log)
    print(
        f"re-measure: .venv/bin/python bench/request_memory.py --files {args.files} "
        f"--mb {args.mb:g} --cases {args.cases}"
    )
    return 0


def _git_head() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
            or "?"
        )
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
