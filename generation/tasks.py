from celery import shared_task

from config.celery import run_or_record_failure

from . import services


def _run(generation_id: int) -> None:
    run_or_record_failure(
        lambda pk: services.generation_run(generation_id=pk),
        lambda pk, reason: services.generation_fail(generation_id=pk, reason=reason),
        generation_id,
        "batch",
    )


@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3700)
def run_generation(generation_id: int) -> None:
    """Stylize and upscale batches (CPU, the ml queue)."""
    _run(generation_id)


@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3700)
def run_diffusion_generation(generation_id: int) -> None:
    """Diffusion batches, on their own queue so GPU workers can take them."""
    _run(generation_id)
