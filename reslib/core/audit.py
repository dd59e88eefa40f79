"""Writing audit entries (services call record() inside their transaction, so the entry commits with the change)
and filtering them for the operators' audit log page and API."""

from django.db import transaction

from .models import AuditEntry
from .request_context import current_client_address


def record(*, actor, action: str, target, before=None, after=None, reason: str = "") -> AuditEntry:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the service's transaction")
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        before=before,
        after=after,
        reason=reason,
        client_address=current_client_address(),
    )


def snapshot(instance, fields: list[str]) -> dict:
    """A JSON-ready picture of the named fields, for before/after."""
    data = {}
    for name in fields:
        value = getattr(instance, name)
        if hasattr(value, "pk"):
            value = value.pk
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        data[name] = value
    return data


def filter_entries(entries, *, actor: str = "", action: str = "", target_type: str = "", since=None, until=None):
    """The audit log's filters, the same on the page and in the API: `actor` is a username in any case, `action` a
    code prefix ("library." or "library.create"), `target_type` e.g. "libraries.library"; `since` (inclusive) and
    `until` (exclusive) are aware datetimes. Empty values do not filter."""
    actor, action, target_type = actor.strip(), action.strip(), target_type.strip()
    if actor:
        entries = entries.filter(actor_username__iexact=actor)
    if action:
        entries = entries.filter(action__startswith=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries
