"""Create a demo account with a board of real sample photographs.

Idempotent: running it again changes nothing that exists already.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from moodboards import services
from moodboards.models import Board, Role
from moodboards.samples import SAMPLES, encode, sample_jpeg
from testkit.looks import make_board

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "tastebase-demo"
DEMO_BOARD = "Demo: sample photographs"
LOOKS_BOARD = "Demo: three looks"
# The same subjects rendered in three distinct looks: Analyze Board should find the
# looks, not the subjects.
DEMO_LOOKS = ("mono_contrast", "warm_film", "teal_orange")


class Command(BaseCommand):
    help = "Create the demo user (demo / tastebase-demo), a team and a demo board."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            user = services.user_signup(
                username=DEMO_USERNAME, email="demo@example.com", password=DEMO_PASSWORD
            )
        personal = services.personal_team_for(user)
        team = user.memberships.filter(team__personal_for__isnull=True).first()
        if team is None:
            studio = services.team_create(user=user, name="Demo Studio")
            viewer = User.objects.filter(username="client").first() or services.user_signup(
                username="client", email="client@example.com", password=DEMO_PASSWORD
            )
            # The demo's own accounts: added directly (a real user accepts an invitation).
            services.membership_add(team=studio, user=viewer, role=Role.VIEWER)
        board = Board.objects.filter(team=personal, title=DEMO_BOARD).first()
        if board is None:
            board = services.board_create(
                team=personal,
                user=user,
                title=DEMO_BOARD,
                description="Real photographs that ship with scikit-image and scikit-learn.",
            )
        # Same bytes are recognised as duplicates, so a second run adds nothing.
        names = [n for n in SAMPLES if n not in {"page", "text", "clock", "coins", "horse"}]
        added = 0
        for name in names:
            result = services.board_add_image(
                board=board, user=user, name=f"{name}.jpg", data=sample_jpeg(name)
            )
            added += result.status == "added"
        self.stdout.write(f"Demo board “{board.title}”: {added} image(s) added.")
        self._looks_board(user, personal)
        self.stdout.write(
            self.style.SUCCESS(f"Demo ready: log in as {DEMO_USERNAME} / {DEMO_PASSWORD}")
        )

    def _looks_board(self, user, team) -> None:
        board = Board.objects.filter(team=team, title=LOOKS_BOARD).first() or services.board_create(
            team=team,
            user=user,
            title=LOOKS_BOARD,
            description="Monochrome high contrast, warm faded film and teal/orange grades "
            "of the same photographs. Press Analyze Board.",
        )
        added = 0
        for item in make_board(DEMO_LOOKS, per_look=8, seed=3):
            data = encode(item.image, "JPEG", quality=90)
            result = services.board_add_image(
                board=board, user=user, name=item.key.replace(".png", ".jpg"), data=data
            )
            added += result.status == "added"
        self.stdout.write(f"Demo board “{board.title}”: {added} image(s) added.")
