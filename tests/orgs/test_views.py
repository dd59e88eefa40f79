"""Institution list, detail and registration pages; the majors catalogue."""

import re

import pytest
from django.urls import reverse

from reslib.core.models import AuditEntry
from reslib.libraries.models import Library
from reslib.orgs.models import Organization
from reslib.orgs.validators import credit_code_check_character
from tests import factories

from .conftest import CONTACT_CASES, CONTACTS

pytestmark = pytest.mark.django_db


def field_errors(html: str, field: str) -> list[str]:
    block = re.search(rf'<div class="field[^"]*field-{field}">(.*?)\n</div>', html, re.S)
    assert block, f"no field block for {field}"
    return re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', block.group(1), re.S)


def valid_code() -> str:
    body = "12320000MB0012345"
    return body + credit_code_check_character(body)


def form_data(**overrides):
    data = {"name": "无锡职业技术学院", "type": "higher_vocational", "credit_code": valid_code(),
            "province": "320000", "city": "320200", "address": "无锡市高浪西路1600号", "contact_name": "张老师",
            "contact_phone": "0510-81838000", "contact_email": "office@example.edu.cn"}
    data.update(overrides)
    return data


# --- list and detail --------------------------------------------------------------------------------------------


def test_list_searches_and_filters(client, college, enterprise, outside_college):
    url = reverse("orgs:list")
    html = client.get(url).content.decode()
    assert response_has_all(html, college.name, enterprise.name, outside_college.name)
    assert "统一社会信用代码" in html

    html = client.get(url, {"q": "信息"}).content.decode()
    assert college.name in html and enterprise.name not in html

    html = client.get(url, {"province": "330000"}).content.decode()
    assert outside_college.name in html and college.name not in html

    html = client.get(url, {"type": "enterprise"}).content.decode()
    assert enterprise.name in html and college.name not in html


def response_has_all(html, *names):
    return all(name in html for name in names)


def test_list_paginates_with_filters_kept(client):
    for _ in range(25):
        factories.organization()
    response = client.get(reverse("orgs:list"), {"q": "测试"})
    assert response.context["page_obj"].paginator.num_pages == 2
    assert "?q=%E6%B5%8B%E8%AF%95&amp;page=2" in response.content.decode()


def test_detail_shows_only_libraries_the_user_may_see(client, lead, library, second_college, enterprise):
    public = factories.library(lead, name="已立项资源库", hosts=[lead.organization, second_college],
                               participants=[enterprise],
                               status=Library.Status.APPROVED)
    url = reverse("orgs:detail", args=[second_college.pk])
    html = client.get(url).content.decode()
    assert public.name in html
    assert library.name not in html  # a draft: not public

    client.force_login(lead)
    html = client.get(url).content.decode()
    assert public.name in html and library.name in html
    html = client.get(reverse("orgs:detail", args=[enterprise.pk])).content.decode()
    assert "参建的资源库" in html and public.name in html


@pytest.mark.parametrize("who, sees", CONTACT_CASES)
def test_detail_shows_contacts_only_to_those_who_work_with_the_institution(client, college, contacts_audience, who,
                                                                          sees):
    if contacts_audience[who] is not None:
        client.force_login(contacts_audience[who])
    html = client.get(reverse("orgs:detail", args=[college.pk])).content.decode()
    assert college.name in html and college.credit_code in html
    for shown in (*CONTACTS.values(), "联系电话"):
        assert (shown in html) == sees, shown
    assert ("联系方式仅向与本机构共事的人员显示" in html) == (not sees)


def test_detail_of_unknown_org_is_404(client):
    assert client.get(reverse("orgs:detail", args=[424242])).status_code == 404


# --- registering an institution ---------------------------------------------------------------------------------


def test_create_needs_login(client):
    response = client.get(reverse("orgs:create"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_create_refused_for_ordinary_users(client, lead):
    client.force_login(lead)
    assert client.get(reverse("orgs:create")).status_code == 403
    assert client.post(reverse("orgs:create"), form_data()).status_code == 403
    assert not Organization.objects.filter(name="无锡职业技术学院").exists()


def test_operator_registers_an_institution(client, operator):
    client.force_login(operator)
    response = client.post(reverse("orgs:create"), form_data())
    org = Organization.objects.get(name="无锡职业技术学院")
    assert response.status_code == 302 and response["Location"] == reverse("orgs:detail", args=[org.pk])
    assert org.city_id == "320200" and org.credit_code == valid_code()
    assert AuditEntry.objects.filter(action="org.create", target_id=str(org.pk), actor=operator).exists()


def test_wrong_credit_code_shows_chinese_error_beside_the_field(client, operator):
    client.force_login(operator)
    code = valid_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.post(reverse("orgs:create"), form_data(credit_code=wrong))
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "credit_code") == ["统一社会信用代码的校验码不正确，请核对。"]
    assert not Organization.objects.filter(name="无锡职业技术学院").exists()

    response = client.post(reverse("orgs:create"), form_data(credit_code="123"))
    assert field_errors(response.content.decode(), "credit_code") == ["统一社会信用代码应为 18 位。"]


def test_duplicate_name_and_foreign_city(client, operator, college):
    client.force_login(operator)
    response = client.post(reverse("orgs:create"), form_data(name=college.name))
    assert field_errors(response.content.decode(), "name") == ["同名机构已登记。"]
    assert Organization.objects.filter(name=college.name).count() == 1
    response = client.post(reverse("orgs:create"), form_data(city="330100"))
    assert field_errors(response.content.decode(), "city")
    assert not Organization.objects.filter(name="无锡职业技术学院").exists()


def test_province_admin_registers_only_in_own_province(client, province_admin):
    client.force_login(province_admin)
    page = client.get(reverse("orgs:create")).content.decode()
    assert 'value="320000"' in page and 'value="330000"' not in page

    response = client.post(reverse("orgs:create"), form_data(province="330000", city="", name="浙江某学院"))
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "province")
    assert not Organization.objects.filter(name="浙江某学院").exists()

    response = client.post(reverse("orgs:create"), form_data())
    assert response.status_code == 302
    assert Organization.objects.filter(name="无锡职业技术学院", province_id="320000").exists()


def test_list_offers_registration_only_to_those_allowed(client, lead, province_admin):
    client.force_login(lead)
    assert reverse("orgs:create") not in client.get(reverse("orgs:list")).content.decode()
    client.force_login(province_admin)
    assert reverse("orgs:create") in client.get(reverse("orgs:list")).content.decode()


def test_city_options_for_htmx(client):
    html = client.get(reverse("orgs:city_options"), {"province": "320000"}).content.decode()
    assert "南京市" in html and "杭州市" not in html
    html = client.get(reverse("orgs:city_options"), {"province": "bogus"}).content.decode()
    assert "南京市" not in html


# --- majors catalogue -------------------------------------------------------------------------------------------


def test_majors_catalogue_search_and_level_filter(client):
    url = reverse("orgs:majors")
    html = client.get(url).content.decode()
    assert "专业目录" in html and "<code>510201</code>" in html and "电子与信息大类" in html

    html = client.get(url, {"q": "5102"}).content.decode()
    assert "<code>510201</code>" in html and "<code>460101</code>" not in html

    html = client.get(url, {"q": "数控"}).content.decode()
    assert "<code>460103</code>" in html and "<code>510201</code>" not in html

    html = client.get(url, {"level": "undergraduate"}).content.decode()
    assert "<code>510201</code>" not in html
    assert "职业本科" in html
