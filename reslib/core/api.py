"""The JSON API's frame: authentication, the single error shape, pagination helpers. Apps add routers to it."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from reslib.accounts.models import ApiToken

from .errors import DomainError


class BearerToken(HttpBearer):
    """Personal API tokens. A token that is sent but wrong is refused outright, never treated as anonymous."""

    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is None:
            raise AuthenticationError(401, _("The API token is invalid or revoked."))
        request.user = user
        return user


class Anonymous:
    """Lets public endpoints run without credentials; handlers read `request.user` (possibly anonymous)."""

    openapi_type = None

    def __call__(self, request):
        return True


bearer = BearerToken()
session = SessionAuth()
LOGGED_IN = [bearer, session]
PUBLIC = [bearer, session, Anonymous()]


def error_response(code: str, message, status: int, fields=None, **extra) -> JsonResponse:
    body = {"code": code, "message": str(message), "fields": fields or {}}
    body.update(extra)
    return JsonResponse({"error": body}, status=status, json_dumps_params={"ensure_ascii": False})


def _validation_fields(errors: list[dict]) -> dict:
    fields: dict[str, list[dict]] = {}
    for err in errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("body", "query", "path", "payload")]
        name = ".".join(loc) or "__all__"
        fields.setdefault(name, []).append({"code": f"validation.{err.get('type', 'invalid')}", "message": err.get("msg", "")})
    return fields


api = NinjaAPI(
    title="ResLib API",
    version="1",
    description="职业教育专业教学资源库平台 ResLib — JSON API. Errors always have the shape "
    '{"error": {"code", "message", "fields"}}.',
    urls_namespace="api",
    auth=PUBLIC,
)


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    data = exc.as_dict()
    return error_response(data.pop("code"), data.pop("message"), exc.http_status, data.pop("fields"), **data)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    return error_response("validation.invalid", _("The request is not valid."), 422, _validation_fields(exc.errors))


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc: AuthenticationError):
    message = exc.message if exc.message != "Unauthorized" else _("Please log in or send an API token.")
    return error_response("auth.required", message, 401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return error_response(f"http.{exc.status_code}", exc.message, exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response("not_found", _("Not found."), 404)


@api.exception_handler(DjangoPermissionDenied)
def _forbidden(request, exc):
    return error_response("permission.denied", _("You are not allowed to do this."), 403)


def api_not_found(request, rest=""):
    return error_response("not_found", _("No such API endpoint."), 404)
