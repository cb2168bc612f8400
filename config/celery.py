"""The Celery app. Workers: `celery -A config worker -Q default,ml`."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tastebase")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _recover_unfinished_work(**_: object) -> None:
    # The filesystem broker deletes a message when a worker takes it, so a worker
    # killed mid-task would lose it. The database says what is unfinished:
    # re-enqueue it when a worker starts (tasks are idempotent).
    from generation.services import requeue_unfinished_generations
    from moodboards.services import requeue_unfinished_images
    from taste.services import requeue_unfinished_analyses

    requeue_unfinished_images()
    requeue_unfinished_analyses()
    requeue_unfinished_generations()


def run_or_record_failure(run, fail, object_id: int, what: str) -> None:
    """Run one service for a task; if it breaks, record why on the row so the page
    shows a clear state instead of a spinner that never ends."""
    import logging

    from celery.exceptions import SoftTimeLimitExceeded

    try:
        run(object_id)
    except SoftTimeLimitExceeded:
        fail(object_id, f"The {what} took too long and was stopped.")
    except Exception as exc:
        logging.getLogger(__name__).exception("%s %s failed", what, object_id)
        fail(object_id, f"The {what} failed unexpectedly ({type(exc).__name__}: {exc}).")
        raise
