from celery import shared_task

from config.celery import database_unavailable_errors, run_leased

from . import services
from .models import Generation

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
        lambda pk: services.generation_run(generation_id=pk),
        lambda pk, reason: services.generation_fail(generation_id=pk, reason=reason),
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
