"""What a viewer is shown of the people of a library — its team and the actors of its history — by the rule of
policies.can_see_people. Shared by the library pages and the API."""

from django.utils.translation import gettext as _

from reslib.accounts.models import RoleGrant

from .models import Library, TeamMember

# The keys under which audit entries record people (user ids, usernames, named reviewers): dropped for viewers who
# may not see who the people are.
PERSON_KEYS = frozenset({"user", "username", "members", "actor", "assignee", "reviewer", "created_by", "invited_by"})


def member_name(user, *, insider: bool) -> str:
    """A member's name: the public see the real name only, never the username it falls back to."""
    if insider:
        return user.display_name
    return user.real_name or _("Name not given")


def without_people(value):
    """An audit entry's before/after without the people recorded in it."""
    if isinstance(value, dict):
        return {key: without_people(item) for key, item in value.items() if key not in PERSON_KEYS}
    if isinstance(value, list):
        return [without_people(item) for item in value]
    return value


def public_roles(library: Library, users) -> dict[int, str]:
    """{user id: what the user is to the library} for viewers who may not know who they are: their team roles and
    institution (“项目负责人 · 江苏信息职业技术学院”), else their platform role for this library, else their
    institution. Roles as they are now. Two queries whatever the number of users (their organisations loaded)."""
    users = {u.pk: u for u in users if u is not None}
    if not users:
        return {}
    team: dict[int, list[str]] = {}
    for user_id, role in (TeamMember.objects.filter(library=library, user_id__in=users)
                          .values_list("user_id", "role")):
        team.setdefault(user_id, []).append(role)
    grants: dict[int, set[str]] = {}
    for user_id, role, province_id in RoleGrant.objects.filter(user_id__in=users).values_list(
            "user_id", "role", "province_id"):
        if role == RoleGrant.Role.OPERATOR or (role == RoleGrant.Role.PROVINCE_ADMIN
                                               and province_id == library.province_id):
            grants.setdefault(user_id, set()).add(role)
    labels = {}
    for pk, user in users.items():
        institution = user.organization.name if user.organization_id else ""
        if pk in team:
            roles = "、".join(str(r.label) for r in TeamMember.Role if r in team[pk])
            labels[pk] = " · ".join(p for p in (roles, institution) if p)
        elif RoleGrant.Role.PROVINCE_ADMIN in grants.get(pk, ()):
            labels[pk] = str(RoleGrant.Role.PROVINCE_ADMIN.label)
        elif RoleGrant.Role.OPERATOR in grants.get(pk, ()):
            labels[pk] = str(RoleGrant.Role.OPERATOR.label)
        else:
            labels[pk] = institution
    return labels
