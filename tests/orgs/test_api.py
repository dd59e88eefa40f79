"""Orgs API: regions, the majors catalogue, institutions (list, detail, registration with stable error codes)."""

import pytest

from reslib.core.models import AuditEntry
from reslib.orgs.models import Major, Organization

from .. import factories
from .conftest import CONTACT_CASES, CONTACTS

API = "/api/v1"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["fields"], dict)
    return body["error"]


def new_org(**overrides) -> dict:
    data = {"name": "无锡职业技术学院", "type": "higher_vocational", "credit_code": factories.credit_code("320200"),
            "province": "320000", "city": "320200", "address": "无锡市高浪西路1600号", "contact_name": "李老师",
            "contact_phone": "0510-81838888", "contact_email": "office@example.edu.cn"}
    data.update(overrides)
    return data


# --- regions and majors ------------------------------------------------------------------------------------


def test_regions_filter_by_level_and_parent(client, db):
    provinces = client.get(f"{API}/regions", {"level": "province", "limit": 100}).json()
    assert provinces["count"] >= 31
    assert {"code": "320000", "name": "江苏省", "level": "province", "parent": None} in provinces["items"]
    cities = client.get(f"{API}/regions", {"parent": "320000", "limit": 100}).json()
    assert cities["count"] >= 1
    assert all(c["parent"] == "320000" and c["level"] == "city" for c in cities["items"])
    assert client.get(f"{API}/regions", {"level": "planet"}).status_code == 422


def test_majors_search_by_code_name_level_and_category(client, db):
    body = client.get(f"{API}/majors", {"q": "5102"}).json()
    assert body["count"] >= 3 and all(m["code"].startswith("5102") for m in body["items"])
    by_name = client.get(f"{API}/majors", {"q": "软件"}).json()["items"]
    assert "510203" in {m["code"] for m in by_name}
    secondary = client.get(f"{API}/majors", {"level": "secondary"}).json()["items"]
    assert secondary and all(m["level"] == "secondary" for m in secondary)
    category = client.get(f"{API}/majors", {"category": "46"}).json()["items"]
    assert category and all(m["category_code"] == "46" for m in category)
    major = next(m for m in by_name if m["code"] == "510203")
    assert major["id"] == Major.objects.get(code="510203").pk and major["level_label"]


# --- organisations -----------------------------------------------------------------------------------------


def test_organisations_list_and_filters(client, college, enterprise, outside_college):
    body = client.get(f"{API}/organizations").json()
    assert body["count"] == 3
    assert {o["name"] for o in client.get(f"{API}/organizations", {"province": "330000"}).json()["items"]} == {
        outside_college.name}
    assert [o["id"] for o in client.get(f"{API}/organizations", {"type": "enterprise"}).json()["items"]] == [
        enterprise.pk]
    assert [o["id"] for o in client.get(f"{API}/organizations", {"q": "数智"}).json()["items"]] == [enterprise.pk]
    assert [o["id"] for o in client.get(f"{API}/organizations", {"q": college.credit_code.lower()}).json()["items"]] \
        == [college.pk]


def test_organisation_list_has_no_query_per_row(client, db, django_assert_max_num_queries):
    for _ in range(12):
        factories.organization()
    with django_assert_max_num_queries(3):
        assert client.get(f"{API}/organizations").json()["count"] == 12


@pytest.mark.parametrize("who, sees", CONTACT_CASES)
def test_organisation_contacts_only_for_those_who_work_with_it(client, college, contacts_audience, who, sees):
    if contacts_audience[who] is not None:
        client.force_login(contacts_audience[who])
    body = client.get(f"{API}/organizations/{college.pk}").json()
    assert body["name"] == college.name and body["province"] == {"code": "320000", "name": "江苏省"}
    contacts = {key: body[key] for key in CONTACTS}
    assert contacts == (CONTACTS if sees else dict.fromkeys(CONTACTS))


def test_organisation_detail_of_unknown_id_is_404(client, db):
    assert_error(client.get(f"{API}/organizations/999999"), 404, "not_found")


def test_operator_registers_an_organisation(client, operator):
    client.force_login(operator)
    client.defaults["REMOTE_ADDR"] = "203.0.113.20"
    response = client.post(f"{API}/organizations", new_org(), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "无锡职业技术学院" and body["city"] == {"code": "320200", "name": "无锡市"}
    org = Organization.objects.get(pk=body["id"])
    entry = AuditEntry.objects.get(action="org.create", target_id=str(org.pk))
    assert entry.actor == operator and entry.client_address == "203.0.113.20"


def test_wrong_credit_code_is_refused_with_stable_code(client, operator):
    client.force_login(operator)
    code = factories.credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    before = Organization.objects.count()
    error = assert_error(client.post(f"{API}/organizations", new_org(credit_code=wrong),
                                     content_type="application/json"), 400, "org.credit_code_checksum")
    assert [e["code"] for e in error["fields"]["credit_code"]] == ["org.credit_code_checksum"]
    assert Organization.objects.count() == before
    assert not AuditEntry.objects.filter(action="org.create").exists()


def test_all_broken_rules_come_back_at_once(client, operator, college):
    client.force_login(operator)
    error = assert_error(client.post(f"{API}/organizations",
                                     new_org(name=college.name, credit_code="123", type="castle", city="110100"),
                                     content_type="application/json"), 400, "org.name_taken")
    assert set(error["fields"]) == {"name", "type", "credit_code", "city"}
    assert error["fields"]["credit_code"][0]["code"] == "org.credit_code_length"


def test_province_admin_registers_only_in_own_province(client, province_admin, other_province_admin):
    client.force_login(other_province_admin)
    assert_error(client.post(f"{API}/organizations", new_org(), content_type="application/json"),
                 403, "org.create_denied")
    assert not Organization.objects.filter(name="无锡职业技术学院").exists()
    client.force_login(province_admin)
    assert client.post(f"{API}/organizations", new_org(), content_type="application/json").status_code == 201


@pytest.mark.parametrize("who", ["anonymous", "lead"])
def test_others_cannot_register_organisations(client, lead, who):
    if who == "lead":
        client.force_login(lead)
        assert_error(client.post(f"{API}/organizations", new_org(), content_type="application/json"),
                     403, "org.create_denied")
    else:
        assert_error(client.post(f"{API}/organizations", new_org(), content_type="application/json"),
                     401, "auth.required")
    assert not Organization.objects.filter(name="无锡职业技术学院").exists()
