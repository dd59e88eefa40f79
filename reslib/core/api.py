"""The JSON API's frame: authentication, the single error shape, pagination helpers. Apps add routers to it.

Authentication: personal API tokens (`Authorization: Bearer rl_…`) for scripts, the Django session for the browser.
A session only authenticates unsafe requests (POST, PUT, DELETE…) that carry the CSRF token; a token that is sent
but wrong or revoked is refused with 401, never treated as anonymous.

Lists all answer {"items": [...], "count": n} and take `limit` (1–100, default 50) and `offset`.

Requests are checked before a handler runs: a body must be a JSON object sent as application/json (else 415 or
400), at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (else 413), and every integer anywhere in the request must fit the
database's signed 64-bit columns (else 422 naming the field). Whatever still escapes a handler answers in the error
shape too: a 500 is `server_error`, logged like Django's own, also in debug mode.
"""

import functools
import json
import logging
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination
from ninja.parser import Parser
from pydantic import BaseModel
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from reslib.accounts.models import ApiToken

try:
    from ninja import Status  # django-ninja ≥ 1.6: an explicit (status, value) response
except ImportError:  # pragma: no cover - older django-ninja accepts the plain tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value

from . import validation_messages
from .errors import DomainError, NotAuthenticated
from .errors import PermissionDenied as DomainPermissionDenied

MAX_PAGE_SIZE = 100
# SQLite's INTEGER and PostgreSQL's bigint: an integer outside this range cannot even be compared with a column.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class BearerToken(HttpBearer):
    """Personal API tokens. A token that is sent but wrong is refused outright, never treated as anonymous."""

    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is None:
            raise AuthenticationError(401, _("The API token is invalid or revoked."))
        request.user = user
        return user


class CsrfFailed(DomainPermissionDenied):
    code = "auth.csrf_failed"


class BrowserSession(SessionAuth):
    """The logged-in browser session. Unsafe methods must carry the CSRF token (cookie + X-CSRFToken header).

    Without a logged-in session this answers "not authenticated" (None) so that public endpoints fall through to
    anonymous access; CSRF only matters when the session's ambient authority is used.
    """

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed(_("The CSRF token is missing or wrong. Reload the page and try again."))
        return user


class Anonymous:
    """Lets public endpoints run without credentials; handlers read `request.user` (possibly anonymous)."""

    openapi_type = None

    def __call__(self, request):
        return True


bearer = BearerToken()
session = BrowserSession()
LOGGED_IN = [bearer, session]
PUBLIC = [bearer, session, Anonymous()]


def current_user(request):
    """The authenticated user of a LOGGED_IN endpoint (or raise 401, defensively)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    return user


# --- Errors -------------------------------------------------------------------------------------------------------


class FieldErrorOut(Schema):
    code: str
    message: str


class ErrorBody(Schema):
    code: str = Field(..., examples=["library.too_many_hosts"])
    message: str
    fields: dict[str, list[FieldErrorOut]] = Field(default_factory=dict)
    current_state: str | None = None
    requested_state: str | None = None


class ErrorOut(Schema):
    """The one error shape of the whole API."""

    error: ErrorBody


def error_response(code: str, message, status: int, fields=None, **extra) -> JsonResponse:
    body = {"code": code, "message": str(message), "fields": fields or {}}
    body.update(extra)
    return JsonResponse({"error": body}, status=status, json_dumps_params={"ensure_ascii": False})


def domain_error_response(exc: DomainError) -> JsonResponse:
    """A service's error in the API's error shape, with its own status (also for plain views such as tus)."""
    data = exc.as_dict()
    return error_response(data.pop("code"), data.pop("message"), exc.http_status, data.pop("fields"), **data)


class UnsupportedMediaType(DomainError):
    code = "request.unsupported_media_type"
    http_status = 415
    default_message = gettext_lazy("Send the request body as JSON (Content-Type: application/json).")


class MalformedBody(DomainError):
    code = "request.malformed"
    default_message = gettext_lazy("The request body is not valid JSON.")


class BodyNotAnObject(DomainError):
    code = "request.not_an_object"
    default_message = gettext_lazy("The request body must be a JSON object.")


class BodyTooLarge(DomainError):
    code = "request.too_large"
    http_status = 413
    default_message = gettext_lazy("The request body is too large.")


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (content_type.startswith("application/") and
                                                   content_type.endswith("+json"))


class JsonObjectParser(Parser):
    """Request bodies are JSON objects sent as JSON. Ninja wraps whatever this raises in HttpError(400);
    _http_error answers with the DomainError behind it."""

    def parse_body(self, request):
        if not _is_json(request.content_type or ""):
            raise UnsupportedMediaType()
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
            raise MalformedBody() from None
        if not isinstance(data, dict):
            raise BodyNotAnObject()
        return data


def server_error_json() -> JsonResponse:
    return error_response("server_error", _("Something went wrong on our side. Please try again later."), 500)


def server_error_response(request, exc: BaseException) -> JsonResponse:
    """A 500 in the error shape, reported like Django reports an unhandled exception (signal and log entry)."""
    response = server_error_json()
    signals.got_request_exception.send(sender=None, request=request)
    log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request, exception=exc)
    return response


def exception_response(request, exc: Exception) -> JsonResponse:
    """The API's answer to an exception a handler let escape (ninja operations and the plain API views alike)."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        return error_response("not_found", _("Not found."), 404)
    if isinstance(exc, DjangoPermissionDenied):
        return error_response("permission.denied", _("You are not allowed to do this."), 403)
    if isinstance(exc, RequestDataTooBig):
        return domain_error_response(BodyTooLarge())
    if isinstance(exc, SuspiciousOperation):
        logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
            str(exc), extra={"status_code": 400, "request": request})
        return error_response("request.invalid", _("The request is not valid."), 400)
    return server_error_response(request, exc)


