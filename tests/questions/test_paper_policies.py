"""Who composes, answers, grades and sees results of papers (reslib/questions/paper_policies.py)."""

import pytest
from django.contrib.auth.models import AnonymousUser

from reslib.libraries.models import Library
from reslib.questions import paper_policies as policies
from reslib.questions import papers

from .paper_support import (  # noqa: F401 (fixtures)
    T,
    _isolated,
    bank,
    building,
    composer,
    learner,
    learner2,
    open_paper_with,
    other_builder,
    paper_with,
    reviewer,
)

pytestmark = pytest.mark.django_db


def test_composers_are_the_lead_and_builders_while_the_library_is_built(building, lead, composer, reviewer,
                                                                       learner, other_builder):
    assert policies.can_compose(lead, building) and policies.can_compose(composer, building)
    for user in (reviewer, learner, other_builder[0], AnonymousUser()):
        assert not policies.can_compose(user, building)
    Library.objects.filter(pk=building.pk).update(status=Library.Status.SUBMITTED)
    building.refresh_from_db()
    assert not policies.can_compose(composer, building)


def test_the_creator_keeps_managing_their_paper_while_in_the_team_and_others_do_not(building, lead, composer, bank,
                                                                                     learner, reviewer):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    leads_paper = paper_with(building, lead, [bank[T.TRUE_FALSE]])
    assert policies.can_manage(composer, paper) and policies.can_manage(lead, paper)
    assert not policies.can_manage(learner, paper) and not policies.can_manage(reviewer, paper)
    building.team.filter(user=composer).delete()
    composer.__dict__.pop("_reslib_library_roles", None)
    # left the team: no more learners' names, responses or grading, although the library is public
    assert not policies.can_manage(composer, paper) and not policies.can_grade(composer, paper)
    Library.objects.filter(pk=building.pk).update(status=Library.Status.SUBMITTED)  # nobody composes any more
    leads_paper.library.refresh_from_db()
    assert not policies.can_compose(lead, building) and policies.can_manage(lead, leads_paper)


def test_learners_see_open_and_closed_papers_only(building, composer, bank, learner):
    draft = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    opened = open_paper_with(building, composer, [bank[T.TRUE_FALSE]])
    closed = papers.close_paper(open_paper_with(building, composer, [bank[T.MATCHING]]), by=composer)
    assert set(policies.visible_papers(learner, building)) == {opened, closed}
    assert set(policies.visible_papers(AnonymousUser(), building)) == {opened, closed}
    assert set(policies.visible_papers(composer, building)) == {draft, opened, closed}
    assert not policies.can_view_paper(learner, draft)
    assert policies.can_answer(learner, opened)
    assert not policies.can_answer(learner, closed) and not policies.can_answer(AnonymousUser(), opened)


def test_a_learner_sees_only_their_attempts_and_answers_after_submission(building, composer, bank, learner,
                                                                         learner2):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    attempt, _ = papers.start_attempt(paper, by=learner)
    assert policies.can_view_attempt(learner, attempt) and policies.can_view_attempt(composer, attempt)
    assert not policies.can_view_attempt(learner2, attempt)
    assert not policies.can_change_attempt(composer, attempt)
    assert not policies.shows_answers(learner, attempt)
    assert policies.shows_answers(composer, attempt)
    attempt = papers.submit_attempt(attempt, by=learner)
    assert policies.shows_answers(learner, attempt)
    assert not policies.can_view_results(learner, paper) and policies.can_view_results(composer, paper)
    assert not policies.can_grade(learner, paper)


def test_answers_wait_until_the_learner_has_no_attempt_left_or_the_paper_is_closed(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]], max_attempts=2)
    first = papers.submit_attempt(papers.start_attempt(paper, by=learner)[0], by=learner)
    assert not policies.shows_answers(learner, first)  # they would serve the second attempt
    second = papers.submit_attempt(papers.start_attempt(paper, by=learner)[0], by=learner)
    assert policies.shows_answers(learner, second) and policies.shows_answers(learner, first)
    other = open_paper_with(building, composer, [bank[T.TRUE_FALSE]], max_attempts=3)
    attempt = papers.submit_attempt(papers.start_attempt(other, by=learner)[0], by=learner)
    assert not policies.shows_answers(learner, attempt)
    papers.close_paper(other, by=composer)
    attempt.refresh_from_db()
    assert policies.shows_answers(learner, attempt)


def test_answers_stay_hidden_when_the_paper_does_not_show_them(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]], show_answers=False)
    attempt, _ = papers.start_attempt(paper, by=learner)
    attempt = papers.submit_attempt(attempt, by=learner)
    assert not policies.shows_answers(learner, attempt)
    sheet = papers.attempt_sheet(attempt, show_answers=False)
    assert sheet[0]["answer"] is None and sheet[0]["earned"] is None and sheet[0]["analysis"] == ""
