"""Who reviews what. One rule per question, shared by the services, the pages and the API.

A level's reviewer group is either a rule or named users (validated when the lead saves the levels):
  contributor  the library's reviewers from the version's contributing institution, and the library lead;
  lead_host    the library's reviewers from the lead host institution (主持单位, position 1);
  platform     platform operators.
Named users must still be team reviewers / the lead (library levels) or operators (platform level) when they act,
so that removing someone from the team removes them from every group.
Nobody reviews a resource they authored (VersionAuthor.user), uploaded (Resource.created_by, version.created_by) or
submitted, and nobody decides two levels of the same request.
"""

import itertools

from django.db.models import Q, QuerySet
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from reslib.accounts import roles
from reslib.accounts.models import RoleGrant, User
from reslib.libraries.models import LibraryHost, TeamMember
from reslib.libraries.policies import is_lead, team_roles
from reslib.resources.models import VersionAuthor

from .models import DECIDABLE_STATES, ReviewDecision, ReviewLevel, ReviewRequest

K = ReviewLevel.Kind
REVIEWING_ROLES = (TeamMember.Role.REVIEWER, TeamMember.Role.LEAD)
HELD_BY_OTHER = "review.claimed_by_other"


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _libraries_by_role(user) -> dict[int, set[str]]:
    """{library_id: {reviewing roles}} over all the user's libraries (the per-library questions use
    libraries.policies.team_roles; these are the "which libraries" questions of the queue)."""
    libraries: dict[int, set[str]] = {}
    for library_id, role in TeamMember.objects.filter(user=user, role__in=REVIEWING_ROLES).values_list(
            "library_id", "role"):
        libraries.setdefault(library_id, set()).add(role)
    return libraries


def forget(user) -> None:
    user.__dict__.pop("_reslib_review_q", None)
    user.__dict__.pop("_reslib_review_lead_hosts", None)


def _lead_host_libraries(user) -> set[int]:
    """Libraries whose lead host (position 1) is the user's institution."""
    if not _authenticated(user) or not user.organization_id:
        return set()
    cached = user.__dict__.get("_reslib_review_lead_hosts")
    if cached is None:
        cached = set(LibraryHost.objects.filter(position=1, organization_id=user.organization_id)
                     .values_list("library_id", flat=True))
        user.__dict__["_reslib_review_lead_hosts"] = cached
    return cached


def _is_library_lead(user, library_id: int) -> bool:
    return TeamMember.Role.LEAD in team_roles(user, library_id)


def operators(*, active_only: bool) -> QuerySet:
    """Platform operators; `active_only` keeps those who can still sign in (groups and notifications), the level
    settings list every operator."""
    users = User.objects.filter(role_grants__role=RoleGrant.Role.OPERATOR)
    return (users.filter(is_active=True) if active_only else users).distinct()


def lead_users(library_id: int) -> list:
    return [m.user for m in TeamMember.objects.filter(library_id=library_id, role=TeamMember.Role.LEAD)
            .select_related("user")]


def is_reviewer_anywhere(user) -> bool:
    """Shows the workbench link: operators, and team reviewers or leads of any library."""
    if not _authenticated(user):
        return False
    return roles.is_operator(user) or TeamMember.objects.filter(user=user, role__in=REVIEWING_ROLES).exists()


def _may_act_on_library_level(user, library_id: int) -> bool:
    return bool(team_roles(user, library_id) & set(REVIEWING_ROLES))


def in_group(user, level: ReviewLevel, request: ReviewRequest) -> bool:
    """Is the user in the reviewer group of `level` for this request?"""
    if not _authenticated(user) or level is None:
        return False
    library_id = request.library_id
    if level.kind == K.PLATFORM:
        eligible = roles.is_operator(user)
    else:
        eligible = _may_act_on_library_level(user, library_id) or roles.is_operator(user)
    if not eligible:
        return False
    if level.group_mode == ReviewLevel.GroupMode.EXPLICIT:
        return level.members.filter(pk=user.pk).exists()
    if level.kind == K.CONTRIBUTOR:
        user_roles = team_roles(user, library_id)
        return TeamMember.Role.LEAD in user_roles or (
            TeamMember.Role.REVIEWER in user_roles and user.organization_id == request.contributing_org_id)
    if level.kind == K.LEAD_HOST:
        return TeamMember.Role.REVIEWER in team_roles(user, library_id) and library_id in _lead_host_libraries(user)
    return roles.is_operator(user)


