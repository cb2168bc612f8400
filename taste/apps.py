from django.apps import AppConfig


class TasteConfig(AppConfig):
    name = "taste"
    verbose_name = "Taste profiles"