def _out_of_range(value, path: tuple) -> list[dict]:
    """Errors for the integers in `value` (a validated parameter: number, schema, list…) outside INT64, worded like
    pydantic's own bounds."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value > INT64_MAX:
            return [{"loc": path, "type": "less_than_equal", "ctx": {"le": INT64_MAX}}]
        if value < INT64_MIN:
            return [{"loc": path, "type": "greater_than_equal", "ctx": {"ge": INT64_MIN}}]
        return []
    if isinstance(value, BaseModel):
        items = ((info.alias or name, getattr(value, name)) for name, info in type(value).model_fields.items())
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = enumerate(value)
    else:
        return []
    return [found for key, item in items for found in _out_of_range(item, (*path, key))]


def int64_checked(view_func):
    """Applied to every operation after ninja validated its parameters. A schema's fields are named without the
    parameter's own name, as a client sends them (ninja flattens a body or query schema)."""

    @functools.wraps(view_func)
    def checked(request, *args, **kwargs):
        errors = [found for name, value in kwargs.items()
                  for found in _out_of_range(value, () if isinstance(value, BaseModel) else (name,))]
        if errors:
            raise NinjaValidationError(errors)
        return view_func(request, *args, **kwargs)

    return checked


def _validation_fields(errors: list[dict]) -> dict:
    fields: dict[str, list[dict]] = {}
    for err in errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("body", "query", "path", "payload",
                                                                         "pagination", "filters")]
        name = ".".join(loc) or "__all__"
        fields.setdefault(name, []).append(
            {"code": f"validation.{err.get('type', 'invalid')}", "message": validation_messages.message_for(err)}
        )
    return fields


api = NinjaAPI(
    title="ResLib API",
    version="1",
    description="职业教育专业教学资源库平台 ResLib — JSON API.\n\n"
    "Authenticate with a personal token (`Authorization: Bearer rl_…`, create one with `POST /api/v1/auth/token` "
    "or on your profile page) or with the browser session (unsafe methods then need the `X-CSRFToken` header).\n\n"
    'Errors always have the shape `{"error": {"code", "message", "fields"}}` with a stable `code`. '
    'Lists answer `{"items": [...], "count": n}` and take `limit` (1–100) and `offset`.',
    urls_namespace="api",
    auth=PUBLIC,
    parser=JsonObjectParser(),
)
api.add_decorator(int64_checked)
for _exception_class in (DomainError, Http404, DjangoPermissionDenied, SuspiciousOperation, Exception):
    api.add_exception_handler(_exception_class, exception_response)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    return error_response("validation.invalid", _("The request is not valid."), 422, _validation_fields(exc.errors))


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc: AuthenticationError):
    message = exc.message if exc.message != "Unauthorized" else _("Please log in or send an API token.")
    return error_response("auth.required", message, 401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, DomainError):  # JsonObjectParser refused the body
        return domain_error_response(exc.__cause__)
    return error_response(f"http.{exc.status_code}", exc.message, exc.status_code)


def api_not_found(request, rest=""):
    return error_response("not_found", _("No such API endpoint."), 404)


# --- Pagination ---------------------------------------------------------------------------------------------------


class Paginated(LimitOffsetPagination):
    """limit (1–100, default 50) and offset; answers {"items": [...], "count": n}."""

    class Input(Schema):
        limit: int = Field(getattr(settings, "RESLIB_API_PAGE_SIZE", 50), ge=1, le=MAX_PAGE_SIZE)
        offset: int = Field(0, ge=0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)


def as_list(items: list) -> dict:
    """The list shape for small, bounded lists that need no paging."""
    items = list(items)
    return {"items": items, "count": len(items)}


# Responses every endpoint may give, for the OpenAPI document.
COMMON_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
