"""Who writes, sees, sees the answers of, and exports a library's questions."""

import pytest
from django.contrib.auth.models import AnonymousUser

from reslib.questions import policies
from reslib.questions.models import QuestionType

from .. import factories
from .bank_support import (  # noqa: F401 - fixtures
    _isolated,
    author,
    building,
    create,
    learner,
    member,
    other_member,
    publish,
    reviewer_a,
    reviewer_b,
)

pytestmark = pytest.mark.django_db


def test_the_lead_and_builders_author_and_import(building, lead, author, reviewer_a, learner, other_member, operator):
    assert policies.can_author(lead, building) and policies.can_author(author, building)
    assert policies.can_import(author, building)
    for user in (reviewer_a, learner, other_member, AnonymousUser()):
        assert not policies.can_author(user, building) and not policies.can_import(user, building)


def test_writers_reviewers_and_operators_see_answers_learners_never(building, lead, author, reviewer_a, learner,
                                                                    other_member, operator, college):
    content = create(building, author)
    resource = content.version.resource
    operations = member(building, lead, "operations", college, "operations")
    for user in (lead, author, reviewer_a, operator):
        assert policies.can_see_answers(user, building)
        assert policies.can_see_answers(user, content) and policies.can_see_answers(user, resource)
        assert policies.can_export(user, building)
    for user in (learner, other_member, operations, AnonymousUser()):
        assert not policies.can_see_answers(user, content) and not policies.can_export(user, building)


def test_drafts_are_the_teams_published_questions_everybodys(building, lead, author, reviewer_a, reviewer_b,
                                                             learner, other_member):
    draft = create(building, author).version.resource
    published = create(building, author, QuestionType.TRUE_FALSE).version.resource
    publish(published, author, [reviewer_a, reviewer_b])
    factories.resource(building, author, title="不是试题的视频资源")
    assert set(policies.visible_questions(author, building)) == {draft, published}
    for user in (learner, other_member, AnonymousUser()):
        assert list(policies.visible_questions(user, building)) == [published]
        assert set(policies.visible_questions(user)) >= {published} and draft not in policies.visible_questions(user)
    assert policies.can_view_drafts(reviewer_a, building) and not policies.can_view_drafts(learner, building)


def test_only_the_team_changes_questions(building, author, lead, reviewer_a, learner, other_member):
    resource = create(building, author).version.resource
    assert policies.can_edit(author, resource) and policies.can_edit(lead, resource)
    assert policies.can_submit(author, resource)
    for user in (reviewer_a, learner, other_member, AnonymousUser()):
        assert not policies.can_edit(user, resource) and not policies.can_submit(user, resource)
