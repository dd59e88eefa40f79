import io

import pytest

from reslib.core.errors import PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.orgs.models import Major, Organization, Region
from reslib.orgs.services import OrganizationData, create_organization, import_majors, import_regions


def org_data(**overrides):
    data = dict(name="常州机电职业技术学院", type="higher_vocational", credit_code="91350100M000100Y43",
                province="320000", city="320400", contact_email="office@example.edu.cn")
    data.update(overrides)
    return OrganizationData(**data)


def test_operator_registers_an_organisation_with_an_audit_entry(operator):
    org = create_organization(org_data(), by=operator)
    assert org.city.name == "常州市"
    entry = AuditEntry.objects.get(action="org.create")
    assert entry.actor == operator and entry.after["credit_code"] == "91350100M000100Y43"


def test_province_admin_registers_only_in_own_province(province_admin, other_province_admin):
    create_organization(org_data(), by=province_admin)
    with pytest.raises(PermissionDenied):
        create_organization(org_data(name="另一所学院", credit_code="12100000400000624D"), by=other_province_admin)


def test_plain_user_may_not_register_organisations(lead):
    with pytest.raises(PermissionDenied) as exc:
        create_organization(org_data(), by=lead)
    assert exc.value.code == "org.create_denied"


def test_all_broken_rules_reported_and_nothing_written(operator):
    before = Organization.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        create_organization(org_data(name=" ", credit_code="91350100M000100Y44", city="330100",
                                     contact_email="not-an-email"), by=operator)
    fields = exc.value.fields
    assert fields["credit_code"][0]["code"] == "org.credit_code_checksum"
    assert fields["name"][0]["code"] == "org.name_required"
    assert fields["city"][0]["code"] == "org.city_invalid"  # 杭州市 is not in 江苏省
    assert fields["contact_email"][0]["code"] == "org.email_invalid"
    assert Organization.objects.count() == before
    assert not AuditEntry.objects.filter(action="org.create").exists()


def test_duplicate_credit_code_refused(operator):
    create_organization(org_data(), by=operator)
    with pytest.raises(ValidationFailed) as exc:
        create_organization(org_data(name="别的名字"), by=operator)
    assert exc.value.code == "org.credit_code_taken"


MAJORS_CSV = """code,name,level,category_code,category_name,class_code,class_name
500211,汽车检测与维修技术,higher,50,交通运输大类,5002,道路运输类
510201,计算机应用技术（更新）,higher,51,电子与信息大类,5102,计算机类
"""


@pytest.mark.django_db
def test_import_majors_adds_and_updates():
    created, updated = import_majors(io.StringIO(MAJORS_CSV))
    assert (created, updated) == (1, 1)
    assert Major.objects.get(code="500211").class_name == "道路运输类"
    assert Major.objects.get(code="510201").name == "计算机应用技术（更新）"


@pytest.mark.django_db
def test_import_majors_bad_row_writes_nothing():
    bad = MAJORS_CSV + "5102XX,坏行,higher,51,电子与信息大类,5102,计算机类\n"
    with pytest.raises(ValueError, match="line 4"):
        import_majors(io.StringIO(bad))
    assert not Major.objects.filter(code="500211").exists()


@pytest.mark.django_db
def test_import_majors_refuses_codes_that_do_not_nest():
    with pytest.raises(ValueError, match="line 2"):
        import_majors(io.StringIO("code,name,level,category_code,category_name,class_code,class_name\n"
                                  "510299,某专业,higher,46,装备制造大类,4601,机械设计制造类\n"))


@pytest.mark.django_db
def test_import_regions_checks_the_parent_province():
    created, _updated = import_regions(io.StringIO("code,name,level,parent\n440100,广州市,city,440000\n"))
    assert created == 1 and Region.objects.get(code="440100").parent.name == "广东省"
    with pytest.raises(ValueError):
        import_regions(io.StringIO("code,name,level,parent\n440300,深圳市,city,320000\n"))


@pytest.mark.django_db
def test_reference_data_is_shipped():
    assert Region.objects.filter(level="province").count() == 34
    assert Major.objects.get(code="510201").name == "计算机应用技术"
