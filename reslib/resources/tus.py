"""The tus 1.0.0 resumable-upload endpoint at /api/v1/uploads/ (plain Django views: the body is streamed).

Extensions: creation, creation-with-upload, termination, checksum (sha1, sha256), expiration.
Authentication: `Authorization: Bearer rl_…` (API token) or the browser session, whose unsafe requests must carry
the CSRF token in `X-CSRFToken`. Uploads are private to their user: another user's upload answers 404.
Clients that cannot send PATCH or DELETE may POST with `X-HTTP-Method-Override`.

Only who may create resources in some library may create uploads, within per-user limits on open uploads: a refusal
is 403 (upload.denied, upload.too_many_open, upload.quota_exceeded), while 413 stays what tus makes it, an upload
larger than Tus-Max-Size (see uploads.py).

A body may come with Content-Length or chunked (Transfer-Encoding: chunked); a chunked one is read to its end when
the WSGI server has decoded it and says so (wsgi.input_terminated: granian, gunicorn, mod_wsgi), and answers 411
Length Required where it cannot be read (Django's runserver).

Protocol answers follow the specification (204/201, 404, 409, 410, 412, 413, 415, 423, 460); their bodies, and every
other failure, use the API's JSON error shape.
"""

from __future__ import annotations

import base64
import binascii

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import AuthenticationError

from reslib.core.api import bearer, domain_error_response, error_response, session
from reslib.core.errors import DomainError

from . import storage, uploads

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


