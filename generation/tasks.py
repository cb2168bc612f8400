import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import services

log = logging.getLogger(__name__)


def _run(generation_id: int) -> None:
    try:
        services.generation_run(generation_id=generation_id)
    except SoftTimeLimitExceeded:
        services.generation_fail(
            generation_id=generation_id, reason="The batch took too long and was stopped."
        )
    except Exception as exc:
        log.exception("Generation %s failed", generation_id)
        services.generation_fail(
            generation_id=generation_id,
            reason=f"The batch failed unexpectedly ({type(exc).__name__}: {exc}).",
        )
        raise


@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3700)
def run_generation(generation_id: int) -> None:
    """Stylize and upscale batches (CPU, the ml queue)."""
    _run(generation_id)


@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3700)
def run_diffusion_generation(generation_id: int) -> None:
    """Diffusion batches, on their own queue so GPU workers can take them."""
    _run(generation_id)
