"""Backups and restores: one tar archive with a consistent database dump, every media
file and a manifest that says what is inside and how to check it.

Layout of an archive (members in this order):

    database.pgdump | database.sqlite3   the dump (pg_dump custom format, or an SQLite file)
    media/<name>                         every file in the media storage, by storage name
    manifest.json                        written last: an archive without it is incomplete

The database is dumped first, from one snapshot; the counts, migration state and the
list of files the database refers to come from that same snapshot, so the manifest
describes exactly the dump. Media is copied afterwards: files are only ever added
under new names, or deleted after the rows that used them, so a file the dump refers
to can only be missing if its row was deleted during the backup (reported as
`missing`). Files no row refers to are kept too and reported as `orphans`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

import django
from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.models import FileField

from .archive import (
    CHUNK,
    DB_MEMBER,
    ENGINE_NAMES,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MEDIA_PREFIX,
    BackupError,
    Progress,
    _members,
    _open_archive,
    _safe_media_name,
    _sha256_file,
    archive_verify,
    quiet,
)

# What a person would recognise in a summary, by model.
COUNTED = {
    "users": "auth.User",
    "teams": "moodboards.Team",
    "boards": "moodboards.Board",
    "images": "moodboards.BoardImage",
    "analyses": "taste.Analysis",
    "profiles": "taste.TasteProfile",
    "embeddings": "taste.ImageEmbedding",
    "generations": "generation.Generation",
    "outputs": "generation.Output",
}
# Files up to this size are copied through memory, larger ones through a temp file.
SPOOL_BYTES = 64 * 1024 * 1024


@dataclass
class Snapshot:
    """What the database holds at the moment of the dump."""

    counts: dict[str, int]
    migrations: list[list[str]]
    referenced: set[str] = field(default_factory=set)


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    files_written: int
    files_unchanged: int
    unapplied_migrations: list[str]
    seconds: float


# --- helpers ------------------------------------------------------------------------


def app_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("tastebase")
    except PackageNotFoundError:
        import tomllib

        pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


def _vendor(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in DB_MEMBER:
        raise BackupError(
            f"Backups support PostgreSQL and SQLite; this installation uses {vendor}."
        )
    return vendor


def _pg_env(using: str) -> dict[str, str]:
    """libpq's variables for the configured database: the password never shows in `ps`."""
    db = connections[using].settings_dict
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", db.get("NAME")),
        ("PGSSLMODE", (db.get("OPTIONS") or {}).get("sslmode")),
    ):
        if value:
            env[var] = str(value)
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools of the "
            f"server's major version or newer (Debian/Ubuntu: apt-get install postgresql-client)."
        )
    return path


def _file_columns() -> list[tuple[str, str]]:
    """(table, column) of every file field: what the database says is in storage."""
    return [
        (model._meta.db_table, f.column)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, FileField)
    ]


def _counted_tables() -> dict[str, str]:
    return {label: apps.get_model(model)._meta.db_table for label, model in COUNTED.items()}


def _read_snapshot(cursor: Any, tables: set[str]) -> Snapshot:
    """Counts, migrations and referenced files, read through a DB-API cursor of the
    snapshot (works for sqlite3 and psycopg alike: no parameters, quoted names)."""
    counts = {}
    for label, table in _counted_tables().items():
        if table in tables:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[label] = int(cursor.fetchone()[0])
        else:
            counts[label] = 0
    migrations: list[list[str]] = []
    if "django_migrations" in tables:
        cursor.execute('SELECT "app", "name" FROM "django_migrations" ORDER BY "app", "name"')
        migrations = [[app, name] for app, name in cursor.fetchall()]
    referenced: set[str] = set()
    for table, column in _file_columns():
        if table in tables:
            cursor.execute(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL AND "{column}" <> \'\''
            )
            referenced.update(row[0] for row in cursor.fetchall())
    return Snapshot(counts=counts, migrations=migrations, referenced=referenced)


def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def walk_storage(storage: Storage, path: str = "") -> Iterator[str]:
    """Every file name in a storage, depth first, in a stable order. Hidden files are
    left out: the app never names a file with a dot, a local write in progress does."""
    try:
        dirs, files = storage.listdir(path)
    except FileNotFoundError:
        return  # an empty local media folder that was never created
    for name in sorted(files):
        if not name.startswith("."):
            yield f"{path}/{name}" if path else name
    for name in sorted(dirs):
        yield from walk_storage(storage, f"{path}/{name}" if path else name)


# --- backup -------------------------------------------------------------------------


def _dump_postgresql(using: str, dest: Path) -> Snapshot:
    """pg_dump from an exported snapshot; the manifest facts come from the same one."""
    pg_dump = _pg_tool("pg_dump")
    wrapper = connections[using]
    conn = wrapper.Database.connect(**wrapper.get_connection_params())
    try:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot_id = cur.fetchone()[0]
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            tables = {r[0] for r in cur.fetchall()}
            facts = _read_snapshot(cur, tables)
            # The exporting transaction stays open until pg_dump has finished.
            proc = subprocess.run(
                [pg_dump, "--format=custom", "--no-owner", "--no-acl",
                 f"--snapshot={snapshot_id}", f"--file={dest}"],
                env=_pg_env(using), capture_output=True, text=True,
            )  # fmt: skip
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {proc.stderr.strip() or proc.returncode}")
    finally:
        conn.close()
    return facts


