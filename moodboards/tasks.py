from celery import shared_task
from django.db.models import Q

from config import leases
from config.celery import database_unavailable_errors, run_leased

from . import services
from .models import BoardImage, ImageStatus


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=120,
    time_limit=180,
    # A database outage or a full disk is temporary: try again, more slowly each time.
    autoretry_for=(*database_unavailable_errors(), services.StorageFull),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=None,
)
def process_image(self, image_id: int) -> None:
    """Thumbnail and served copy for one uploaded image."""
    run_leased(self, BoardImage, image_id, lambda pk: services.image_process(image_id=pk))


leases.register(
    "image",
    BoardImage,
    unfinished=Q(status=ImageStatus.PROCESSING),
    send=lambda pk: process_image.delay(pk),
)
