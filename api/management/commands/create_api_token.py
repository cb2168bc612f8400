"""Print a new personal API token for a user (for scripts and the README's examples)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api import services


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME named NAME and print it (once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", nargs="?", default="command line")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user “{username}”.")
        _, secret = services.token_create(user=user, name=name)
        self.stdout.write(secret)
