from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self) -> None:
        # Registers this app's leased background work with config.leases.
        from . import tasks  # noqa: F401
