"""Virus scanning through clamd's INSTREAM command (a small client of our own; no third-party package).

RESLIB_CLAMD_URL names the daemon: ``tcp://host:3310`` or ``unix:///run/clamav/clamd.ctl``. Without it nothing is
scanned and files show the 未扫描 (not scanned) state with its reason (`scan_reason`), as do files whose scan failed
(clamd unreachable or in error): a file counts as checked only when clamd said so. In production mode a missing
clamd is a deploy-check warning (reslib.resources.checks) and a warning in the log of every process.

The protocol: send ``zINSTREAM\\0``, then the file as chunks each prefixed by its length as a 4-byte big-endian
integer, then a zero-length chunk; clamd answers one line ending in NUL: ``stream: OK``, ``stream: <signature>
FOUND`` or ``... ERROR``.
"""

from __future__ import annotations

import logging
import socket
import struct
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
DEFAULT_TIMEOUT = 120.0  # seconds without progress on the socket; large files take longer in total

NOT_SCANNED, CLEAN, INFECTED, ERROR = "not_scanned", "clean", "infected", "error"  # = Blob.ScanStatus values


class ClamdError(Exception):
    pass


def _detail(text: str) -> str:
    return text[:255]


class ClamdClient:
    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT):
        self.url = url
        self.timeout = timeout
        parts = urlsplit(url)
        if parts.scheme == "tcp":
            if not parts.hostname or not parts.port:
                raise ClamdError(f"clamd address {url!r} needs a host and a port (tcp://host:3310)")
            self.family, self.address = socket.AF_INET, (parts.hostname, parts.port)
            if ":" in parts.hostname:
                self.family = socket.AF_INET6
        elif parts.scheme == "unix":
            if not parts.path:
                raise ClamdError(f"clamd address {url!r} needs a socket path (unix:///path/to/clamd.ctl)")
            self.family, self.address = socket.AF_UNIX, parts.path
        else:
            raise ClamdError(f"clamd address {url!r} must start with tcp:// or unix://")

    def _connect(self) -> socket.socket:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.address)
        except OSError:
            sock.close()
            raise
        return sock

    @staticmethod
    def _read_reply(sock: socket.socket) -> str:
        data = b""
        while not data.endswith(b"\0"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
            if len(data) > 65536:
                break
        return data.rstrip(b"\0").decode("utf-8", "replace").strip()

    def command(self, name: str) -> str:
        with self._connect() as sock:
            sock.sendall(f"z{name}\0".encode())
            return self._read_reply(sock)

    def ping(self) -> bool:
        return self.command("PING") == "PONG"

    def version(self) -> str:
        return self.command("VERSION")

    def instream(self, stream) -> str:
        """Send a binary stream to clamd and return its reply line (without the trailing NUL)."""
        with self._connect() as sock:
            sock.sendall(b"zINSTREAM\0")
            try:
                while chunk := stream.read(CHUNK_BYTES):
                    sock.sendall(struct.pack(">I", len(chunk)) + chunk)
                sock.sendall(struct.pack(">I", 0))
            except (BrokenPipeError, ConnectionResetError):
                # clamd closes the stream early when the file exceeds its StreamMaxLength; its reply says so.
                pass
            return self._read_reply(sock)


def parse_reply(reply: str) -> tuple[str, str]:
    """clamd's reply → (status, detail)."""
    if not reply:
        return ERROR, "clamd closed the connection without an answer"
    text = reply.split(":", 1)[1].strip() if reply.startswith("stream:") else reply
    if text == "OK":
        return CLEAN, ""
    if text.endswith(" FOUND"):
        return INFECTED, _detail(text[: -len(" FOUND")].strip())
    if text.endswith("ERROR"):
        return ERROR, _detail(f"clamd: {text}")
    return ERROR, _detail(f"clamd: unexpected answer {reply!r}")


def scan_stream(stream, *, url: str | None = None, timeout: float | None = None) -> tuple[str, str]:
    url = settings.RESLIB_CLAMD_URL if url is None else url
    if not url:
        return NOT_SCANNED, ""
    try:
        client = ClamdClient(url, timeout=timeout or getattr(settings, "RESLIB_CLAMD_TIMEOUT", DEFAULT_TIMEOUT))
        reply = client.instream(stream)
    except ClamdError as exc:
        return ERROR, _detail(str(exc))
    except socket.timeout:
        return ERROR, _detail(f"clamd at {url} did not answer in time")
    except OSError as exc:
        logger.warning("clamd at %s unreachable: %s", url, exc)
        return ERROR, _detail(f"clamd at {url} unreachable: {exc.strerror or exc}")
    status, detail = parse_reply(reply)
    if status == ERROR:
        logger.warning("clamd scan error: %s", detail)
    return status, detail


def scan_path(path: Path, *, url: str | None = None, timeout: float | None = None) -> tuple[str, str]:
    """(Blob.ScanStatus value, detail) for the file at `path`: ("not_scanned", "") when no clamd is configured."""
    url = settings.RESLIB_CLAMD_URL if url is None else url
    if not url:
        return NOT_SCANNED, ""
    try:
        with open(path, "rb") as fh:
            return scan_stream(fh, url=url, timeout=timeout)
    except OSError as exc:
        return ERROR, _detail(f"cannot read file to scan: {exc}")


def scan_reason(status: str, detail: str = "") -> str:
    """Why a file with this scan state was not scanned, in the reader's language ("" when clamd scanned it)."""
    if status == NOT_SCANNED:
        return str(_("No virus scanner is configured on this site."))
    if status == ERROR:
        if detail.startswith(("clamd at ", "clamd address ")):
            return str(_("The virus scanner could not be reached."))
        return str(_("The virus scanner could not scan this file."))
    return ""


def not_scanned_reasons(blobs) -> list[str]:
    """The distinct reasons why some of these blobs were not scanned ([] when clamd scanned every one)."""
    reasons: list[str] = []
    for blob in blobs:
        reason = scan_reason(blob.scan_status, blob.scan_detail)
        if reason and reason not in reasons:
            reasons.append(reason)
    return reasons


def unprotected_production() -> bool:
    """Production mode without a virus scanner: uploads reach learners unscanned."""
    return not settings.DEBUG and not settings.RESLIB_CLAMD_URL


def warn_if_unprotected() -> None:
    if unprotected_production():
        logger.warning("RESLIB_CLAMD_URL is not set: uploaded files are NOT scanned for viruses and show as "
                       "未扫描 (not scanned). Install clamav-daemon and set RESLIB_CLAMD_URL, e.g. "
                       "unix:///run/clamav/clamd.ctl.")
