"""Notifications API: the caller's notifications, mark one or all read."""

from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from reslib.core.api import COMMON_ERRORS, LOGGED_IN, Paginated, current_user

from . import services
from .models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class UnreadOut(Schema):
    unread: int


class ReadAllOut(Schema):
    marked: int
    unread: int


@router.get("/notifications", auth=LOGGED_IN, response=list[NotificationOut],
            summary="The caller's notifications, newest first")
@paginate(Paginated)
def list_notifications(request, unread: bool = False):
    """`unread=true` lists only unread ones."""
    qs = Notification.objects.filter(user=current_user(request)).order_by("-created_at", "-id")
    return qs.filter(read_at__isnull=True) if unread else qs


@router.get("/notifications/unread-count", auth=LOGGED_IN, response={200: UnreadOut, **COMMON_ERRORS},
            summary="How many notifications the caller has not read")
def unread_count(request):
    return {"unread": services.unread_count(current_user(request))}


@router.post("/notifications/read-all", auth=LOGGED_IN, response={200: ReadAllOut, **COMMON_ERRORS},
             summary="Mark all of the caller's notifications read")
def read_all(request):
    user = current_user(request)
    return {"marked": services.mark_all_read(user), "unread": 0}


@router.post("/notifications/{notification_id}/read", auth=LOGGED_IN,
             response={200: NotificationOut, **COMMON_ERRORS}, summary="Mark one notification read")
def read(request, notification_id: int):
    """Another user's notification answers 404 like a missing one."""
    return services.mark_read(current_user(request), notification_id)
