"""The review workflow: every state change of a review request in one function, in a transaction, audited.

    submit_for_review ─▶ 待机审 pending_machine ──machine pass──▶ 待审核 pending ◀──release── 审核中 in_review
                                 │ blocking hit                     │  ▲ approve (not last level: next level)
                                 ▼                                  ▼  │
                          退回修改 returned ◀──return── (pending | in_review) ──claim/assign──▶ in_review
                                                  approve (last level) ─▶ 已通过 approved (publishes)
                                                  reject ─▶ 已驳回 rejected;  withdraw (any open) ─▶ 已撤回 withdrawn

Resources' own lifecycle is driven through reslib.resources.services (submit_version, decide_version,
return_by_machine); side effects (the machine pre-review task, notifications) run after commit.
Concurrency: every change locks the request row (select_for_update) and re-checks its state and level, so two
reviewers deciding at once get exactly one decision; the other gets review.closed / review.level_changed.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from reslib.core import audit
from reslib.core.errors import Conflict, FieldErrors, NotFound, PermissionDenied, ValidationFailed
from reslib.core.statemachine import StateMachine, Transition
from reslib.libraries.models import Library, TeamMember
from reslib.resources import scanning
from reslib.resources import services as resource_services
from reslib.resources.models import ResourceVersion

from . import checklist, policies, prereview
from .models import DEFAULT_DUE_DAYS, OPEN_STATES, ReviewDecision, ReviewLevel, ReviewRequest

S = ReviewRequest.State
K = ReviewLevel.Kind
O = ReviewDecision.Outcome

REQUEST_LIFECYCLE = StateMachine([
    Transition("machine_pass", (S.PENDING_MACHINE,), S.PENDING, _("Machine pre-review passed"), "machine"),
    Transition("machine_return", (S.PENDING_MACHINE,), S.RETURNED, _("Returned by the machine pre-review"),
               "machine"),
    Transition("claim", (S.PENDING, S.IN_REVIEW), S.IN_REVIEW, _("Claim"), "reviewer"),
    Transition("assign", (S.PENDING, S.IN_REVIEW), S.IN_REVIEW, _("Assign"), "lead"),
    Transition("release", (S.IN_REVIEW,), S.PENDING, _("Release"), "reviewer"),
    Transition("advance", (S.PENDING, S.IN_REVIEW), S.PENDING, _("Approve for the next level"), "reviewer"),
    Transition("approve", (S.PENDING, S.IN_REVIEW), S.APPROVED, _("Approve and publish"), "reviewer"),
    Transition("return", (S.PENDING, S.IN_REVIEW), S.RETURNED, _("Return for changes"), "reviewer",
               reason_required=True),
    Transition("reject", (S.PENDING, S.IN_REVIEW), S.REJECTED, _("Reject"), "reviewer", reason_required=True),
    Transition("withdraw", OPEN_STATES, S.WITHDRAWN, _("Withdraw"), "submitter"),
])

DECISIONS = ("approve", "return", "reject")
MAX_DUE_DAYS = 60
MAX_COMMENT = 5000

DEFAULT_LEVELS = [
    # (kind, position, enabled)
    (K.CONTRIBUTOR, 1, True),
    (K.LEAD_HOST, 2, True),
    (K.PLATFORM, 3, False),
]


# --- errors -------------------------------------------------------------------------------------------------------

class RequestClosed(Conflict):
    code = "review.closed"

    def __init__(self, request: ReviewRequest):
        super().__init__(format_lazy(_("This review request is already closed ({state}); nothing more can be decided."),
                                     state=S(request.state).label))


class LevelChanged(Conflict):
    code = "review.level_changed"
    default_message = _("Someone else has just decided this level; reload the page to see the current state.")


# --- levels -------------------------------------------------------------------------------------------------------

def levels_for(library: Library) -> list[ReviewLevel]:
    """The library's levels in order (enabled or not); the default three are created on first use."""
    levels = list(ReviewLevel.objects.filter(library=library).order_by("position"))
    if len(levels) == len(DEFAULT_LEVELS):
        return levels
    with transaction.atomic():
        existing = {lvl.kind for lvl in ReviewLevel.objects.select_for_update().filter(library=library)}
        created = [ReviewLevel.objects.create(library=library, kind=kind, position=position, enabled=enabled,
                                              due_days=DEFAULT_DUE_DAYS)
                   for kind, position, enabled in DEFAULT_LEVELS if kind not in existing]
        if created:
            audit.record(actor=None, action="review.levels_default", target=library,
                         after={"levels": [lvl.kind for lvl in created]})
    return list(ReviewLevel.objects.filter(library=library).order_by("position"))


def enabled_levels(library: Library) -> list[ReviewLevel]:
    return [lvl for lvl in levels_for(library) if lvl.enabled]


def _next_level(level: ReviewLevel) -> ReviewLevel | None:
    return (ReviewLevel.objects.filter(library_id=level.library_id, enabled=True, position__gt=level.position)
            .order_by("position").first())


@dataclass
class LevelSettings:
    kind: str
    enabled: bool
    group_mode: str
    members: list[int]
    due_days: int | None


def update_levels(library: Library, settings_: list[LevelSettings], *, by) -> list[ReviewLevel]:
    """The lead (or an operator) edits the levels: on/off, reviewer group, days to decide. Form field names are
    "<kind>-enabled", "<kind>-group_mode", "<kind>-members", "<kind>-due_days"."""
    if not policies.can_manage_levels(by, library):
        raise PermissionDenied(_("Only the library lead can change its review levels."), code="review.levels_denied")
    levels = {lvl.kind: lvl for lvl in levels_for(library)}
    errors = FieldErrors()
    by_kind = {}
    for item in settings_:
        if item.kind not in levels:
            errors.add("levels", "review.level_unknown", _("Unknown review level."))
            continue
        by_kind[item.kind] = item
    lead_host = by_kind.get(K.LEAD_HOST)
    if lead_host is not None and not lead_host.enabled:
        errors.add(f"{K.LEAD_HOST}-enabled", "review.lead_host_required",
                   _("The lead host review cannot be switched off: its approval publishes."))
    team_ids = set(TeamMember.objects.filter(library=library, role__in=policies.REVIEWING_ROLES)
                   .values_list("user_id", flat=True))
    operator_ids = set(policies.operators(active_only=False).values_list("pk", flat=True))
    for kind, item in by_kind.items():
        if item.group_mode not in ReviewLevel.GroupMode.values:
            errors.add(f"{kind}-group_mode", "review.group_mode_invalid", _("Choose a rule or named reviewers."))
        if item.due_days is None or not 1 <= item.due_days <= MAX_DUE_DAYS:
            errors.add(f"{kind}-due_days", "review.due_days_invalid",
                       _("Enter a number of days from 1 to %(max)d.") % {"max": MAX_DUE_DAYS})
        members = set(item.members or [])
        allowed = operator_ids if kind == K.PLATFORM else team_ids | operator_ids
        if members - allowed:
            errors.add(f"{kind}-members", "review.member_not_eligible",
                       _("Platform spot checks are done by operators only.") if kind == K.PLATFORM else
                       _("Named reviewers must be the library's reviewers or lead, or platform operators."))
        if item.group_mode == ReviewLevel.GroupMode.EXPLICIT and not members:
            errors.add(f"{kind}-members", "review.members_required", _("Name at least one reviewer."))
    errors.raise_if_any()
    with transaction.atomic():
        before, after = {}, {}
        for kind, item in by_kind.items():
            level = ReviewLevel.objects.select_for_update().get(pk=levels[kind].pk)
            before[kind] = _level_snapshot(level)
            level.enabled = item.enabled
            level.group_mode = item.group_mode
            level.due_days = item.due_days
            level.save(update_fields=["enabled", "group_mode", "due_days"])
            level.members.set(sorted(set(item.members or [])) if item.group_mode == ReviewLevel.GroupMode.EXPLICIT
                              else [])
            after[kind] = _level_snapshot(level)
        audit.record(actor=by, action="review.levels_update", target=library, before=before, after=after)
    return levels_for(library)


