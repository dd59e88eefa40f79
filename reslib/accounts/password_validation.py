"""Password rules of our own, next to Django's (registered in settings.AUTH_PASSWORD_VALIDATORS)."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class NotBlankPasswordValidator:
    """Refuses a password of white space only (spaces, tabs, full-width spaces): it passes the length rule, yet it
    is the first thing anyone guesses and forms that strip input would store it as empty."""

    def validate(self, password, user=None):
        if not password.strip():
            raise ValidationError(_("The password cannot consist of spaces only."), code="password_blank")

    def get_help_text(self):
        return _("Your password cannot consist of spaces only.")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with a message of our own: Django 5.2 changed this message and its Chinese catalogue lacks the
    new one, so people saw it in English."""

    def get_error_message(self):
        return ngettext("This password is too short: it needs at least %(min_length)d character.",
                        "This password is too short: it needs at least %(min_length)d characters.",
                        self.min_length) % {"min_length": self.min_length}
