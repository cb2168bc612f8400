"""A fair share of the heavy workers: which generation runs next, and what a waiting one
is waiting for.

Every generation sends one task message, but a message is only a *slot*: the worker
that takes it runs the fairest generation waiting in that queue class, which need not
be the one the message names. Fair means:

1. at most TASTEBASE_HEAVY_JOBS_PER_USER generations of one user and
   TASTEBASE_HEAVY_JOBS_PER_TEAM of one team run at once, everywhere;
2. among the eligible, the user who started work least recently goes first (someone
   who clicked "Upscale" sixteen times waits behind one click of everyone else), then
   the oldest job of that user.

There are as many messages as jobs, so every job gets run. A message that finds nothing
eligible (everyone waiting is at a cap) simply ends; when a job finishes it sends one
more message for whoever is next (``kick``), and the lease sweeper re-sends jobs that
waited longer than TASTEBASE_RESEND_QUEUED_AFTER. A spare message costs one query.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from statistics import median

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Backend, Generation, GenerationStatus

ACTIVE = (GenerationStatus.QUEUED, GenerationStatus.RUNNING)
DIFFUSION = "diffusion"
ML = "ml"
# Until a backend has finished jobs here, estimates use these (2 cores, measured:
# upscale ~135 us per input pixel, stylize ~4 us per output pixel).
DEFAULT_SECONDS_PER_PIXEL = {Backend.UPSCALE: 135e-6, Backend.STYLIZE: 4e-6}
MEASURED_JOBS = 20
# Candidates looked at per pick; more waiting jobs than this only makes the tail wait.
PICK_WINDOW = 200


def queue_class(backend: str) -> str:
    """Which workers run a backend: diffusion on GPU workers, the rest on CPU ones."""
    return DIFFUSION if backend == Backend.DIFFUSION else ML


def _in_class(klass: str) -> Q:
    return Q(backend=Backend.DIFFUSION) if klass == DIFFUSION else ~Q(backend=Backend.DIFFUSION)


def _caps() -> tuple[int, int]:
    return (
        max(1, settings.TASTEBASE_HEAVY_JOBS_PER_USER),
        max(1, settings.TASTEBASE_HEAVY_JOBS_PER_TEAM),
    )


def _running() -> tuple[Counter, Counter]:
    rows = Generation.objects.filter(status=GenerationStatus.RUNNING).values_list(
        "created_by_id", "team_id"
    )
    users, teams = Counter(), Counter()
    for user_id, team_id in rows:
        users[user_id] += 1
        teams[team_id] += 1
    return users, teams


def _lock_scheduler() -> None:
    """One pick at a time. SQLite's IMMEDIATE transactions already serialise writers;
    PostgreSQL gets a transaction-level advisory lock (released at commit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x7461_7374])  # "tast"


def next_to_run(message_id: int, klass: str) -> int | None:
    """The generation a worker should run for a message naming ``message_id`` (claimed:
    its status is RUNNING when this returns), or None when nothing may start now."""
    own = (
        Generation.objects.filter(pk=message_id)
        .values("status", "created_by_id", "team_id")
        .first()
    )
    if own is not None and own["status"] == GenerationStatus.RUNNING:
        # Resumed after a worker died or a retry: it already counts against the caps.
        return message_id
    user_cap, team_cap = _caps()
    last_start = (
        Generation.objects.filter(created_by=OuterRef("created_by"), started__isnull=False)
        .order_by()
        .values("created_by")
        .annotate(last=Max("started"))
        .values("last")
    )
    with transaction.atomic():
        _lock_scheduler()
        users, teams = _running()
        waiting = (
            Generation.objects.filter(_in_class(klass), status=GenerationStatus.QUEUED)
            .annotate(last_start=Subquery(last_start))
            .order_by(
                # Users who never started anything first, then least recently started.
                F("last_start").asc(nulls_first=True),
                "created",
                "pk",
            )
            .values_list("pk", "created_by_id", "team_id")[:PICK_WINDOW]
        )
        pick = None
        for pk, user_id, team_id in waiting:
            if users[user_id] >= user_cap or teams[team_id] >= team_cap:
                continue
            pick = pk
            # The message's own job when it is the same user's turn: a user's jobs keep
            # their order, and a message (or a direct call) runs what it named.
            if (
                own is not None
                and own["status"] == GenerationStatus.QUEUED
                and own["created_by_id"] == user_id
                and teams[own["team_id"]] < team_cap
            ):
                pick = message_id
            break
        if pick is None:
            return None
        claimed = Generation.objects.filter(pk=pick, status=GenerationStatus.QUEUED).update(
            status=GenerationStatus.RUNNING, started=Coalesce("started", timezone.now())
        )
    return pick if claimed else None