def _level_snapshot(level: ReviewLevel) -> dict:
    return {"enabled": level.enabled, "group_mode": level.group_mode, "due_days": level.due_days,
            "members": sorted(level.members.values_list("pk", flat=True))}


# --- submission and machine pre-review -----------------------------------------------------------------------------

def _due(level: ReviewLevel | None, now=None) -> datetime.datetime | None:
    if level is None:
        return None
    return (now or timezone.now()) + datetime.timedelta(days=level.due_days or DEFAULT_DUE_DAYS)


def submit_for_review(version: ResourceVersion, *, by, commitment_accepted: bool) -> ReviewRequest:
    """Submit a draft (with the rights commitment) and open its review request; the machine pre-review follows."""
    with transaction.atomic():
        version = resource_services.submit_version(version, by=by, commitment_accepted=commitment_accepted)
        resource = version.resource
        levels = enabled_levels(resource.library)
        previous = (ReviewRequest.objects.select_for_update(of=("self",))
                    .filter(resource=resource, state=S.RETURNED, next__isnull=True)
                    .order_by("-submitted_at", "-id").first())
        request = ReviewRequest.objects.create(
            version=version, resource=resource, library_id=resource.library_id,
            contributing_org_id=version.contributing_org_id, title=version.title[:200], state=S.PENDING_MACHINE,
            level=levels[0] if levels else None, submitted_by=by, previous=previous,
        )
        audit.record(actor=by, action="review.submit", target=request,
                     after={"version": version.number, "state": request.state,
                            "level": request.level.kind if request.level else None,
                            "previous": previous.pk if previous else None})
        request_id = request.pk
        transaction.on_commit(lambda: _enqueue_prereview(request_id))
    return request


def _enqueue_prereview(request_id: int) -> None:
    from . import tasks

    tasks.run_machine_prereview.enqueue(request_id)


def compute_hits(version: ResourceVersion) -> list[dict]:
    """The machine pre-review's hits (reslib.review.prereview)."""
    return prereview.run_prereview(version)


def run_machine_prereview(request_id: int) -> str:
    """Task body: idempotent (a request past pending_machine is left alone)."""
    request = ReviewRequest.objects.select_related("version").filter(pk=request_id).first()
    if request is None or request.state != S.PENDING_MACHINE:
        return "skipped"
    hits = compute_hits(request.version)
    return record_machine_result(request, hits).state


def describe_hit(hit: dict) -> str:
    kind = HIT_KIND_LABELS.get(hit.get("kind"), hit.get("kind", ""))
    parts = [str(kind)]
    if hit.get("match"):
        parts.append(f"“{hit['match']}”")
    if hit.get("field"):
        parts.append(f"({hit['field']})")
    text = " ".join(parts)
    if hit.get("context"):
        text += f": {hit['context']}"
    return text


HIT_KIND_LABELS = {
    "sensitive_word": _("Sensitive word"),
    "duplicate": _("Duplicate"),
    "negative_list": _("Negative list"),
    "spec": _("Technical specification"),
    "virus": _("Virus scan"),
}


# Findings (reslib.resources.spec) of files that clamd did not scan: no scanner, or the scan failed.
NOT_SCANNED_CODES = ("file.not_scanned", "file.scan_failed")


def _not_scanned_item(reason: str, *, passed: bool | None = None, comment: str = "") -> dict:
    """The virus-scan checklist entry while a file is not scanned: never "passed", whoever fills the checklist."""
    return {"item": "virus_scan", "passed": passed, "status": "not_scanned", "reason": reason, "comment": comment}


