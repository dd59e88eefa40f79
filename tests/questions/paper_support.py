"""Fixtures of the papers tests (services, policies, API, pages): a library under construction with its lead, a
builder who composes, a reviewer (in the team but no composer), two learners, a builder of another library, and a
bank of published questions of every type. Test modules import what they use from here."""

import pytest

from reslib.libraries.models import Library, TeamMember
from reslib.libraries.services import add_team_member
from reslib.questions import papers
from reslib.questions.models import QuestionType
from reslib.resources.models import KnowledgePoint

from .. import factories
from .factories import SAMPLES, published_question

T = QuestionType


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"


@pytest.fixture
def building(lead, second_college):
    return factories.library(lead, hosts=[lead.organization, second_college], status=Library.Status.BUILDING)


@pytest.fixture
def composer(building, lead, college):
    user = factories.user("composer", org=college)
    add_team_member(building, by=lead, user=user, role=TeamMember.Role.BUILDER)
    return user


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role=TeamMember.Role.REVIEWER)
    return user


@pytest.fixture
def learner(db):
    return factories.user("learner", real_name="张同学")


@pytest.fixture
def learner2(db):
    return factories.user("learner2", real_name="李同学")


@pytest.fixture
def other_builder(outsider, outside_college):
    """A builder of another library: composes there, not here."""
    other = factories.library(outsider, hosts=[outside_college], province="330000", status=Library.Status.BUILDING,
                              name="护理专业教学资源库")
    return outsider, other


@pytest.fixture
def point(building):
    return KnowledgePoint.objects.create(library=building, name="数控车床对刀")


@pytest.fixture
def bank(building, lead):
    """One published question of each type: {qtype: QuestionContent}."""
    return {qtype: published_question(building, lead, qtype) for qtype in T.values}


def paper_with(library, by, questions, *, score="2", **settings):
    """A draft paper holding `questions` (each worth `score`)."""
    paper = papers.create_paper(library, papers.PaperData(title="数控车床编程单元测验", **settings), by=by)
    for question in questions:
        papers.add_question(paper, question.version.resource_id, score, by=by)
    return paper


def open_paper_with(library, by, questions, **settings):
    paper = paper_with(library, by, questions, **settings)
    return papers.open_paper(paper, by=by)


# Right responses per type, as the samples of tests/questions/factories.py are written.
RIGHT = {
    T.SINGLE_CHOICE: 1,
    T.MULTIPLE_CHOICE: [0, 1, 2],
    T.TRUE_FALSE: True,
    T.FILL_BLANK: ["右手"],
    T.SHORT_ANSWER: "先试切端面，再试切外圆。",
    T.MATCHING: ["直线插补", "顺时针圆弧插补", "主轴正转"],
    T.ORDERING: [0, 1, 2, 3],  # stored positions; a learner answers in the slots shown: ordering_response
}


def ordering_response(shown_options: list[dict]) -> list[int]:
    """The right answer to the ordering sample as a learner gives it: the `index` of each shown text, in the right
    order (the sample's options are stored in the right order)."""
    index_of = {o["text"]: o["index"] for o in shown_options}
    return [index_of[text] for text in SAMPLES[T.ORDERING]["options"]]


def right_responses(attempt, items: dict) -> dict:
    """{item id: right response} for items {qtype: PaperQuestion} of `attempt`, as its learner would answer."""
    return {item.pk: ordering_response(papers.presented(item, attempt)["options"]) if qtype == T.ORDERING
            else RIGHT[qtype] for qtype, item in items.items()}
