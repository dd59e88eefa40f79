"""notify(): rows per user, e-mail after commit respecting the opt-out, read marks."""

import pytest
from django.core import mail
from django.test import TestCase

from reslib.core.errors import NotFound
from reslib.notifications import services
from reslib.notifications.models import Notification

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_notify_writes_rows_and_mails_after_commit(lead, builder):
    lead.email = "lead@example.com"
    lead.save()
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        rows = services.notify([lead, builder, lead, None], "returned", "已退回修改：讲义", "请补充出处。", "/resources/1/")
    assert len(rows) == 2 and mail.outbox == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["lead@example.com"]]  # the builder has no address
    assert "已退回修改" in mail.outbox[0].subject and "/resources/1/" in mail.outbox[0].body
    assert services.unread_count(lead) == 1


def test_email_links_are_absolute_on_the_configured_site(settings, lead, builder):
    lead.email, builder.email = "lead@example.com", "builder@example.com"
    lead.save()
    builder.save()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.notify([lead], "approved", "已发布：讲义", "", "/resources/1/")
    assert settings.RESLIB_SITE_URL.startswith(("http://", "https://"))  # the laptop default without the variable
    assert mail.outbox[0].body == f"{settings.RESLIB_SITE_URL}/resources/1/"

    settings.RESLIB_SITE_URL = "https://reslib.example.edu.cn"
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.notify([lead], "approved", "已发布：讲义", "", "/resources/1/")
        services.notify([builder], "approved", "外部", "正文", "https://www.icve.com.cn/x")
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert bodies["lead@example.com"] == "https://reslib.example.edu.cn/resources/1/"
    assert bodies["builder@example.com"] == "正文\n\nhttps://www.icve.com.cn/x"


def test_email_opt_out(lead):
    lead.email = "lead@example.com"
    lead.save()
    services.set_email_enabled(lead, False)
    assert services.email_enabled(lead) is False
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.notify([lead], "approved", "已发布", "", "")
    assert mail.outbox == [] and Notification.objects.filter(user=lead).count() == 1


def test_mark_read_only_own(lead, builder):
    with TestCase.captureOnCommitCallbacks(execute=True):
        (mine,) = services.notify([lead], "submitted", "待您审核", "", "/review/")
    with pytest.raises(NotFound):
        services.mark_read(builder, mine.pk)
    assert services.mark_read(lead, mine.pk).read_at is not None
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.notify([lead, lead], "overdue", "超期", "", "")
        services.notify([lead], "blocked", "已阻断", "", "")
    assert services.unread_count(lead) == 2
    assert services.mark_all_read(lead) == 2 and services.unread_count(lead) == 0


def test_lazy_titles_are_rendered_in_the_site_language(lead):
    from django.utils import translation
    from django.utils.translation import gettext_lazy as _

    with translation.override("en"), TestCase.captureOnCommitCallbacks(execute=True):
        services.notify([lead], "approved", _("Notifications"), "", "")
    assert Notification.objects.get().title == "通知"


def test_nobody_to_notify(db):
    assert services.notify([], "approved", "x") == []
    assert factories.user("lonely") and Notification.objects.count() == 0
