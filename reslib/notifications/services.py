"""Notifications: write in-site rows, send e-mail after commit, mark read, e-mail opt-out.

Other apps call notify(users, kind, title, body, url). Titles and bodies may be lazy translations; they are rendered
in the site's language (settings.LANGUAGE_CODE, Simplified Chinese by default), because the reader is not the user
whose request caused them. Kinds in use: submitted, assigned, returned, approved, rejected, overdue (review),
restricted, blocked, restored (moderation) and library_submitted, library_approved, library_declined,
library_accepted, library_acceptance_failed, team_added (library projects).
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from reslib.core import audit
from reslib.core.errors import NotFound
from reslib.core.links import absolute_url

from .models import Notification, NotificationPreference

KINDS = ("submitted", "assigned", "returned", "approved", "rejected", "overdue", "restricted", "blocked", "restored",
         "library_submitted", "library_approved", "library_declined", "library_accepted", "library_acceptance_failed",
         "team_added")


def _users(users) -> list:
    seen, result = set(), []
    for user in users if isinstance(users, Iterable) else [users]:
        if user is None or not getattr(user, "pk", None) or user.pk in seen:
            continue
        seen.add(user.pk)
        result.append(user)
    return result


def notify(users, kind: str, title, body="", url: str = "") -> list[Notification]:
    """One notification per user (duplicates and None dropped); e-mail goes out after the transaction commits."""
    recipients = _users(users)
    if not recipients:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        title_text, body_text = str(title)[:200], str(body or "")
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            Notification(user=user, kind=kind, title=title_text, body=body_text, url=url or "")
            for user in recipients
        )
        ids = [row.pk for row in rows if row.pk is not None]
        if not ids:  # backends without RETURNING on bulk insert
            ids = list(Notification.objects.filter(user__in=recipients, kind=kind, title=title_text)
                       .order_by("-id").values_list("pk", flat=True)[: len(recipients)])
        transaction.on_commit(lambda: _enqueue_email(ids))
    return rows


def _enqueue_email(ids: list[int]) -> None:
    from . import tasks

    tasks.send_notification_emails.enqueue(ids)


def email_recipients(notifications) -> list[Notification]:
    """Those notifications whose user has an address and has not switched e-mail off."""
    opted_out = set(NotificationPreference.objects.filter(
        user_id__in={n.user_id for n in notifications}, email_enabled=False).values_list("user_id", flat=True))
    return [n for n in notifications if n.user.email and n.user_id not in opted_out]


def send_emails(ids: list[int]) -> int:
    """Send the e-mails of these notifications (idempotent enough: a retry may resend, never loses one)."""
    from django.core.mail import get_connection
    from django.core.mail.message import EmailMessage

    notifications = list(Notification.objects.filter(pk__in=ids).select_related("user"))
    messages = []
    for n in email_recipients(notifications):
        text = n.body
        if n.url:
            text = f"{text}\n\n{absolute_url(n.url)}" if text else absolute_url(n.url)
        messages.append(EmailMessage(subject=f"[ResLib] {n.title}", body=text, to=[n.user.email]))
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, notification_id: int) -> Notification:
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id, user=user).first()
        if notification is None:
            raise NotFound(code="notification.not_found")
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(user) -> int:
    with transaction.atomic():
        return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def email_enabled(user) -> bool:
    pref = NotificationPreference.objects.filter(user=user).first()
    return pref is None or pref.email_enabled


def set_email_enabled(user, enabled: bool) -> NotificationPreference:
    with transaction.atomic():
        pref, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        before = pref.email_enabled
        pref.email_enabled = bool(enabled)
        pref.save(update_fields=["email_enabled", "updated_at"])
        audit.record(actor=user, action="notification.email_preference", target=user,
                     before={"email_enabled": before}, after={"email_enabled": pref.email_enabled})
    return pref
