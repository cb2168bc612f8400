"""Turn what a user dropped on a board (files, ZIPs of files) into candidate images.

A ZIP is never extracted to disk: members are read into memory one by one with
hard caps, so path traversal can't write anywhere and a ZIP bomb can't fill memory.
"""

from __future__ import annotations

import lzma
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO


@dataclass(frozen=True)
class Candidate:
    """One file to try to add, or a rejection decided before decoding."""

    name: str  # what the user sees, e.g. "refs.zip › night/01.jpg"
    data: bytes | None
    error: str = ""


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_zip_members: int
    max_zip_total_bytes: int
    max_zip_ratio: int


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def read_capped(stream: IO[bytes], limit: int) -> bytes | None:
    """Read at most `limit` bytes; None if there is more (the file is over the cap)."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def is_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _unsafe_member(name: str) -> bool:
    normal = posixpath.normpath(name.replace("\\", "/"))
    return (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")  # C:\ style
        or normal == ".."
        or normal.startswith("../")
        or "\x00" in name
    )


def _skip_member(info: zipfile.ZipInfo) -> bool:
    """Folders and the junk macOS/Windows put in archives are not images the user meant."""
    base = posixpath.basename(info.filename.rstrip("/"))
    return (
        info.is_dir()
        or info.filename.startswith("__MACOSX/")
        or base.startswith("._")
        or base in {".DS_Store", "Thumbs.db", "desktop.ini"}
    )


def expand_zip(name: str, stream: IO[bytes], limits: UploadLimits) -> Iterator[Candidate]:
    """Yield a candidate per image in the archive, or one rejection for the whole archive."""
    try:
        archive = zipfile.ZipFile(stream)
        members = [m for m in archive.infolist() if not _skip_member(m)]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        # NotImplementedError: a central directory claiming a ZIP version from the future.
        yield Candidate(name, None, "The ZIP archive is damaged and could not be opened.")
        return
    if not members:
        # Without this an empty archive (or one of folders and .DS_Store) got no result
        # at all: the user would see their upload silently vanish.
        yield Candidate(name, None, "The ZIP holds no files to add: it is empty or only folders.")
        return
    # Checks on the whole archive first: refuse it before reading a single member.
    unsafe = [m.filename for m in members if _unsafe_member(m.filename)]
    if unsafe:
        yield Candidate(
            name, None, f"The ZIP contains unsafe paths (e.g. {unsafe[0]!r}); nothing was added."
        )
        return
    if len(members) > limits.max_zip_members:
        yield Candidate(
            name,
            None,
            f"The ZIP holds {len(members)} files; the limit is {limits.max_zip_members}.",
        )
        return
    declared = sum(m.file_size for m in members)
    if declared > limits.max_zip_total_bytes:
        yield Candidate(
            name,
            None,
            f"The ZIP would unpack to {_mb(declared)}, "
            f"over the {_mb(limits.max_zip_total_bytes)} limit.",
        )
        return
    for member in members:
        if member.compress_size and member.file_size / member.compress_size > limits.max_zip_ratio:
            yield Candidate(
                name,
                None,
                "The ZIP is compressed suspiciously well (a ZIP bomb?); nothing was added.",
            )
            return
    unpacked = 0
    for member in members:
        label = f"{name} › {member.filename}"
        if member.filename.lower().endswith(".zip"):
            yield Candidate(label, None, "ZIPs inside ZIPs are not unpacked.")
            continue
        try:
            with archive.open(member) as fh:
                # Headers can lie about sizes: cap the actual bytes read too.
                data = read_capped(fh, limits.max_file_bytes)
        except (
            zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError, EOFError,
            zlib.error, lzma.LZMAError,
        ) as exc:  # fmt: skip
            # RuntimeError: encrypted member; NotImplementedError: unknown compression;
            # zlib/lzma errors and EOFError: a damaged compressed stream (bz2 says OSError).
            yield Candidate(label, None, f"Could not read this file from the ZIP ({exc}).")
            continue
        if data is None:
            yield Candidate(label, None, f"Larger than the {_mb(limits.max_file_bytes)} limit.")
            continue
        unpacked += len(data)
        if unpacked > limits.max_zip_total_bytes:
            yield Candidate(
                label, None, "The ZIP unpacks to more than the limit; the rest was skipped."
            )
            return
        yield Candidate(label, data)


def expand_upload(
    name: str, stream: IO[bytes], size: int | None, limits: UploadLimits
) -> Iterator[Candidate]:
    """Candidates for one uploaded file: itself, or the images inside a ZIP."""
    head = stream.read(4)
    stream.seek(0)
    if is_zip(head):
        if size is not None and size > limits.max_zip_total_bytes:
            yield Candidate(name, None, f"Larger than the {_mb(limits.max_zip_total_bytes)} limit.")
            return
        yield from expand_zip(name, stream, limits)
        return
    if size is not None and size > limits.max_file_bytes:
        yield Candidate(name, None, f"Larger than the {_mb(limits.max_file_bytes)} limit.")
        return
    data = read_capped(stream, limits.max_file_bytes)
    if data is None:
        yield Candidate(name, None, f"Larger than the {_mb(limits.max_file_bytes)} limit.")
        return
    yield Candidate(name, data)