def next_waiting(klass: str) -> int | None:
    """A queued generation of this class that may start now (for ``kick``), or None."""
    user_cap, team_cap = _caps()
    users, teams = _running()
    waiting = (
        Generation.objects.filter(_in_class(klass), status=GenerationStatus.QUEUED)
        .order_by("created", "pk")
        .values_list("pk", "created_by_id", "team_id")[:PICK_WINDOW]
    )
    for pk, user_id, team_id in waiting:
        if users[user_id] < user_cap and teams[team_id] < team_cap:
            return pk
    return None


# --- what a waiting generation is waiting for ---------------------------------------------


@dataclass(frozen=True)
class QueueState:
    """Why a queued generation has not started, in words a user can act on."""

    behind_own: int  # this user's earlier jobs still queued or running
    behind_team: int  # other members' jobs in this team, running or ahead in the queue
    behind_all: int  # every job of this queue class ahead of it
    reason: str
    estimate_seconds: float | None  # how long this job takes once it runs
    wait_seconds: float | None  # roughly, until it starts

    def as_dict(self) -> dict:
        return {
            "behind_own": self.behind_own,
            "behind_team": self.behind_team,
            "behind_all": self.behind_all,
            "reason": self.reason,
            "estimate_seconds": _round(self.estimate_seconds),
            "wait_seconds": _round(self.wait_seconds),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def queue_state(generation: Generation) -> QueueState | None:
    """None unless the generation is waiting to start."""
    if generation.status != GenerationStatus.QUEUED:
        return None
    user_cap, team_cap = _caps()
    earlier = Generation.objects.filter(
        _in_class(queue_class(generation.backend)), status__in=ACTIVE
    ).filter(Q(created__lt=generation.created) | Q(status=GenerationStatus.RUNNING))
    earlier = earlier.exclude(pk=generation.pk)
    ahead = list(earlier.values_list("created_by_id", "team_id", "work_pixels", "backend"))
    own = sum(1 for user_id, *_ in ahead if user_id == generation.created_by_id)
    team = sum(
        1
        for user_id, team_id, *_ in ahead
        if team_id == generation.team_id and user_id != generation.created_by_id
    )
    running_own = Generation.objects.filter(
        created_by_id=generation.created_by_id, status=GenerationStatus.RUNNING
    ).count()
    running_team = Generation.objects.filter(
        team_id=generation.team_id, status=GenerationStatus.RUNNING
    ).count()
    if own and running_own >= user_cap:
        noun = "job" if own == 1 else "jobs"
        reason = (
            f"Queued behind your other {own} {noun}: each person runs {user_cap} at a "
            "time, so others get their turn."
        )
    elif running_team >= team_cap:
        reason = (
            f"Queued behind {team + own} job{'s' if team + own != 1 else ''} of this team: "
            f"a team runs {team_cap} at a time."
        )
    elif ahead:
        reason = f"Queued behind {len(ahead)} job{'s' if len(ahead) != 1 else ''}; it starts when a worker is free."
    else:
        reason = "Waiting for a worker to pick it up."
    rates = {b: seconds_per_pixel(b) for b in {generation.backend, *(b for *_, b in ahead)}}
    estimate = _estimate(rates[generation.backend], generation.work_pixels)
    waits = [_estimate(rates[b], px) for *_, px, b in ahead]
    wait = None if any(w is None for w in waits) else sum(waits)
    return QueueState(own, team, len(ahead), reason, estimate, wait)


def seconds_per_pixel(backend: str) -> float | None:
    """Measured on this install: the median over its last finished jobs of the backend,
    else the built-in figure, else None (no estimate)."""
    rows = (
        Generation.objects.filter(
            backend=backend,
            status__in=[GenerationStatus.DONE, GenerationStatus.PARTIAL],
            started__isnull=False,
            finished__isnull=False,
            work_pixels__gt=0,
        )
        .order_by("-finished")
        .values_list("started", "finished", "work_pixels")[:MEASURED_JOBS]
    )
    rates = [(finished - started).total_seconds() / pixels for started, finished, pixels in rows]
    rates = [r for r in rates if math.isfinite(r) and r > 0]
    if rates:
        return median(rates)
    return DEFAULT_SECONDS_PER_PIXEL.get(backend)


def _estimate(rate: float | None, work_pixels: int) -> float | None:
    return None if rate is None or not work_pixels else rate * work_pixels


def estimate_seconds(backend: str, work_pixels: int) -> float | None:
    return _estimate(seconds_per_pixel(backend), work_pixels)


def describe_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60):.0f} min"
    return f"about {seconds / 3600:.1f} h"
