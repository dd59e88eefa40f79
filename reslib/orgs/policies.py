"""Who may do what with institutions. Shared by the web pages and the services."""

from django.db.models import Q

from reslib.accounts import roles


def can_register_organization(user, province_code: str | None = None) -> bool:
    """Operators register institutions anywhere, province administrators in their own province; without a
    province: whether the user may register institutions at all."""
    return roles.is_operator_or_province_admin(user, province_code)


def can_see_contact_details(user, organization) -> bool:
    """An institution's contact person, phone and e-mail are for the people who work with it: platform operators,
    the administrators of its province, its own administrators, and the team members of the libraries it hosts or
    takes part in. Anonymous visitors, learners and other institutions' staff see its public details only."""
    if not getattr(user, "is_authenticated", False):
        return False
    if roles.is_operator_or_province_admin(user, organization.province_id):
        return True
    if organization.pk in roles.administered_organization_ids(user):
        return True
    # user.library_roles: the TeamMember rows (libraries sit above orgs, so no import of their models here).
    return user.library_roles.filter(Q(library__hosts__organization=organization)
                                     | Q(library__participants__organization=organization)).exists()
