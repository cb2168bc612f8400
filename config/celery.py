"""The Celery app. Workers: `celery -A config worker -Q default,ml`."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tastebase")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_dirs() -> None:
    """The filesystem transport needs its folders to exist before anyone publishes."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@worker_ready.connect
def _recover_unfinished_work(**_: object) -> None:
    # The filesystem broker deletes a message when a worker takes it, so a worker
    # killed mid-task would lose it. The database says what is unfinished:
    # re-enqueue it when a worker starts (tasks are idempotent).
    from moodboards.services import requeue_unfinished_images

    requeue_unfinished_images()
