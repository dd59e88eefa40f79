"""The Content-Security-Policy in a real browser: the main pages load and their scripts run with nothing blocked."""

import pytest

from reslib.libraries.models import Library

from .. import factories
from ..libraries.test_browser import CHROMIUM, CHROMIUM_ARGS, _log_in, playwright_sync  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_main_pages_work_under_the_policy(live_server, playwright_sync, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    lead = factories.user("lead", org=factories.organization("江苏信息职业技术学院"), real_name="王建国")
    library = factories.library(lead, status=Library.Status.BUILDING)
    base = live_server.url
    violations = []

    with playwright_sync() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(10_000)
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

            page.goto(f"{base}/")
            page.goto(f"{base}/no/such/page/")
            assert "页面不存在" in page.locator("main").inner_text()
            page.goto(f"{base}/api/v1/docs")
            page.locator(".swagger-ui .info .title").wait_for()  # Swagger UI's own scripts ran

            _log_in(page, base, "lead", "/libraries/new/")
            page.locator(".selected-summary").first.wait_for()  # libraries/form.js ran
            assert page.locator(".selected-summary").first.inner_text() == "尚未选择。"

            page.goto(f"{base}/libraries/{library.pk}/resources/new/")
            rows = page.locator("[data-author-row]")
            before = rows.count()
            page.click("[data-add-author]")  # resources/form.js ran
            assert rows.count() == before + 1
        finally:
            browser.close()
    assert violations == []