def _dump_sqlite(using: str, dest: Path) -> Snapshot:
    """SQLite's online backup API: a consistent copy while the app keeps writing."""
    source_path = connections[using].settings_dict["NAME"]
    if not Path(source_path).is_file():
        raise BackupError(f"The SQLite database {source_path} does not exist.")
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        source.close()
    try:
        facts = _read_snapshot(target.cursor(), _sqlite_tables(target))
    finally:
        target.close()
    return facts


def _copy_to_spool(fh: IO[bytes]) -> tuple[IO[bytes], int, str]:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the caller closes it)
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: fh.read(CHUNK), b""):
        digest.update(chunk)
        spool.write(chunk)
        size += len(chunk)
    spool.seek(0)
    return spool, size, digest.hexdigest()


def _class_name(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(time.time())
    info.mode = 0o640
    return info


def backup_create(
    *,
    out: Path,
    using: str = "default",
    storage: Storage | None = None,
    progress: Progress = quiet,
) -> BackupResult:
    """Write a backup archive to `out`, atomically: it appears only once complete."""
    started = time.monotonic()
    storage = storage or default_storage
    vendor = _vendor(using)
    out = Path(out).resolve()
    if not out.parent.is_dir():
        raise BackupError(f"The folder {out.parent} does not exist.")
    compression = "gz" if out.name.endswith((".tar.gz", ".tgz")) else ""
    # Same folder as the result, so the final rename is atomic; a leading dot so a
    # half-written file is never mistaken for a backup by a glob like *.tar.
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        # The dump waits beside the archive: on the disk sized for backups, not /tmp.
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".tastebase-backup-") as tmp:
            # 1. The database, from one snapshot.
            dump = Path(tmp) / DB_MEMBER[vendor]
            progress(f"Dumping the {ENGINE_NAMES[vendor]} database…")
            facts = (_dump_postgresql if vendor == "postgresql" else _dump_sqlite)(using, dump)
            db_entry = {
                "engine": vendor,
                "member": DB_MEMBER[vendor],
                "size": dump.stat().st_size,
                "sha256": _sha256_file(dump),
            }
            with tarfile.open(partial, f"w:{compression}", format=tarfile.PAX_FORMAT) as tar:
                with open(dump, "rb") as fh:
                    tar.addfile(_tar_info(DB_MEMBER[vendor], db_entry["size"]), fh)
                dump.unlink()
                # 2. Every media file.
                files, vanished = [], []
                for name in walk_storage(storage):
                    try:
                        fh = storage.open(name, "rb")
                    except FileNotFoundError:
                        vanished.append(name)  # deleted since it was listed
                        continue
                    with fh:
                        spool, size, digest = _copy_to_spool(fh)
                    with spool:
                        tar.addfile(_tar_info(MEDIA_PREFIX + name, size), spool)
                    files.append({"name": name, "size": size, "sha256": digest})
                    if len(files) % 200 == 0:
                        progress(f"  {len(files)} media files…")
                stored = {f["name"] for f in files}
                # 3. The manifest, last.
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "app_version": app_version(),
                    "django_version": django.get_version(),
                    "database": db_entry,
                    "migrations": facts.migrations,
                    "counts": facts.counts,
                    "media": {
                        "storage": _class_name(getattr(storage, "_wrapped", storage)),
                        "files": files,
                        "total_bytes": sum(f["size"] for f in files),
                        "orphans": sorted(stored - facts.referenced),
                        "missing": sorted(facts.referenced - stored),
                        "vanished": vanished,
                    },
                }
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                tar.addfile(_tar_info(MANIFEST, len(body)), io.BytesIO(body))
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, out)
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(out.parent, os.O_RDONLY)
            os.fsync(dir_fd)
            os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    return BackupResult(path=out, manifest=manifest, seconds=time.monotonic() - started)


# --- restore ------------------------------------------------------------------------


def database_contents(using: str = "default") -> dict[str, int]:
    """Rows per counted table in the configured database (0 for missing tables)."""
    conn = connections[using]
    tables = set(conn.introspection.table_names())
    counts = {}
    with conn.cursor() as cur:
        for label, table in _counted_tables().items():
            if table in tables:
                cur.execute(f'SELECT COUNT(*) FROM "{table}"')
                counts[label] = int(cur.fetchone()[0])
            else:
                counts[label] = 0
    return counts


