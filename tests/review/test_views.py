"""Review pages: workbench queue and filters (fixed query count), the review page, decisions, levels settings,
submit / withdraw from the resource page, the resource page's review record."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reslib.resources.models import ResourceVersion
from reslib.review import services
from reslib.review.models import ReviewRequest

from .conftest import ALL_PASS, client_for, member, ready_resource, run_on_commit

pytestmark = pytest.mark.django_db

S = ReviewRequest.State


def submit(resource, by):
    return run_on_commit(services.submit_for_review, resource.latest_version, by=by, commitment_accepted=True)


def page(response) -> str:
    return response.content.decode()


def decision_data(request, decision="approve", comment="", passed=True):
    data = {"decision": decision, "comment": comment, "level": request.level_id}
    if passed:
        data.update({f"item-{code}": "pass" for code in ALL_PASS})
    return data


def test_workbench_lists_the_queue_for_reviewers_only(building, uploader, reviewer_a, outsider, host2_reviewer):
    request = submit(ready_resource(building, uploader, title="对刀讲义"), uploader)
    url = reverse("review:workbench")
    body = page(client_for(reviewer_a).get(url))
    assert "对刀讲义" in body and reverse("review:request", args=[request.pk]) in body
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
    # A reviewer outside this level's group sees an empty queue (and 404 on the request).
    assert "对刀讲义" not in page(client_for(host2_reviewer).get(url))
    assert client_for(host2_reviewer).get(reverse("review:request", args=[request.pk])).status_code == 404
    assert client_for(outsider).get(reverse("review:request", args=[request.pk])).status_code == 404


def test_workbench_filters(building, lead, uploader, reviewer_a, reviewer_b):
    first = submit(ready_resource(building, uploader, title="甲讲义"), uploader)
    submit(ready_resource(building, uploader, title="乙讲义"), uploader)
    run_on_commit(services.claim, ReviewRequest.objects.get(pk=first.pk), by=reviewer_a)
    client = client_for(reviewer_a)
    url = reverse("review:workbench")
    mine = page(client.get(url, {"who": "mine"}))
    assert "甲讲义" in mine and "乙讲义" not in mine
    unclaimed = page(client.get(url, {"who": "unclaimed"}))
    assert "乙讲义" in unclaimed and "甲讲义" not in unclaimed
    assert "甲讲义" not in page(client.get(url, {"level": "lead_host"}))
    assert "甲讲义" in page(client.get(url, {"library": building.pk, "state": "in_review"}))
    ReviewRequest.objects.filter(pk=first.pk).update(due_at="2020-01-01T00:00:00Z")
    overdue = page(client.get(url, {"overdue": "on"}))
    assert "甲讲义" in overdue and "乙讲义" not in overdue


def test_workbench_query_count_does_not_grow_with_the_queue(building, uploader, reviewer_a,
                                                              django_assert_max_num_queries):
    for i in range(2):
        submit(ready_resource(building, uploader, title=f"讲义{i}"), uploader)
    client = client_for(reviewer_a)
    url = reverse("review:workbench")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(2, 12):
        submit(ready_resource(building, uploader, title=f"讲义{i}"), uploader)
    with django_assert_max_num_queries(len(few)):
        body = page(client.get(url))
    assert "讲义11" in body


def test_review_page_shows_resource_beside_checklist_and_decides(building, uploader, reviewer_a, reviewer_b):
    resource = ready_resource(building, uploader, title="对刀讲义")
    request = submit(resource, uploader)
    request = ReviewRequest.objects.get(pk=request.pk)
    url = reverse("review:request", args=[request.pk])
    body = page(client_for(reviewer_a).get(url))
    assert "对刀讲义" in body and 'id="decision-form"' in body and "政治性" in body and "公益性" in body
    assert reverse("resources:stream", args=[resource.pk, resource.latest_version.files.get().pk]) in body
    assert 'accesskey="a"' in body and 'accesskey="r"' in body
    # Return without a comment: error beside the comment field, nothing decided.
    response = client_for(reviewer_a).post(reverse("review:decide", args=[request.pk]),
                                           decision_data(request, "return", passed=False))
    assert response.status_code == 400 and "field-error" in page(response)
    assert ReviewRequest.objects.get(pk=request.pk).state == S.PENDING
    # Approve with an unchecked item: the item's error is shown.
    data = decision_data(request)
    data.pop("item-licence")
    response = client_for(reviewer_a).post(reverse("review:decide", args=[request.pk]), data)
    assert response.status_code == 400 and "须为通过才能审核通过" in page(response)
    assert client_for(reviewer_a).post(reverse("review:decide", args=[request.pk]),
                                       decision_data(request)).status_code == 302
    request.refresh_from_db()
    assert request.level.kind == "lead_host"
    # The same reviewer sees why they cannot decide level 2; reviewer_b can.
    assert 'id="decision-form"' not in page(client_for(reviewer_a).get(url))
    response = client_for(reviewer_b).post(reverse("review:decide", args=[request.pk]),
                                           decision_data(request, "return", comment="请补充出处。", passed=False))
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.latest_version.state == ResourceVersion.State.DRAFT


def test_stale_form_is_a_conflict(building, uploader, reviewer_a, reviewer_b):
    request = ReviewRequest.objects.get(pk=submit(ready_resource(building, uploader), uploader).pk)
    stale = decision_data(request)
    assert client_for(reviewer_a).post(reverse("review:decide", args=[request.pk]), stale).status_code == 302
    response = client_for(reviewer_b).post(reverse("review:decide", args=[request.pk]), stale)
    assert response.status_code == 409 and ReviewRequest.objects.get(pk=request.pk).decisions.filter(
        reviewer=reviewer_b).count() == 0


def test_uploader_sees_state_and_comments_on_the_resource_page(building, uploader, reviewer_a, outsider):
    resource = ready_resource(building, uploader, access="public")
    request = submit(resource, uploader)
    run_on_commit(services.decide, ReviewRequest.objects.get(pk=request.pk), by=reviewer_a, decision="return",
                  checklist_results={"originality": {"passed": False, "comment": "改编未注明出处"}},
                  comment="请注明改编来源。")
    detail = reverse("resources:detail", args=[resource.pk])
    body = page(client_for(uploader).get(detail))
    assert 'id="review"' in body and "请注明改编来源。" in body and "改编未注明出处" in body
    assert "退回修改" in body
    # The public (resource not published) and outsiders see nothing of it.
    assert client_for(outsider).get(detail).status_code == 404


def test_resource_page_offers_the_review_only_to_who_may_decide(building, lead, uploader, reviewer_a):
    """The lead is in the first level's group but submitted this version, so the page does not send them to review
    what they would be refused."""
    resource = ready_resource(building, lead)
    submit(resource, lead)
    detail = reverse("resources:detail", args=[resource.pk])
    review_url = reverse("review:request", args=[ReviewRequest.objects.get().pk])
    assert review_url not in page(client_for(lead).get(detail))
    assert review_url in page(client_for(reviewer_a).get(detail))


def test_submit_and_withdraw_buttons(building, uploader, reviewer_a):
    resource = ready_resource(building, uploader)
    client = client_for(uploader)
    response = client.post(reverse("review:submit", args=[resource.pk]), {"commitment": "on"})
    assert response.status_code == 302
    request = ReviewRequest.objects.get()
    assert request.submitted_by == uploader and request.version == resource.latest_version
    body = page(client.get(reverse("resources:detail", args=[resource.pk])))
    assert reverse("review:withdraw", args=[resource.pk]) in body
    assert client_for(reviewer_a).post(reverse("review:withdraw", args=[resource.pk])).status_code == 403
    assert client.post(reverse("review:withdraw", args=[resource.pk])).status_code == 302
    assert ReviewRequest.objects.get().state == S.WITHDRAWN


def test_claim_and_assign_from_the_pages(building, lead, uploader, reviewer_a, reviewer_b):
    request = submit(ready_resource(building, uploader), uploader)
    response = client_for(reviewer_a).post(reverse("review:claim", args=[request.pk]), {"next": "queue"})
    assert response.status_code == 302
    assert ReviewRequest.objects.get(pk=request.pk).assignee == reviewer_a
    body = page(client_for(lead).get(reverse("review:request", args=[request.pk])))
    assert 'name="user"' in body
    assert client_for(reviewer_b).post(reverse("review:assign", args=[request.pk]),
                                       {"user": reviewer_b.pk}).status_code == 403
    assert client_for(lead).post(reverse("review:assign", args=[request.pk]),
                                 {"user": reviewer_b.pk}).status_code == 302
    assert ReviewRequest.objects.get(pk=request.pk).assignee == reviewer_b


def test_levels_settings_page(building, lead, reviewer_a, outsider):
    url = reverse("review:levels", args=[building.pk])
    assert client_for(outsider).get(url).status_code in (403, 404)
    assert client_for(reviewer_a).get(url).status_code == 403
    body = page(client_for(lead).get(url))
    assert "主持单位审核" in body and "平台抽审" in body
    data = {"contributor-enabled": "on", "contributor-group_mode": "explicit", "contributor-due_days": "3",
            "lead_host-group_mode": "rule", "lead_host-due_days": "0",
            "platform-group_mode": "rule", "platform-due_days": "2"}
    response = client_for(lead).post(url, data)
    assert response.status_code == 400 and "field-error" in page(response)
    data.update({"contributor-members": [str(reviewer_a.pk)], "lead_host-due_days": "5"})
    assert client_for(lead).post(url, data).status_code == 302
    levels = {lvl.kind: lvl for lvl in services.levels_for(building)}
    assert levels["lead_host"].enabled and levels["lead_host"].due_days == 5
    assert list(levels["contributor"].members.all()) == [reviewer_a] and not levels["platform"].enabled


# --- warnings when a level has nobody left to decide it -----------------------------------------------------------

SHARED = "能审核“主持单位审核”的人（用户reviewer_a）也都能审核前面的层级"
REMEDY = "请在资源库团队中再添加一名江苏信息职业技术学院的审核员，或在审核层级设置页为本级指定审核人。"


def test_levels_page_and_workbench_warn_the_lead_of_a_level_without_reviewers(building, lead, college):
    levels_url, workbench_url = reverse("review:levels", args=[building.pk]), reverse("review:workbench")
    body = page(client_for(lead).get(levels_url))
    assert "“主持单位审核”没有可以审核的人，审核申请会停在这一级。" + REMEDY in body
    reviewer = member(building, lead, "reviewer_a", college, "reviewer")
    # One reviewer of the lead host, who also reviews for the contributing institution: once they decide the first
    # level, nobody may decide the second.
    for url in (levels_url, workbench_url):
        body = page(client_for(lead).get(url))
        assert 'data-code="review.level_reviewers_shared"' in body and SHARED in body and REMEDY in body
    assert 'data-code="review.level' not in page(client_for(reviewer).get(workbench_url))
    assert client_for(reviewer).get(levels_url).status_code == 403
    member(building, lead, "reviewer_b", college, "reviewer")
    for url in (levels_url, workbench_url):
        assert 'data-code="review.level' not in page(client_for(lead).get(url))


def test_review_page_warns_when_nobody_may_decide_the_request(building, lead, uploader, reviewer_a, college):
    request = submit(ready_resource(building, uploader), uploader)
    run_on_commit(services.decide, ReviewRequest.objects.get(pk=request.pk), by=reviewer_a, decision="approve",
                  checklist_results=ALL_PASS)
    request = ReviewRequest.objects.get(pk=request.pk)
    url = reverse("review:request", args=[request.pk])
    body = page(client_for(lead).get(url))
    assert 'data-code="review.request_has_no_reviewer"' in body
    assert "此审核申请在“主持单位审核”无人可审" in body and REMEDY in body
    # The warning follows the decision's own rule: the only lead-host reviewer decided level 1 and is refused.
    response = client_for(reviewer_a).post(reverse("review:decide", args=[request.pk]), decision_data(request))
    assert response.status_code == 403 and ReviewRequest.objects.get(pk=request.pk).state == S.PENDING
    reviewer_b = member(building, lead, "reviewer_b", college, "reviewer")
    assert "review.request_has_no_reviewer" not in page(client_for(lead).get(url))
    assert client_for(reviewer_b).post(reverse("review:decide", args=[request.pk]),
                                       decision_data(request)).status_code == 302
    assert ReviewRequest.objects.get(pk=request.pk).state == S.APPROVED


def test_approved_request_is_labelled_approved_not_project_approval(building, lead, uploader, reviewer_a,
                                                                   reviewer_b):
    request = submit(ready_resource(building, uploader, title="对刀讲义"), uploader)
    for reviewer in (reviewer_a, reviewer_b):
        run_on_commit(services.decide, ReviewRequest.objects.get(pk=request.pk), by=reviewer, decision="approve",
                      checklist_results=ALL_PASS)
    assert ReviewRequest.objects.get(pk=request.pk).state == S.APPROVED
    body = page(client_for(lead).get(reverse("review:request", args=[request.pk])))
    assert '<span class="badge rv-state rv-state-approved">已通过</span>' in body
    assert '<strong>已通过</strong>' in body  # the decisions in the review record
    assert "已立项" not in body
    queue = page(client_for(lead).get(reverse("review:workbench"), {"scope": "all", "state": "closed"}))
    assert '<span class="badge rv-state rv-state-approved">已通过</span>' in queue and "已立项" not in queue
    # 已立项 stays the label of an approved library project.
    building.status = building.Status.APPROVED
    assert building.get_status_display() == "已立项"


def test_pages_say_not_scanned_with_the_reason_never_passed(building, uploader, reviewer_a, settings):
    settings.RESLIB_CLAMD_URL = ""  # no clamd: the file is stored "not_scanned"
    resource = ready_resource(building, uploader)
    detail = reverse("resources:detail", args=[resource.pk])
    body = page(client_for(uploader).get(detail))
    assert "未扫描</span> <span class=\"scan-reason\">本站未配置病毒扫描服务。</span>" in body
    assert "已扫描，无病毒" not in body
    request = submit(resource, uploader)
    review_page = page(client_for(reviewer_a).get(reverse("review:request", args=[request.pk])))
    assert 'name="item-virus_scan"' not in review_page  # no "pass" to give for what clamd never saw
    assert 'name="item-political"' in review_page
    assert "本站未配置病毒扫描服务。 此项无法判为通过" in review_page
    response = client_for(reviewer_a).post(reverse("review:decide", args=[request.pk]),
                                           decision_data(ReviewRequest.objects.get(pk=request.pk)))
    assert response.status_code == 302
    record = page(client_for(uploader).get(detail))
    assert "⚠ 病毒扫描：未扫描 — 本站未配置病毒扫描服务。" in record
    assert "⚠ 病毒扫描：未扫描 — “讲义.pdf”未扫描：本站未配置病毒扫描服务。" in record  # the machine's record
