"""Review API: the queue with filters, one request, claim / assign, decisions and their errors, submit and
withdraw, levels."""

import pytest

from reslib.review import services
from reslib.review.models import ReviewRequest

from .conftest import ALL_PASS, client_for, member, ready_resource, run_on_commit

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


def test_api_warns_when_a_level_has_nobody_to_decide(building, lead, uploader, reviewer_a, outsider, college):
    levels_url = f"{API}/review/libraries/{building.pk}/levels"
    warnings = client_for(lead).get(levels_url).json()["warnings"]
    assert [(w["code"], w["level"]) for w in warnings] == [("review.level_reviewers_shared", "lead_host")]
    assert "主持单位审核" in warnings[0]["message"] and "江苏信息职业技术学院" in warnings[0]["message"]
    # Not the lead: no warnings (they name reviewers), nor the named reviewers' ids for someone outside the library.
    assert client_for(reviewer_a).get(levels_url).json()["warnings"] == []
    services.update_levels(building, [services.LevelSettings("contributor", True, "explicit", [reviewer_a.pk], 3)],
                           by=lead)
    assert client_for(reviewer_a).get(levels_url).json()["items"][0]["members"] == [reviewer_a.pk]
    assert client_for(outsider).get(levels_url).json()["items"][0]["members"] == []

    request = submit(ready_resource(building, uploader), uploader)
    url = f"{API}/review/requests/{request.pk}"
    assert send(client_for(reviewer_a), "post", f"{url}/decision",
                {"decision": "approve", "checklist": ALL_PASS}).status_code == 200
    detail = client_for(lead).get(url).json()
    assert detail["level"] == "lead_host"
    assert [(w["code"], w["level"]) for w in detail["warnings"]] == [("review.request_has_no_reviewer", "lead_host")]
    assert "此审核申请在“主持单位审核”无人可审" in detail["warnings"][0]["message"]
    error(send(client_for(reviewer_a), "post", f"{url}/decision", {"decision": "approve", "checklist": ALL_PASS}),
          403, "review.already_decided")
    error(client_for(outsider).get(url), 404, "review.not_found")
    member(building, lead, "reviewer_b", college, "reviewer")
    assert client_for(lead).get(url).json()["warnings"] == []


def _virus_scan_items(detail: dict) -> list[dict]:
    return [item for d in detail["decisions"] for item in d["checklist"] if item["item"] == "virus_scan"]


def test_an_unscanned_file_is_never_a_passed_virus_scan(building, uploader, reviewer_a, settings):
    settings.RESLIB_CLAMD_URL = ""  # no clamd: the file is stored "not_scanned"
    resource = ready_resource(building, uploader)
    files = client_for(uploader).get(f"{API}/resources/{resource.pk}").json()["files"]
    assert [(f["scan_status"], f["scan_reason"]) for f in files] == [("not_scanned", "本站未配置病毒扫描服务。")]
    request = submit(resource, uploader)
    # The reviewer ticks every item, virus scan included: nobody can vouch for a file clamd never saw.
    response = send(client_for(reviewer_a), "post", f"{API}/review/requests/{request.pk}/decision",
                    {"decision": "approve", "checklist": ALL_PASS})
    assert response.status_code == 200, response.content
    detail = client_for(reviewer_a).get(f"{API}/review/requests/{request.pk}").json()
    assert [d["outcome"] for d in detail["decisions"]] == ["machine_pass", "approve"]
    items = _virus_scan_items(detail)
    assert [(i["passed"], i["status"]) for i in items] == [(None, "not_scanned"), (None, "not_scanned")]
    assert "本站未配置病毒扫描服务" in items[0]["reason"] and items[1]["reason"] == "本站未配置病毒扫描服务。"


def test_a_failed_scan_is_not_scanned_and_a_clean_one_must_be_passed(building, uploader, reviewer_a, settings):
    from reslib.resources.models import Blob

    settings.RESLIB_CLAMD_URL = ""
    unreachable = ready_resource(building, uploader, title="扫描失败的讲义")
    Blob.objects.filter(version_files__version=unreachable.latest_version).update(
        scan_status=Blob.ScanStatus.ERROR, scan_detail="clamd at tcp://127.0.0.1:3310 unreachable: Connection refused")
    files = client_for(uploader).get(f"{API}/resources/{unreachable.pk}").json()["files"]
    assert [(f["scan_status"], f["scan_reason"]) for f in files] == [("error", "无法连接病毒扫描服务。")]
    request = submit(unreachable, uploader)
    detail = client_for(reviewer_a).get(f"{API}/review/requests/{request.pk}").json()
    assert [(i["passed"], i["status"]) for i in _virus_scan_items(detail)] == [(None, "not_scanned")]

    clean = ready_resource(building, uploader, title="已扫描的讲义")
    Blob.objects.filter(version_files__version=clean.latest_version).update(scan_status=Blob.ScanStatus.CLEAN)
    request = submit(clean, uploader)
    url = f"{API}/review/requests/{request.pk}/decision"
    without_scan = {code: value for code, value in ALL_PASS.items() if code != "virus_scan"}
    e = error(send(client_for(reviewer_a), "post", url, {"decision": "approve", "checklist": without_scan}), 400,
              "review.checklist_incomplete")
    assert list(e["fields"]) == ["checklist.virus_scan"]
    assert send(client_for(reviewer_a), "post", url, {"decision": "approve", "checklist": ALL_PASS}).status_code == 200
    detail = client_for(reviewer_a).get(f"{API}/review/requests/{request.pk}").json()
    assert [i["passed"] for i in _virus_scan_items(detail)] == [True, True]