def _tus_headers(response: HttpResponse) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def _error(code: str, message, status: int, **headers) -> HttpResponse:
    response = error_response(code, message, status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return _tus_headers(response)


def _domain_error(exc: DomainError, method: str) -> HttpResponse:
    if method == "HEAD":  # HEAD answers carry no body
        return _tus_headers(HttpResponse(status=exc.http_status))
    return _tus_headers(domain_error_response(exc))


def _expires(upload) -> str:
    return http_date(upload.expires_at.timestamp())


def _options() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Tus-Version"] = TUS_VERSION
    response["Tus-Extension"] = EXTENSIONS
    response["Tus-Max-Size"] = str(storage.max_upload_bytes())
    response["Tus-Checksum-Algorithm"] = ",".join(uploads.CHECKSUM_ALGORITHMS)
    return _tus_headers(response)


def _method(request) -> str:
    override = request.headers.get("X-HTTP-Method-Override", "").strip().upper()
    if override and request.method == "POST":
        return override
    return request.method


def _authenticate(request, method: str):
    """The user, or an error response (401 without credentials or with a bad token, 403 on a CSRF failure): the
    same API token and browser session authentication as the JSON API."""
    try:
        user = bearer(request) or session(request)
    except AuthenticationError as exc:
        return None, _error("auth.required", exc.message, 401)
    except DomainError as exc:  # the session's CSRF check failed
        return None, _domain_error(exc, method)
    if user is None:
        return None, _error("auth.required", _("Please log in or send an API token."), 401)
    return user, None


def _check_version(request):
    version = request.headers.get("Tus-Resumable")
    if version != TUS_VERSION:
        return _error("upload.version_unsupported", _("This server speaks tus 1.0.0 (send Tus-Resumable: 1.0.0)."),
                      412, Tus_Version=TUS_VERSION)
    return None


def _int_header(request, name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isdigit():
        raise ValueError(name)
    return int(raw)


def parse_metadata(header: str | None) -> dict:
    """Upload-Metadata: 'key base64value,key2,…' → {"key": "value", "key2": ""}."""
    result: dict[str, str] = {}
    if not header:
        return result
    if len(header) > uploads.MAX_METADATA_CHARS:
        raise ValueError("Upload-Metadata too long")
    for pair in header.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _sep, encoded = pair.partition(" ")
        if not key or " " in encoded.strip() or key in result:
            raise ValueError("bad pair")
        try:
            value = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded.strip() else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError("bad value") from None
        result[key] = value
    return result


def _content_length(request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    return int(raw)


def _chunked(request) -> bool:
    return _content_length(request) is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _unreadable_body(request) -> HttpResponse | None:
    """411 for a chunked body the server hands over undecoded or unterminated: reading it would store nothing (Django
    stops at the missing Content-Length) and the client would be told its bytes arrived."""
    if _chunked(request) and not request.META.get("wsgi.input_terminated"):
        return _error("upload.length_required",
                      _("This server cannot read a chunked request body; send the data with a Content-Length."), 411)
    return None


def _body(request):
    """The request body as a file-like, never read whole, and its length (None: read until the stream ends).

    With Content-Length, Django's LimitedStream over wsgi.input. Without one (chunked, or HTTP/2), the server's
    decoded and terminated wsgi.input itself, which Django would read as empty. append_chunk never reads past the
    declared Upload-Length."""
    length = _content_length(request)
    if length is None and request.META.get("wsgi.input_terminated"):
        return request.META["wsgi.input"], None
    return request, length or 0


def _patch_response(upload) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Upload-Offset"] = str(upload.offset)
    if upload.completed_at is None:
        response["Upload-Expires"] = _expires(upload)
    return _tus_headers(response)


def _append(request, upload_id, user, offset) -> HttpResponse:
    stream, length = _body(request)
    try:
        checksum = uploads.parse_checksum(request.headers.get("Upload-Checksum"))
        upload = uploads.append_chunk(upload_id, user=user, offset=offset, stream=stream, content_length=length,
                                      checksum=checksum)
    except DomainError as exc:
        return _domain_error(exc, "PATCH")
    return _patch_response(upload)


@csrf_exempt
def collection(request):
    """OPTIONS: discovery. POST: create an upload (optionally with its first bytes)."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    if method != "POST":
        return _error("http.405", _("Method not allowed."), 405, Allow="OPTIONS, POST")
    user, failure = _authenticate(request, method)
    if failure:
        return failure
    if failure := _check_version(request):
        return failure
    if request.headers.get("Upload-Defer-Length"):
        return _error("upload.defer_length_unsupported", _("Upload-Defer-Length is not supported."), 400)
    try:
        length = _int_header(request, "Upload-Length")
    except ValueError:
        length = None
    if length is None:
        return _error("upload.length_invalid", _("Upload-Length must be a non-negative integer."), 400)
    try:
        metadata = parse_metadata(request.headers.get("Upload-Metadata"))
    except ValueError:
        return _error("upload.metadata_invalid", _("Upload-Metadata is not valid."), 400)
    has_body = (_content_length(request) or 0) > 0 or _chunked(request)
    if has_body and request.content_type != OFFSET_CONTENT_TYPE:
        return _error("upload.content_type", _("Data must be sent as application/offset+octet-stream."), 415)
    if failure := _unreadable_body(request):
        return failure
    try:
        upload = uploads.create_upload(user=user, length=length, metadata=metadata)
    except DomainError as exc:
        return _domain_error(exc, method)

    location = request.build_absolute_uri(reverse("tus:upload", args=[upload.pk]))
    if has_body:
        response = _append(request, upload.pk, user, 0)
        if response.status_code != 204:
            # The upload exists; the first bytes were refused (e.g. a checksum mismatch). Tell where it lives.
            response["Location"] = location
            return response
        offset = response["Upload-Offset"]
    else:
        offset = None
    upload.refresh_from_db()
    created = HttpResponse(status=201)
    created["Location"] = location
    if offset is not None:
        created["Upload-Offset"] = offset
    if upload.completed_at is None:
        created["Upload-Expires"] = _expires(upload)
    return _tus_headers(created)


@csrf_exempt
def upload(request, upload_id):
    """HEAD: where to resume. PATCH: append bytes. DELETE: terminate."""
    method = _method(request)
    if method == "OPTIONS":
        return _options()
    if method not in ("HEAD", "PATCH", "DELETE"):
        return _error("http.405", _("Method not allowed."), 405, Allow="OPTIONS, HEAD, PATCH, DELETE")
    user, failure = _authenticate(request, method)
    if failure:
        if method == "HEAD":
            return _tus_headers(HttpResponse(status=failure.status_code))
        return failure
    if failure := _check_version(request):
        if method == "HEAD":
            failure = _tus_headers(HttpResponse(status=412))
            failure["Tus-Version"] = TUS_VERSION
        return failure

    if method == "HEAD":
        try:
            found = uploads.get_upload(upload_id, user=user)
        except DomainError as exc:
            return _domain_error(exc, method)
        response = HttpResponse(status=200)
        response["Upload-Offset"] = str(found.offset)
        response["Upload-Length"] = str(found.length)
        if found.completed_at is None:
            response["Upload-Expires"] = _expires(found)
        return _tus_headers(response)

    if method == "DELETE":
        try:
            uploads.terminate_upload(upload_id, user=user)
        except DomainError as exc:
            return _domain_error(exc, method)
        return _tus_headers(HttpResponse(status=204))

    # PATCH
    if request.content_type != OFFSET_CONTENT_TYPE:
        return _error("upload.content_type", _("Data must be sent as application/offset+octet-stream."), 415)
    try:
        offset = _int_header(request, "Upload-Offset")
    except ValueError:
        offset = None
    if offset is None:
        return _error("upload.offset_invalid", _("Upload-Offset must be a non-negative integer."), 400)
    if failure := _unreadable_body(request):
        return failure
    return _append(request, upload_id, user, offset)
