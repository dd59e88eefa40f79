"""Review API: the reviewer's queue, one request with its decisions, claim / release / assign, decisions; submitting
a resource's draft for review and withdrawing it; a library's review levels.

Requests the caller may not see answer 404 (`review.not_found`). Conflicts answer 409: `review.closed` (already
decided), `review.level_changed` (someone decided this level meanwhile), `review.claimed_by_other`.
"""

from datetime import datetime

from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from reslib.accounts.models import User
from reslib.core.api import COMMON_ERRORS, LOGGED_IN, ErrorOut, Paginated, as_list, current_user
from reslib.core.errors import NotFound, PermissionDenied
from reslib.libraries.policies import can_see_people, visible_libraries
from reslib.resources import api as resources_api
from reslib.resources import policies as resource_policies
from reslib.resources.schemas import ResourceDetailOut, SubmitIn

from . import checklist, policies, queries, services, staffing
from .models import ReviewDecision, ReviewRequest

router = Router(tags=["review"])
WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}


class DecisionOut(Schema):
    id: int
    level: str
    reviewer: str | None
    outcome: str
    checklist: list[dict]
    comment: str
    created_at: datetime


class RequestOut(Schema):
    id: int
    resource_id: int
    version: int
    library_id: int
    title: str
    state: str
    level: str | None
    submitted_by: str
    submitted_at: datetime
    assignee: str | None
    due_at: datetime | None
    overdue: bool
    previous_id: int | None
    url: str


class WarningOut(Schema):
    code: str = Field(..., description="review.level_has_no_reviewer, review.level_reviewers_shared or "
                                       "review.request_has_no_reviewer")
    level: str = Field(..., description="the level's kind")
    message: str


class RequestDetailOut(RequestOut):
    machine_hits: list[dict]
    decisions: list[DecisionOut]
    warnings: list[WarningOut] = Field(..., description="when nobody may decide the request at its current level")


class DecisionIn(Schema):
    decision: str = Field(..., description="approve / return / reject")
    checklist: dict[str, dict] = Field(default_factory=dict, description=(
        "{item: {\"passed\": true|false, \"comment\": \"…\"}} for the items " + ", ".join(checklist.CODES)
        + "; approve needs every item passed, except virus_scan while a file is not scanned: the decision then "
          "records it as {\"passed\": null, \"status\": \"not_scanned\", \"reason\": \"…\"}"))
    comment: str = Field("", description="required to return or reject")
    level: int | None = Field(None, description="the level id the reviewer looked at (defaults to the current one "
                                                "when the request is read)")


class AssignIn(Schema):
    user: int


class WithdrawIn(Schema):
    reason: str = ""


class LevelOut(Schema):
    id: int
    kind: str
    name: str
    position: int
    enabled: bool
    group_mode: str
    members: list[int] = Field(..., description="named reviewers' user ids: empty unless the caller is the "
                                                "library's team, a host administrator, its province's "
                                                "administrator or an operator")
    due_days: int


class LevelIn(Schema):
    kind: str
    enabled: bool = True
    group_mode: str = "rule"
    members: list[int] = Field(default_factory=list)
    due_days: int = 3


class LevelsIn(Schema):
    levels: list[LevelIn]


def _out(r: ReviewRequest) -> dict:
    from django.urls import reverse

    return {
        "id": r.pk, "resource_id": r.resource_id, "version": r.version.number, "library_id": r.library_id,
        "title": r.title, "state": r.state, "level": r.level.kind if r.level else None,
        "submitted_by": r.submitted_by.username, "submitted_at": r.submitted_at,
        "assignee": r.assignee.username if r.assignee else None, "due_at": r.due_at, "overdue": r.is_overdue,
        "previous_id": r.previous_id, "url": reverse("review:request", args=[r.pk]),
    }


