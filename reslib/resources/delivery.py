"""File delivery: permission-checked, range-capable, streaming responses for stored blobs.

The caller (a view) decides whether the user may see or download the file (reslib.resources.policies) on EVERY
request, then hands the blob to serve_blob(). serve_blob() never holds a file in memory:

* standalone (granian, runserver): a FileResponse whose file object is limited to the requested byte range and read
  in BLOCK_SIZE pieces. Full-file responses expose the real descriptor so a WSGI server with wsgi.file_wrapper +
  sendfile (gunicorn) can use the kernel; ranged responses deliberately hide it because servers disagree on whether
  sendfile starts at the current offset or at 0. Granian has no wsgi.file_wrapper: it iterates the blocks.
* S3-compatible storage: one ranged GET to the bucket (boto3), streamed through in BLOCK_SIZE pieces (django-storages'
  S3File would spool the whole object to a temporary file first).
* behind nginx (settings.RESLIB_X_ACCEL_PREFIX set, local storage): an empty answer with X-Accel-Redirect pointing at
  the internal location that aliases MEDIA_ROOT; nginx then serves the bytes and does Range/If-Range itself.

HTTP behaviour (RFC 9110):
* Accept-Ranges: bytes. One range "bytes=a-b", "bytes=a-" or "bytes=-n" answers 206 with Content-Range.
  Several ranges: we answer 206 with the FIRST satisfiable range only (a single part with its Content-Range, which
  every client must handle) instead of multipart/byteranges: browsers' media elements and download managers only
  ever ask for one range, and a full 200 for a multi-range probe of a 4 GiB video would waste the whole transfer.
  A Range header that does not parse is ignored (200 full), as the RFC requires; no satisfiable range → 416 with
  "Content-Range: bytes */size".
* If-Range with our strong ETag or the exact Last-Modified date → the range applies; anything else → 200 full.
* ETag is strong, "sha256-<first 32 hex>" (the content hash: identical bytes, identical tag, across versions).
  Last-Modified is blob.created_at (blobs are immutable). If-None-Match / If-Modified-Since → 304;
  If-Match / If-Unmodified-Since failures → 412 (django.utils.cache.get_conditional_response).
* Cache-Control: private, no-cache — shared caches must not keep a copy, and browsers revalidate every time, so the
  permission check runs on every use (a revalidation costs a 304, not a transfer).
* X-Content-Type-Options: nosniff always. Active content (HTML, XHTML, SVG, XML) is never rendered from our origin:
  it is always sent as an attachment with "Content-Security-Policy: sandbox" (an <img src> of an SVG still works,
  images ignore Content-Disposition and run no script).
* Content-Disposition carries an ASCII fallback filename= and the exact UTF-8 name in filename*= (RFC 6266/8187),
  so Chinese file names survive in every browser.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe

from .storage import s3_object

BLOCK_SIZE = 1024 * 1024  # bytes per read; large blocks keep the per-chunk Python overhead negligible

# Types a browser would execute as a document of our origin. Never inline, always sandboxed.
ACTIVE_CONTENT_TYPES = frozenset({
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/xsl",
    "application/xslt+xml", "application/rdf+xml", "application/mathml+xml", "text/javascript",
    "application/javascript", "application/x-javascript", "application/ecmascript", "text/ecmascript",
})
MAX_RANGES = 64  # a Range header with more parts than this is ignored (200 full): no range-amplification games
SUBTITLE_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeNotSatisfiable(Exception):
    pass


_RANGE_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range_header(header: str, size: int) -> ByteRange | None:
    """The byte range to send for a Range header, or None to send the whole file.

    Raises RangeNotSatisfiable when the header is well-formed but no range overlaps the file.
    """
    if not header:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None  # unknown unit or garbage: ignore the header
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        return None
    satisfiable: list[ByteRange] = []
    for part in parts:
        m = _RANGE_SPEC.match(part)
        if not m:
            return None  # one bad part makes the whole header invalid → ignored
        first, last = m.groups()
        if first == "" and last == "":
            return None
        if first == "":  # suffix range: the last n bytes
            n = int(last)
            if n == 0 or size == 0:
                continue
            satisfiable.append(ByteRange(max(0, size - n), size - 1))
            continue
        start = int(first)
        end = int(last) if last != "" else size - 1
        if last != "" and end < start:
            return None  # invalid range-spec
        if start >= size:
            continue
        satisfiable.append(ByteRange(start, min(end, size - 1)))
    if not satisfiable:
        raise RangeNotSatisfiable
    return satisfiable[0]


def blob_etag(blob) -> str:
    return f'"sha256-{blob.sha256[:32]}"'


def _last_modified_ts(blob) -> int | None:
    created = getattr(blob, "created_at", None)
    return int(created.timestamp()) if created else None


def _if_range_allows(request, etag: str, last_modified: int | None) -> bool:
    value = request.headers.get("If-Range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == etag  # strong comparison: a weak tag never matches
    date = parse_http_date_safe(value)
    return date is not None and last_modified is not None and date == last_modified


def is_active_content(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in ACTIVE_CONTENT_TYPES


def _ascii_fallback(filename: str) -> str:
    """filename= for old clients: the name itself when it is plain ASCII, else "download" + its extension."""
    base, dot, ext = filename.rpartition(".")
    if not dot:
        base, ext = filename, ""
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:16]
    if not base.isascii():
        base = "download"
    base = re.sub(r"[^A-Za-z0-9._ ()\[\]+-]", "_", base).strip(" .") or "download"
    return f"{base}.{ext}" if ext else base


def content_disposition(filename: str, *, as_attachment: bool) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 + RFC 8187)."""
    filename = filename.replace("/", "_").replace("\\", "_")
    filename = "".join(ch for ch in filename if ch.isprintable()) or "download"
    disposition = "attachment" if as_attachment else "inline"
    fallback = _ascii_fallback(filename).replace('"', "")
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _is_local(storage) -> bool:
    return isinstance(storage, FileSystemStorage)


