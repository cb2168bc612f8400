"""Write a backup archive: the database dump, every media file and a manifest.

python manage.py backup /backups/tastebase-$(date +%F).tar
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import archive, services


class Command(BaseCommand):
    # A backup or restore must work even while some unrelated system check fails.
    requires_system_checks: list[str] = []
    help = (
        "Back up the database and the media files into one archive (.tar, or .tar.gz to "
        "compress). The file appears only once the backup is complete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="archive to write, e.g. backup.tar")

    def handle(self, *args, out: Path, verbosity: int = 1, **options) -> None:
        progress = self.stdout.write if verbosity >= 1 else archive.quiet
        try:
            result = services.backup_create(out=out, progress=progress)
        except archive.BackupError as exc:
            raise CommandError(str(exc)) from None
        media = result.manifest["media"]
        self.stdout.write(
            self.style.SUCCESS(f"Backed up to {result.path} in {result.seconds:.1f} s: ")
            + archive.describe(result.manifest)
        )
        if media["orphans"]:
            self.stdout.write(
                f"{len(media['orphans'])} media files are not used by any row (kept in the "
                "backup anyway)."
            )
        if media["missing"]:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(media['missing'])} files the database refers to are not in the "
                    f"media storage (deleted during the backup, or lost before it): "
                    + ", ".join(media["missing"][:10])
                )
            )
