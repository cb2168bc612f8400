from django.apps import AppConfig


class TasteConfig(AppConfig):
    name = "taste"
    verbose_name = "Taste profiles"

    def ready(self) -> None:
        # Registers this app's leased background work with config.leases.
        from . import tasks  # noqa: F401
