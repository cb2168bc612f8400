"""Leases on background work: which worker runs what, and what must be sent again.

Rows that stand for background work (an image being processed, an analysis, a
generation batch) inherit ``LeasedWork``, and each app registers its kind of work here
(``register``, from its own tasks module). Each row carries
- ``enqueued_at``: when a task message for it was last handed to the broker (NULL:
  never, e.g. the broker was down when the row was committed);
- ``heartbeat_at`` and ``worker``: the lease of the worker running it, renewed every
  quarter lease while the task runs.

A sweeper in every worker process re-sends the work whose message was never sent, whose
lease ran out (its worker was killed, or lost its machine) or whose message has waited
far too long (a broker that restarted without persistence). Claims are conditional
UPDATEs, so two workers sweeping at once send one message, and a duplicate delivery
of work another live worker holds is dropped instead of run twice. The tasks stay
idempotent: a lease is a way to avoid wasted compute, never what keeps data right.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, models
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)

# A just-committed row is dispatched by its on_commit hook: give that a head start
# before the sweeper treats the row as never sent.
DISPATCH_GRACE = timedelta(seconds=10)


def lease_seconds() -> float:
    return float(settings.TASTEBASE_LEASE_SECONDS)


class LeasedWork(models.Model):
    """The lease fields every row of background work carries (see the module docstring)."""

    # When a task message for the row was last handed to the broker (NULL: never).
    enqueued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The worker running it, and its last sign of life.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    worker = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class WorkKind:
    """One kind of background work: its rows, which of them are unfinished, its task."""

    label: str
    model: type[LeasedWork]
    unfinished: Q
    send: Callable[[int], None]

    def rows(self) -> models.QuerySet:
        return self.model.objects.filter(self.unfinished)


# Filled by the apps, each from its own tasks module (imported by its AppConfig.ready):
# config knows the mechanism, the apps know their work.
_KINDS: dict[type[models.Model], WorkKind] = {}


def register(
    label: str, model: type[LeasedWork], *, unfinished: Q, send: Callable[[int], None]
) -> WorkKind:
    """Declare a kind of leased work: the sweeper watches its unfinished rows and
    ``dispatch`` sends them with ``send(pk)``. Registering a model again replaces it."""
    kind = WorkKind(label, model, unfinished, send)
    _KINDS[model] = kind
    return kind


def work_kinds() -> list[WorkKind]:
    return list(_KINDS.values())


def work_kind(model: type[models.Model]) -> WorkKind:
    try:
        return _KINDS[model]
    except KeyError:
        raise LookupError(
            f"{model.__name__} is not registered as leased work (config.leases.register)"
        ) from None


# --- sending ---------------------------------------------------------------------------


def dispatch(model: type[models.Model], pk: int) -> bool:
    """Send the task for one row, from its on_commit hook. Never raises: a broker or
    database outage is logged, the row keeps ``enqueued_at`` NULL and a sweeper sends
    it later. An exception here would reach the request that committed the row and
    make it clean up work that was in fact saved."""
    kind = work_kind(model)
    try:
        model.objects.filter(pk=pk).update(enqueued_at=timezone.now())
        return _send(kind, pk)
    except Exception as exc:  # the database went away right after the commit
        log.warning("Could not dispatch the %s %s task (%s); a sweeper will", kind.label, pk, exc)
        return False


def _send(kind: WorkKind, pk: int) -> bool:
    try:
        kind.send(pk)
    except Exception as exc:  # kombu raises several types for one outage
        log.warning("Could not send the %s %s task (%s); a sweeper will retry", kind.label, pk, exc)
        kind.model.objects.filter(pk=pk).update(enqueued_at=None)
        return False
    return True


def _stale(now) -> Q:
    lease = timedelta(seconds=lease_seconds())
    resend_queued = timedelta(seconds=settings.TASTEBASE_RESEND_QUEUED_AFTER)
    return (
        # Its worker stopped renewing the lease: killed, or its machine is gone.
        Q(heartbeat_at__lt=now - lease)
        # Never handed to the broker (it was down at commit time).
        | Q(heartbeat_at__isnull=True, enqueued_at__isnull=True, created__lt=now - DISPATCH_GRACE)
        # Sent long ago and never started: the broker may have lost the message.
        | Q(heartbeat_at__isnull=True, enqueued_at__lt=now - resend_queued)
    )


def sweep() -> dict[str, int]:
    """Re-send every piece of stale work once; returns how many of each kind were sent."""
    sent: dict[str, int] = {}
    for kind in work_kinds():
        now = timezone.now()
        stale = kind.rows().filter(_stale(now))
        count = 0
        for pk in stale.values_list("pk", flat=True):
            # Claim the re-send: another sweeping worker may have got there first.
            claimed = (
                kind.rows()
                .filter(_stale(now), pk=pk)
                .update(enqueued_at=now, heartbeat_at=None, worker="")
            )
            if claimed and _send(kind, pk):
                count += 1
        if count:
            log.info("Re-sent %d stale %s task(s)", count, kind.label)
        sent[kind.label] = count
    return sent


# --- holding a lease while a task runs -------------------------------------------------------


@contextmanager
def hold(model: type[models.Model], pk: int, *, worker: str, renew: bool = True) -> Iterator[bool]:
    """Take the row's lease for ``worker`` and renew it while the body runs.

    Yields False (and the caller must not run) when the row is finished or another
    worker holds a live lease: a duplicate delivery. ``renew=False`` (eager tasks, run
    inside the caller's transaction) skips the renewing thread.
    """
    kind = work_kind(model)
    worker = worker[: model._meta.get_field("worker").max_length]
    now = timezone.now()
    free = Q(heartbeat_at__isnull=True) | Q(
        heartbeat_at__lt=now - timedelta(seconds=lease_seconds())
    )
    held = kind.rows().filter(free, pk=pk).update(heartbeat_at=now, worker=worker)
    if not held:
        yield False
        return
    stop = threading.Event()
    beat = None
    if renew:
        beat = threading.Thread(
            target=_renew,
            args=(model, pk, worker, stop),
            name=f"lease-{kind.label}-{pk}",
            daemon=True,
        )
        beat.start()
    try:
        yield True
    finally:
        stop.set()
        if beat is not None:
            beat.join()
        try:
            # Let the next delivery (a Celery retry after a database outage, say) in at once.
            model.objects.filter(pk=pk, worker=worker).update(heartbeat_at=None)
        except Exception:  # the database is down: the lease simply runs out
            log.warning("Could not release the lease on %s %s", kind.label, pk, exc_info=True)


def _renew(model: type[models.Model], pk: int, worker: str, stop: threading.Event) -> None:
    interval = max(lease_seconds() / 4, 0.2)
    try:
        while not stop.wait(interval):
            try:
                model.objects.filter(pk=pk, worker=worker).update(heartbeat_at=timezone.now())
            except Exception:  # a database restart: try again next beat
                log.warning("Lease renewal failed for %s %s", model.__name__, pk, exc_info=True)
                connection.close()
    finally:
        connection.close()


# --- the sweeper thread in each worker -----------------------------------------------------------


def start_sweeper(interval: float | None = None) -> threading.Thread:
    """Sweep now and then every ``interval`` seconds, in a daemon thread of this process."""
    interval = interval or float(settings.TASTEBASE_SWEEP_SECONDS)

    def loop() -> None:
        while True:
            try:
                close_old_connections()
                sweep()
            except Exception:  # database or broker down: the next round tries again
                log.warning("Sweep failed", exc_info=True)
                connection.close()
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="lease-sweeper", daemon=True)
    thread.start()
    return thread
