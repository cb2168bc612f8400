"""Background work of taste: Analyze Board."""

from celery import shared_task
from django.db.models import Q

from config import leases
from config.celery import database_unavailable_errors, run_leased

from . import services
from .models import Analysis, AnalysisStatus


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=1800,
    time_limit=1900,
    autoretry_for=database_unavailable_errors(),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=None,
)
def analyze_board(self, analysis_id: int) -> None:
    """Analyze Board: embed, cluster and describe; see services.analysis_run."""
    run_leased(
        self,
        Analysis,
        analysis_id,
        lambda pk: services.analysis_run(analysis_id=pk),
        lambda pk, reason: services.analysis_fail(analysis_id=pk, reason=reason),
        "analysis",
    )


leases.register(
    "analysis",
    Analysis,
    unfinished=Q(status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING]),
    send=lambda pk: analyze_board.delay(pk),
)
