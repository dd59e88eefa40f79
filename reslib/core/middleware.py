"""Request-wide concerns: the client address for audit entries, error answers, multipart bodies, the CSP header."""

from django.conf import settings
from django.http import Http404
from django.urls import is_valid_path
from django.utils.translation import gettext as _

from .api import error_response, exception_response
from .request_context import client_address_of, reset_client_address, set_client_address
from .views import is_api_path, page_not_found, refusal_page


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_client_address(client_address_of(request))
        try:
            return self.get_response(request)
        finally:
            reset_client_address(token)


class ErrorAnswersMiddleware:
    """What people and scripts see when something goes wrong, the same in debug mode as in production.

    Under /api/ every exception a plain view lets escape (tus, the unknown-endpoint view; ninja answers its own)
    answers in the API's JSON error shape. Pages answer a 404 with the site's page (404.html in the visitor's
    language and the site's layout) where Django's debug mode would show its English technical page listing every
    route; that page stays available to developers with RESLIB_DEBUG_PAGES=1. Other page errors in debug mode keep
    Django's technical page (a traceback is what a developer needs) and production uses the handlers in urls.py.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (response.status_code == 404 and self._technical_404s_replaced()
                and not is_valid_path(request.path_info, getattr(request, "urlconf", None))):
            # No route matched: debug mode skipped handler404 and answered with the technical page.
            return page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if is_api_path(request):
            return exception_response(request, exception)
        if isinstance(exception, Http404) and self._technical_404s_replaced():
            return page_not_found(request, exception)
        return None

    @staticmethod
    def _technical_404s_replaced() -> bool:
        return settings.DEBUG and not settings.RESLIB_DEBUG_PAGES


def multipart_for(policy):
    """Declares that a view takes multipart bodies (file uploads) and who may send them: `policy(request,
    **view_kwargs)` answers None to let the body be read, or the refusal to send instead (it may raise Http404).
    Put it outermost: MultipartGuardMiddleware reads the attribute from the resolved view."""

    def decorator(view):
        view.multipart_policy = policy
        return view

    return decorator


# The JSON API's endpoints that take files: URL name → policy, as multipart_for gives a page's. django-ninja resolves
# every API address to a view function of its own, which the attribute multipart_for sets never reaches.
API_MULTIPART_POLICIES: dict = {}


def api_multipart_for(url_name: str, policy) -> None:
    """Declares that the API endpoint named `url_name` takes multipart bodies, and who may send them (see
    multipart_for; the policy answers None or the refusal, an API error response)."""
    API_MULTIPART_POLICIES[url_name] = policy


class MultipartGuardMiddleware:
    """Refuses a multipart body before anything reads it. Django spools each file part of a multipart body larger
    than FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file as soon as request.POST is touched — CsrfViewMiddleware does
    so for every POST — so a check in the view comes after a stranger's gigabyte is on the disk. Placed before
    CsrfViewMiddleware, this asks the view's multipart_for policy first. A view that declares none takes no files:
    it gets multipart bodies only as small as Django keeps in memory (ordinary forms), a larger one is refused (413).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # The content type and length come from the headers; Django parses multipart bodies of POST requests only,
        # and never more of them than Content-Length announces.
        if request.method != "POST" or request.content_type != "multipart/form-data":
            return None
        policy = getattr(view_func, "multipart_policy", None)
        if policy is None and request.resolver_match is not None:
            policy = API_MULTIPART_POLICIES.get(request.resolver_match.url_name)
        if policy is not None:
            try:
                return policy(request, *view_args, **view_kwargs)
            except Http404 as exc:
                return page_not_found(request, exc)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then
        if length <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
            return None
        message = _("This address does not accept file uploads.")
        if is_api_path(request):
            return error_response("request.too_large", message, 413)
        return refusal_page(request, message, status=413)


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy of settings.RESLIB_CSP with every HTML page. Responses that carry their own
    policy keep it (file deliveries sandbox active content)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(f"{name} {' '.join(sources)}" for name, sources in settings.RESLIB_CSP.items())

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