def _machine_checklist(hits: list[dict]) -> list[dict]:
    failing: dict[str, list[dict]] = {}
    for hit in hits:
        item = checklist.HIT_ITEM.get(hit.get("kind"))
        if item and hit.get("level") == "block":
            failing.setdefault(item, []).append(hit)
    unscanned = [h.get("match", "") for h in hits if h.get("code") in NOT_SCANNED_CODES]
    return [_not_scanned_item(" ".join(unscanned)) if code == "virus_scan" and unscanned and code not in failing
            else {"item": code, "passed": code not in failing,
                  "comment": "; ".join(describe_hit(h) for h in failing.get(code, []))}
            for code in ("tech_spec", "virus_scan", "sensitive_words", "duplicates")]


def _decision_checklist(results: dict[str, dict], unscanned: list[str]) -> list[dict]:
    items = []
    for code in checklist.CODES:
        given = results.get(code, {})
        if code == "virus_scan" and unscanned:
            # A reviewer cannot see what clamd did not scan: a "pass" is recorded as not scanned, a "fail" stays.
            items.append(_not_scanned_item(" ".join(unscanned), passed=False if given.get("passed") is False else None,
                                           comment=given.get("comment", "")))
        else:
            items.append({"item": code, "passed": given.get("passed"), "comment": given.get("comment", "")})
    return items


def record_machine_result(request: ReviewRequest, hits: list[dict]) -> ReviewRequest:
    """Store the hits; a "block" hit returns the version to its submitter, otherwise the request awaits review."""
    hits = [dict(h) for h in hits]
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=request.pk)
        if request.state != S.PENDING_MACHINE:
            return request
        now = timezone.now()
        request.machine_hits, request.machine_checked_at = hits, now
        blocking = [h for h in hits if h.get("level") == "block"]
        action = "machine_return" if blocking else "machine_pass"
        transition = REQUEST_LIFECYCLE.transition_for(action, S(request.state))
        request.state = transition.target
        level = request.level
        if blocking:
            comment = "\n".join(describe_hit(h) for h in blocking)
            request.closed_at = now
            resource_services.return_by_machine(request.version, reason=comment)
        else:
            flags = len(hits)
            comment = str(_("No blocking findings.")) if not flags else str(
                format_lazy(_("No blocking findings; {count} findings flagged for the reviewers."), count=flags))
            request.due_at = _due(level, now)
        request.save(update_fields=["machine_hits", "machine_checked_at", "state", "closed_at", "due_at",
                                    "updated_at"])
        ReviewDecision.objects.create(request=request, level=level, level_name=_level_name(level),
                                      outcome=O.MACHINE_RETURN if blocking else O.MACHINE_PASS,
                                      checklist=_machine_checklist(hits), comment=comment)
        audit.record(actor=None, action=f"review.{action}", target=request, reason=comment if blocking else "",
                     before={"state": S.PENDING_MACHINE}, after={"state": request.state, "hits": len(hits)})
        if blocking:
            _after_commit_notify_submitter(request, "returned", comment)
        else:
            _after_commit_notify_reviewers(request)
    return request


# --- claims -------------------------------------------------------------------------------------------------------

def _lock(request: ReviewRequest | int) -> ReviewRequest:
    pk = request if isinstance(request, int) else request.pk
    locked = ReviewRequest.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound(code="review.not_found")
    return ReviewRequest.objects.select_related("level", "version", "resource", "library").get(pk=locked.pk)


def _check_open(request: ReviewRequest, expected_level_id: int | None = None) -> None:
    if request.state not in OPEN_STATES:
        raise RequestClosed(request)
    if request.state == S.PENDING_MACHINE:
        raise Conflict(_("The machine pre-review has not finished yet; try again in a moment."),
                       code="review.machine_pending")
    if expected_level_id is not None and expected_level_id != request.level_id:
        raise LevelChanged()


def _check_reviewer(user, request: ReviewRequest, *, holder_matters: bool = True) -> None:
    """Claim and assign ask without the holder: claiming a held request has its own answer, assigning replaces
    the holder."""
    refusal = policies.decide_refusal(user, request, holder_matters=holder_matters)
    if refusal is not None:
        code, message = refusal
        raise (Conflict if code == policies.HELD_BY_OTHER else PermissionDenied)(message, code=code)