class RangeFile(io.RawIOBase):
    """A read-only view of [start, start+length) of a local file. fileno() only when the view is the whole file."""

    def __init__(self, path: str, start: int, length: int, *, whole_file: bool):
        super().__init__()
        self._f = open(path, "rb", buffering=0)  # noqa: SIM115 — closed by close(), which the response calls
        self._f.seek(start)
        self._remaining = length
        self._whole_file = whole_file

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        data = self._f.read(size)
        self._remaining -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def fileno(self) -> int:
        if not self._whole_file:
            raise io.UnsupportedOperation("ranged view: no descriptor for sendfile")
        return self._f.fileno()

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()


class BlobFileResponse(FileResponse):
    """FileResponse that keeps the headers serve_blob() set (no guessing from the file object)."""

    block_size = BLOCK_SIZE

    def set_headers(self, filelike):
        pass


def _s3_chunks(storage, name: str, byte_range: ByteRange):
    """Stream one ranged GET from the bucket in BLOCK_SIZE pieces."""
    body = s3_object(storage, name).get(Range=f"bytes={byte_range.start}-{byte_range.end}")["Body"]
    try:
        yield from body.iter_chunks(BLOCK_SIZE)
    finally:
        body.close()


def _x_accel_target(name: str) -> str:
    prefix = settings.RESLIB_X_ACCEL_PREFIX.rstrip("/")
    return f"{prefix}/{quote(name.lstrip('/'))}"


def serve_blob(request, blob, *, filename: str, as_attachment: bool, content_type: str | None = None):
    """The HTTP answer that delivers `blob` (the caller has checked permission for THIS request)."""
    return _serve(request, storage=default_storage, name=blob.storage_name, size=blob.size, etag=blob_etag(blob),
                  last_modified=_last_modified_ts(blob), filename=filename, as_attachment=as_attachment,
                  content_type=content_type or blob.mime_type)


