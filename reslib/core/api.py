"""The JSON API's frame: authentication, the single error shape, pagination helpers. Apps add routers to it.

Authentication: personal API tokens (`Authorization: Bearer rl_…`) for scripts, the Django session for the browser.
A session only authenticates unsafe requests (POST, PUT, DELETE…) that carry the CSRF token; a token that is sent
but wrong or revoked is refused with 401, never treated as anonymous.

Lists all answer {"items": [...], "count": n} and take `limit` (1–100, default 50) and `offset`.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from reslib.accounts.models import ApiToken

try:
    from ninja import Status  # django-ninja ≥ 1.6: an explicit (status, value) response
except ImportError:  # pragma: no cover - older django-ninja accepts the plain tuple

    def Status(status_code, value):  # noqa: N802
        return status_code, value

from .errors import DomainError, NotAuthenticated
from .errors import PermissionDenied as DomainPermissionDenied

MAX_PAGE_SIZE = 100


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


def _validation_fields(errors: list[dict]) -> dict:
    fields: dict[str, list[dict]] = {}
    for err in errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("body", "query", "path", "payload",
                                                                         "pagination", "filters")]
        name = ".".join(loc) or "__all__"
        fields.setdefault(name, []).append(
            {"code": f"validation.{err.get('type', 'invalid')}", "message": str(err.get("msg", ""))}
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
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return domain_error_response(exc)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    return error_response("validation.invalid", _("The request is not valid."), 422, _validation_fields(exc.errors))


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc: AuthenticationError):
    message = exc.message if exc.message != "Unauthorized" else _("Please log in or send an API token.")
    return error_response("auth.required", message, 401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
        return error_response("request.malformed", _("The request body is not valid JSON."), 400)
    return error_response(f"http.{exc.status_code}", exc.message, exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response("not_found", _("Not found."), 404)


@api.exception_handler(DjangoPermissionDenied)
def _forbidden(request, exc):
    return error_response("permission.denied", _("You are not allowed to do this."), 403)


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
