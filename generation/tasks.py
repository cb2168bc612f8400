import logging

from celery import shared_task
from django.db.models import Q

from config import leases
from config.celery import database_unavailable_errors, run_leased

from . import rendering, scheduling
from .models import Backend, Generation, GenerationStatus

log = logging.getLogger(__name__)

_RETRY = {
    "autoretry_for": database_unavailable_errors(),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": None,
}


def _run(task, generation_id: int, klass: str) -> None:
    # The message is a slot: run the fairest waiting generation (generation/scheduling.py).
    pick = scheduling.next_to_run(generation_id, klass)
    if pick is None:
        log.info(
            "generation %s: nothing may start now (caps); a finishing job sends more", generation_id
        )
        return
    try:
        run_leased(
            task,
            Generation,
            pick,
            lambda pk: rendering.generation_run(generation_id=pk),
            lambda pk, reason: rendering.generation_fail(generation_id=pk, reason=reason),
            "batch",
        )
    finally:
        # Caps count a user's running jobs in every class, so a slot freed here may be
        # what a job of the other class waits for: kick both, not only this one.
        for waiting_class in (scheduling.ML, scheduling.DIFFUSION):
            _kick(waiting_class)


def _kick(klass: str) -> None:
    """A slot freed: send a message for whoever may start now (a job that waited at a cap
    may have had its own message used already)."""
    waiting = scheduling.next_waiting(klass)
    if waiting is not None:
        leases.dispatch(Generation, waiting)


@shared_task(bind=True, acks_late=True, soft_time_limit=3600, time_limit=3700, **_RETRY)
def run_generation(self, generation_id: int) -> None:
    """Stylize and upscale batches (CPU, the ml queue)."""
    _run(self, generation_id, scheduling.ML)


@shared_task(bind=True, acks_late=True, soft_time_limit=3600, time_limit=3700, **_RETRY)
def run_diffusion_generation(self, generation_id: int) -> None:
    """Diffusion batches, on their own queue so GPU workers can take them."""
    _run(self, generation_id, scheduling.DIFFUSION)


def _send(generation_id: int) -> None:
    backend = Generation.objects.filter(pk=generation_id).values_list("backend", flat=True).first()
    task = run_diffusion_generation if backend == Backend.DIFFUSION else run_generation
    task.delay(generation_id)


leases.register(
    "generation",
    Generation,
    unfinished=Q(status__in=[GenerationStatus.QUEUED, GenerationStatus.RUNNING]),
    send=_send,
)
