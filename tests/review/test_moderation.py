"""Moderation services and visibility: restrict / block / restore, withdrawal, tombstone, every file route,
the API, and refusals."""

import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import TestCase
from django.urls import reverse

from reslib.core.errors import Conflict, IllegalTransition, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.accounts import services as account_services
from reslib.notifications.models import Notification
from reslib.resources import policies
from reslib.review import moderation

from .. import factories
from .moderation_support import (  # noqa: F401  (fixtures)
    attach,
    building,
    client_for,
    done_derived,
    file_resource,
    isolated_storage,
    member_builder,
    publish,
    reviewer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_storage")]

SRT = "1\n00:00:00,000 --> 00:00:01,000\n大家好\n".encode()


@pytest.fixture
def published(building, lead, reviewer):
    resource = file_resource(building, lead, title="数控车床对刀")
    attach(resource, lead, SRT, "字幕.srt")
    return publish(resource, lead, reviewer)


def act(resource, action, by, category="illegal", reason="含有违规内容"):
    return moderation.moderate(resource, action, by=by, reason_category=category, reason=reason)


# --- services -----------------------------------------------------------------------------------------------------

def test_block_restrict_restore_with_audit_and_notification(published, operator, lead):
    act(published, "block", operator, reason="含有违法信息")
    published.refresh_from_db()
    assert published.moderation_state == "blocked"
    assert published.moderation_reason_category == "illegal" and published.moderated_by == operator
    entry = AuditEntry.objects.filter(action="moderation.block").get()
    assert entry.actor == operator and entry.reason == "含有违法信息"
    assert entry.before["moderation_state"] == "normal" and entry.after["moderation_state"] == "blocked"
    act(published, "restrict", operator, category="infringement", reason="权利人投诉")
    act(published, "restore", operator, category="other", reason="核实后恢复")
    published.refresh_from_db()
    assert published.moderation_state == "normal"
    assert list(AuditEntry.objects.filter(action__startswith="moderation.").order_by("id")
                .values_list("action", flat=True)) == ["moderation.block", "moderation.restrict",
                                                       "moderation.restore"]
    kinds = list(Notification.objects.filter(user=lead).order_by("id").values_list("kind", flat=True))
    assert [k for k in kinds if k in ("blocked", "restricted", "restored")] == ["blocked", "restricted", "restored"]


def test_withdraw_and_block_reindex_the_resource_after_commit(published, operator, lead, monkeypatch):
    from reslib.resources import tasks

    reindexed = []
    monkeypatch.setattr(tasks, "reindex_resource", SimpleNamespace(enqueue=reindexed.append))
    with TestCase.captureOnCommitCallbacks() as callbacks:
        moderation.withdraw(published, by=lead, reason="内容过时")
        act(published, "block", operator)
    assert reindexed == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert reindexed == [published.pk, published.pk]


def test_moderation_needs_an_operator_a_category_and_a_reason(published, operator, lead, outsider):
    for user in (lead, outsider, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            act(published, "block", user)
    with pytest.raises(ValidationFailed) as exc:
        moderation.moderate(published, "block", by=operator, reason_category="", reason=" ")
    assert {f for f, _c, _m in exc.value.errors} == {"reason_category", "reason"}
    with pytest.raises(IllegalTransition):
        act(published, "restore", operator)
    published.refresh_from_db()
    assert published.moderation_state == "normal"
    assert not AuditEntry.objects.filter(action__startswith="moderation.").exists()


def test_withdraw_and_reinstate_by_the_library(published, lead, member_builder, reviewer, operator, outsider):
    for user in (reviewer, operator, outsider):
        with pytest.raises(PermissionDenied):
            moderation.withdraw(published, by=user, reason="过时")
    with pytest.raises(ValidationFailed):
        moderation.withdraw(published, by=member_builder, reason="")
    moderation.withdraw(published, by=member_builder, reason="内容过时，准备更新")
    published.refresh_from_db()
    assert published.withdrawn_at is not None and published.withdrawn_by == member_builder
    with pytest.raises(Conflict):
        moderation.withdraw(published, by=lead, reason="再次")
    assert not policies.can_view(AnonymousUser(), published)
    assert policies.can_view(member_builder, published) and policies.can_view(reviewer, published)
    moderation.reinstate(published, by=lead)
    published.refresh_from_db()
    assert published.withdrawn_at is None and policies.can_view(AnonymousUser(), published)
    assert list(AuditEntry.objects.filter(action__in=["moderation.withdraw", "moderation.reinstate"])
                .order_by("id").values_list("action", flat=True)) == ["moderation.withdraw", "moderation.reinstate"]


def test_only_published_resources_can_be_withdrawn(building, lead):
    draft = factories.resource(building, lead)
    with pytest.raises(ValidationFailed):
        moderation.withdraw(draft, by=lead, reason="不需要")


# --- visibility matrix --------------------------------------------------------------------------------------------

def _users(lead, member_builder, outsider, operator):
    return {"anonymous": None, "outsider": outsider, "member": member_builder, "lead": lead, "operator": operator}


# who sees the page (200) in each state; everybody else gets the tombstone (410) or a 404 (restricted)
PAGE = {
    "normal": {"anonymous", "outsider", "member", "lead", "operator"},
    "restricted": {"member", "lead", "operator"},
    "blocked": {"lead", "operator"},
    "withdrawn": {"member", "lead", "operator"},
}
# who gets the file bytes (download and stream)
FILES = {
    "normal": {"anonymous", "outsider", "member", "lead", "operator"},
    "restricted": {"member", "lead", "operator"},
    "blocked": {"operator"},
    "withdrawn": {"member", "lead", "operator"},
}


def _put_in_state(resource, state, operator, lead):
    if state in ("restricted", "blocked"):
        act(resource, "restrict" if state == "restricted" else "block", operator)
    elif state == "withdrawn":
        moderation.withdraw(resource, by=lead, reason="内容过时")
    resource.refresh_from_db()


@pytest.mark.parametrize("state", ["normal", "restricted", "blocked", "withdrawn"])
def test_page_api_and_every_file_route_by_state(state, published, lead, member_builder, outsider, operator):
    _put_in_state(published, state, operator, lead)
    version = published.published_version
    main = version.files.get(role="main")
    subtitle = version.files.get(role="attachment")
    done_derived(main)
    routes = {
        "download": reverse("resources:download", args=[published.pk, main.pk]),
        "stream": reverse("resources:stream", args=[published.pk, main.pk]),
        "derived": reverse("resources:derived", args=[published.pk, main.pk, "thumbnail"]),
        "subtitles": reverse("resources:subtitles", args=[published.pk, subtitle.pk]),
    }
    for name, user in _users(lead, member_builder, outsider, operator).items():
        client = client_for(user)
        page = client.get(reverse("resources:detail", args=[published.pk]))
        api = client.get(f"/api/v1/resources/{published.pk}")
        if name in PAGE[state]:
            assert page.status_code == 200, (state, name)
            assert api.status_code == 200, (state, name)
        else:
            assert page.status_code == (404 if state == "restricted" else 410), (state, name)
            assert api.status_code == 404, (state, name)
        for route, url in routes.items():
            response = client.get(url)
            if name in FILES[state]:
                assert response.status_code in (200, 206), (state, name, route, response.status_code)
            else:
                assert response.status_code in (403, 404), (state, name, route, response.status_code)
                assert b"%PDF" not in b"".join(getattr(response, "streaming_content", [response.content]))
        # visible_resources and can_view / can_download agree with the pages
        assert policies.can_view(user or AnonymousUser(), published) == (name in PAGE[state])
        assert policies.can_download(user or AnonymousUser(), published) == (name in FILES[state])


def test_blocked_files_refused_to_the_lead_even_on_unpublished_versions(published, lead, operator):
    from reslib.resources import services

    services.start_new_version(published, by=lead)
    act(published, "block", operator)
    published.refresh_from_db()
    draft_file = published.latest_version.files.get(role="main")
    response = client_for(lead).get(reverse("resources:download", args=[published.pk, draft_file.pk]))
    assert response.status_code == 403


def test_tombstone_shows_title_reason_category_and_date(published, operator, lead):
    act(published, "block", operator, category="infringement", reason="权利人投诉：未经授权转载")
    published.refresh_from_db()
    response = client_for(None).get(reverse("resources:detail", args=[published.pk]))
    assert response.status_code == 410
    html = response.content.decode()
    assert "数控车床对刀" in html and "侵权" in html
    assert published.moderated_at.astimezone().strftime("%Y-%m-%d") in html
    assert "权利人投诉" not in html  # the reason text is for the library, not the public
    assert "字幕.srt" not in html and "download" not in html


def test_tombstone_for_withdrawn_and_404_for_drafts(published, building, lead):
    moderation.withdraw(published, by=lead, reason="内容过时")
    html = client_for(None).get(reverse("resources:detail", args=[published.pk])).content.decode()
    assert "数控车床对刀" in html and "资源库已将其下架" in html
    draft = factories.resource(building, lead, title="草稿资源")
    assert client_for(None).get(reverse("resources:detail", args=[draft.pk])).status_code == 404
    assert client_for(None).get(reverse("resources:detail", args=[999999])).status_code == 404


def test_lead_sees_a_banner_on_the_blocked_page(published, operator, lead):
    act(published, "block", operator, reason="需要整改")
    html = client_for(lead).get(reverse("resources:detail", args=[published.pk])).content.decode()
    assert "已被平台阻断" in html and "需要整改" in html


def test_restricted_and_blocked_leave_lists(published, operator, outsider, building):
    act(published, "restrict", operator)
    assert not policies.visible_resources(outsider).filter(pk=published.pk).exists()
    response = client_for(outsider).get(reverse("resources:list", args=[building.pk]))
    assert "数控车床对刀" not in response.content.decode()


# --- API ----------------------------------------------------------------------------------------------------------

def api_post(client, url, data, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def test_api_moderation_endpoint(published, operator, lead, outsider):
    from django.test import Client

    url = f"/api/v1/resources/{published.pk}/moderation"
    body = {"action": "block", "reason_category": "security", "reason": "含恶意链接"}
    _t, lead_token = account_services.create_api_token(lead, name="lead")
    _t, outsider_token = account_services.create_api_token(outsider, name="x")
    _t, operator_token = account_services.create_api_token(operator, name="op")
    assert api_post(Client(), url, body).status_code == 401
    refused = api_post(Client(), url, body, lead_token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "moderation.denied"
    assert api_post(Client(), url, body, outsider_token).status_code == 403
    missing = api_post(Client(), url, {**body, "reason": ""}, operator_token)
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["fields"]
    done = api_post(Client(), url, body, operator_token)
    assert done.status_code == 200 and done.json()["moderation_state"] == "blocked"
    # now invisible to the outsider: 404, not 403
    assert api_post(Client(), url, {**body, "action": "restore"}, outsider_token).status_code == 404
    again = api_post(Client(), url, body, operator_token)
    assert again.status_code == 409
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {lead_token}").json()["moderation_state"] == "blocked"


def test_api_withdrawal(published, lead, outsider):
    from django.test import Client

    _t, lead_token = account_services.create_api_token(lead, name="lead")
    _t, outsider_token = account_services.create_api_token(outsider, name="x")
    url = f"/api/v1/resources/{published.pk}/withdrawal"
    assert api_post(Client(), url, {"action": "withdraw", "reason": "过时"}, outsider_token).status_code == 403
    done = api_post(Client(), url, {"action": "withdraw", "reason": "过时"}, lead_token)
    assert done.status_code == 200 and done.json()["withdrawn"] is True
    assert api_post(Client(), url, {"action": "reinstate"}, lead_token).json()["withdrawn"] is False
