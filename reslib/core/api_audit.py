"""Audit API: operators browse and filter the audit log (read only; entries are append-only)."""

import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from reslib.accounts import roles

from . import audit
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
    """`actor` is a username (any case); `action` matches a code prefix (e.g. `library.` or `library.create`);
    `target_type` is e.g. `libraries.library`; `since`/`until` bound the time (ISO 8601)."""
    if not roles.is_operator(current_user(request)):
        raise PermissionDenied()
    return audit.filter_entries(AuditEntry.objects.order_by("-created_at", "-id"), actor=actor, action=action,
                                target_type=target_type, since=since, until=until)
