"""Serving stored images to browsers and scripts, safely, from our own origin."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}


def image_content_type(name: str) -> str:
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def serve_file(field: FieldFile, filename: str, *, download: bool = False) -> FileResponse:
    """A stored file as a response a browser can't turn into a page: an exact image
    content type, nosniff, and a CSP sandbox in case it is opened directly."""
    try:
        fh = field.open("rb")
    except OSError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        fh, content_type=image_content_type(field.name), as_attachment=download, filename=filename
    )
    return as_file(response, filename, download=download)


def as_file(response: HttpResponse, filename: str, *, download: bool) -> HttpResponse:
    """Mark any response carrying file bytes (stored images, exports) as a file, never a
    page: nosniff, a CSP sandbox that runs nothing, and a Content-Disposition with a
    properly escaped name (a board title may hold quotes or non-ASCII)."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = content_disposition_header(download, filename)
    return response
