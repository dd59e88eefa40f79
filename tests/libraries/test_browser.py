"""End to end in a real browser: the lead files an application through the Chinese UI, the province sees it.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright. Without Chromium the test is skipped, unless
RESLIB_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

import os
import re
from pathlib import Path

import pytest

from reslib.accounts.models import RoleGrant
from reslib.libraries.models import Library
from reslib.orgs.models import Organization

from .. import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LIBRARY_NAME = "软件技术专业教学资源库（浏览器测试）"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _browser_unavailable(reason: str):
    if os.environ.get("RESLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"RESLIB_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(f"{reason}; install Debian's chromium package (or set RESLIB_REQUIRE_BROWSER=1 to make this fail)")


@pytest.fixture
def playwright_sync():
    if not os.path.exists(CHROMIUM):
        _browser_unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        _browser_unavailable("the playwright Python package is not installed")
    return sync_playwright


def _log_in(page, base_url, username, next_path):
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + r"$"))


def _log_out(page):
    page.click(".user-menu summary")
    page.click(".user-menu form button[type=submit]")
    page.wait_for_load_state()


def test_lead_files_an_application_that_reaches_the_province_workbench(live_server, playwright_sync, monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the database work here happens before and after.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    college = factories.organization("江苏信息职业技术学院")
    enterprise = factories.organization("苏州数智科技有限公司", type=Organization.Type.ENTERPRISE)
    factories.user("lead", org=college, real_name="王建国")
    factories.user("province", role=RoleGrant.Role.PROVINCE_ADMIN, province="320000", real_name="李省管")
    core = factories.major("510203")
    served = [factories.major("510201"), factories.major("510205")]
    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url

    with playwright_sync() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            context.set_default_timeout(10_000)
            page = context.new_page()

            _log_in(page, base, "lead", "/libraries/new/")
            assert page.locator("h1").inner_text() == "申报资源库"
            # The user's own institution is preselected as the lead host.
            assert page.locator("#id_host_1").input_value() == str(college.pk)

            page.fill("#id_name", LIBRARY_NAME)
            page.fill("#id_description", "面向软件技术专业的共建共享资源库。")
            page.select_option("#id_level", "provincial")
            page.select_option("#id_province", "320000")
            page.select_option("#id_core_major", str(core.pk))
            # First try: the core major also chosen as a served major.
            page.select_option("#id_served_majors", [str(core.pk), str(served[0].pk)])
            page.select_option("#id_participants", str(enterprise.pk))
            page.fill("#id_build_start", "2026-09-01")
            page.click("text=保存申报")
            error = page.locator(".field-served_majors .field-error")
            assert error.inner_text().endswith("核心专业不能同时作为服务专业。")
            assert page.locator("#id_name").input_value() == LIBRARY_NAME  # input kept
            page.screenshot(path=str(ARTIFACTS / "browser-application-errors.png"), full_page=True)

            page.select_option("#id_served_majors", [str(m.pk) for m in served])
            page.click("text=保存申报")
            page.wait_for_url(re.compile(r"/libraries/\d+/$"))
            assert page.locator("#library-status").inner_text() == "草稿"

            # Submit the application (lifecycle action "submit").
            page.click("summary[data-action=submit]")
            page.click("#action-submit button[type=submit]")
            page.locator("#library-status", has_text="已申报").wait_for()
            assert "提交申报" in page.locator("#history-title ~ .history").inner_text()
            page.screenshot(path=str(ARTIFACTS / "browser-submitted.png"), full_page=True)

            _log_out(page)
            _log_in(page, base, "province", "/libraries/workbench/")
            pending = page.locator("#pending-title ~ .table-wrap")
            assert LIBRARY_NAME in pending.inner_text()
            page.screenshot(path=str(ARTIFACTS / "browser-workbench.png"), full_page=True)
        finally:
            browser.close()

    library = Library.objects.get(name=LIBRARY_NAME)
    assert library.status == Library.Status.SUBMITTED
    assert [h.organization_id for h in library.hosts.all()] == [college.pk]
