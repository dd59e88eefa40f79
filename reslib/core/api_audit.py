"""Audit API: operators browse and filter the audit log (read only; entries are append-only)."""

import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from reslib.accounts import roles

from .api import LOGGED_IN, ErrorOut, Paginated, current_user
from .errors import PermissionDenied
from .models import AuditEntry

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    created_at: datetime.datetime
    actor: int | None = None
    actor_username: str
    action: str
    target_type: str
    target_id: str
    target_repr: str
    before: dict | list | None
    after: dict | list | None
    reason: str
    client_address: str | None

    @staticmethod
    def resolve_actor(obj):
        return obj.actor_id


@router.get("", auth=LOGGED_IN, response={200: list[AuditEntryOut], 401: ErrorOut, 403: ErrorOut},
            summary="The audit log (platform operators only)")
@paginate(Paginated)
def list_audit_entries(request, actor: str = "", action: str = "", target_type: str = "",
                       since: datetime.datetime | None = None, until: datetime.datetime | None = None):
    """`actor` is a username; `action` matches a code or a prefix ending in "." (e.g. `library.`);
    `target_type` is e.g. `libraries.library`; `since`/`until` bound the time (ISO 8601)."""
    if not roles.is_operator(current_user(request)):
        raise PermissionDenied()
    qs = AuditEntry.objects.order_by("-created_at", "-id")
    if actor:
        qs = qs.filter(actor_username=actor.strip())
    if action:
        action = action.strip()
        qs = qs.filter(action__startswith=action) if action.endswith(".") else qs.filter(action=action)
    if target_type:
        qs = qs.filter(target_type=target_type.strip())
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs
