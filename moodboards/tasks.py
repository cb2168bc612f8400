from celery import shared_task

from . import services


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180, max_retries=3)
def process_image(image_id: int) -> None:
    """Thumbnail and served copy for one uploaded image."""
    services.image_process(image_id=image_id)
