"""Local media written atomically, and how to tell a full disk from a bad file."""

from __future__ import annotations

import errno
import os
import tempfile

from django.core.files.storage import FileSystemStorage

# Errors that mean "the media volume is full", as opposed to a bad file.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}

STORAGE_FULL_MESSAGE = (
    "The server's storage is full, so nothing was saved. "
    "Ask your administrator to free some space, then try again."
)


def is_storage_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it) says the media volume has no room left."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _FULL:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class _TempFile:
    """A file already on disk, which FileSystemStorage moves into place by rename."""

    def __init__(self, path: str) -> None:
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path

    def close(self) -> None:
        pass


class AtomicFileSystemStorage(FileSystemStorage):
    """Local media where a file appears whole or not at all.

    Django's FileSystemStorage writes in place, so a write that fails half-way (disk
    full, a killed process) leaves a truncated file under the final name. Here the
    bytes go to a hidden temporary file in the same folder first and are renamed into
    place, an atomic step on one filesystem; a failed write removes the temporary file.
    """

    def _save(self, name: str, content) -> str:
        directory = os.path.dirname(self.path(name))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in content.chunks():
                    fh.write(chunk.encode() if isinstance(chunk, str) else chunk)
                fh.flush()
                os.fsync(fh.fileno())
            return super()._save(name, _TempFile(tmp))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
