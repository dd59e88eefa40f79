"""Home page, shared layout and the operators' audit log."""

import datetime
import json

import pytest
from django.http import Http404
from django.urls import get_resolver, reverse
from django.utils import timezone

from reslib.core.models import AuditEntry
from reslib.libraries.models import Library
from reslib.orgs import services as org_services
from tests import factories

pytestmark = pytest.mark.django_db


def test_home_renders_in_chinese_by_default(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "职业教育专业教学资源库" in html
    assert "登录" in html and "注册" in html
    # htmx is vendored and every htmx request carries the CSRF token.
    assert "vendor/htmx.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_home_shows_public_libraries_only(client, lead, second_college):
    public = factories.library(lead, name="公开的资源库", status=Library.Status.BUILDING)
    factories.library(lead, name="草稿资源库", hosts=[lead.organization, second_college])
    html = client.get(reverse("home")).content.decode()
    assert public.name in html
    assert "草稿资源库" not in html


def test_home_query_count_is_bounded(client, django_assert_max_num_queries, lead):
    for n in range(6):
        factories.library(lead, name=f"资源库{n}", status=Library.Status.BUILDING)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("home")).status_code == 200


def test_nav_shows_audit_link_to_operators_only(client, operator, lead):
    client.force_login(lead)
    html = client.get(reverse("home")).content.decode()
    assert reverse("core:audit") not in html
    assert "个人中心" in html and "退出登录" in html
    client.force_login(operator)
    assert reverse("core:audit") in client.get(reverse("home")).content.decode()


def test_pages_404_in_the_site_layout(client):
    response = client.get("/orgs/999999/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


# --- audit log --------------------------------------------------------------------------------------------------


def test_audit_log_redirects_anonymous_users_to_login(client):
    response = client.get(reverse("core:audit"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_audit_log_refuses_non_operators(client, lead, province_admin):
    for user in (lead, province_admin):
        client.force_login(user)
        response = client.get(reverse("core:audit"))
        assert response.status_code == 403
        assert "无权访问" in response.content.decode()


def test_audit_log_lists_and_filters_entries(client, operator, library):
    org_services.create_organization(
        org_services.OrganizationData(name="常州信息职业技术学院", type="higher_vocational",
                                      credit_code=factories.credit_code("320400"), province="320000"),
        by=operator,
    )
    client.force_login(operator)
    url = reverse("core:audit")

    html = client.get(url).content.decode()
    assert "审计日志" in html
    assert "library.create" in html and "org.create" in html
    assert "常州信息职业技术学院" in html  # the "after" JSON, compactly, non-ASCII kept readable

    html = client.get(url, {"actor": "operator"}).content.decode()
    assert "org.create" in html and "library.create" not in html

    html = client.get(url, {"action": "library."}).content.decode()
    assert "library.create" in html and "org.create" not in html

    html = client.get(url, {"target_type": "orgs.organization"}).content.decode()
    assert "org.create" in html and "library.create" not in html

    today = timezone.localdate()
    html = client.get(url, {"date_from": today.isoformat(), "date_to": today.isoformat()}).content.decode()
    assert "org.create" in html
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    html = client.get(url, {"date_from": tomorrow}).content.decode()
    assert "org.create" not in html and "没有符合筛选条件的记录" in html

    response = client.get(url, {"date_from": tomorrow, "date_to": today.isoformat()})
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_audit_log_paginates_and_keeps_filters(client, operator):
    from django.db import transaction

    from reslib.core import audit

    with transaction.atomic():
        for _ in range(55):
            audit.record(actor=operator, action="test.bulk", target=operator)
    client.force_login(operator)
    response = client.get(reverse("core:audit"), {"action": "test."})
    html = response.content.decode()
    assert response.context["page_obj"].paginator.num_pages == 2
    assert "?action=test.&amp;page=2" in html
    response = client.get(reverse("core:audit"), {"action": "test.", "page": 2})
    assert len(response.context["page_obj"].object_list) == 5


def test_audit_log_page_does_not_change_entries(client, operator, library):
    count = AuditEntry.objects.count()
    client.force_login(operator)
    client.post(reverse("core:audit"), {"actor": "x"})
    assert AuditEntry.objects.count() == count


def test_operators_see_on_every_page_that_production_runs_without_virus_scanning(client, operator, lead, settings):
    settings.DEBUG = False
    settings.RESLIB_CLAMD_URL = ""
    client.force_login(operator)
    for url in (reverse("home"), reverse("core:audit")):
        html = client.get(url).content.decode()
        assert 'id="virus-scan-off"' in html and "病毒扫描未启用" in html and "RESLIB_CLAMD_URL" in html
    client.force_login(lead)
    assert 'id="virus-scan-off"' not in client.get(reverse("home")).content.decode()  # an operator's matter
    client.force_login(operator)
    settings.RESLIB_CLAMD_URL = "unix:///run/clamav/clamd.ctl"
    assert 'id="virus-scan-off"' not in client.get(reverse("home")).content.decode()
    settings.RESLIB_CLAMD_URL = ""
    settings.DEBUG = True  # a laptop needs no warning
    assert 'id="virus-scan-off"' not in client.get(reverse("home")).content.decode()


# --- error handlers (production mode: DEBUG off, as in tests) ----------------------------------------------------


def test_a_bad_request_gets_the_sites_page_or_the_api_error_shape(client):
    page = client.get("/orgs/", HTTP_HOST="evil.example")  # DisallowedHost: refused before any view runs
    assert page.status_code == 400
    html = page.content.decode()
    assert "请求无效" in html and 'class="site-header"' in html
    api = client.get("/api/v1/regions", HTTP_HOST="evil.example")
    assert api.status_code == 400 and api.json()["error"]["code"] == "request.invalid"


def test_server_errors_answer_api_paths_in_the_error_shape(rf):
    handler = get_resolver().resolve_error_handler(500)
    api = handler(rf.get("/api/v1/uploads/"))
    assert api.status_code == 500 and json.loads(api.content)["error"]["code"] == "server_error"
    page = handler(rf.get("/orgs/"))
    assert page.status_code == 500 and "服务器错误" in page.content.decode()
    not_found = get_resolver().resolve_error_handler(404)(rf.get("/api/v2/x"), Http404())
    assert not_found.status_code == 404 and json.loads(not_found.content)["error"]["code"] == "not_found"
