"""`manage.py backup` and `restore`: a whole installation comes back byte for byte, and a
bad archive or a careless restore changes nothing."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from moodboards.models import BoardImage
from ops import services

pytestmark = pytest.mark.django_db(transaction=True)


def read_manifest(path) -> dict:
    with tarfile.open(path) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def test_backup_wipe_restore_brings_back_everything_a_user_sees(
    client, alice, carol, populated, manage, wipe, take_snapshot, tmp_path
):
    before = take_snapshot(client, carol)
    archive = tmp_path / "tastebase.tar"

    backup = manage("backup", str(archive))
    assert backup.returncode == 0, backup.stderr
    assert "Backed up to" in backup.stdout and "1 profiles" in backup.stdout
    manifest = read_manifest(archive)
    assert manifest["database"]["engine"] == connection.vendor
    assert manifest["counts"]["boards"] == 1 and manifest["counts"]["outputs"] == 2
    assert manifest["counts"]["images"] == BoardImage.objects.count()
    assert {f["name"] for f in manifest["media"]["files"]} >= set(before["files"])
    assert manifest["media"]["missing"] == []
    assert ["taste", "0001_initial"] in manifest["migrations"]

    wipe()
    assert not os.path.exists(default_storage.location)

    restore = manage("restore", str(archive))
    assert restore.returncode == 0, restore.stderr
    assert "Row counts match the backup" in restore.stdout
    after = take_snapshot(client, carol)
    assert after["files"] == before["files"]  # originals, thumbnails, outputs: same bytes
    assert after["served"] == before["served"]  # and the views serve them
    assert after == before  # rows, profile JSON and every page, exactly


def test_a_corrupted_archive_is_refused_and_nothing_changes(
    alice, board, media_root, add_image, tmp_path
):
    kept = add_image(board, alice, "coffee")
    gone = add_image(board, alice, "rocket")
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive), verbosity=0)
    # The user deletes an image after the backup; the damaged archive must not undo it.
    gone.delete()
    default_storage.delete(gone.original.name)
    files_before = sorted(services.walk_storage(default_storage))

    with tarfile.open(archive) as tar:
        member = tar.getmember(f"media/{kept.thumbnail.name}")
    data = bytearray(archive.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0xFF  # one flipped bit in a thumbnail
    archive.write_bytes(bytes(data))

    with pytest.raises(CommandError, match="does not match its checksum") as exc:
        call_command("restore", str(archive), "--yes", verbosity=0)
    assert kept.thumbnail.name in str(exc.value)
    assert list(BoardImage.objects.values_list("pk", flat=True)) == [kept.pk]
    assert sorted(services.walk_storage(default_storage)) == files_before


def test_a_truncated_archive_is_refused_with_a_clear_message(
    alice, board, media_root, add_image, tmp_path
):
    add_image(board, alice, "coffee")
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive), verbosity=0)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CommandError, match="truncated"):
        call_command("restore", str(cut), "--yes", verbosity=0)
    not_tar = tmp_path / "notes.tar"
    not_tar.write_text("hello")
    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore", str(not_tar), "--yes", verbosity=0)
    assert BoardImage.objects.count() == 1


def test_restore_into_a_database_with_data_needs_yes(
    alice, board, media_root, add_image, tmp_path, manage
):
    first = add_image(board, alice, "coffee")
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive), verbosity=0)
    later = add_image(board, alice, "rocket")  # work done after the backup

    refused = manage("restore", str(archive))
    assert refused.returncode != 0
    assert "The database is not empty" in refused.stderr and "--yes" in refused.stderr
    assert set(BoardImage.objects.values_list("pk", flat=True)) == {first.pk, later.pk}

    # An export cached under a row id that the restore gives back to other data.
    cache.set(f"profile-export:{later.pk}:prompt.txt", b"stale", None)
    call_command("restore", str(archive), "--yes", verbosity=0)
    assert list(BoardImage.objects.values_list("pk", flat=True)) == [first.pk]
    assert cache.get(f"profile-export:{later.pk}:prompt.txt") is None


def test_check_verifies_without_changing_anything(alice, board, media_root, add_image, tmp_path):
    add_image(board, alice, "coffee")
    archive = tmp_path / "backup.tar.gz"  # compressed, by its name
    call_command("backup", str(archive), verbosity=0)
    BoardImage.objects.all().delete()
    out = io.StringIO()
    call_command("restore", str(archive), "--check", stdout=out)
    assert "is intact" in out.getvalue() and "1 images" in out.getvalue()
    assert not BoardImage.objects.exists()


def _rewrite_manifest(src, dst, change) -> None:
    with tarfile.open(src) as tar_in, tarfile.open(dst, "w") as tar_out:
        for member in tar_in.getmembers():
            data = tar_in.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            tar_out.addfile(member, io.BytesIO(data))


def test_a_backup_of_another_database_engine_is_refused(
    alice, board, media_root, add_image, tmp_path
):
    add_image(board, alice, "coffee")
    archive, other = tmp_path / "backup.tar", tmp_path / "other.tar"
    call_command("backup", str(archive), verbosity=0)
    engine = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    _rewrite_manifest(archive, other, lambda m: m["database"].update(engine=engine))
    BoardImage.objects.all().delete()
    with pytest.raises(CommandError, match="installation uses"):
        call_command("restore", str(other), "--yes", verbosity=0)
    assert not BoardImage.objects.exists()


def test_a_backup_from_a_newer_version_is_refused(alice, board, media_root, add_image, tmp_path):
    add_image(board, alice, "coffee")
    archive, newer = tmp_path / "backup.tar", tmp_path / "newer.tar"
    call_command("backup", str(archive), verbosity=0)
    _rewrite_manifest(
        archive, newer, lambda m: m["migrations"].append(["moodboards", "0999_from_the_future"])
    )
    with pytest.raises(CommandError, match="newer Tastebase"):
        call_command("restore", str(newer), "--yes", verbosity=0)


def test_a_failed_backup_leaves_no_archive_and_keeps_the_previous_one(
    alice, board, media_root, add_image, tmp_path, monkeypatch
):
    add_image(board, alice, "coffee")
    add_image(board, alice, "rocket")
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive), verbosity=0)
    previous = archive.read_bytes()

    # The media volume fails half-way through the copy (an I/O error on the 3rd file).
    real_open, opened = FileSystemStorage._open, []

    def failing_open(self, name, mode="rb"):
        opened.append(name)
        if len(opened) == 3:
            raise OSError(5, "Input/output error", name)
        return real_open(self, name, mode)

    monkeypatch.setattr(FileSystemStorage, "_open", failing_open)
    with pytest.raises(OSError, match="Input/output error"):
        call_command("backup", str(archive), verbosity=0)
    assert archive.read_bytes() == previous  # the last good backup is untouched
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["backup.tar"]
    opened.clear()
    with pytest.raises(OSError):
        call_command("backup", str(tmp_path / "new.tar"), verbosity=0)
    assert not (tmp_path / "new.tar").exists()


def test_orphans_are_kept_and_reported(alice, board, media_root, add_image, tmp_path):
    add_image(board, alice, "coffee")
    default_storage.save("originals/999/left-behind.jpg", io.BytesIO(b"not referenced"))
    out = io.StringIO()
    call_command("backup", str(tmp_path / "b.tar"), stdout=out)
    assert "1 media files are not used by any row" in out.getvalue()
    manifest = read_manifest(tmp_path / "b.tar")
    assert manifest["media"]["orphans"] == ["originals/999/left-behind.jpg"]


def test_missing_postgresql_tools_are_named(
    alice, board, media_root, add_image, tmp_path, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL client tools are needed only with PostgreSQL")
    add_image(board, alice, "coffee")
    archive = tmp_path / "backup.tar"
    call_command("backup", str(archive), verbosity=0)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    with pytest.raises(CommandError, match="pg_dump was not found"):
        call_command("backup", str(tmp_path / "b2.tar"), verbosity=0)
    with pytest.raises(CommandError, match="pg_restore was not found"):
        call_command("restore", str(archive), "--yes", verbosity=0)
    assert BoardImage.objects.count() == 1
