import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import services

log = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def analyze_board(analysis_id: int) -> None:
    """Analyze Board: embed, cluster and describe; see services.analysis_run."""
    try:
        services.analysis_run(analysis_id=analysis_id)
    except SoftTimeLimitExceeded:
        services.analysis_fail(
            analysis_id=analysis_id, reason="The analysis took too long and was stopped."
        )
    except Exception as exc:
        log.exception("Analysis %s failed", analysis_id)
        services.analysis_fail(
            analysis_id=analysis_id,
            reason=f"The analysis failed unexpectedly ({type(exc).__name__}: {exc}).",
        )
        raise
