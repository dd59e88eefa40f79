"""What every form of the site shares: a service's errors shown beside the fields they concern."""

from __future__ import annotations

from .errors import DomainError, ValidationFailed


def add_service_errors(form, exc: DomainError, *, field_map: dict[str, str] | None = None) -> None:
    """Put a service error on `form`: each (field, code, message) of a ValidationFailed beside its field (through
    `field_map` when the service names it differently; unknown fields above the form), any other DomainError above
    the form."""
    if not isinstance(exc, ValidationFailed):
        form.add_error(None, str(exc.message))
        return
    field_map = field_map or {}
    for field, _code, message in exc.errors:
        field = field_map.get(field, field)
        form.add_error(field if field in form.fields else None, str(message))


class ServiceErrorsMixin:
    """For forms: ``form.add_service_errors(exc)``; set FIELD_FOR_SERVICE_FIELD to rename service fields."""

    FIELD_FOR_SERVICE_FIELD: dict[str, str] = {}

    def add_service_errors(self, exc: DomainError) -> None:
        add_service_errors(self, exc, field_map=self.FIELD_FOR_SERVICE_FIELD)