def group_users(level: ReviewLevel, request: ReviewRequest) -> list:
    """Everyone in the level's group for this request (for notifications and the assign list)."""
    if level is None:
        return []
    library_id = request.library_id
    team = TeamMember.objects.filter(library_id=library_id, role__in=REVIEWING_ROLES)
    active_operators = operators(active_only=True)
    if level.group_mode == ReviewLevel.GroupMode.EXPLICIT:
        eligible = active_operators if level.kind == K.PLATFORM else User.objects.filter(
            Q(pk__in=team.values("user_id")) | Q(pk__in=active_operators.values("pk")))
        users = level.members.filter(pk__in=eligible.values("pk"), is_active=True)
    elif level.kind == K.CONTRIBUTOR:
        users = User.objects.filter(
            Q(pk__in=team.filter(role=TeamMember.Role.LEAD).values("user_id"))
            | Q(pk__in=team.filter(role=TeamMember.Role.REVIEWER).values("user_id"),
                organization_id=request.contributing_org_id), is_active=True)
    elif level.kind == K.LEAD_HOST:
        lead_host = LibraryHost.objects.filter(library_id=library_id, position=1).values("organization_id")
        users = User.objects.filter(pk__in=team.filter(role=TeamMember.Role.REVIEWER).values("user_id"),
                                    organization_id__in=lead_host, is_active=True)
    else:
        users = active_operators
    return list(users.distinct().order_by("real_name", "username"))


def conflicted_user_ids(request: ReviewRequest) -> set[int]:
    """Users who must not review this request: its authors, uploaders and submitter."""
    version = request.version
    ids = {request.submitted_by_id, version.created_by_id, request.resource.created_by_id}
    ids |= set(VersionAuthor.objects.filter(version_id=version.pk, user__isnull=False)
               .values_list("user_id", flat=True))
    return {i for i in ids if i}


def is_conflicted(user, request: ReviewRequest) -> bool:
    return _authenticated(user) and user.pk in conflicted_user_ids(request)


def decide_refusal(user, request: ReviewRequest, *, holder_matters: bool = True) -> tuple[str, object] | None:
    """Why the user may not decide the request at its current level, as (code, message), or None if they may.

    Authors, uploaders and the submitter never review; only the level's group decides; nobody decides two levels of
    one request; and while someone holds the request (`holder_matters`), only they decide it."""
    if is_conflicted(user, request):
        return "review.own_resource", _("You authored, uploaded or submitted this resource, so you cannot review it.")
    if not in_group(user, request.level, request):
        return "review.not_in_group", format_lazy(_("You are not in the reviewer group of the level “{level}”."),
                                                  level=request.level.get_kind_display() if request.level else "")
    if ReviewDecision.objects.filter(request=request, reviewer=user).exists():
        return "review.already_decided", _("You already decided an earlier level of this request; another "
                                           "reviewer decides this one.")
    if holder_matters and request.assignee_id and request.assignee_id != user.pk:
        return HELD_BY_OTHER, format_lazy(_("{name} is working on this request; ask the lead to reassign it."),
                                          name=request.assignee.display_name)
    return None


def eligible_reviewers(request: ReviewRequest) -> list:
    """Who may decide the request at its current level, whoever holds it now: the level's group less everyone
    decide_refusal turns away (its authors, uploaders and submitter, and whoever decided an earlier level)."""
    return [user for user in group_users(request.level, request)
            if decide_refusal(user, request, holder_matters=False) is None]


def level_groups(library, levels) -> dict[int, list]:
    """{level id: the users in_group for it} for a version contributed by the lead host, as most are."""
    lead_host = LibraryHost.objects.filter(library=library, position=1).values_list("organization_id",
                                                                                     flat=True).first()
    probe = ReviewRequest(library=library, contributing_org_id=lead_host)
    return {level.pk: [user for user in group_users(level, probe) if in_group(user, level, probe)]
            for level in levels}


NOBODY, SHARED = "nobody", "shared"


def understaffed_levels(library, levels) -> list[tuple[ReviewLevel, str, list]]:
    """The enabled levels that can leave a request with nobody to decide it, as (level, why, its group):
    NOBODY   its group is empty;
    SHARED   the deciders of the earlier levels can take up everyone in its group (nobody decides two levels of one
             request), e.g. a lead host with one reviewer who also reviews for the contributing institution.
    Judged for a version contributed by the lead host and submitted by someone outside the groups; a request's own
    authors and submitter are judged on the request (eligible_reviewers)."""
    enabled = [level for level in levels if level.enabled]
    groups = level_groups(library, enabled)
    ids = {pk: {user.pk for user in users} for pk, users in groups.items()}
    gaps = []
    for index, level in enumerate(enabled):
        group = ids[level.pk]
        if not group:
            gaps.append((level, NOBODY, []))
        elif _used_up(group, [ids[earlier.pk] & group for earlier in enabled[:index]]):
            gaps.append((level, SHARED, groups[level.pk]))
    return gaps


