"""Writing audit entries. Called by services inside their transaction, so the entry commits with the change."""

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