def claim(request: ReviewRequest, *, by) -> ReviewRequest:
    with transaction.atomic():
        request = _lock(request)
        _check_open(request)
        _check_reviewer(by, request, holder_matters=False)
        if request.assignee_id and request.assignee_id != by.pk:
            raise Conflict(format_lazy(_("{name} is already working on this request."),
                                       name=request.assignee.display_name), code="review.claimed_by_other")
        REQUEST_LIFECYCLE.transition_for("claim", S(request.state))
        before = {"state": request.state, "assignee": request.assignee_id}
        request.state, request.assignee, request.assigned_at = S.IN_REVIEW, by, timezone.now()
        request.save(update_fields=["state", "assignee", "assigned_at", "updated_at"])
        audit.record(actor=by, action="review.claim", target=request, before=before,
                     after={"state": request.state, "assignee": by.pk})
    return request


def release(request: ReviewRequest, *, by) -> ReviewRequest:
    with transaction.atomic():
        request = _lock(request)
        _check_open(request)
        if request.assignee_id != by.pk and not policies.can_assign(by, request):
            raise PermissionDenied(_("Only the reviewer working on it, the lead or an operator can release it."),
                                   code="review.release_denied")
        REQUEST_LIFECYCLE.transition_for("release", S(request.state))
        before = {"state": request.state, "assignee": request.assignee_id}
        request.state, request.assignee, request.assigned_at = S.PENDING, None, None
        request.save(update_fields=["state", "assignee", "assigned_at", "updated_at"])
        audit.record(actor=by, action="review.release", target=request, before=before,
                     after={"state": request.state, "assignee": None})
    return request


def assign(request: ReviewRequest, *, by, to) -> ReviewRequest:
    """The lead (library levels) or an operator hands the request to a reviewer of the current level."""
    with transaction.atomic():
        request = _lock(request)
        _check_open(request)
        if not policies.can_assign(by, request):
            raise PermissionDenied(_("Only the library lead or a platform operator can assign reviews."),
                                   code="review.assign_denied")
        if to is None:
            raise ValidationFailed.single("user", "review.assignee_required", _("Choose a reviewer."))
        policies.forget(to)
        try:
            _check_reviewer(to, request, holder_matters=False)
        except PermissionDenied as exc:
            raise ValidationFailed.single("user", exc.code, exc.message) from None
        REQUEST_LIFECYCLE.transition_for("assign", S(request.state))
        before = {"state": request.state, "assignee": request.assignee_id}
        request.state, request.assignee, request.assigned_at = S.IN_REVIEW, to, timezone.now()
        request.save(update_fields=["state", "assignee", "assigned_at", "updated_at"])
        audit.record(actor=by, action="review.assign", target=request, before=before,
                     after={"state": request.state, "assignee": to.pk})
        _after_commit(lambda: _notify([to], "assigned",
                                      format_lazy(_("Review assigned to you: {title}"), title=request.title),
                                      format_lazy(_("Level: {level}. Please decide by {due}."),
                                                  level=_level_name(request.level), due=_date(request.due_at)),
                                      _review_url(request)))
    return request


# --- decisions ----------------------------------------------------------------------------------------------------

def parse_checklist(raw) -> dict[str, dict]:
    """{code: {"passed": bool | None, "comment": str}} from a dict or a list of {"item", "passed", "comment"}."""
    items = {}
    if isinstance(raw, dict):
        pairs = raw.items()
    else:
        pairs = [(entry.get("item"), entry) for entry in raw or [] if isinstance(entry, dict)]
    errors = FieldErrors()
    for code, value in pairs:
        if code not in checklist.CODES:
            errors.add("checklist", "review.checklist_unknown_item",
                       format_lazy(_("Unknown checklist item “{code}”."), code=code))
            continue
        if isinstance(value, bool) or value is None:
            value = {"passed": value}
        passed = value.get("passed")
        comment = str(value.get("comment") or "").strip()[:1000]
        items[code] = {"passed": passed if passed in (True, False) else None, "comment": comment}
    errors.raise_if_any()
    return items


