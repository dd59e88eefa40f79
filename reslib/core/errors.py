"""Domain errors: a stable machine code, a translatable message, optional per-field messages.

Services raise these; the API turns them into {"error": {"code", "message", "fields"}} and web views show the
messages beside the fields.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    http_status = 400
    default_message = _("The request could not be processed.")

    def __init__(self, message=None, *, code=None, http_status=None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status
        super().__init__(str(self.message))

    @property
    def fields(self) -> dict:
        return {}

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), "fields": self.fields}

    def messages(self) -> list[str]:
        """What to show a person: one line per error."""
        return [str(self.message)]


class ValidationFailed(DomainError):
    """Input is wrong: one or more (field, code, message) errors. The first one names the error as a whole."""

    http_status = 400

    def __init__(self, errors: list[tuple[str, str, object]]):
        assert errors, "ValidationFailed needs at least one error"
        self.errors = list(errors)
        _field, code, message = self.errors[0]
        super().__init__(message if len(self.errors) == 1 else _("Please correct the errors below."), code=code)

    @classmethod
    def single(cls, field: str, code: str, message) -> "ValidationFailed":
        return cls([(field, code, message)])

    @property
    def fields(self) -> dict:
        result: dict[str, list[dict]] = {}
        for field, code, message in self.errors:
            result.setdefault(field, []).append({"code": code, "message": str(message)})
        return result

    def messages_for(self, field: str) -> list[str]:
        return [str(m) for f, _c, m in self.errors if f == field]

    def messages(self) -> list[str]:
        return [str(m) for _f, _c, m in self.errors]


class FieldErrors:
    """Collects every broken rule of an input before raising, so the user sees all of them at once."""

    def __init__(self):
        self.errors: list[tuple[str, str, object]] = []

    def add(self, field: str, code: str, message) -> None:
        self.errors.append((field, code, message))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


class PermissionDenied(DomainError):
    code = "permission.denied"
    http_status = 403
    default_message = _("You are not allowed to do this.")


class NotAuthenticated(DomainError):
    code = "auth.required"
    http_status = 401
    default_message = _("Please log in first.")


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _("Not found.")


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    default_message = _("The object changed in the meantime; please reload and try again.")


class IllegalTransition(DomainError):
    code = "state.illegal_transition"
    http_status = 409

    def __init__(self, *, current, requested, code=None):
        from django.utils.translation import gettext_lazy as _lazy
        from django.utils.text import format_lazy

        message = format_lazy(
            _lazy("Cannot go from “{current}” to “{requested}”."), current=current.label, requested=requested.label
        )
        super().__init__(message, code=code)
        self.current = current
        self.requested = requested

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["current_state"] = self.current.value
        data["requested_state"] = self.requested.value
        return data
