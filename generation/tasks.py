from celery import shared_task
from django.db.models import Q

from config import leases
from config.celery import database_unavailable_errors, run_leased

from . import rendering
from .models import Backend, Generation, GenerationStatus

_RETRY = {
    "autoretry_for": database_unavailable_errors(),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": None,
}


def _run(task, generation_id: int) -> None:
    run_leased(
        task,
        Generation,
        generation_id,
        lambda pk: rendering.generation_run(generation_id=pk),
        lambda pk, reason: rendering.generation_fail(generation_id=pk, reason=reason),
        "batch",
    )


@shared_task(bind=True, acks_late=True, soft_time_limit=3600, time_limit=3700, **_RETRY)
def run_generation(self, generation_id: int) -> None:
    """Stylize and upscale batches (CPU, the ml queue)."""
    _run(self, generation_id)


@shared_task(bind=True, acks_late=True, soft_time_limit=3600, time_limit=3700, **_RETRY)
def run_diffusion_generation(self, generation_id: int) -> None:
    """Diffusion batches, on their own queue so GPU workers can take them."""
    _run(self, generation_id)


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