def decide(request: ReviewRequest | int, *, by, decision: str, checklist_results=None, comment: str = "",
           level_id: int | None = None) -> ReviewRequest:
    """approve / return / reject the request at its current level. `level_id`, when given, is the level the
    reviewer was looking at: if someone else decided it meanwhile, the answer is review.level_changed."""
    comment = (comment or "").strip()
    if decision not in DECISIONS:
        raise ValidationFailed.single("decision", "review.decision_invalid",
                                      _("Choose approve, return for changes or reject."))
    results = parse_checklist(checklist_results)
    with transaction.atomic():
        request = _lock(request)
        _check_open(request, level_id)
        _check_reviewer(by, request)
        unscanned = scanning.not_scanned_reasons(f.blob for f in request.version.files.select_related("blob"))
        errors = FieldErrors()
        if len(comment) > MAX_COMMENT:
            errors.add("comment", "review.comment_too_long", _("The comment is too long."))
        if decision == "approve":
            for code in checklist.CODES:
                if code == "virus_scan" and unscanned:
                    continue  # nobody can pass it; the decision records the file as not scanned
                if results.get(code, {}).get("passed") is not True:
                    errors.add(f"checklist.{code}", "review.checklist_incomplete",
                               format_lazy(_("“{item}” must pass before approval."), item=checklist.LABELS[code]))
        elif not comment:
            errors.add("comment", "review.comment_required",
                       _("Explain what must change: a comment is required to return or reject."))
        errors.raise_if_any()

        level = request.level
        next_level = _next_level(level) if decision == "approve" else None
        action = ("advance" if next_level else "approve") if decision == "approve" else decision
        REQUEST_LIFECYCLE.transition_for(action, S(request.state))
        now = timezone.now()
        before = {"state": request.state, "level": level.kind if level else None}
        ReviewDecision.objects.create(
            request=request, level=level, level_name=_level_name(level), reviewer=by,
            reviewer_name=by.display_name, outcome={"approve": O.APPROVE, "return": O.RETURN, "reject": O.REJECT}[
                decision],
            checklist=_decision_checklist(results, unscanned),
            comment=comment,
        )
        request.assignee, request.assigned_at = None, None
        if action == "advance":
            request.state, request.level = S.PENDING, next_level
            request.due_at, request.overdue_notified_at = _due(next_level, now), None
        else:
            request.state = {"approve": S.APPROVED, "return": S.RETURNED, "reject": S.REJECTED}[decision]
            request.closed_at = now
            resource_action = {"approve": "publish", "return": "return", "reject": "reject"}[decision]
            resource_services.decide_version(request.version, resource_action, by=by, reason=comment)
        request.save()
        audit.record(actor=by, action=f"review.{action}", target=request, reason=comment, before=before,
                     after={"state": request.state, "level": request.level.kind if request.level else None})
        if action == "advance":
            _after_commit_notify_reviewers(request)
        elif decision == "approve":
            _after_commit_notify_submitter(request, "approved", comment)
        else:
            _after_commit_notify_submitter(request, "returned" if decision == "return" else "rejected", comment)
    return request


def withdraw(request: ReviewRequest | int, *, by, reason: str = "") -> ReviewRequest:
    """The submitter (or the library lead) takes the version back to draft."""
    with transaction.atomic():
        request = _lock(request)
        if request.state not in OPEN_STATES:
            raise RequestClosed(request)
        if not policies.can_withdraw(by, request):
            raise PermissionDenied(_("Only the submitter or the library lead can withdraw it."),
                                   code="review.withdraw_denied")
        REQUEST_LIFECYCLE.transition_for("withdraw", S(request.state))
        before = {"state": request.state}
        request.state, request.closed_at, request.assignee = S.WITHDRAWN, timezone.now(), None
        request.save(update_fields=["state", "closed_at", "assignee", "updated_at"])
        resource_services.decide_version(request.version, "withdraw", by=by, reason=reason)
        audit.record(actor=by, action="review.withdraw", target=request, reason=(reason or "").strip(),
                     before=before, after={"state": request.state})
    return request


