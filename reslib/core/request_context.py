"""The client address of the request being served, for audit entries written deep inside services."""

from contextvars import ContextVar

from django.conf import settings

_client_address: ContextVar[str | None] = ContextVar("reslib_client_address", default=None)


def client_address_of(request) -> str | None:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def set_client_address(address: str | None):
    return _client_address.set(address)


def reset_client_address(token) -> None:
    _client_address.reset(token)


def current_client_address() -> str | None:
    return _client_address.get()
