"""The Celery app. Workers: `celery -A config worker -Q default,ml`."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from celery import Celery, Task
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tastebase")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

log = logging.getLogger(__name__)


@worker_ready.connect
def _start_sweeper(**_: object) -> None:
    # The filesystem broker deletes a message when a worker takes it, a Redis that
    # restarts without persistence forgets its queue, and a web request may commit
    # while the broker is down. The database says what is unfinished: every worker
    # sweeps it now and then and re-sends what no live worker holds (config/leases.py).
    from .leases import start_sweeper

    start_sweeper()


def database_unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "the database is down or restarting": retry, don't fail the work."""
    from django.db import InterfaceError, OperationalError

    return (OperationalError, InterfaceError)


def run_leased(
    task: Task,
    model: type,
    object_id: int,
    run: Callable[[int], object],
    fail: Callable[[int, str], None] | None = None,
    what: str = "task",
) -> None:
    """Run one service for a task while holding the row's lease.

    A duplicate delivery of work another live worker holds is dropped. With ``fail``,
    an error is recorded on the row so the page shows a clear state instead of a
    spinner that never ends; a database outage is not an error of the work: the task
    is retried (autoretry_for) and the row stays unfinished.
    """
    from .leases import hold

    # Only a worker renews the lease from a thread; an eager or direct call runs
    # inside its caller (and maybe its transaction), where a second connection would
    # only wait on locks.
    in_worker = bool(task.request.hostname) and not task.request.is_eager
    worker = task.request.hostname or "in-process"
    with hold(model, object_id, worker=worker, renew=in_worker) as held:
        if not held:
            log.info("%s %s is done or held by a live worker; skipped", what, object_id)
            return
        if fail is None:
            run(object_id)
        else:
            run_or_record_failure(run, fail, object_id, what)


def run_or_record_failure(run, fail, object_id: int, what: str) -> None:
    """Run one service for a task; if it breaks, record why on the row."""
    from celery.exceptions import SoftTimeLimitExceeded

    from .safe_storage import is_storage_full

    try:
        run(object_id)
    except SoftTimeLimitExceeded:
        fail(object_id, f"The {what} took too long and was stopped.")
    except database_unavailable_errors():
        log.warning("%s %s: database unavailable; will retry", what, object_id, exc_info=True)
        raise
    except Exception as exc:
        log.exception("%s %s failed", what, object_id)
        if is_storage_full(exc):
            fail(
                object_id,
                f"The {what} stopped because the server's storage is full. What was "
                "finished is kept; ask your administrator to free space, then run it again.",
            )
        else:
            fail(object_id, f"The {what} failed unexpectedly ({type(exc).__name__}: {exc}).")
        raise
