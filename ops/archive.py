"""The backup archive format: its layout and manifest, reading it and verifying it.

    database.pgdump | database.sqlite3   the dump (pg_dump custom format, or an SQLite file)
    media/<name>                         every file in the media storage, by storage name
    manifest.json                        written last: an archive without it is incomplete

Writing and restoring archives is `ops.services`; this module knows only the format.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

FORMAT = "tastebase-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DB_MEMBER = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Something an operator must fix; the message says what and how."""


Progress = Callable[[str], None]


def quiet(_: str) -> None:
    pass


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _safe_media_name(name: Any) -> str:
    """A media name from a manifest, refused if it could escape the media root."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise BackupError(f"The manifest lists an invalid media name: {name!r}.")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or "." in parts:
        raise BackupError(f"The manifest lists a media name outside the media folder: {name!r}.")
    return name


# --- reading and verifying an archive -----------------------------------------------


def _open_archive(path: Path) -> tarfile.TarFile:
    if not Path(path).is_file():
        raise BackupError(f"{path} does not exist.")
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"{path} is not a readable backup archive ({exc}).") from None


def _members(tar: tarfile.TarFile, path: Path) -> dict[str, tarfile.TarInfo]:
    try:
        return {m.name: m for m in tar.getmembers()}
    except Exception as exc:  # tarfile, gzip and zlib each have their own errors
        raise BackupError(
            f"{path} is truncated or corrupt ({exc}); it can't be restored. Use another backup."
        ) from None


def _read_manifest(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], path: Path) -> dict:
    if MANIFEST not in members:
        raise BackupError(
            f"{path} has no {MANIFEST}: the backup did not finish, or the file is truncated or corrupt."
        )
    try:
        manifest = json.loads(tar.extractfile(members[MANIFEST]).read())
    except (ValueError, tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"The manifest of {path} is damaged ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Tastebase backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is a backup format version {manifest.get('format_version')}; this "
            f"Tastebase reads version {FORMAT_VERSION}. Restore it with a matching version."
        )
    return manifest


def _expected(manifest: dict) -> list[tuple[str, int, str]]:
    """(member, size, sha256) of everything the manifest vouches for."""
    try:
        db = manifest["database"]
        entries = [(db["member"], int(db["size"]), db["sha256"])]
        for f in manifest["media"]["files"]:
            entries.append(
                (MEDIA_PREFIX + _safe_media_name(f["name"]), int(f["size"]), f["sha256"])
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"The manifest is incomplete ({exc}).") from None
    return entries


def archive_verify(*, path: Path, progress: Progress = quiet) -> dict[str, Any]:
    """Check every member against the manifest's sizes and checksums; return the manifest."""
    with _open_archive(path) as tar:
        members = _members(tar, path)
        manifest = _read_manifest(tar, members, path)
        expected = _expected(manifest)
        progress(f"Verifying {len(expected)} files against the manifest…")
        for name, size, sha in expected:
            member = members.get(name)
            if member is None or not member.isfile():
                raise BackupError(f"{path} is missing {name}; it can't be restored.")
            if member.size != size:
                raise BackupError(
                    f"{name} in {path} is {member.size} bytes, the manifest says {size}."
                )
            digest = hashlib.sha256()
            try:
                fh = tar.extractfile(member)
                for chunk in iter(lambda fh=fh: fh.read(CHUNK), b""):
                    digest.update(chunk)
            except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                raise BackupError(f"{name} in {path} can't be read ({exc}).") from None
            if digest.hexdigest() != sha:
                raise BackupError(
                    f"{name} in {path} does not match its checksum: the archive is corrupt. "
                    "Nothing was changed."
                )
    return manifest


def describe(manifest: dict[str, Any]) -> str:
    """One line a person reads: what the backup holds."""
    c = manifest["counts"]
    media = manifest["media"]
    return (
        f"{c.get('users', 0)} users, {c.get('boards', 0)} boards, {c.get('images', 0)} images, "
        f"{c.get('profiles', 0)} profiles, {c.get('generations', 0)} generations "
        f"({c.get('outputs', 0)} outputs); {len(media['files'])} media files "
        f"({_human(media['total_bytes'])}); {ENGINE_NAMES[manifest['database']['engine']]} "
        f"dump {_human(manifest['database']['size'])}"
    )


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
