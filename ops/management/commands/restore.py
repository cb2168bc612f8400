"""Restore a backup archive made by `manage.py backup`.

python manage.py restore backup.tar [--yes]      replace the database and media with the backup
python manage.py restore backup.tar --check      only verify the archive; change nothing
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import archive as archives
from ops import services


class Command(BaseCommand):
    # A backup or restore must work even while some unrelated system check fails.
    requires_system_checks: list[str] = []
    help = (
        "Restore the database and media files from a backup archive. Every checksum is "
        "verified before anything is changed. Stop the web server and workers first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="archive made by manage.py backup")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="replace a database that already holds data (it is lost)",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="verify the archive's checksums and print what it holds; change nothing",
        )

    def handle(
        self, *args, archive: Path, yes: bool, check: bool, verbosity: int = 1, **options
    ) -> None:
        progress = self.stdout.write if verbosity >= 1 else archives.quiet
        try:
            if check:
                manifest = archives.archive_verify(path=archive, progress=progress)
                self.stdout.write(
                    self.style.SUCCESS(f"{archive} is intact: ")
                    + f"made {manifest['created']} by Tastebase {manifest['app_version']}; "
                    + archives.describe(manifest)
                )
                return
            result = services.restore_archive(path=archive, overwrite=yes, progress=progress)
        except archives.BackupError as exc:
            raise CommandError(str(exc)) from None
        manifest = result.manifest
        self.stdout.write(
            self.style.SUCCESS(f"Restored {archive} in {result.seconds:.1f} s: ")
            + archives.describe(manifest)
        )
        self.stdout.write(
            f"Media: {result.files_written} files written, {result.files_unchanged} already "
            "in place. Row counts match the backup."
        )
        if result.unapplied_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"The backup predates {len(result.unapplied_migrations)} migrations of this "
                    "version: run `manage.py migrate` before starting the app."
                )
            )