def serve_derived(request, derived, *, filename: str, as_attachment: bool = False, content_type: str | None = None):
    """Same for a finished DerivedFile (poster, thumbnail, web rendition, PDF preview of an office document)."""
    stamp = int(derived.updated_at.timestamp()) if derived.updated_at else None
    etag = f'"sha256-{derived.blob.sha256[:24]}-{derived.kind}-{stamp or 0:x}"'
    return _serve(request, storage=default_storage, name=derived.storage_name, size=derived.size or 0, etag=etag,
                  last_modified=stamp, filename=filename, as_attachment=as_attachment,
                  content_type=content_type or derived.mime_type)


def _serve(request, *, storage, name: str, size: int, etag: str, last_modified: int | None, filename: str,
           as_attachment: bool, content_type: str | None):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    total = size
    content_type = content_type or "application/octet-stream"
    active = is_active_content(content_type)

    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Accept-Ranges": "bytes",
    }
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)

    base = HttpResponse()
    for key, value in headers.items():
        base.headers[key] = value
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified, response=base)
    if conditional is not base:  # 304 Not Modified or 412 Precondition Failed
        conditional.headers.setdefault("Cache-Control", "private, no-cache")
        return conditional

    headers["Content-Type"] = content_type
    headers["Content-Disposition"] = content_disposition(filename, as_attachment=as_attachment or active)
    if active:
        headers["Content-Security-Policy"] = "sandbox"
    elif not as_attachment:
        # Let our own pages show PDFs/media in an <iframe>/<object>; other origins still may not frame them.
        headers["X-Frame-Options"] = "SAMEORIGIN"
        headers["Content-Security-Policy"] = "frame-ancestors 'self'"

    if settings.RESLIB_X_ACCEL_PREFIX and _is_local(storage):
        response = HttpResponse(b"", content_type=content_type)
        for key, value in headers.items():
            if key != "Accept-Ranges":  # nginx adds its own
                response.headers[key] = value
        response.headers["X-Accel-Redirect"] = _x_accel_target(name)
        return response

    byte_range = None
    try:
        range_header = request.headers.get("Range", "")
        if range_header and _if_range_allows(request, etag, last_modified):
            byte_range = parse_range_header(range_header, total)
    except RangeNotSatisfiable:
        response = HttpResponse(b"", status=416, content_type="text/plain; charset=utf-8")
        for key in ("ETag", "Cache-Control", "X-Content-Type-Options", "Accept-Ranges", "Last-Modified"):
            if key in headers:
                response.headers[key] = headers[key]
        response.headers["Content-Range"] = f"bytes */{total}"
        response.headers["Content-Length"] = "0"
        return response

    status = 200 if byte_range is None else 206
    if byte_range is None:
        byte_range = ByteRange(0, total - 1)  # an empty file gives length 0
    else:
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{total}"
    length = max(byte_range.length, 0)
    headers["Content-Length"] = str(length)

    if request.method == "HEAD" or length == 0:
        response = HttpResponse(b"", status=status, content_type=content_type)
    elif _is_local(storage):
        whole = byte_range.start == 0 and length == total
        response = BlobFileResponse(RangeFile(storage.path(name), byte_range.start, length, whole_file=whole),
                                    status=status, content_type=content_type)
    else:
        response = StreamingHttpResponse(_s3_chunks(storage, name, byte_range), status=status,
                                         content_type=content_type)
    for key, value in headers.items():
        response.headers[key] = value
    return response


# --- Subtitles ---------------------------------------------------------------------------------------------------

