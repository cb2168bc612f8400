"""Create the demo: an owner (demo) and a viewer (client) in the team "Demo Studio", with
boards of real photographs and artwork that may be redistributed.

The files and their attribution are committed in moodboards/demo/ (boards.json,
DEMO_ASSETS.md); the sample photographs come from scikit-image and scikit-learn, which
the app installs anyway. Idempotent: running it again adds nothing that exists already.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from moodboards import services
from moodboards.models import Board, Membership, Role, Team
from moodboards.samples import SAMPLES, sample_jpeg

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "tastebase-demo"
VIEWER_USERNAME = "client"
TEAM_NAME = "Demo Studio"
DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
SAMPLES_BOARD = "Demo: sample photographs"
SAMPLES_DESCRIPTION = (
    "Real photographs that ship with scikit-image and scikit-learn: a mixed board with no "
    "single look."
)
# Bitonal or text-only samples make a poor moodboard.
SKIPPED_SAMPLES = {"page", "text", "clock", "coins", "horse"}


class Command(BaseCommand):
    help = "Create the demo users (demo / client, password tastebase-demo), their team and boards."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first() or services.user_signup(
            username=DEMO_USERNAME, email="demo@example.com", password=DEMO_PASSWORD
        )
        viewer = User.objects.filter(username=VIEWER_USERNAME).first() or services.user_signup(
            username=VIEWER_USERNAME, email="client@example.com", password=DEMO_PASSWORD
        )
        team = self._team(user, viewer)
        # Demo boards an earlier version made in the private space move to the team, so
        # the viewer account sees them too.
        personal = services.personal_team_for(user)
        Board.objects.filter(team=personal, title__startswith="Demo: ").update(team=team)

        manifest = json.loads((DEMO_DIR / "boards.json").read_text())
        for spec in manifest["boards"]:
            files = [
                (Path(f["file"]).name, (DEMO_DIR / f["file"]).read_bytes()) for f in spec["files"]
            ]
            self._board(user, team, spec["title"], spec["description"], files)
        samples = [
            (f"{name}.jpg", sample_jpeg(name)) for name in SAMPLES if name not in SKIPPED_SAMPLES
        ]
        self._board(user, team, SAMPLES_BOARD, SAMPLES_DESCRIPTION, samples)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: log in as {DEMO_USERNAME} / {DEMO_PASSWORD} "
                f"(viewer: {VIEWER_USERNAME} / {DEMO_PASSWORD})"
            )
        )

    def _team(self, user, viewer) -> Team:
        membership = (
            Membership.objects.filter(user=user, role=Role.OWNER, team__personal_for__isnull=True)
            .select_related("team")
            .order_by("team_id")
            .first()
        )
        team = membership.team if membership else services.team_create(user=user, name=TEAM_NAME)
        if not team.memberships.filter(user=viewer).exists():
            # The demo's own accounts: added directly (a real user accepts an invitation).
            services.membership_add(team=team, user=viewer, role=Role.VIEWER)
        return team

    def _board(self, user, team: Team, title: str, description: str, files) -> None:
        board = Board.objects.filter(team=team, title=title).first() or services.board_create(
            team=team, user=user, title=title, description=description
        )
        # The same bytes are recognised as duplicates, so a second run adds nothing.
        added = sum(
            services.board_add_image(board=board, user=user, name=name, data=data).status == "added"
            for name, data in files
        )
        self.stdout.write(f"Demo board “{board.title}”: {added} image(s) added.")
