"""A board as a ZIP: its served images (metadata removed) in board order, plus a text
file with the title, description and every caption.

Streamed: the archive is written image by image into a small buffer that is handed to
the response as it fills, so a 500-image board never sits in memory whole. JPEGs are
stored, not deflated (they don't shrink).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator

from .models import Board, ImageStatus
from .selectors import board_images


class _Sink:
    """A write-only file for ZipFile: it buffers what is written until it is drained."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def _stem(original_name: str) -> str:
    # "refs.zip › night/01.jpg" -> "01"; anything odd becomes "-".
    base = original_name.rsplit("›", 1)[-1].rsplit("/", 1)[-1].strip()
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).strip("-.")
    return stem[:80] or "image"


def zip_filename(board: Board) -> str:
    return f"{_stem(board.title + '.x')}.zip"


def board_zip_chunks(board: Board) -> Iterator[bytes]:
    sink = _Sink()
    notes = [board.title, "=" * len(board.title)]
    if board.description:
        notes += ["", board.description]
    notes.append("")
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        number = 0
        for image in board_images(board).filter(status=ImageStatus.READY).iterator():
            if not image.display:
                continue
            try:
                with image.display.open("rb") as fh:
                    data = fh.read()
            except OSError:
                notes.append(f"(missing from storage: {image.original_name})")
                continue
            number += 1
            ext = image.display.name.rsplit(".", 1)[-1].lower()
            arcname = f"{number:03d}-{_stem(image.original_name)}.{ext}"
            archive.writestr(arcname, data)
            line = f"{arcname}  ({image.original_name})"
            if image.caption:
                line += f"\n    {image.caption}"
            notes.append(line)
            yield sink.drain()
        archive.writestr("board.txt", "\n".join(notes) + "\n", compress_type=zipfile.ZIP_DEFLATED)
    yield sink.drain()