def open_request_for(resource) -> ReviewRequest | None:
    return (ReviewRequest.objects.filter(resource=resource, state__in=OPEN_STATES)
            .select_related("level").order_by("-submitted_at").first())


def withdraw_resource(resource, *, by, reason: str = "") -> ReviewRequest:
    request = open_request_for(resource)
    if request is None:
        raise ValidationFailed.single("version", "review.nothing_to_withdraw",
                                      _("This resource has no version in review."))
    return withdraw(request, by=by, reason=reason)


# --- overdue ------------------------------------------------------------------------------------------------------

def notify_overdue(now=None, *, batch: int = 500) -> int:
    """Mark open requests past their due date once per level and tell the reviewer (or the group) and the lead."""
    now = now or timezone.now()
    ids = list(ReviewRequest.objects.filter(state__in=(S.PENDING, S.IN_REVIEW), due_at__lt=now,
                                            overdue_notified_at__isnull=True)
               .order_by("due_at").values_list("pk", flat=True)[:batch])
    done = 0
    for pk in ids:
        with transaction.atomic():
            request = _lock(pk)
            if request.state not in (S.PENDING, S.IN_REVIEW) or request.overdue_notified_at or not request.due_at \
                    or request.due_at >= now:
                continue
            request.overdue_notified_at = now
            request.save(update_fields=["overdue_notified_at", "updated_at"])
            audit.record(actor=None, action="review.overdue", target=request,
                         after={"due_at": request.due_at.isoformat(), "level": request.level.kind})
            recipients = [request.assignee] if request.assignee_id else policies.group_users(request.level, request)
            leads = policies.lead_users(request.library_id)
            _after_commit(lambda r=request, users=recipients + leads: _notify(
                users, "overdue", format_lazy(_("Review overdue: {title}"), title=r.title),
                format_lazy(_("Level “{level}” was due on {due}."), level=_level_name(r.level), due=_date(r.due_at)),
                _review_url(r)))
            done += 1
    return done


# --- helpers: names, notifications ----------------------------------------------------------------------------------

def _level_name(level: ReviewLevel | None) -> str:
    return str(level.get_kind_display()) if level is not None else ""


def _date(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _review_url(request: ReviewRequest) -> str:
    return reverse("review:request", args=[request.pk])


def _resource_url(request: ReviewRequest) -> str:
    return reverse("resources:detail", args=[request.resource_id]) + "#review"


def _after_commit(callback) -> None:
    transaction.on_commit(callback)


def _notify(users, kind, title, body, url) -> None:
    from reslib.notifications.services import notify

    notify(users, kind, title, body, url)


def _after_commit_notify_reviewers(request: ReviewRequest) -> None:
    level = request.level

    def send():
        excluded = policies.conflicted_user_ids(request)
        users = [u for u in policies.group_users(level, request) if u.pk not in excluded]
        _notify(users, "submitted", format_lazy(_("Waiting for your review: {title}"), title=request.title),
                format_lazy(_("Level: {level}. Please decide by {due}."), level=_level_name(level),
                            due=_date(request.due_at)), _review_url(request))

    _after_commit(send)


SUBMITTER_TITLES = {
    "returned": _("Returned for changes: {title}"),
    "approved": _("Approved and published: {title}"),
    "rejected": _("Rejected: {title}"),
}


def _after_commit_notify_submitter(request: ReviewRequest, kind: str, comment: str) -> None:
    def send():
        _notify([request.submitted_by], kind, format_lazy(SUBMITTER_TITLES[kind], title=request.title), comment,
                _resource_url(request))

    _after_commit(send)