_SRT_TIME = re.compile(
    r"(?P<h>\d{1,3}):(?P<m>\d{1,2}):(?P<s>\d{1,2})(?:[,.](?P<ms>\d{1,3}))?"
)
_SRT_TIMING = re.compile(
    r"^\s*(?P<a>\d{1,3}:\d{1,2}:\d{1,2}(?:[,.]\d{1,3})?)\s*-->\s*(?P<b>\d{1,3}:\d{1,2}:\d{1,2}(?:[,.]\d{1,3})?)"
    r"(?P<rest>.*)$"
)
_ALLOWED_TAG = re.compile(r"</?(?:i|b|u)>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def _vtt_time(value: str) -> str:
    m = _SRT_TIME.fullmatch(value.strip())
    h, mi, s = int(m["h"]), int(m["m"]), int(m["s"])
    ms = int((m["ms"] or "0").ljust(3, "0"))
    return f"{h:02d}:{mi:02d}:{s:02d}.{ms:03d}"


def _vtt_cue_text(line: str) -> str:
    """Keep <i>, <b>, <u>; drop other tags (SRT's <font ...>); escape the rest for WebVTT."""
    line = line.replace("-->", "→")  # the cue-timing arrow may not appear in cue text
    out = []
    pos = 0
    for m in _ANY_TAG.finditer(line):
        out.append(_escape_vtt(line[pos:m.start()]))
        tag = m.group(0)
        if _ALLOWED_TAG.fullmatch(tag):
            out.append(tag.lower())
        pos = m.end()
    out.append(_escape_vtt(line[pos:]))
    return "".join(out)


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def srt_to_vtt(text: str) -> str:
    """Convert SubRip (.srt) text to WebVTT. Text that already is WebVTT is returned as is (newlines normalised)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("WEBVTT"):
        return text if text.endswith("\n") else text + "\n"
    cues = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in block.split("\n")]
        timing_at = next((i for i, ln in enumerate(lines) if _SRT_TIMING.match(ln)), None)
        if timing_at is None:
            continue  # not a cue (stray text): skip rather than produce an invalid file
        m = _SRT_TIMING.match(lines[timing_at])
        identifier = lines[timing_at - 1].strip() if timing_at >= 1 else ""
        timing = f"{_vtt_time(m['a'])} --> {_vtt_time(m['b'])}"
        payload = [_vtt_cue_text(ln) for ln in lines[timing_at + 1:] if ln.strip()]
        cue = []
        if identifier and "-->" not in identifier:
            cue.append(identifier)
        cue.append(timing)
        cue.extend(payload)
        cues.append("\n".join(cue))
    return "WEBVTT\n\n" + "\n\n".join(cues) + ("\n" if cues else "")


def decode_subtitle(data: bytes) -> str:
    """Subtitle bytes as text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (common for Chinese SRT)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def serve_subtitle_vtt(request, blob, *, storage=None):
    """A subtitle attachment (SRT or WebVTT) as WebVTT for a <track> element. Same caching rules as serve_blob."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    storage = storage or default_storage
    etag = f'"vtt-{blob.sha256[:32]}"'
    last_modified = _last_modified_ts(blob)
    base = HttpResponse()
    base.headers["ETag"] = etag
    base.headers["Cache-Control"] = "private, no-cache"
    if last_modified is not None:
        base.headers["Last-Modified"] = http_date(last_modified)
    conditional = get_conditional_response(request, etag=etag, last_modified=last_modified, response=base)
    if conditional is not base:
        return conditional
    if blob.size > SUBTITLE_MAX_BYTES:
        return HttpResponse(status=413)
    with storage.open(blob.storage_name, "rb") as fh:
        data = fh.read(SUBTITLE_MAX_BYTES + 1)
    body = srt_to_vtt(decode_subtitle(data)).encode("utf-8")
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type="text/vtt; charset=utf-8")
    for key in ("ETag", "Cache-Control", "Last-Modified"):
        if key in base.headers:
            response.headers[key] = base.headers[key]
    response.headers["Content-Length"] = str(len(body))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Viewers -----------------------------------------------------------------------------------------------------

BROWSER_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/svg+xml",
                       "image/bmp"}


def viewer_for(file, derived: dict | None = None) -> str:
    """Which viewer template shows this VersionFile: video, audio, image, pdf, office, text, none.

    The lead's view passes the result as `viewer` to resources/viewers/viewer.html (or lets the template pick).
    """
    blob = file.blob
    kind = (blob.kind or "").lower()
    if kind in ("video", "audio", "image", "pdf", "office"):
        if kind == "image" and blob.mime_type and blob.mime_type not in BROWSER_IMAGE_TYPES:
            return "none"
        return kind
    return "none"


def derived_ready(derived: dict | None, kind: str):
    """The DerivedFile of that kind when it is done, else None."""
    item = (derived or {}).get(kind)
    return item if item is not None and item.state == "done" and item.storage_name else None