def _detail(r: ReviewRequest) -> dict:
    data = _out(r)
    data["machine_hits"] = r.machine_hits or []
    data["decisions"] = [
        {"id": d.pk, "level": d.level.kind if d.level else "", "reviewer": d.reviewer.username if d.reviewer else None,
         "outcome": d.outcome, "checklist": d.checklist, "comment": d.comment, "created_at": d.created_at}
        for d in ReviewDecision.objects.filter(request=r).select_related("level", "reviewer").order_by("created_at",
                                                                                                       "id")]
    data["warnings"] = _warnings(staffing.request_warnings(r))
    return data


def _warnings(warnings) -> list[dict]:
    return [{"code": w.code, "level": w.level.kind, "message": w.message} for w in warnings]


def _request(request, request_id: int) -> ReviewRequest:
    r = (policies.visible_requests(request.user)
         .select_related("level", "version", "submitted_by", "assignee", "resource", "library", "contributing_org")
         .filter(pk=request_id).first())
    if r is None:
        raise NotFound(_("No such review request."), code="review.not_found")
    return r


class _Rows:
    """Turns the paginated slice into output dicts without a query per row."""

    def __init__(self, qs):
        self.qs = qs

    def count(self):
        return self.qs.count()

    def __len__(self):  # pragma: no cover
        return self.count()

    def __getitem__(self, item):
        return [_out(r) for r in self.qs[item]]


@router.get("/review/requests", auth=LOGGED_IN, response=list[RequestOut],
            summary="Review requests: the caller's queue (scope=todo) or all they may see (scope=all)")
@paginate(Paginated)
def list_requests(request, scope: str = "todo", library: int | None = None, level: str = "", state: str = "open",
                  who: str = "", overdue: bool = False):
    """Filters as on the workbench: `library` (id), `level` (contributor / lead_host / platform), `state` (open,
    closed, or a state), `who` (mine / unclaimed), `overdue`. Ordered by due date."""
    data = {"scope": scope, "level": level, "state": state, "who": who}
    if library:
        data["library"] = library
    if overdue:
        data["overdue"] = "on"
    _form, qs = queries.filtered_queue(current_user(request), data)
    return _Rows(qs.select_related("version"))


@router.get("/review/requests/{request_id}", auth=LOGGED_IN, response={200: RequestDetailOut, **COMMON_ERRORS},
            summary="One review request with its machine findings and decisions")
def get_request(request, request_id: int):
    return _detail(_request(request, request_id))


@router.post("/review/requests/{request_id}/claim", auth=LOGGED_IN, response={200: RequestDetailOut, **WRITE_ERRORS},
             summary="Claim the request at its current level")
def claim(request, request_id: int):
    services.claim(_request(request, request_id), by=current_user(request))
    return _detail(_request(request, request_id))


@router.post("/review/requests/{request_id}/release", auth=LOGGED_IN,
             response={200: RequestDetailOut, **WRITE_ERRORS}, summary="Give the request back to the queue")
def release(request, request_id: int):
    services.release(_request(request, request_id), by=current_user(request))
    return _detail(_request(request, request_id))


@router.post("/review/requests/{request_id}/assign", auth=LOGGED_IN,
             response={200: RequestDetailOut, **WRITE_ERRORS},
             summary="Assign the request to a reviewer of its level (library lead or operator)")
def assign(request, request_id: int, payload: AssignIn):
    user = current_user(request)
    target = User.objects.filter(pk=payload.user, is_active=True).first()
    services.assign(_request(request, request_id), by=user, to=target)
    return _detail(_request(request, request_id))


@router.post("/review/requests/{request_id}/decision", auth=LOGGED_IN,
             response={200: RequestDetailOut, **WRITE_ERRORS}, summary="Approve, return for changes or reject")
