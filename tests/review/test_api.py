"""Review API: the queue with filters, one request, claim / assign, decisions and their errors, submit and
withdraw, levels."""

import pytest

from reslib.review import services
from reslib.review.models import ReviewRequest

from .conftest import ALL_PASS, client_for, ready_resource, run_on_commit

pytestmark = pytest.mark.django_db

API = "/api/v1"
S = ReviewRequest.State


def send(client, method, url, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


def error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def submit(resource, by):
    return run_on_commit(services.submit_for_review, resource.latest_version, by=by, commitment_accepted=True)


def test_queue_and_detail(building, uploader, reviewer_a, outsider, host2_reviewer):
    request = submit(ready_resource(building, uploader, title="对刀讲义"), uploader)
    body = client_for(reviewer_a).get(f"{API}/review/requests").json()
    assert body["count"] == 1 and body["items"][0]["title"] == "对刀讲义"
    assert body["items"][0]["level"] == "contributor" and body["items"][0]["state"] == "pending"
    assert client_for(host2_reviewer).get(f"{API}/review/requests").json()["count"] == 0
    assert client_for(reviewer_a).get(f"{API}/review/requests", {"who": "mine"}).json()["count"] == 0
    assert client_for(reviewer_a).get(f"{API}/review/requests", {"level": "lead_host"}).json()["count"] == 0
    # The submitter sees their own request with scope=all, not in their to-do queue.
    assert client_for(uploader).get(f"{API}/review/requests").json()["count"] == 0
    assert client_for(uploader).get(f"{API}/review/requests", {"scope": "all"}).json()["count"] == 1
    detail = client_for(reviewer_a).get(f"{API}/review/requests/{request.pk}").json()
    assert detail["decisions"][0]["outcome"] == "machine_pass" and isinstance(detail["machine_hits"], list)
    error(client_for(outsider).get(f"{API}/review/requests/{request.pk}"), 404, "review.not_found")
    error(client_for().get(f"{API}/review/requests"), 401, "auth.required")


def test_decisions_through_the_api(building, uploader, reviewer_a, reviewer_b, host2_reviewer):
    resource = ready_resource(building, uploader)
    request = submit(resource, uploader)
    url = f"{API}/review/requests/{request.pk}/decision"
    e = error(send(client_for(reviewer_a), "post", url, {"decision": "return", "comment": ""}), 400,
              "review.comment_required")
    assert "comment" in e["fields"]
    e = error(send(client_for(reviewer_a), "post", url, {"decision": "approve", "checklist": {}}), 400,
              "review.checklist_incomplete")
    assert "checklist.political" in e["fields"]
    error(send(client_for(uploader), "post", url, {"decision": "approve", "checklist": ALL_PASS}), 403,
          "review.own_resource")
    # Outside every group of this request: the request is invisible (404), like a missing one.
    error(send(client_for(host2_reviewer), "post", url, {"decision": "approve", "checklist": ALL_PASS}), 404,
          "review.not_found")
    ok = send(client_for(reviewer_a), "post", url, {"decision": "approve", "checklist": ALL_PASS})
    assert ok.status_code == 200 and ok.json()["level"] == "lead_host" and ok.json()["state"] == "pending"
    ok = send(client_for(reviewer_b), "post", url, {"decision": "approve", "checklist": ALL_PASS, "comment": "好"})
    assert ok.json()["state"] == "approved"
    error(send(client_for(reviewer_b), "post", url, {"decision": "reject", "comment": "x"}), 409, "review.closed")
    resource.refresh_from_db()
    assert resource.published_version_id == request.version_id


def test_claim_assign_via_api(building, lead, uploader, reviewer_a, reviewer_b):
    request = submit(ready_resource(building, uploader), uploader)
    base = f"{API}/review/requests/{request.pk}"
    assert send(client_for(reviewer_a), "post", f"{base}/claim").json()["assignee"] == "reviewer_a"
    error(send(client_for(reviewer_b), "post", f"{base}/claim"), 409, "review.claimed_by_other")
    error(send(client_for(reviewer_b), "post", f"{base}/assign", {"user": reviewer_b.pk}), 403,
          "review.assign_denied")
    assert send(client_for(lead), "post", f"{base}/assign", {"user": reviewer_b.pk}).json()["assignee"] == "reviewer_b"
    assert send(client_for(reviewer_b), "post", f"{base}/release").json()["state"] == "pending"


def test_submit_and_withdraw_via_api(building, uploader, reviewer_a):
    resource = ready_resource(building, uploader)
    ok = send(client_for(uploader), "post", f"{API}/resources/{resource.pk}/submit", {"commitment_accepted": True})
    assert ok.status_code == 200 and ok.json()["state"] == "in_review"
    assert ReviewRequest.objects.get().state in (S.PENDING_MACHINE, S.PENDING)
    error(send(client_for(reviewer_a), "post", f"{API}/resources/{resource.pk}/withdraw", {}), 403,
          "review.withdraw_denied")
    ok = send(client_for(uploader), "post", f"{API}/resources/{resource.pk}/withdraw", {"reason": "补充"})
    assert ok.status_code == 200 and ok.json()["state"] == "draft"


def test_levels_via_api(building, lead, reviewer_a, outsider):
    url = f"{API}/review/libraries/{building.pk}/levels"
    levels = client_for(lead).get(url).json()
    assert [lvl["kind"] for lvl in levels["items"]] == ["contributor", "lead_host", "platform"]
    payload = {"levels": [{"kind": "lead_host", "enabled": False, "group_mode": "rule", "due_days": 3}]}
    error(send(client_for(lead), "put", url, payload), 400, "review.lead_host_required")
    error(send(client_for(reviewer_a), "put", url, payload), 403, "review.levels_denied")
    payload = {"levels": [{"kind": "platform", "enabled": True, "group_mode": "rule", "due_days": 2}]}
    body = send(client_for(lead), "put", url, payload).json()
    assert body["items"][2]["enabled"] is True
