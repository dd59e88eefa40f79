import pytest

from reslib.accounts.models import RoleGrant
from reslib.orgs.models import Organization

from . import factories


@pytest.fixture
def college(db):
    return factories.organization("江苏信息职业技术学院")


@pytest.fixture
def second_college(db):
    return factories.organization("南京工业职业技术大学", type=Organization.Type.VOCATIONAL_UNDERGRADUATE)


@pytest.fixture
def enterprise(db):
    return factories.organization("苏州数智科技有限公司", type=Organization.Type.ENTERPRISE)


@pytest.fixture
def outside_college(db):
    return factories.organization("浙江机电职业技术学院", province="330000")


@pytest.fixture
def lead(college):
    return factories.user("lead", org=college, real_name="王建国")


@pytest.fixture
def builder(college):
    return factories.user("builder", org=college)


@pytest.fixture
def outsider(outside_college):
    return factories.user("outsider", org=outside_college)


@pytest.fixture
def province_admin(db):
    return factories.user("province", role=RoleGrant.Role.PROVINCE_ADMIN, province="320000")


@pytest.fixture
def other_province_admin(db):
    return factories.user("zj_province", role=RoleGrant.Role.PROVINCE_ADMIN, province="330000")


@pytest.fixture
def operator(db):
    return factories.user("operator", role=RoleGrant.Role.OPERATOR)


@pytest.fixture
def library(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise])
