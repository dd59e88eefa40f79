"""Fixtures and helpers of the question bank tests (services, policies, API, pages): a library under construction with
its lead, a builder who writes questions, two reviewers of the lead host, a learner, a builder of another library, and
the walk through review that publishes a question. Test modules import what they use from here."""

import pytest
from django.test import Client, TestCase

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.questions import services
from reslib.questions.interchange import QuestionData
from reslib.questions.models import QuestionType
from reslib.resources.models import KnowledgePoint
from reslib.resources.services import Author
from reslib.review import services as review_services

from .. import factories
from .factories import SAMPLES

ALL_PASS = {code: {"passed": True, "comment": ""} for code in (
    "political", "orientation", "scientific", "applicability", "normative", "timeliness", "public_welfare",
    "copyright_holder", "attribution", "originality", "licence", "tech_spec", "virus_scan", "sensitive_words",
    "duplicates")}

# Words that appear only in the answer or the analysis of SHORT (never in its stem): search must not find them.
SHORT = dict(qtype=QuestionType.SHORT_ANSWER, stem="简述数控车床试切法对刀的步骤。",
             answer="先试切端面，再试切外圆，测量后输入刀具补偿。", analysis="考查游标卡尺测量与补偿值的计算。")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def member(library, lead, username, org, role, **extra):
    user = factories.user(username, org=org, **extra)
    add_team_member(library, by=lead, user=user, role=role)
    return user


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


@pytest.fixture
def author(building, lead, college):
    """A builder of the library: writes questions."""
    return member(building, lead, "author", college, "builder")


@pytest.fixture
def reviewer_a(building, lead, college):
    return member(building, lead, "reviewer_a", college, "reviewer")


@pytest.fixture
def reviewer_b(building, lead, college):
    return member(building, lead, "reviewer_b", college, "reviewer")


@pytest.fixture
def learner(college):
    """Signed in, of the same college, but no role in the library."""
    return factories.user("learner", org=college)


@pytest.fixture
def other_member(outside_college):
    """The builder of another library."""
    other_lead = factories.user("other_lead", org=outside_college)
    other = factories.library(other_lead, hosts=[outside_college], status=Library.Status.BUILDING,
                              name="机电一体化技术专业教学资源库", core="460301", served=())
    return member(other, other_lead, "other_builder", outside_college, "builder")


@pytest.fixture
def points(building):
    root = KnowledgePoint.objects.create(library=building, name="数控车削", position=0)
    return {"root": root,
            "tool": KnowledgePoint.objects.create(library=building, parent=root, name="对刀", position=0),
            "coords": KnowledgePoint.objects.create(library=building, parent=root, name="坐标系", position=1)}


def attribution(library, **overrides) -> services.Attribution:
    lead_host = library.hosts.order_by("position").first().organization
    values = dict(licence="cc_by", contributing_org=lead_host.pk, copyright_holder_org=lead_host.pk,
                  authors=[Author(name="王建国", institution=lead_host.name)])
    values.update(overrides)
    return services.Attribution(**values)


def sample(qtype=QuestionType.SINGLE_CHOICE, **overrides) -> QuestionData:
    body = {**SAMPLES[qtype], **overrides}
    return QuestionData(qtype=body.pop("qtype", qtype), **body)


def create(library, by, qtype=QuestionType.SINGLE_CHOICE, **overrides):
    return services.create_question(library, sample(qtype, **overrides), by=by, attribution=attribution(library))


def run_on_commit(fn, *args, **kwargs):
    """Run fn and then its on-commit callbacks (machine pre-review, indexing, e-mails) like a real request would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def submit(resource, by):
    return run_on_commit(services.submit_question, resource, by=by, commitment_accepted=True)


def approve(request, *reviewers):
    """Approve the review request at each level in turn (contributor, then lead host publishes)."""
    for reviewer in reviewers:
        request.refresh_from_db()
        run_on_commit(review_services.decide, request, by=reviewer, decision="approve", checklist_results=ALL_PASS)
    request.refresh_from_db()
    return request


def publish(resource, by, reviewers):
    request = approve(submit(resource, by), *reviewers)
    resource.refresh_from_db()
    return request


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
