"""The review workflow's services: levels, submission, machine pre-review, decisions at each level, refusals."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from reslib.core.errors import Conflict, IllegalTransition, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.notifications.models import Notification
from reslib.resources.models import ResourceVersion
from reslib.review import services
from reslib.review.models import ReviewDecision, ReviewLevel, ReviewRequest

from .. import factories
from .conftest import ALL_PASS, ready_resource, run_on_commit

pytestmark = pytest.mark.django_db

S = ReviewRequest.State
VS = ResourceVersion.State


def submit(resource, by):
    return run_on_commit(services.submit_for_review, resource.latest_version, by=by, commitment_accepted=True)


def fresh(request):
    return ReviewRequest.objects.get(pk=request.pk)


def decide(request, by, decision="approve", **kwargs):
    kwargs.setdefault("checklist_results", ALL_PASS if decision == "approve" else {})
    kwargs.setdefault("comment", "" if decision == "approve" else "请补充出处。")
    return run_on_commit(services.decide, fresh(request), by=by, decision=decision, **kwargs)


def enable_platform(library, lead):
    services.update_levels(library, [
        services.LevelSettings("contributor", True, "rule", [], 3),
        services.LevelSettings("lead_host", True, "rule", [], 3),
        services.LevelSettings("platform", True, "rule", [], 2),
    ], by=lead)


# --- levels -------------------------------------------------------------------------------------------------------

def test_default_levels_are_three_with_the_platform_check_off(building):
    levels = services.levels_for(building)
    assert [(lvl.kind, lvl.position, lvl.enabled) for lvl in levels] == [
        ("contributor", 1, True), ("lead_host", 2, True), ("platform", 3, False)]
    assert services.levels_for(building) == levels  # created once


def test_lead_edits_levels_with_validation(building, lead, reviewer_a, uploader, operator, outsider):
    with pytest.raises(PermissionDenied):
        services.update_levels(building, [], by=outsider)
    with pytest.raises(ValidationFailed) as exc:
        services.update_levels(building, [
            services.LevelSettings("lead_host", False, "rule", [], 3),
            services.LevelSettings("contributor", True, "explicit", [uploader.pk], 0),
            services.LevelSettings("platform", True, "explicit", [reviewer_a.pk], 3),
        ], by=lead)
    fields = exc.value.fields
    assert set(fields) == {"lead_host-enabled", "contributor-members", "contributor-due_days", "platform-members"}
    services.update_levels(building, [
        services.LevelSettings("contributor", True, "explicit", [reviewer_a.pk, operator.pk], 5),
        services.LevelSettings("platform", True, "explicit", [operator.pk], 2),
    ], by=lead)
    levels = {lvl.kind: lvl for lvl in services.levels_for(building)}
    assert set(levels["contributor"].members.all()) == {reviewer_a, operator}
    assert levels["contributor"].due_days == 5 and levels["platform"].enabled
    assert AuditEntry.objects.filter(action="review.levels_update").count() == 1


# --- the flow -----------------------------------------------------------------------------------------------------

def test_three_level_flow_publishes_with_every_decision_kept(building, lead, uploader, reviewer_a, reviewer_b,
                                                             operator):
    enable_platform(building, lead)
    resource = ready_resource(building, uploader)
    request = submit(resource, uploader)
    request = fresh(request)
    # The machine pre-review ran after commit and found nothing blocking.
    assert request.state == S.PENDING and request.level.kind == "contributor"
    assert request.machine_checked_at is not None and request.due_at > timezone.now()
    resource.refresh_from_db()
    assert resource.latest_version.state == VS.IN_REVIEW
    # Level 1 reviewers were told (the lead and reviewers of the contributing institution, not the uploader).
    told = set(Notification.objects.filter(kind="submitted").values_list("user__username", flat=True))
    assert told == {"lead", "reviewer_a", "reviewer_b"}

    decide(request, reviewer_a)
    request = fresh(request)
    assert request.state == S.PENDING and request.level.kind == "lead_host"
    resource.refresh_from_db()
    assert resource.published_version_id is None

    decide(request, reviewer_b)
    request = fresh(request)
    assert request.state == S.PENDING and request.level.kind == "platform"

    decide(request, operator)
    request = fresh(request)
    resource.refresh_from_db()
    assert request.state == S.APPROVED and request.closed_at is not None
    assert resource.published_version_id == request.version_id
    outcomes = list(request.decisions.values_list("outcome", "reviewer__username", "level_name"))
    assert [o[:2] for o in outcomes] == [("machine_pass", None), ("approve", "reviewer_a"), ("approve", "reviewer_b"),
                                         ("approve", "operator")]
    assert Notification.objects.filter(user=uploader, kind="approved").count() == 1
    assert any("uploader@example.com" in m.to for m in mail.outbox)
    assert AuditEntry.objects.filter(action="review.approve", target_id=str(request.pk)).exists()


def test_lead_host_approval_publishes_when_the_platform_check_is_off(building, uploader, reviewer_a, reviewer_b):
    resource = ready_resource(building, uploader)
    request = submit(resource, uploader)
    decide(request, reviewer_a)
    decide(request, reviewer_b)
    resource.refresh_from_db()
    assert fresh(request).state == S.APPROVED and resource.published_version is not None
    assert resource.published_version.state == VS.PUBLISHED


def test_return_then_corrected_version_starts_a_linked_request(building, uploader, reviewer_a):
    resource = ready_resource(building, uploader)
    first = submit(resource, uploader)
    failing = dict(ALL_PASS, originality={"passed": False, "comment": "改编未注明出处"})
    decide(first, reviewer_a, "return", checklist_results=failing, comment="请注明改编来源。")
    first = fresh(first)
    resource.refresh_from_db()
    assert first.state == S.RETURNED and resource.latest_version.state == VS.DRAFT
    decision = first.decisions.get(outcome="return")
    assert decision.comment == "请注明改编来源。"
    assert [i["item"] for i in decision.failed_items] == ["originality"]
    assert Notification.objects.get(user=uploader, kind="returned").body == "请注明改编来源。"

    second = submit(resource, uploader)
    assert second.previous_id == first.pk and fresh(second).state == S.PENDING
    assert first.next == second


def test_reject_needs_a_comment_and_closes(building, uploader, reviewer_a):
    resource = ready_resource(building, uploader)
    request = submit(resource, uploader)
    with pytest.raises(ValidationFailed) as exc:
        decide(request, reviewer_a, "reject", comment="  ")
    assert exc.value.code == "review.comment_required" and "comment" in exc.value.fields
    decide(request, reviewer_a, "reject", comment="内容与专业无关。")
    resource.refresh_from_db()
    assert fresh(request).state == S.REJECTED and resource.latest_version.state == VS.REJECTED
    assert Notification.objects.filter(user=uploader, kind="rejected").exists()


def test_return_without_comment_is_refused_and_nothing_is_written(building, uploader, reviewer_a):
    request = submit(ready_resource(building, uploader), uploader)
    before = ReviewDecision.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        decide(request, reviewer_a, "return", comment="")
    assert exc.value.code == "review.comment_required"
    assert ReviewDecision.objects.count() == before and fresh(request).state == S.PENDING


def test_approve_needs_every_item_to_pass(building, uploader, reviewer_a):
    request = submit(ready_resource(building, uploader), uploader)
    partial = dict(ALL_PASS)
    partial.pop("licence")
    partial["political"] = {"passed": False, "comment": ""}
    with pytest.raises(ValidationFailed) as exc:
        decide(request, reviewer_a, checklist_results=partial)
    assert set(exc.value.fields) == {"checklist.licence", "checklist.political"}
    with pytest.raises(ValidationFailed):
        decide(request, reviewer_a, checklist_results={"nonsense": True})
    with pytest.raises(ValidationFailed) as exc:
        decide(request, reviewer_a, "publish")
    assert exc.value.code == "review.decision_invalid"


# --- refusals -----------------------------------------------------------------------------------------------------

def test_nobody_reviews_what_they_uploaded_or_authored(building, lead, uploader, reviewer_a, reviewer_b):
    resource = ready_resource(building, lead)  # the lead uploads: the lead is in level 1's group but conflicted
    request = submit(resource, lead)
    with pytest.raises(PermissionDenied) as exc:
        decide(request, lead)
    assert exc.value.code == "review.own_resource"

    # A credited author (VersionAuthor.user) is refused too.
    authored = ready_resource(building, uploader, title="另一份讲义", authors=[
        services.resource_services.Author(name="李审核", user_id=reviewer_a.pk)])
    other = submit(authored, uploader)
    with pytest.raises(PermissionDenied) as exc:
        decide(other, reviewer_a)
    assert exc.value.code == "review.own_resource"
    with pytest.raises(PermissionDenied):
        run_on_commit(services.claim, fresh(other), by=reviewer_a)
    decide(other, reviewer_b)  # someone else can


def test_reviewer_outside_the_group_and_of_another_library_is_refused(building, uploader, host2_reviewer,
                                                                      other_library_reviewer, reviewer_a, outsider,
                                                                      operator):
    request = submit(ready_resource(building, uploader), uploader)
    for user in (host2_reviewer, other_library_reviewer, outsider, operator):
        with pytest.raises(PermissionDenied) as exc:
            decide(request, user)
        assert exc.value.code == "review.not_in_group"
    decide(request, reviewer_a)
    # Level 2 (lead host): the second host's reviewer is still outside; so is the level-1 reviewer (four eyes).
    with pytest.raises(PermissionDenied) as exc:
        decide(request, host2_reviewer)
    assert exc.value.code == "review.not_in_group"
    with pytest.raises(PermissionDenied) as exc:
        decide(request, reviewer_a)
    assert exc.value.code == "review.already_decided"


def test_closed_request_and_stale_level_are_conflicts(building, uploader, reviewer_a, reviewer_b):
    request = submit(ready_resource(building, uploader), uploader)
    level1 = fresh(request).level_id
    decide(request, reviewer_a, level_id=level1)
    with pytest.raises(Conflict) as exc:
        decide(request, reviewer_b, level_id=level1)  # b still looked at level 1
    assert exc.value.code == "review.level_changed"
    decide(request, reviewer_b, "reject", comment="不予收录。")
    with pytest.raises(Conflict) as exc:
        decide(request, reviewer_a, "approve")
    assert exc.value.code == "review.closed"
    with pytest.raises(Conflict):
        run_on_commit(services.claim, fresh(request), by=reviewer_b)


def test_claim_assign_release(building, lead, uploader, reviewer_a, reviewer_b, host2_reviewer, outsider):
    request = submit(ready_resource(building, uploader), uploader)
    run_on_commit(services.claim, fresh(request), by=reviewer_a)
    assert fresh(request).state == S.IN_REVIEW and fresh(request).assignee == reviewer_a
    with pytest.raises(Conflict) as exc:
        run_on_commit(services.claim, fresh(request), by=reviewer_b)
    assert exc.value.code == "review.claimed_by_other"
    with pytest.raises(Conflict):
        decide(request, reviewer_b)
    # Only the lead (or an operator) assigns, and only to someone in the group and not conflicted.
    with pytest.raises(PermissionDenied):
        run_on_commit(services.assign, fresh(request), by=reviewer_a, to=reviewer_b)
    with pytest.raises(ValidationFailed) as exc:
        run_on_commit(services.assign, fresh(request), by=lead, to=host2_reviewer)
    assert exc.value.code == "review.not_in_group"
    with pytest.raises(ValidationFailed) as exc:
        run_on_commit(services.assign, fresh(request), by=lead, to=uploader)
    assert exc.value.code == "review.own_resource"
    run_on_commit(services.assign, fresh(request), by=lead, to=reviewer_b)
    assert fresh(request).assignee == reviewer_b
    assert Notification.objects.filter(user=reviewer_b, kind="assigned").exists()
    with pytest.raises(PermissionDenied):
        run_on_commit(services.release, fresh(request), by=outsider)
    run_on_commit(services.release, fresh(request), by=reviewer_b)
    assert fresh(request).state == S.PENDING and fresh(request).assignee is None


def test_withdraw_by_the_submitter_only(building, uploader, reviewer_a):
    resource = ready_resource(building, uploader)
    request = submit(resource, uploader)
    with pytest.raises(PermissionDenied):
        services.withdraw(fresh(request), by=reviewer_a)
    services.withdraw(fresh(request), by=uploader, reason="发现错别字")
    resource.refresh_from_db()
    assert fresh(request).state == S.WITHDRAWN and resource.latest_version.state == VS.DRAFT
    with pytest.raises(Conflict):
        services.withdraw(fresh(request), by=uploader)


def test_open_request_blocks_a_second_submission(building, uploader):
    resource = ready_resource(building, uploader)
    submit(resource, uploader)
    with pytest.raises(IllegalTransition):
        submit(resource, uploader)
    assert ReviewRequest.objects.count() == 1


def test_submission_errors_leave_nothing(building, uploader):
    resource = factories.resource(building, uploader)  # no main file
    with pytest.raises(ValidationFailed) as exc:
        services.submit_for_review(resource.latest_version, by=uploader, commitment_accepted=False)
    assert {"commitment", "file"} <= set(exc.value.fields)
    assert not ReviewRequest.objects.exists()


# --- machine pre-review -------------------------------------------------------------------------------------------

def test_blocking_machine_hit_returns_the_version_with_the_hits_as_comment(building, uploader, monkeypatch):
    hits = [{"kind": "sensitive_word", "level": "block", "field": "title", "match": "赌博", "context": "……网络赌博……"},
            {"kind": "duplicate", "level": "flag", "field": "file", "match": "abc", "context": "同库资源 #3"}]
    monkeypatch.setattr(services, "compute_hits", lambda version: hits)
    resource = ready_resource(building, uploader)
    request = fresh(submit(resource, uploader))
    resource.refresh_from_db()
    assert request.state == S.RETURNED and resource.latest_version.state == VS.DRAFT
    assert request.machine_hits == hits and len(request.blocking_hits) == 1
    decision = request.decisions.get()
    assert decision.outcome == "machine_return" and decision.reviewer is None and "赌博" in decision.comment
    assert [i["item"] for i in decision.failed_items] == ["sensitive_words"]
    assert Notification.objects.get(user=uploader, kind="returned")
    assert AuditEntry.objects.filter(action="resource.machine_return").exists()
    # The corrected version links to the machine-returned request.
    monkeypatch.setattr(services, "compute_hits", lambda version: [])
    again = submit(resource, uploader)
    assert again.previous_id == request.pk and fresh(again).state == S.PENDING


def test_machine_prereview_task_is_idempotent(building, uploader):
    request = submit(ready_resource(building, uploader), uploader)
    assert services.run_machine_prereview(request.pk) == "skipped"
    assert fresh(request).decisions.filter(outcome="machine_pass").count() == 1


def test_flag_hits_are_kept_for_the_reviewers(building, uploader, monkeypatch):
    hits = [{"kind": "sensitive_word", "level": "flag", "field": "description", "match": "最好",
             "context": "全国最好的课程"}]
    monkeypatch.setattr(services, "compute_hits", lambda version: hits)
    request = fresh(submit(ready_resource(building, uploader), uploader))
    assert request.state == S.PENDING and request.machine_hits == hits


# --- decisions are kept for good, overdue ---------------------------------------------------------------------------

def test_decisions_cannot_be_changed_or_deleted(building, uploader, reviewer_a):
    from django.core.exceptions import PermissionDenied as DjangoDenied

    request = submit(ready_resource(building, uploader), uploader)
    decide(request, reviewer_a)
    decision = ReviewDecision.objects.filter(outcome="approve").get()
    decision.comment = "改写"
    with pytest.raises(DjangoDenied):
        decision.save()
    with pytest.raises(DjangoDenied):
        decision.delete()
    with pytest.raises(DjangoDenied):
        ReviewDecision.objects.all().update(comment="x")
    with pytest.raises(DjangoDenied):
        ReviewDecision.objects.all().delete()


def test_overdue_requests_are_notified_once(building, lead, uploader, reviewer_a):
    request = submit(ready_resource(building, uploader), uploader)
    later = timezone.now() + datetime.timedelta(days=4)
    assert run_on_commit(services.notify_overdue, later) == 1
    assert run_on_commit(services.notify_overdue, later) == 0
    told = set(Notification.objects.filter(kind="overdue").values_list("user__username", flat=True))
    assert {"lead", "reviewer_a"} <= told and "uploader" not in told
    assert fresh(request).overdue_notified_at is not None
    # Advancing to the next level resets the due date and the mark.
    decide(request, reviewer_a)
    assert fresh(request).overdue_notified_at is None


def test_overdue_command(building, uploader, capsys):
    from django.core.management import call_command

    request = submit(ready_resource(building, uploader), uploader)
    ReviewRequest.objects.filter(pk=request.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    call_command("review_overdue")
    assert "1 overdue" in capsys.readouterr().out


def test_level_group_named_reviewers(building, lead, uploader, reviewer_a, reviewer_b):
    services.update_levels(building, [services.LevelSettings("contributor", True, "explicit", [reviewer_b.pk], 3)],
                           by=lead)
    request = submit(ready_resource(building, uploader), uploader)
    with pytest.raises(PermissionDenied):
        decide(request, reviewer_a)
    decide(request, reviewer_b)
    assert fresh(request).level.kind == ReviewLevel.Kind.LEAD_HOST
