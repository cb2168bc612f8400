from django.apps import AppConfig


class MoodboardsConfig(AppConfig):
    name = "moodboards"
    verbose_name = "Boards"

    def ready(self) -> None:
        # HEIC/HEIF decoding for Pillow, registered once per process.
        from pillow_heif import register_heif_opener

        register_heif_opener()
        # Registers this app's leased background work with config.leases.
        from . import tasks  # noqa: F401
