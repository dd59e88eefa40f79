import pytest

from reslib.accounts.models import RoleGrant
from reslib.libraries import policies
from reslib.libraries.models import Library

from .. import factories

S = Library.Status


@pytest.fixture
def libraries_in_every_state(lead):
    return {status: factories.library(lead, status=status, name=f"资源库-{status}") for status in S.values}


def visible_statuses(user):
    return set(policies.visible_libraries(user).values_list("status", flat=True))


def test_anonymous_and_strangers_see_only_approved_projects(libraries_in_every_state, outsider):
    from django.contrib.auth.models import AnonymousUser

    public = set(S.values) - {S.DRAFT, S.SUBMITTED, S.NOT_APPROVED}
    assert visible_statuses(AnonymousUser()) == public
    assert visible_statuses(outsider) == public


def test_team_sees_everything_of_its_library(libraries_in_every_state, lead):
    assert visible_statuses(lead) == set(S.values)


def test_province_admin_sees_filed_applications_of_own_province_only(libraries_in_every_state, province_admin,
                                                                     other_province_admin):
    assert visible_statuses(province_admin) == set(S.values) - {S.DRAFT}
    assert S.SUBMITTED not in visible_statuses(other_province_admin)


def test_host_organisation_admin_sees_its_drafts(libraries_in_every_state, college, outside_college):
    own_admin = factories.user("college_admin", role=RoleGrant.Role.ORG_ADMIN, administered_org=college)
    other_admin = factories.user("other_admin", role=RoleGrant.Role.ORG_ADMIN, administered_org=outside_college)
    assert S.DRAFT in visible_statuses(own_admin)
    assert S.DRAFT not in visible_statuses(other_admin)


def test_operator_sees_all(libraries_in_every_state, operator):
    assert visible_statuses(operator) == set(S.values)


def test_visible_libraries_has_no_duplicates_for_many_roles(lead, builder, college):
    lib = factories.library(lead)
    RoleGrant.objects.create(user=lead, role=RoleGrant.Role.ORG_ADMIN, organization=college)
    lead.__dict__.pop("_reslib_role_grants", None)
    assert list(policies.visible_libraries(lead)) == [lib]


def test_can_apply_needs_an_institution(lead, db):
    assert policies.can_apply(lead)
    assert not policies.can_apply(factories.user("learner"))