def _check_migrations(manifest: dict) -> list[str]:
    """Refuse a backup from a newer Tastebase; list migrations it predates."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    in_backup = {tuple(m) for m in manifest.get("migrations", [])}
    ours = {app for app, _ in known}
    unknown = sorted(f"{a}.{n}" for a, n in in_backup - known if a in ours)
    if unknown:
        raise BackupError(
            "This backup was made by a newer Tastebase: its database has migrations this "
            f"code does not know ({', '.join(unknown[:5])}). Install that version (or newer), "
            "then restore."
        )
    return sorted(f"{a}.{n}" for a, n in known - in_backup)


def _restore_media(
    tar: tarfile.TarFile,
    members: dict[str, tarfile.TarInfo],
    manifest: dict,
    storage: Storage,
    progress: Progress,
) -> tuple[int, int]:
    written = unchanged = 0
    for f in manifest["media"]["files"]:
        name = _safe_media_name(f["name"])
        if storage.exists(name):
            with storage.open(name, "rb") as current:
                _, _, digest = _copy_to_spool(current)
            if digest == f["sha256"]:
                unchanged += 1
                continue
            # Storages never overwrite (they pick a new name): make room first.
            storage.delete(name)
        fh = tar.extractfile(members[MEDIA_PREFIX + name])
        content = File(fh, name=PurePosixPath(name).name)
        content.size = f["size"]
        saved = storage.save(name, content)
        if saved != name:
            storage.delete(saved)
            raise BackupError(f"The storage stored {name} as {saved}; restore stopped.")
        written += 1
        if written % 200 == 0:
            progress(f"  {written} media files…")
    return written, unchanged


def _restore_postgresql(using: str, dump: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    db = connections[using].settings_dict
    connections.close_all()  # our own idle connections must not hold locks
    # One transaction: if anything fails, the database is exactly as it was.
    proc = subprocess.run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-acl",
         "--single-transaction", "--exit-on-error", f"--dbname={db['NAME']}", str(dump)],
        env=_pg_env(using), capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise BackupError(
            "pg_restore failed; the database was left as it was.\n" + proc.stderr.strip()
        )


def _restore_sqlite(using: str, dump: Path) -> None:
    source = sqlite3.connect(dump)
    try:
        check = source.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The SQLite database in the backup is damaged: {check}.")
        connections.close_all()
        target_path = connections[using].settings_dict["NAME"]
        Path(target_path).parent.mkdir(parents=True, exist_ok=True)
        # The backup API in reverse replaces every page of the live database in one
        # write transaction: safe with WAL, and other connections see the result.
        target = sqlite3.connect(target_path, timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def restore_archive(
    *,
    path: Path,
    overwrite: bool = False,
    using: str = "default",
    storage: Storage | None = None,
    progress: Progress = quiet,
) -> RestoreResult:
    """Restore a backup: verify it fully, then media, then the database in one step."""
    started = time.monotonic()
    storage = storage or default_storage
    vendor = _vendor(using)
    # 1. Everything that can refuse does so before anything is changed.
    manifest = archive_verify(path=path, progress=progress)
    engine = manifest["database"]["engine"]
    if engine != vendor:
        raise BackupError(
            f"This backup holds a {ENGINE_NAMES.get(engine, engine)} database; this "
            f"installation uses {ENGINE_NAMES[vendor]} (DATABASE_URL). Restore it onto an "
            f"installation configured with {ENGINE_NAMES.get(engine, engine)}."
        )
    if vendor == "postgresql":
        _pg_tool("pg_restore")
    unapplied = _check_migrations(manifest)
    present = {k: v for k, v in database_contents(using).items() if v}
    if present and not overwrite:
        held = ", ".join(f"{v} {k}" for k, v in present.items())
        raise BackupError(
            f"The database is not empty ({held}). Restoring replaces all of it with the "
            "backup; run again with --yes to do that."
        )
    with (
        _open_archive(path) as tar,
        tempfile.TemporaryDirectory(prefix="tastebase-restore-") as tmp,
    ):
        members = _members(tar, path)
        # 2. Media first: new files harm nothing while the old database is in place.
        progress(f"Restoring {len(manifest['media']['files'])} media files…")
        written, unchanged = _restore_media(tar, members, manifest, storage, progress)
        # 3. The database, replaced in one transaction.
        progress(f"Restoring the {ENGINE_NAMES[vendor]} database…")
        dump = Path(tmp) / manifest["database"]["member"]
        with (
            tar.extractfile(members[manifest["database"]["member"]]) as src,
            open(dump, "wb") as dst,
        ):
            shutil.copyfileobj(src, dst, CHUNK)
        (_restore_postgresql if vendor == "postgresql" else _restore_sqlite)(using, dump)
    # 4. Cached pages and exports are keyed by row ids, which now mean other rows.
    for alias in settings.CACHES:
        caches[alias].clear()
    # 5. The result must match what the manifest promised.
    connections.close_all()
    counts = database_contents(using)
    wrong = {k: (counts.get(k), v) for k, v in manifest["counts"].items() if counts.get(k) != v}
    if wrong:
        detail = ", ".join(f"{k}: {got} instead of {want}" for k, (got, want) in wrong.items())
        raise BackupError(f"The restored database does not match the backup ({detail}).")
    return RestoreResult(
        manifest=manifest,
        files_written=written,
        files_unchanged=unchanged,
        unapplied_migrations=unapplied,
        seconds=time.monotonic() - started,
    )