def _used_up(group: set, earlier: list[set]) -> bool:
    """Can the earlier levels, each decided by a different person (from `group` or not: None), take every member
    of `group`? There are at most three levels, so trying every choice is cheap."""
    if len(group) > len(earlier):
        return False
    for choice in itertools.product(*[[*sorted(candidates), None] for candidates in earlier]):
        picked = [pk for pk in choice if pk is not None]
        if len(set(picked)) == len(picked) and set(picked) >= group:
            return True
    return False


def can_manage_levels(user, library) -> bool:
    return is_lead(user, library) or roles.is_operator(user)


def can_assign(user, request: ReviewRequest) -> bool:
    """The library lead assigns at library levels; operators at any level."""
    if roles.is_operator(user):
        return True
    return request.level is not None and request.level.kind != K.PLATFORM and _is_library_lead(user,
                                                                                            request.library_id)


def can_withdraw(user, request: ReviewRequest) -> bool:
    return _authenticated(user) and (user.pk == request.submitted_by_id or _is_library_lead(user, request.library_id))


def reviewable_q(user) -> Q:
    """Requests whose CURRENT level has the user in its group (ignores conflicts: the page says so per row).

    Resolved to level ids first (one small query), so that the queue filters on review_request.level_id with its
    index instead of joining the levels: the queue stays fast with 100 000 open requests."""
    nothing = Q(pk__in=[])
    if not _authenticated(user):
        return nothing
    cached = user.__dict__.get("_reslib_review_q")
    if cached is not None:
        return cached
    team = _libraries_by_role(user)
    operator = roles.is_operator(user)
    lead_libs = {lib for lib, r in team.items() if TeamMember.Role.LEAD in r}
    reviewer_libs = {lib for lib, r in team.items() if TeamMember.Role.REVIEWER in r}
    lead_host_libs = reviewer_libs & _lead_host_libraries(user)
    levels = ReviewLevel.objects.filter(Q(library_id__in=lead_libs | reviewer_libs) | Q(members=user)
                                        | (Q(kind=K.PLATFORM) if operator else Q(pk__in=[])))
    explicit_member = set(ReviewLevel.objects.filter(members=user).values_list("pk", flat=True))
    any_contributor, own_org_contributor, other = [], [], []
    for pk, kind, library_id, mode in levels.values_list("pk", "kind", "library_id", "group_mode").distinct():
        if mode == ReviewLevel.GroupMode.EXPLICIT:
            eligible = operator if kind == K.PLATFORM else (operator or library_id in lead_libs | reviewer_libs)
            if pk in explicit_member and eligible:
                other.append(pk)
        elif kind == K.CONTRIBUTOR:
            if library_id in lead_libs:
                any_contributor.append(pk)
            elif library_id in reviewer_libs and user.organization_id:
                own_org_contributor.append(pk)
        elif kind == K.LEAD_HOST and library_id in lead_host_libs:
            other.append(pk)
        elif kind == K.PLATFORM and operator:
            other.append(pk)
    condition = nothing
    if any_contributor or other:
        condition |= Q(level_id__in=sorted(set(any_contributor) | set(other)))
    if own_org_contributor:
        condition |= Q(level_id__in=sorted(own_org_contributor), contributing_org_id=user.organization_id)
    user.__dict__["_reslib_review_q"] = condition
    return condition


def visible_requests(user) -> QuerySet:
    """Requests a user may look at: operators all; a library's lead all of that library's; reviewers those of
    their groups (also after they moved on) and those they decided or hold; submitters their own."""
    qs = ReviewRequest.objects.all()
    if roles.is_operator(user):
        return qs
    if not _authenticated(user):
        return qs.none()
    lead_libs = [lib for lib, r in _libraries_by_role(user).items() if TeamMember.Role.LEAD in r]
    condition = reviewable_q(user) | Q(submitted_by=user) | Q(assignee=user) | Q(decisions__reviewer=user)
    if lead_libs:
        condition |= Q(library_id__in=lead_libs)
    return qs.filter(pk__in=ReviewRequest.objects.filter(condition).values("pk"))


def queue(user) -> QuerySet:
    """The workbench's default: open requests the user can decide now."""
    return ReviewRequest.objects.filter(reviewable_q(user), state__in=DECIDABLE_STATES)
