"""Who may see and do what with a library. One policy per action, shared by web pages and the API."""

from django.db.models import Q, QuerySet

from reslib.accounts import roles

from .lifecycle import EDITABLE_STATUSES, LEAD, PROVINCE_ADMIN, TEAM_EDITABLE_STATUSES
from .models import PUBLIC_STATUSES, Library, TeamMember


def team_roles(user, library_id: int) -> set[str]:
    """The user's roles in a library's team, read once per library and kept on the user object."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = user.__dict__.setdefault("_reslib_library_roles", {})
    if library_id not in cache:
        cache[library_id] = set(
            TeamMember.objects.filter(library_id=library_id, user=user).values_list("role", flat=True)
        )
    return cache[library_id]


def is_lead(user, library: Library) -> bool:
    return TeamMember.Role.LEAD in team_roles(user, library.pk)


def is_member(user, library: Library) -> bool:
    return bool(team_roles(user, library.pk))


def visible_libraries(user) -> QuerySet:
    """Public libraries for everyone; applications also for their team, host org admins, the province and operators."""
    qs = Library.objects.all()
    if roles.is_operator(user):
        return qs
    condition = Q(status__in=PUBLIC_STATUSES)
    if getattr(user, "is_authenticated", False):
        condition |= Q(team__user=user)
        org_ids = roles.administered_organization_ids(user)
        if org_ids:
            condition |= Q(hosts__organization_id__in=org_ids)
        provinces = roles.administered_province_codes(user)
        if provinces:
            condition |= Q(province_id__in=provinces) & ~Q(status=Library.Status.DRAFT)
    return qs.filter(pk__in=Library.objects.filter(condition).values("pk"))


def can_view(user, library: Library) -> bool:
    return visible_libraries(user).filter(pk=library.pk).exists()


def can_see_people(user, library: Library) -> bool:
    """Whether the user sees who the people behind a library are, or only their public face.

    Everyone who may see the library (anonymous visitors and learners too) sees the team as published: each member's
    real name, institution and role (a member without a real name shows as "name not given"); and, for each history
    entry, what the actor is to the library — their team roles and institution, else their platform role — but not
    who they are. Usernames and user ids are never shown to them, in the history's details neither.
    The library's insiders also see the accounts (user id, username) and the real names in the history: its team,
    the administrators of its host institutions, the administrators of its province and platform operators."""
    if not getattr(user, "is_authenticated", False):
        return False
    if roles.is_operator(user) or roles.is_province_admin(user, library.province_id) or is_member(user, library):
        return True
    org_ids = roles.administered_organization_ids(user)
    return bool(org_ids) and library.hosts.filter(organization_id__in=org_ids).exists()


def can_apply(user) -> bool:
    """Filing an application needs an account that belongs to an institution (it becomes a host)."""
    return bool(getattr(user, "is_authenticated", False) and user.organization_id)


def can_edit_application(user, library: Library) -> bool:
    return library.status in EDITABLE_STATUSES and is_lead(user, library)


def can_manage_team(user, library: Library) -> bool:
    return library.status in TEAM_EDITABLE_STATUSES and is_lead(user, library)


def can_perform(user, library: Library, actor: str) -> bool:
    if actor == LEAD:
        return is_lead(user, library)
    if actor == PROVINCE_ADMIN:
        return roles.is_province_admin(user, library.province_id)
    return False


def can_view_workbench(user) -> bool:
    return roles.is_operator_or_province_admin(user)
