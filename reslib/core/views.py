"""Shared web pages: the operators' audit log, the error handlers, the login prompt. (The home page belongs to the
catalogue app.)"""

import datetime
import json
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import defaults

from reslib.accounts import roles

from . import audit
from .api import error_response, server_error_json
from .models import AuditEntry

AUDIT_PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Actor username"), required=False, max_length=150)
    action = forms.CharField(label=_("Action code starts with"), required=False, max_length=64,
                             widget=forms.TextInput(attrs={"placeholder": "library."}))
    target_type = forms.ChoiceField(label=_("Target type"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, target_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_type"].choices = [("", _("All"))] + [(t, t) for t in target_types]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return data

    def apply(self, entries):
        data = self.cleaned_data
        tz = timezone.get_current_timezone()

        def start_of(day):
            return datetime.datetime.combine(day, datetime.time.min, tz)

        # The dates are whole days in the site's time zone: from the start of the first to the end of the last.
        return audit.filter_entries(
            entries, actor=data["actor"], action=data["action"], target_type=data["target_type"],
            since=start_of(data["date_from"]) if data["date_from"] else None,
            until=start_of(data["date_to"] + datetime.timedelta(days=1)) if data["date_to"] else None,
        )


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def describe_change(before, after) -> list[tuple[str, str | None, str | None]]:
    """Rows of (key, before, after) for dicts; one ("", before, after) row otherwise. Unchanged keys are omitted."""
    if isinstance(before, dict) or isinstance(after, dict):
        b, a = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
        rows = []
        for key in list(b) + [k for k in a if k not in b]:
            if key in b and key in a and b[key] == a[key]:
                continue
            rows.append((key, _compact(b[key]) if key in b else None, _compact(a[key]) if key in a else None))
        return rows
    if before is None and after is None:
        return []
    return [("", None if before is None else _compact(before), None if after is None else _compact(after))]


def audit_log(request):
    """Operators browse and filter the audit log. Read-only: nothing here changes an entry."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not roles.is_operator(request.user):
        raise PermissionDenied
    target_types = AuditEntry.objects.order_by("target_type").values_list("target_type", flat=True).distinct()
    form = AuditFilterForm(request.GET or None, target_types=list(target_types))
    entries = AuditEntry.objects.all()
    if form.is_bound and form.is_valid():
        entries = form.apply(entries)
    page_obj = Paginator(entries.order_by("-created_at", "-id"), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page_obj.object_list:
        entry.changes = describe_change(entry.before, entry.after)
    return render(request, "core/audit_log.html", {"form": form, "page_obj": page_obj})


# --- Error answers and refusals -----------------------------------------------------------------------------------

def is_api_path(request) -> bool:
    """Under /api/ every answer, errors included, is JSON in the API's error shape."""
    return request.path_info.startswith("/api/")


def refusal_page(request, message, *, status: int):
    return render(request, "core/refused.html", {"message": message}, status=status)


def login_prompt(request, message, *, next_url: str | None = None):
    """Asks an anonymous visitor to log in (or register) for what they asked; logged in, they return to `next_url`
    (default: this page)."""
    login_url = f"{reverse('accounts:login')}?{urlencode({'next': next_url or request.get_full_path()})}"
    return render(request, "core/login_prompt.html", {"message": message, "login_url": login_url}, status=403)


def bad_request(request, exception):
    """handler400. Django's own page has neither the site's layout nor its language."""
    if is_api_path(request):
        return error_response("request.invalid", gettext("The request is not valid."), 400)
    return render(request, "400.html", status=400)


def page_not_found(request, exception):
    """handler404 (and the debug-mode 404s of core.middleware.ErrorAnswersMiddleware)."""
    if is_api_path(request):
        return error_response("not_found", gettext("Not found."), 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: only reached in production; debug mode shows the traceback on pages (the API never)."""
    if is_api_path(request):
        return server_error_json()
    return defaults.server_error(request)
