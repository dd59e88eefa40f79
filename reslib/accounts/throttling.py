"""What a locked-out login attempt answers (django-axes calls this)."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from reslib.core.api import error_response


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    message = _("Too many failed logins. Please wait a while and try again.")
    if request.path.startswith("/api/"):
        return error_response("auth.locked_out", message, 429)
    return render(request, "accounts/locked_out.html", {"message": message}, status=429)
