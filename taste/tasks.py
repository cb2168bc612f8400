"""Background work of taste: Analyze Board, and embedding uploads as they arrive."""

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


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=120,
    time_limit=180,
    autoretry_for=database_unavailable_errors(),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def embed_image(image_id: int) -> None:
    """Embed one processed upload (services.image_embed). No lease: the embedding is a
    cache, and an image this misses is embedded by the next analysis or search."""
    services.image_embed(image_id=image_id)


leases.register(
    "analysis",
    Analysis,
    unfinished=Q(status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING]),
    send=lambda pk: analyze_board.delay(pk),
)
