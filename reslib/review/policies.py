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

from django.db.models import Q, QuerySet

from reslib.accounts import roles
from reslib.accounts.models import RoleGrant, User
from reslib.libraries.models import LibraryHost, TeamMember
from reslib.resources.models import VersionAuthor

from .models import DECIDABLE_STATES, ReviewLevel, ReviewRequest

K = ReviewLevel.Kind
REVIEWING_ROLES = (TeamMember.Role.REVIEWER, TeamMember.Role.LEAD)


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _team(user) -> dict[int, set[str]]:
    """{library_id: {roles}} of the user, read once per user object."""
    if not _authenticated(user):
        return {}
    cached = user.__dict__.get("_reslib_review_team")
    if cached is None:
        cached = {}
        for library_id, role in TeamMember.objects.filter(user=user).values_list("library_id", "role"):
            cached.setdefault(library_id, set()).add(role)
        user.__dict__["_reslib_review_team"] = cached
    return cached


def forget(user) -> None:
    user.__dict__.pop("_reslib_review_q", None)
    user.__dict__.pop("_reslib_review_team", None)
    user.__dict__.pop("_reslib_review_lead_hosts", None)


def _lead_host_libraries(user) -> set[int]:
    """Libraries where the user is a reviewer and belongs to the lead host institution."""
    if not _authenticated(user) or not user.organization_id:
        return set()
    cached = user.__dict__.get("_reslib_review_lead_hosts")
    if cached is None:
        reviewer_libs = [lib for lib, r in _team(user).items() if TeamMember.Role.REVIEWER in r]
        cached = set(LibraryHost.objects.filter(library_id__in=reviewer_libs, position=1,
                                                organization_id=user.organization_id)
                     .values_list("library_id", flat=True)) if reviewer_libs else set()
        user.__dict__["_reslib_review_lead_hosts"] = cached
    return cached


def is_library_lead(user, library_id: int) -> bool:
    return TeamMember.Role.LEAD in _team(user).get(library_id, set())


def is_reviewer_anywhere(user) -> bool:
    """Shows the workbench link: operators, and team reviewers or leads of any library."""
    if not _authenticated(user):
        return False
    return roles.is_operator(user) or any(r & set(REVIEWING_ROLES) for r in _team(user).values())


def _may_act_on_library_level(user, library_id: int) -> bool:
    return bool(_team(user).get(library_id, set()) & set(REVIEWING_ROLES))


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
        team_roles = _team(user).get(library_id, set())
        return TeamMember.Role.LEAD in team_roles or (
            TeamMember.Role.REVIEWER in team_roles and user.organization_id == request.contributing_org_id)
    if level.kind == K.LEAD_HOST:
        return library_id in _lead_host_libraries(user)
    return roles.is_operator(user)


def group_users(level: ReviewLevel, request: ReviewRequest) -> list:
    """Everyone in the level's group for this request (for notifications and the assign list)."""
    if level is None:
        return []
    library_id = request.library_id
    team = TeamMember.objects.filter(library_id=library_id, role__in=REVIEWING_ROLES)
    operators = User.objects.filter(role_grants__role=RoleGrant.Role.OPERATOR, is_active=True)
    if level.group_mode == ReviewLevel.GroupMode.EXPLICIT:
        eligible = operators if level.kind == K.PLATFORM else User.objects.filter(
            Q(pk__in=team.values("user_id")) | Q(pk__in=operators.values("pk")))
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
        users = operators
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


def can_manage_levels(user, library) -> bool:
    return is_library_lead(user, library.pk) or roles.is_operator(user)


def can_assign(user, request: ReviewRequest) -> bool:
    """The library lead assigns at library levels; operators at any level."""
    if roles.is_operator(user):
        return True
    return request.level is not None and request.level.kind != K.PLATFORM and is_library_lead(user,
                                                                                           request.library_id)


def can_withdraw(user, request: ReviewRequest) -> bool:
    return _authenticated(user) and (user.pk == request.submitted_by_id or is_library_lead(user, request.library_id))


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
    team = _team(user)
    operator = roles.is_operator(user)
    lead_libs = {lib for lib, r in team.items() if TeamMember.Role.LEAD in r}
    reviewer_libs = {lib for lib, r in team.items() if TeamMember.Role.REVIEWER in r}
    lead_host_libs = _lead_host_libraries(user)
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
    lead_libs = [lib for lib, r in _team(user).items() if TeamMember.Role.LEAD in r]
    condition = reviewable_q(user) | Q(submitted_by=user) | Q(assignee=user) | Q(decisions__reviewer=user)
    if lead_libs:
        condition |= Q(library_id__in=lead_libs)
    return qs.filter(pk__in=ReviewRequest.objects.filter(condition).values("pk"))


def queue(user) -> QuerySet:
    """The workbench's default: open requests the user can decide now."""
    return ReviewRequest.objects.filter(reviewable_q(user), state__in=DECIDABLE_STATES)
