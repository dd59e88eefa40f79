"""Moderation API: restrict / block / restore a resource (operators), withdraw / reinstate it (the library's lead
and builders), and the emergency action's preview and execution (operators).

A resource the caller may not see answers 404 (`resource.not_found`); one they see but may not act on, 403.
"""

from typing import Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema

from reslib.core.api import COMMON_ERRORS, LOGGED_IN, ErrorOut, Status, current_user
from reslib.core.errors import NotFound
from reslib.resources import policies
from reslib.resources.models import Resource

from . import moderation

router = Router(tags=["moderation"])
WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}


class ModerationIn(Schema):
    action: Literal["restrict", "block", "restore"]
    reason_category: str = Field(..., description="illegal, infringement, content_error, vulgar, security, other")
    reason: str


class WithdrawalIn(Schema):
    action: Literal["withdraw", "reinstate"]
    reason: str = ""


class ModerationOut(Schema):
    id: int
    moderation_state: str
    moderation_state_label: str
    moderation_reason_category: str
    moderation_reason: str
    moderated_at: str | None
    withdrawn: bool
    withdrawn_at: str | None
    withdrawn_reason: str


class EmergencyCriteriaIn(Schema):
    kind: Literal["keyword", "file_hash", "uploader"]
    value: str


class EmergencyIn(EmergencyCriteriaIn):
    reason_category: str
    reason: str
    expected_count: int | None = Field(None, description="The previewed count; refused (409) if it changed.")


class SampleOut(Schema):
    id: int
    title: str
    library_id: int
    library: str
    uploader: str


class PreviewOut(Schema):
    kind: str
    value: str
    count: int
    sample: list[SampleOut]


class EmergencyOut(Schema):
    id: int
    kind: str
    value: str
    count: int
    created_at: str


def _resource(request, resource_id: int) -> Resource:
    resource = policies.visible_resources(request.user).filter(pk=resource_id).first()
    if resource is None:
        raise NotFound(_("No such resource."), code="resource.not_found")
    return resource


def _out(resource: Resource) -> dict:
    return {
        "id": resource.pk,
        "moderation_state": resource.moderation_state,
        "moderation_state_label": str(resource.get_moderation_state_display()),
        "moderation_reason_category": resource.moderation_reason_category,
        "moderation_reason": resource.moderation_reason,
        "moderated_at": resource.moderated_at.isoformat() if resource.moderated_at else None,
        "withdrawn": resource.withdrawn_at is not None,
        "withdrawn_at": resource.withdrawn_at.isoformat() if resource.withdrawn_at else None,
        "withdrawn_reason": resource.withdrawn_reason,
    }


@router.get("/resources/{resource_id}/moderation", auth=LOGGED_IN, response={200: ModerationOut, **COMMON_ERRORS},
            summary="A resource's moderation and withdrawal state")
def get_moderation(request, resource_id: int):
    current_user(request)
    return _out(_resource(request, resource_id))


@router.post("/resources/{resource_id}/moderation", auth=LOGGED_IN, response={200: ModerationOut, **WRITE_ERRORS},
             summary="Restrict, block or restore a resource (platform operators)")
def moderate(request, resource_id: int, payload: ModerationIn):
    user = current_user(request)
    resource = _resource(request, resource_id)
    resource = moderation.moderate(resource, payload.action, by=user, reason_category=payload.reason_category,
                                   reason=payload.reason)
    return _out(resource)


@router.post("/resources/{resource_id}/withdrawal", auth=LOGGED_IN, response={200: ModerationOut, **WRITE_ERRORS},
             summary="Withdraw (下架) or reinstate a resource (the library's lead and builders)")
def withdrawal(request, resource_id: int, payload: WithdrawalIn):
    user = current_user(request)
    resource = _resource(request, resource_id)
    if payload.action == "withdraw":
        resource = moderation.withdraw(resource, by=user, reason=payload.reason)
    else:
        resource = moderation.reinstate(resource, by=user, reason=payload.reason)
    return _out(resource)


@router.post("/moderation/emergency/preview", auth=LOGGED_IN, response={200: PreviewOut, **COMMON_ERRORS},
             summary="How many resources an emergency block would hit, with a sample (platform operators)")
def emergency_preview(request, payload: EmergencyCriteriaIn):
    user = current_user(request)
    preview = moderation.emergency_preview(by=user, kind=payload.kind, value=payload.value)
    return {
        "kind": preview.kind, "value": preview.value, "count": preview.count,
        "sample": [{"id": r.pk, "title": str(r), "library_id": r.library_id, "library": r.library.name,
                    "uploader": r.created_by.username} for r in preview.sample],
    }


@router.post("/moderation/emergency", auth=LOGGED_IN, response={201: EmergencyOut, **WRITE_ERRORS},
             summary="Block every matching resource in one audited operation (platform operators)")
def emergency_block(request, payload: EmergencyIn):
    user = current_user(request)
    batch = moderation.emergency_block(by=user, kind=payload.kind, value=payload.value,
                                       reason_category=payload.reason_category, reason=payload.reason,
                                       expected_count=payload.expected_count)
    return Status(201, {"id": batch.pk, "kind": batch.kind, "value": batch.value, "count": batch.count,
                 "created_at": batch.created_at.isoformat()})
