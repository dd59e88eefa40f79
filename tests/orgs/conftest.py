import pytest

from reslib.libraries.services import add_team_member
from reslib.orgs.models import Organization

from .. import factories

CONTACTS = {"contact_name": "李老师", "contact_phone": "025-12345678", "contact_email": "zyk@example.edu.cn"}

# (who, sees the contact details of `college`) for the contacts_audience fixture.
CONTACT_CASES = [
    ("anonymous", False), ("learner", False), ("member_of_another_library", False), ("other_province_admin", False),
    ("library_member", True), ("org_admin", True), ("province_admin", True), ("operator", True),
]


@pytest.fixture
def contacts_audience(library, college, enterprise, outside_college):
    """`college` (a host of `library`) with contact details, and the people who may or may not see them."""
    Organization.objects.filter(pk=college.pk).update(**CONTACTS)
    engineer = factories.user("engineer", org=enterprise)  # works for a participant of the library
    add_team_member(library, by=library.created_by, user=engineer, role="builder")
    other_lead = factories.user("other_lead", org=outside_college)
    factories.library(other_lead, hosts=[outside_college], province="330000", name="别省资源库")
    return {
        "anonymous": None,
        "learner": factories.user("student", org=college, learner_category="student"),
        "member_of_another_library": other_lead,
        "other_province_admin": factories.user("zj", role="province_admin", province="330000"),
        "library_member": engineer,
        "org_admin": factories.user("college_admin", org=college, role="org_admin"),
        "province_admin": factories.user("js", role="province_admin", province="320000"),
        "operator": factories.user("op", role="operator"),
    }
