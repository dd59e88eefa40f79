"""The notification centre, the header bell with the unread count, and the API."""

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from reslib.notifications import services
from reslib.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def client_for(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def notify(users, title="已退回修改：讲义", url="/resources/1/"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.notify(users, "returned", title, "请补充出处。", url)


def test_bell_shows_the_unread_count(lead):
    notify([lead])
    notify([lead], title="第二条")
    body = client_for(lead).get(reverse("notifications:centre")).content.decode()
    assert 'class="nav-bell-count">2<' in body and "请补充出处。" in body and "第二条" in body
    assert "nav-bell" not in client_for().get("/").content.decode()


def test_centre_is_personal_and_marks_read(lead, builder):
    (mine,) = notify([lead])
    assert "请补充出处" not in client_for(builder).get(reverse("notifications:centre")).content.decode()
    assert client_for(builder).post(reverse("notifications:read", args=[mine.pk])).status_code == 404
    response = client_for(lead).post(reverse("notifications:read", args=[mine.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/resources/1/"
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    notify([lead])
    assert client_for(lead).post(reverse("notifications:read_all")).status_code == 302
    assert services.unread_count(lead) == 0
    assert client_for().get(reverse("notifications:centre")).status_code == 302


def test_open_never_redirects_off_site(lead):
    (n,) = notify([lead], url="https://evil.example/")
    response = client_for(lead).post(reverse("notifications:read", args=[n.pk]), {"open": "1"})
    assert response["Location"] == reverse("notifications:centre")


def test_email_switch(lead):
    assert client_for(lead).post(reverse("notifications:email"), {"email_enabled": "0"}).status_code == 302
    assert services.email_enabled(lead) is False
    client_for(lead).post(reverse("notifications:email"), {"email_enabled": "1"})
    assert services.email_enabled(lead) is True


def test_api(lead, builder):
    (first,) = notify([lead])
    notify([lead], title="第二条")
    body = client_for(lead).get("/api/v1/notifications").json()
    assert body["count"] == 2 and body["items"][0]["title"] == "第二条"
    assert client_for(builder).get("/api/v1/notifications").json()["count"] == 0
    assert client_for(builder).post(f"/api/v1/notifications/{first.pk}/read").status_code == 404
    read = client_for(lead).post(f"/api/v1/notifications/{first.pk}/read").json()
    assert read["read_at"] is not None
    assert client_for(lead).get("/api/v1/notifications", {"unread": "true"}).json()["count"] == 1
    assert client_for(lead).get("/api/v1/notifications/unread-count").json() == {"unread": 1}
    assert client_for(lead).post("/api/v1/notifications/read-all").json()["marked"] == 1
    assert client_for().get("/api/v1/notifications").status_code == 401


def test_bell_costs_at_most_one_query(lead, django_assert_max_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    from reslib.notifications.context_processors import notifications

    notify([lead])
    request = RequestFactory().get("/")
    request.user = lead
    context = notifications(request)
    with django_assert_max_num_queries(1):
        assert Template("{{ n }}").render(Context({"n": context["notifications_unread"]})) == "1"