def decide(request, request_id: int, payload: DecisionIn):
    """Approve at a level that is not the last moves the request to the next level; approve at the last level
    publishes the version. Errors: `review.checklist_incomplete` (400, per item in `fields`),
    `review.comment_required` (400), `review.own_resource` / `review.not_in_group` (403), `review.closed` /
    `review.level_changed` / `review.claimed_by_other` (409)."""
    user = current_user(request)
    r = _request(request, request_id)
    services.decide(r, by=user, decision=payload.decision, checklist_results=payload.checklist,
                    comment=payload.comment, level_id=payload.level or r.level_id)
    return _detail(_request(request, request_id))


# --- the resource's side: submit and withdraw ------------------------------------------------------------------------

@router.post("/resources/{resource_id}/submit", auth=LOGGED_IN, response={200: ResourceDetailOut, **WRITE_ERRORS},
             summary="Submit the draft for review with the rights commitment (opens a review request)")
def submit(request, resource_id: int, payload: SubmitIn):
    """Without `commitment_accepted` → 400 `resource.commitment_required`; no main file → `resource.main_file_required`;
    blocking machine findings → `resource.blocking_findings`. The machine pre-review runs next."""
    user = current_user(request)
    resource = resources_api._resource(request, resource_id)
    if not resource_policies.can_edit(user, resource):
        raise PermissionDenied(code="resource.transition_denied")
    services.submit_for_review(resource.latest_version, by=user, commitment_accepted=payload.commitment_accepted)
    return resources_api._fresh_detail(request, resource_id)


@router.post("/resources/{resource_id}/withdraw", auth=LOGGED_IN, response={200: ResourceDetailOut, **WRITE_ERRORS},
             summary="Withdraw the version in review (submitter or library lead)")
def withdraw(request, resource_id: int, payload: WithdrawIn):
    user = current_user(request)
    resource = resources_api._resource(request, resource_id)
    services.withdraw_resource(resource, by=user, reason=payload.reason)
    return resources_api._fresh_detail(request, resource_id)


# --- levels -------------------------------------------------------------------------------------------------------

def _levels_out(library, user) -> dict:
    """Named reviewers' ids only for the library's insiders, the warnings (which name reviewers) only for those who
    can act on them."""
    levels = services.levels_for(library)
    insider = can_see_people(user, library)
    out = as_list({"id": lvl.pk, "kind": lvl.kind, "name": str(lvl.get_kind_display()), "position": lvl.position,
                   "enabled": lvl.enabled, "group_mode": lvl.group_mode,
                   "members": sorted(lvl.members.values_list("pk", flat=True)) if insider else [],
                   "due_days": lvl.due_days}
                  for lvl in levels)
    manager = policies.can_manage_levels(user, library)
    out["warnings"] = _warnings(staffing.level_warnings(library)) if manager else []
    return out


class LevelList(Schema):
    items: list[LevelOut]
    count: int
    warnings: list[WarningOut] = Field(..., description="enabled levels that can leave a request with nobody to "
                                                        "decide it (for the library lead and operators)")


def _library(request, library_id: int):
    library = visible_libraries(request.user).filter(pk=library_id).first()
    if library is None:
        raise NotFound(_("No such resource library."), code="library.not_found")
    return library


@router.get("/review/libraries/{library_id}/levels", auth=LOGGED_IN, response={200: LevelList, **COMMON_ERRORS},
            summary="The library's review levels in order")
def get_levels(request, library_id: int):
    return _levels_out(_library(request, library_id), current_user(request))


@router.put("/review/libraries/{library_id}/levels", auth=LOGGED_IN, response={200: LevelList, **WRITE_ERRORS},
            summary="Change the library's review levels (library lead)")
def put_levels(request, library_id: int, payload: LevelsIn):
    """Validation: the lead host level stays enabled; named reviewers are the library's reviewers or lead (platform
    level: operators); 1–60 days to decide."""
    library = _library(request, library_id)
    services.update_levels(library, [services.LevelSettings(kind=lvl.kind, enabled=lvl.enabled,
                                                            group_mode=lvl.group_mode, members=lvl.members,
                                                            due_days=lvl.due_days) for lvl in payload.levels],
                           by=current_user(request))
    return _levels_out(library, current_user(request))
