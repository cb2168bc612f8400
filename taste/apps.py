from django.apps import AppConfig


class TasteConfig(AppConfig):
    name = "taste"
    verbose_name = "Taste profiles"

    def ready(self) -> None:
        # Registers this app's leased background work with config.leases.
        from moodboards.signals import image_ready

        from . import services, tasks  # noqa: F401

        image_ready.connect(services.embed_when_ready, dispatch_uid="taste.embed_when_ready")
