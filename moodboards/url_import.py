"""Add an image to a board from a URL: the server fetches it, carefully.

A URL a user pastes makes our server open a connection, so it must not become a way
to reach what only the server can reach (SSRF): only http(s), and no private,
loopback, link-local, multicast or reserved address unless the operator allows them
(TASTEBASE_URL_IMPORT_ALLOW_PRIVATE). The host is resolved once, every address it
resolves to is checked, and the connection goes to the checked address (a DNS answer
that changes between the check and the connection can't redirect it). Redirects are
followed by hand, each hop checked the same way. The body is capped at the upload
limit and the whole fetch at TASTEBASE_URL_IMPORT_TIMEOUT seconds; what arrives goes
through the same validation as an upload (`services.board_add_files`).
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import posixpath
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from . import services
from .models import Board

MAX_REDIRECTS = 4
MAX_URL_LENGTH = 2048
USER_AGENT = "Tastebase/0.1 (adds an image a user asked for to their moodboard)"
CHUNK = 64 * 1024


class ImportRefused(Exception):
    """Why a URL was not fetched, in words for the person who pasted it."""


@dataclass(frozen=True)
class Fetched:
    name: str
    data: bytes
    url: str  # after redirects


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int
    timeout: float
    allow_private: bool


def import_limits() -> ImportLimits:
    return ImportLimits(
        max_bytes=settings.TASTEBASE_MAX_UPLOAD_BYTES,
        timeout=float(settings.TASTEBASE_URL_IMPORT_TIMEOUT),
        allow_private=settings.TASTEBASE_URL_IMPORT_ALLOW_PRIVATE,
    )


def _refused_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why we won't connect to this address, or None when it is a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address (this server itself)"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified or ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "a private network address"
    return None


def _resolve(host: str, port: int, limits: ImportLimits) -> str:
    """The address to connect to; every address the host resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ImportRefused(f"The address {host} could not be found.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ImportRefused(f"The address {host} could not be found.")
    if not limits.allow_private:
        for address in addresses:
            why = _refused_address(ipaddress.ip_address(address.split("%", 1)[0]))
            if why:
                raise ImportRefused(
                    f"{host} points to {why}; images are only fetched from the public internet."
                )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address we checked, while the request still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI are for the host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path+query) of an acceptable URL, or ImportRefused."""
    if len(url) > MAX_URL_LENGTH:
        raise ImportRefused("That URL is too long.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ImportRefused("That is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise ImportRefused("Only http:// and https:// URLs can be added.")
    if not parts.hostname:
        raise ImportRefused("That URL has no host name.")
    if parts.username or parts.password:
        raise ImportRefused("URLs with a user name or password are not fetched.")
    default = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or default, path


def _name_for(url: str) -> str:
    parts = urlsplit(url)
    base = unquote(posixpath.basename(parts.path)).strip()
    return (base or parts.hostname or "image")[-200:]


def fetch_image(url: str, limits: ImportLimits | None = None) -> Fetched:
    """The bytes at `url` (at most `max_bytes`), following a few redirects."""
    limits = limits or import_limits()
    deadline = time.monotonic() + limits.timeout
    for _hop in range(MAX_REDIRECTS + 1):
        scheme, host, port, path = _check_url(url)
        address = _resolve(host, port, limits)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ImportRefused(f"The server took longer than {limits.timeout:g} s to answer.")
        cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        conn = cls(host, port, address, timeout=remaining)
        try:
            conn.request(
                "GET",
                path,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*, application/zip;q=0.8"},
            )
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise ImportRefused("The server redirected without saying where to.")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise ImportRefused(f"The server answered {response.status} {response.reason}.")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise ImportRefused(_too_large(limits))
            return Fetched(_name_for(url), _read_capped(response, limits, deadline), url)
        except ssl.SSLError as exc:
            raise ImportRefused(f"The secure connection to {host} failed ({exc.reason}).") from None
        except TimeoutError:
            raise ImportRefused(
                f"The server took longer than {limits.timeout:g} s to answer."
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise ImportRefused(f"Could not fetch the URL ({type(exc).__name__}).") from None
        finally:
            conn.close()
    raise ImportRefused("The URL redirected too many times.")


def _too_large(limits: ImportLimits) -> str:
    return f"The file is larger than the {limits.max_bytes / (1024 * 1024):.0f} MB limit."


def _read_capped(
    response: http.client.HTTPResponse, limits: ImportLimits, deadline: float
) -> bytes:
    buf = io.BytesIO()
    while True:
        if time.monotonic() > deadline:
            raise ImportRefused(f"The download took longer than {limits.timeout:g} s.")
        chunk = response.read(CHUNK)
        if not chunk:
            return buf.getvalue()
        buf.write(chunk)
        if buf.tell() > limits.max_bytes:
            raise ImportRefused(_too_large(limits))


def board_add_from_url(
    *, board: Board, user: AbstractBaseUser | None, url: str
) -> list[services.UploadResult]:
    """Fetch `url` and add what it holds (an image, or a ZIP of images) to the board,
    through the same checks as an upload. A refused URL is one rejected result."""
    try:
        fetched = fetch_image(url)
    except ImportRefused as exc:
        return [services.UploadResult(url[:255], "rejected", str(exc))]
    stream = io.BytesIO(fetched.data)
    return services.board_add_files(
        board=board, user=user, files=[(fetched.name, stream, len(fetched.data))]
    )
