"""Request-wide middleware: error answers also in debug mode, multipart bodies refused before anything reads them,
the Content-Security-Policy of HTML pages."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

import reslib
from reslib.core.middleware import ErrorAnswersMiddleware
from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.review.moderation_models import SensitiveWord

from .. import factories

pytestmark = pytest.mark.django_db

API = "/api/v1"


# --- multipart bodies ----------------------------------------------------------------------------------------------

SPOOLED: list[str] = []


class RecordingUploadHandler(TemporaryFileUploadHandler):
    """Django's handler that writes file parts to FILE_UPLOAD_TEMP_DIR, noting each temporary file it opens (Django
    deletes them when the request ends, so the directory alone shows nothing afterwards)."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        SPOOLED.append(self.file.temporary_file_path())


@pytest.fixture
def upload_dir(settings, tmp_path):
    SPOOLED.clear()
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    settings.FILE_UPLOAD_HANDLERS = ["tests.core.test_middleware.RecordingUploadHandler"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    return Path(settings.FILE_UPLOAD_TEMP_DIR)


def big_file():
    """Larger than FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB): Django would write it to a temporary file."""
    return SimpleUploadedFile("大文件.pdf", b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024), content_type="application/pdf")


def browser(user=None) -> Client:
    """CSRF checks on, as in a real browser: CsrfViewMiddleware then reads request.POST of every POST."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def assert_body_untouched(response, upload_dir):
    assert not response.wsgi_request._read_started
    assert SPOOLED == [] and list(upload_dir.iterdir()) == []


@pytest.fixture
def building(lead):
    return factories.library(lead, status=Library.Status.BUILDING)


def test_a_refused_uploaders_body_is_never_read(upload_dir, building, lead, outsider, college):
    reviewer = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=reviewer, role="reviewer")
    resource = factories.resource(building, lead, resource_type="text")
    upload_url = reverse("resources:upload", args=[resource.pk])
    import_url = reverse("resources:import", args=[building.pk])
    words_url = reverse("moderation:words")
    for user, url, status in [(None, upload_url, 403), (reviewer, upload_url, 403), (outsider, upload_url, 404),
                              (None, import_url, 403), (reviewer, import_url, 403), (outsider, import_url, 403),
                              (None, words_url, 403), (lead, words_url, 403)]:
        response = browser(user).post(url, {"file": big_file(), "sheet": big_file(), "role": "main", "form": "import"})
        assert response.status_code == status, (user, url)
        assert_body_untouched(response, upload_dir)
        if user is None:
            assert reverse("accounts:login") + "?next=" in response.content.decode()
    anonymous = browser().post(upload_url, {"file": big_file()})
    assert f'?next=%2Fresources%2F{resource.pk}%2F"' in anonymous.content.decode()  # back to the resource page
    missing = browser(lead).post(reverse("resources:upload", args=[resource.pk + 1000]), {"file": big_file()})
    assert missing.status_code == 404 and "页面不存在" in missing.content.decode()
    assert_body_untouched(missing, upload_dir)
    assert not resource.latest_version.files.exists() and not SensitiveWord.objects.exists()


def test_a_permitted_uploaders_body_goes_through(upload_dir, building, lead):
    resource = factories.resource(building, lead, resource_type="text")
    client = browser(lead)
    client.get(reverse("resources:detail", args=[resource.pk]))  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("resources:upload", args=[resource.pk]),
                           {"file": big_file(), "role": "main", "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content
    assert len(SPOOLED) == 1 and list(upload_dir.iterdir()) == []  # spooled, and removed when the request ended
    assert resource.latest_version.files.get().original_name == "大文件.pdf"


def test_addresses_that_take_no_files_refuse_large_multipart_bodies(upload_dir, lead):
    login = browser().post(reverse("accounts:login"), {"username": "lead", "password": "x", "file": big_file()})
    assert login.status_code == 413 and "此地址不接受文件上传。" in login.content.decode()
    assert_body_untouched(login, upload_dir)
    api = browser().post(f"{API}/me/tokens", {"name": "x", "file": big_file()})
    assert api.status_code == 413 and api.json()["error"]["code"] == "request.too_large"
    assert_body_untouched(api, upload_dir)
    # Only the announced length counts: a gigabyte is refused before a byte of it is read.
    claimed = browser().generic("POST", reverse("accounts:login"), b"--x--\r\n",
                                content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(2**30))
    assert claimed.status_code == 413
    assert_body_untouched(claimed, upload_dir)
    # Ordinary forms (multipart as small as Django keeps in memory) still work.
    ordinary = Client().post(reverse("accounts:login"), {"username": "lead", "password": factories.PASSWORD})
    assert ordinary.status_code == 302


# --- error answers in debug mode -----------------------------------------------------------------------------------


def test_debug_mode_answers_404_with_the_sites_page(client, settings, lead):
    settings.DEBUG = True
    for path in ["/no/such/page/", "/orgs/999999/", f"/resources/{2**70}/"]:
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 404, path
        assert "页面不存在" in html and 'class="site-header"' in html, path
        assert "Django tried these URL patterns" not in html and "DEBUG = True" not in html, path
    english = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 404 and "Page not found" in english.content.decode()
    api = client.get("/api/v2/anything")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert client.get("/orgs").status_code == 301  # APPEND_SLASH still redirects


def test_debug_pages_setting_brings_back_djangos_technical_404(client, settings):
    settings.DEBUG = True
    settings.RESLIB_DEBUG_PAGES = True
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "Django tried these URL patterns" in response.content.decode()


def test_exceptions_of_plain_api_views_answer_in_the_error_shape(settings):
    settings.DEBUG = True
    middleware = ErrorAnswersMiddleware(lambda request: None)
    request = RequestFactory().patch(f"{API}/uploads/00000000-0000-0000-0000-000000000000")
    failed = middleware.process_exception(request, RuntimeError("bug"))
    assert failed.status_code == 500 and failed["Content-Type"] == "application/json"
    assert failed.content.decode().startswith('{"error": {"code": "server_error"')
    assert middleware.process_exception(request, Http404()).status_code == 404
    # A page keeps Django's own handling in debug mode (the traceback page).
    assert middleware.process_exception(RequestFactory().get("/orgs/"), RuntimeError("bug")) is None


# --- Content-Security-Policy ---------------------------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    directives = [d.split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def test_html_pages_carry_the_content_security_policy(client, lead):
    policy = _policy(client.get(reverse("home")))
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe-eval" in sources for sources in policy.values())
    assert "Content-Security-Policy" in client.get("/no/such/page/")
    client.force_login(lead)
    assert _policy(client.get(reverse("libraries:create")))["script-src"] == ["'self'"]
    assert "Content-Security-Policy" not in client.get(f"{API}/regions")


TEMPLATES = sorted(Path(reslib.__file__).resolve().parent.glob("*/templates/**/*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
EVENT_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_templates_run_no_script_the_policy_would_block(template):
    """script-src 'self': no inline <script>, event-handler attribute or javascript: link would run."""
    html = template.read_text()
    assert not INLINE_SCRIPT.search(html)
    assert not EVENT_ATTRIBUTE.search(html)
    assert "javascript:" not in html.lower()
