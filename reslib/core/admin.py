"""Back office: the audit log is read-only for everyone; other apps' admins write audit entries for their edits."""

import json

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import audit
from .models import AuditEntry

admin.site.site_header = _("ResLib back office")
admin.site.site_title = _("ResLib back office")
admin.site.index_title = _("Administration")


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)) or hasattr(value, "__iter__"):
        return [_jsonable(v) for v in value]
    return str(value)


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions each write an audit entry (admin.create/change/delete).

    Secret fields (passwords, token hashes) are never copied into the entry.
    """

    audit_secret_fields = frozenset({"password", "token_hash"})

    def _audit(self, **kwargs):
        with transaction.atomic():
            audit.record(**kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            changed = [f for f in form.changed_data if f not in self.audit_secret_fields]
            obj._reslib_audit_diff = (
                {f: _jsonable(form.initial.get(f)) for f in changed},
                {f: _jsonable(form.cleaned_data.get(f)) for f in changed},
            )
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(actor=request.user, action="admin.create", target=obj, after={"object": str(obj)})
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        before, after = getattr(obj, "_reslib_audit_diff", (None, None))
        if after is None:
            after = {"change": json.loads(json.dumps(message, default=str)) if message else ""}
        self._audit(actor=request.user, action="admin.change", target=obj, before=before, after=after)
        return entry

    def log_deletions(self, request, queryset):
        result = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(actor=request.user, action="admin.delete", target=obj, before={"object": str(obj)})
        return result


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: nobody — not even a superuser — may add, change or delete audit entries."""

    list_display = ("created_at", "actor_username", "action", "target_type", "target_id", "target_repr",
                    "client_address")
    list_filter = ("target_type", "created_at")
    search_fields = ("actor_username", "action", "target_repr", "target_id")
    date_hierarchy = "created_at"
    list_select_related = False
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    fields = readonly_fields
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
