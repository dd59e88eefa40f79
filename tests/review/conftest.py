"""Fixtures for the review tests: a library under construction with a lead, builders and reviewers from two
institutions, an operator, a second library, and resources ready to submit (PDF main file attached)."""

import io

import pytest
from django.test import Client, TestCase

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import services as resource_services

from .. import factories


def make_pdf(label: str = "讲义") -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": label})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.RESLIB_X_ACCEL_PREFIX = ""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


def member(library, lead, username, org, role, **extra):
    user = factories.user(username, org=org, **extra)
    add_team_member(library, by=lead, user=user, role=role)
    return user


@pytest.fixture
def uploader(building, lead, college):
    return member(building, lead, "uploader", college, "builder", email="uploader@example.com")


@pytest.fixture
def reviewer_a(building, lead, college):
    """Reviewer of the lead host institution (also the contributing institution of the default resource)."""
    return member(building, lead, "reviewer_a", college, "reviewer", email="a@example.com")


@pytest.fixture
def reviewer_b(building, lead, college):
    return member(building, lead, "reviewer_b", college, "reviewer", email="b@example.com")


@pytest.fixture
def host2_reviewer(building, lead, second_college):
    """A reviewer of the second host: not in the lead host's group."""
    return member(building, lead, "reviewer_h2", second_college, "reviewer")


@pytest.fixture
def other_library_reviewer(lead, outside_college):
    other_lead = factories.user("other_lead", org=outside_college)
    other = factories.library(other_lead, hosts=[outside_college], status=Library.Status.BUILDING,
                              name="机电一体化技术专业教学资源库", core="460301", served=())
    return member(other, other_lead, "other_reviewer", outside_college, "reviewer")


def ready_resource(library, by, *, title="数控车床对刀操作讲义", **overrides):
    """A draft with a valid PDF main file, ready to submit."""
    overrides.setdefault("resource_type", "text")
    resource = factories.resource(library, by, title=title, **overrides)
    blob = factories.blob(make_pdf(title), name="讲义.pdf")
    resource_services.attach_file(resource.latest_version, blob, role="main", original_name="讲义.pdf", by=by)
    resource.refresh_from_db()
    return resource


def run_on_commit(fn, *args, **kwargs):
    """Run fn and then its on-commit callbacks (tasks, e-mails) like a real request would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


ALL_PASS = {code: {"passed": True, "comment": ""} for code in (
    "political", "orientation", "scientific", "applicability", "normative", "timeliness", "public_welfare",
    "copyright_holder", "attribution", "originality", "licence", "tech_spec", "virus_scan", "sensitive_words",
    "duplicates")}
