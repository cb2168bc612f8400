from celery import shared_task

from config.celery import run_or_record_failure

from . import services


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def analyze_board(analysis_id: int) -> None:
    """Analyze Board: embed, cluster and describe; see services.analysis_run."""
    run_or_record_failure(
        lambda pk: services.analysis_run(analysis_id=pk),
        lambda pk, reason: services.analysis_fail(analysis_id=pk, reason=reason),
        analysis_id,
        "analysis",
    )
