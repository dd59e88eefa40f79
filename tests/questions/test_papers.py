"""Papers' services (reslib/questions/papers.py): composing by hand and by rules, the paper's states, attempts,
grading, results and their export."""

import datetime
import io
import random
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.translation import override
from openpyxl import load_workbook

from reslib.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.questions import papers
from reslib.questions.models import Attempt, AttemptAnswer, Paper, PaperQuestion, QuestionContent
from reslib.resources.models import KnowledgePoint, Resource, ResourceVersion

from .. import factories
from .factories import SAMPLES, published_question
from .paper_support import (  # noqa: F401 (fixtures)
    RIGHT,
    right_responses,
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
    point,
    reviewer,
)

pytestmark = pytest.mark.django_db


def _codes(exc) -> set[str]:
    return {code for _f, code, _m in exc.value.errors}


# --- settings -----------------------------------------------------------------------------------------------------

def test_a_builder_creates_a_draft_paper_with_an_audit_entry(building, composer):
    paper = papers.create_paper(building, papers.PaperData(title=" 期中测验 ", time_limit_minutes=45,
                                                           max_attempts=2), by=composer)
    assert (paper.state, paper.title, paper.time_limit_minutes, paper.created_by) == ("draft", "期中测验", 45, composer)
    assert AuditEntry.objects.filter(action="paper.create", target_id=str(paper.pk), actor=composer).exists()


@pytest.mark.parametrize("who", ["learner", "reviewer"])
def test_only_the_lead_and_builders_compose(building, request, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied) as exc:
        papers.create_paper(building, papers.PaperData(title="测验"), by=user)
    assert exc.value.code == "paper.compose_denied"
    assert not Paper.objects.exists()


def test_a_builder_of_another_library_cannot_compose_here(building, other_builder):
    with pytest.raises(PermissionDenied):
        papers.create_paper(building, papers.PaperData(title="测验"), by=other_builder[0])


def test_every_broken_setting_is_reported_at_once(building, composer):
    with pytest.raises(ValidationFailed) as exc:
        papers.create_paper(building, papers.PaperData(title=" ", time_limit_minutes=0, max_attempts=0), by=composer)
    assert _codes(exc) == {"paper.title_required", "paper.time_limit_invalid", "paper.max_attempts_invalid"}


# --- composing by hand --------------------------------------------------------------------------------------------

def test_manual_composition_adds_reorders_rescores_and_removes(building, composer, bank):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.TRUE_FALSE], bank[T.SHORT_ANSWER]])
    items = list(paper.items.order_by("position"))
    assert [i.question.qtype for i in items] == [T.SINGLE_CHOICE, T.TRUE_FALSE, T.SHORT_ANSWER]
    papers.reorder_questions(paper, [items[2].pk, items[0].pk, items[1].pk], by=composer)
    assert list(paper.items.order_by("position").values_list("pk", flat=True)) == [items[2].pk, items[0].pk,
                                                                                   items[1].pk]
    papers.set_item_score(paper, items[2].pk, "10.5", by=composer)
    papers.remove_question(paper, items[0].pk, by=composer)
    assert list(paper.items.order_by("position").values_list("position", "score")) == [
        (1, Decimal("10.5")), (2, Decimal("2.0"))]
    assert papers.paper_totals(paper) == (2, Decimal("12.5"))
    with pytest.raises(ValidationFailed) as exc:
        papers.reorder_questions(paper, [items[2].pk], by=composer)
    assert _codes(exc) == {"paper.order_invalid"}


@pytest.mark.parametrize("score", [0, -1, "100.1", "2.55", "abc", None, "NaN", "Infinity", True])
def test_a_score_is_above_zero_at_most_100_with_one_decimal(building, composer, bank, score):
    paper = paper_with(building, composer, [])
    with pytest.raises(ValidationFailed) as exc:
        papers.add_question(paper, bank[T.SINGLE_CHOICE].version.resource_id, score, by=composer)
    assert _codes(exc) == {"paper.score_invalid"}
    assert not paper.items.exists()


def _draft_question(library, by):
    question = published_question(library, by, T.SINGLE_CHOICE, stem="尚未发布的试题")
    ResourceVersion.objects.filter(pk=question.pk).update(state=ResourceVersion.State.IN_REVIEW)
    Resource.objects.filter(pk=question.version.resource_id).update(published_version=None)
    return question


def _moderated(library, by, **change):
    question = published_question(library, by, T.SINGLE_CHOICE, stem="被处置的试题")
    Resource.objects.filter(pk=question.version.resource_id).update(**change)
    return question


@pytest.mark.parametrize("make", [
    lambda lib, by: _draft_question(lib, by),
    lambda lib, by: _moderated(lib, by, moderation_state=Resource.Moderation.BLOCKED),
    lambda lib, by: _moderated(lib, by, moderation_state=Resource.Moderation.RESTRICTED),
    lambda lib, by: _moderated(lib, by, withdrawn_at=timezone.now()),
], ids=["unpublished", "blocked", "restricted", "withdrawn"])
def test_unpublished_and_moderated_questions_are_refused(building, composer, lead, make):
    question = make(building, lead)
    paper = paper_with(building, composer, [])
    with pytest.raises(ValidationFailed) as exc:
        papers.add_question(paper, question.version.resource_id, 2, by=composer)
    assert _codes(exc) == {"paper.question_unavailable"}
    assert not paper.items.exists()


def test_a_question_of_another_library_is_refused(building, composer, other_builder):
    outsider, other = other_builder
    foreign = published_question(other, outsider, T.SINGLE_CHOICE)
    paper = paper_with(building, composer, [])
    with pytest.raises(ValidationFailed) as exc:
        papers.add_question(paper, foreign.version.resource_id, 2, by=composer)
    assert _codes(exc) == {"paper.question_unavailable"}


def test_a_question_goes_into_a_paper_once(building, composer, bank):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    with pytest.raises(ValidationFailed) as exc:
        papers.add_question(paper, bank[T.SINGLE_CHOICE].version.resource_id, 2, by=composer)
    assert _codes(exc) == {"paper.question_duplicate"}


def test_a_learner_cannot_change_a_paper(building, composer, bank, learner):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    item = paper.items.get()
    for call in (lambda: papers.add_question(paper, bank[T.TRUE_FALSE].version.resource_id, 2, by=learner),
                 lambda: papers.remove_question(paper, item.pk, by=learner),
                 lambda: papers.compose_by_rules(paper, [], by=learner),
                 lambda: papers.open_paper(paper, by=learner)):
        with pytest.raises(PermissionDenied) as exc:
            call()
        assert exc.value.code == "paper.manage_denied"
    assert paper.items.count() == 1


def test_an_opened_paper_no_longer_changes(building, composer, bank):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    item = paper.items.get()
    for call in (lambda: papers.add_question(paper, bank[T.TRUE_FALSE].version.resource_id, 2, by=composer),
                 lambda: papers.set_item_score(paper, item.pk, 5, by=composer),
                 lambda: papers.update_paper(paper, papers.PaperData(title="改名"), by=composer),
                 lambda: papers.delete_paper(paper, by=composer)):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "paper.not_draft"


def test_an_item_of_another_paper_is_not_found(building, composer, bank):
    first = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    second = paper_with(building, composer, [])
    with pytest.raises(NotFound):
        papers.remove_question(second, first.items.get().pk, by=composer)


# --- composing by rules -------------------------------------------------------------------------------------------

@pytest.fixture
def rule_bank(building, lead, point):
    """12 single choices (4 of the point's child, 2 basic), 3 true/false, plus refused ones of the same type."""
    child = KnowledgePoint.objects.create(library=building, name="试切法", parent=point)
    made = {"child": [], "basic": [], "plain": [], "tf": []}
    for i in range(4):
        made["child"].append(published_question(building, lead, T.SINGLE_CHOICE, stem=f"对刀题{i}",
                                                knowledge_points=[child]))
    for i in range(2):
        made["basic"].append(published_question(building, lead, T.SINGLE_CHOICE, stem=f"基础题{i}",
                                                difficulty="basic"))
    for i in range(6):
        made["plain"].append(published_question(building, lead, T.SINGLE_CHOICE, stem=f"普通题{i}"))
    for i in range(3):
        made["tf"].append(published_question(building, lead, T.TRUE_FALSE, stem=f"判断题{i}"))
    made["refused"] = [_draft_question(building, lead),
                       _moderated(building, lead, moderation_state=Resource.Moderation.BLOCKED),
                       _moderated(building, lead, moderation_state=Resource.Moderation.RESTRICTED)]
    return made


def test_rules_draw_without_repetition_and_only_eligible_questions(building, composer, rule_bank, point):
    refused = {q.pk for q in rule_bank["refused"]}
    paper = paper_with(building, composer, [])
    rules = [
        {"qtype": "single_choice", "knowledge_point": point.pk, "difficulty": "", "count": 3, "score": "2"},
        {"qtype": "single_choice", "knowledge_point": None, "difficulty": "basic", "count": 2, "score": 3},
        {"qtype": "single_choice", "knowledge_point": None, "difficulty": "", "count": 7, "score": "1.5"},
        {"qtype": "true_false", "knowledge_point": None, "difficulty": "", "count": 2, "score": 1},
    ]
    for seed in range(15):
        papers.compose_by_rules(paper, rules, by=composer, rng=random.Random(seed))
        items = list(paper.items.select_related("question__version").order_by("position"))
        drawn = [i.question_id for i in items]
        assert len(drawn) == len(set(drawn)) == 14
        assert not refused & set(drawn)
        child_ids = {q.pk for q in rule_bank["child"]}
        assert set(drawn[:3]) <= child_ids  # the point's sub-point counts
        assert {i.question.version.difficulty for i in items[3:5]} == {"basic"}
        assert [str(i.score) for i in items] == ["2.0"] * 3 + ["3.0"] * 2 + ["1.5"] * 7 + ["1.0"] * 2
    paper.refresh_from_db()
    assert paper.mode == Paper.Mode.RANDOM and paper.rules[1]["difficulty"] == "basic"
    assert AuditEntry.objects.filter(action="paper.compose", target_id=str(paper.pk)).count() == 15


def test_the_sampled_draw_of_a_large_pool_is_uniform_enough_and_skips_refused_ones(building, composer, lead):
    """A rule without a knowledge point samples the type's ids first; blocked questions in the sample are skipped."""
    good = [published_question(building, lead, T.TRUE_FALSE, stem=f"判断{i}") for i in range(40)]
    blocked = [_moderated(building, lead, moderation_state=Resource.Moderation.BLOCKED) for _ in range(40)]
    Resource.objects.filter(pk__in=[q.version.resource_id for q in blocked]).update(
        moderation_state=Resource.Moderation.BLOCKED)
    QuestionContent.objects.filter(pk__in=[q.pk for q in blocked]).update(qtype=T.TRUE_FALSE)
    library = building
    rule = papers.parse_rules(library, [{"qtype": "true_false", "count": 5, "score": 1}])
    seen = {}
    for seed in range(200):
        for pk, _rule in papers.draw(library, rule, rng=random.Random(seed)):
            seen[pk] = seen.get(pk, 0) + 1
    assert set(seen) <= {q.pk for q in good}
    assert len(seen) == 40  # every eligible question gets drawn at some point
    assert max(seen.values()) < 3 * min(seen.values())


def test_a_short_rule_is_named_with_its_counts_and_nothing_changes(building, composer, rule_bank, bank):
    paper = paper_with(building, composer, [bank[T.MATCHING]])
    rules = [
        {"qtype": "true_false", "count": 2, "score": 1},
        {"qtype": "true_false", "count": 3, "score": 1},  # 3 exist, 2 taken by the first rule (+1 of bank)
        {"qtype": "ordering", "count": 5, "score": 2},
    ]
    with pytest.raises(papers.RuleShortfall) as exc:
        papers.compose_by_rules(paper, rules, by=composer)
    assert exc.value.code == "paper.rule_short"
    assert exc.value.shortfalls == [{"rule": 1, "needed": 3, "available": 2},
                                    {"rule": 2, "needed": 5, "available": 1}]
    assert exc.value.as_dict()["shortfalls"] == exc.value.shortfalls
    assert set(exc.value.fields) == {"rules.1", "rules.2"}
    assert "3" in exc.value.fields["rules.1"][0]["message"] and "2" in exc.value.fields["rules.1"][0]["message"]
    paper.refresh_from_db()
    assert [i.question_id for i in paper.items.all()] == [bank[T.MATCHING].pk]
    assert paper.mode == Paper.Mode.MANUAL and paper.rules == []


def test_bad_rules_are_reported_per_rule(building, composer, other_builder):
    outsider, other = other_builder
    foreign_point = KnowledgePoint.objects.create(library=other, name="护理评估")
    paper = paper_with(building, composer, [])
    with pytest.raises(ValidationFailed) as exc:
        papers.compose_by_rules(paper, [
            {"qtype": "essay", "count": 1, "score": 1},
            {"qtype": "single_choice", "knowledge_point": foreign_point.pk, "count": 0, "score": 0,
             "difficulty": "hard"},
        ], by=composer)
    assert set(exc.value.fields) == {"rules.0.qtype", "rules.1.knowledge_point", "rules.1.count", "rules.1.score",
                                     "rules.1.difficulty"}
    with pytest.raises(ValidationFailed) as exc:
        papers.compose_by_rules(paper, [], by=composer)
    assert _codes(exc) == {"paper.rules_invalid"}


# --- lifecycle ----------------------------------------------------------------------------------------------------

def test_the_paper_state_machine(building, composer, bank):
    paper = paper_with(building, composer, [])
    with pytest.raises(ValidationFailed) as exc:
        papers.open_paper(paper, by=composer)
    assert _codes(exc) == {"paper.empty"}
    with pytest.raises(IllegalTransition):
        papers.close_paper(paper, by=composer)
    papers.add_question(paper, bank[T.SINGLE_CHOICE].version.resource_id, 2, by=composer)
    paper = papers.open_paper(paper, by=composer)
    assert paper.state == "open" and paper.opened_at
    with pytest.raises(IllegalTransition) as exc:
        papers.open_paper(paper, by=composer)
    assert exc.value.as_dict()["current_state"] == "open"
    paper = papers.close_paper(paper, by=composer)
    assert paper.state == "closed" and paper.closed_at
    with pytest.raises(IllegalTransition):
        papers.open_paper(paper, by=composer)
    actions = list(AuditEntry.objects.filter(target_id=str(paper.pk), target_type="questions.paper")
                   .values_list("action", flat=True))
    assert {"paper.open", "paper.close"} <= set(actions)


def test_a_question_blocked_after_composition_keeps_the_paper_from_opening(building, composer, bank):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.TRUE_FALSE]])
    Resource.objects.filter(pk=bank[T.TRUE_FALSE].version.resource_id).update(
        moderation_state=Resource.Moderation.BLOCKED)
    with pytest.raises(ValidationFailed) as exc:
        papers.open_paper(paper, by=composer)
    assert _codes(exc) == {"paper.question_unavailable"}
    assert Paper.objects.get(pk=paper.pk).state == "draft"


def test_a_question_blocked_while_the_paper_is_open_stops_new_attempts(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    Resource.objects.filter(pk=bank[T.SINGLE_CHOICE].version.resource_id).update(
        moderation_state=Resource.Moderation.BLOCKED)
    with pytest.raises(Conflict) as exc:
        papers.start_attempt(paper, by=learner)
    assert exc.value.code == "paper.question_unavailable"


# --- attempts -----------------------------------------------------------------------------------------------------

def test_what_a_learner_sees_of_an_ordering_item_does_not_give_the_order_away(building, composer, bank, settings):
    """Stored options are in the right order: the learner answers in slots whose order is keyed with the site's
    secret, so neither the shown `index` values nor the attempt's and item's ids tell the right order."""
    paper = open_paper_with(building, composer, [bank[T.ORDERING]])
    item = paper.items.get()
    attempts = [Attempt(pk=n, paper=paper) for n in range(1, 21)]
    right = SAMPLES[T.ORDERING]["options"]
    shown = [papers.presented(item, a)["options"] for a in attempts]
    assert any([o["text"] for o in sorted(options, key=lambda o: o["index"])] != right for options in shown)
    assert len({tuple(o["text"] for o in options) for options in shown}) > 1  # each attempt its own order
    slots = [papers.ordering_slots(a, item) for a in attempts]
    settings.SECRET_KEY = "another-secret-" + "x" * 50
    assert [papers.ordering_slots(a, item) for a in attempts] != slots


def test_no_attempt_starts_on_a_paper_closed_meanwhile(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    stale = Paper.objects.get(pk=paper.pk)  # read by a request before the teacher closed the paper
    papers.close_paper(paper, by=composer)
    with pytest.raises(Conflict) as refused:
        papers.start_attempt(stale, by=learner)
    assert refused.value.code == "paper.not_open" and not Attempt.objects.exists()


def test_coming_back_to_an_attempt_a_second_tab_just_submitted_is_no_error(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]], time_limit_minutes=1)
    attempt, _ = papers.start_attempt(paper, by=learner)
    Attempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - timezone.timedelta(minutes=5))
    stale = Attempt.objects.select_related("paper").get(pk=attempt.pk)
    papers.submit_if_overdue(Attempt.objects.select_related("paper").get(pk=attempt.pk), by=learner)  # tab one
    seen = papers.submit_if_overdue(stale, by=learner)  # tab two, with the attempt it read before
    assert seen.state != Attempt.State.IN_PROGRESS
    assert AuditEntry.objects.filter(action="attempt.submit").count() == 1


def test_a_learner_answers_every_type_and_objective_ones_are_graded(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[t] for t in T.values], score="4")
    attempt, created = papers.start_attempt(paper, by=learner)
    assert created and attempt.number == 1
    items = {i.question.qtype: i for i in paper.items.select_related("question")}
    papers.save_answers(attempt, right_responses(attempt, items), by=learner)
    again, created = papers.start_attempt(paper, by=learner)
    assert (again.pk, created) == (attempt.pk, False)
    attempt = papers.submit_attempt(attempt, by=learner)
    assert attempt.state == Attempt.State.SUBMITTED and attempt.score is None
    scores = dict(attempt.answers.values_list("item__question__qtype", "score"))
    assert scores == {**{t: Decimal("4.0") for t in T.values if t != T.SHORT_ANSWER}, T.SHORT_ANSWER: None}
    assert AuditEntry.objects.filter(action="attempt.submit", target_id=str(attempt.pk)).exists()


def test_partial_credit_is_rounded_to_a_tenth(building, composer, bank, learner, lead):
    fill = published_question(building, lead, T.FILL_BLANK, stem="___、___和___是切削三要素。",
                              answer=[["切削速度"], ["进给量"], ["背吃刀量"]])
    paper = paper_with(building, composer, [])
    papers.add_question(paper, bank[T.MULTIPLE_CHOICE].version.resource_id, "2.5", by=composer)
    papers.add_question(paper, fill.version.resource_id, 2, by=composer)
    paper = papers.open_paper(paper, by=composer)
    multiple, blanks = paper.items.order_by("position")
    attempt, _ = papers.start_attempt(paper, by=learner)
    papers.save_answers(attempt, {multiple.pk: [0], blanks.pk: ["切削速度", "", ""]}, by=learner)
    attempt = papers.submit_attempt(attempt, by=learner)
    # 2.5 × ½ = 1.25 → 1.3 (half up); 2 × ⅓ = 0.67 → 0.7
    assert dict(attempt.answers.values_list("item_id", "score")) == {multiple.pk: Decimal("1.3"),
                                                                    blanks.pk: Decimal("0.7")}
    assert attempt.state == Attempt.State.GRADED and attempt.score == Decimal("2.0")


def test_an_unanswered_short_answer_needs_no_teacher(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.SHORT_ANSWER]])
    attempt, _ = papers.start_attempt(paper, by=learner)
    attempt = papers.submit_attempt(attempt, by=learner)
    assert attempt.state == Attempt.State.GRADED and attempt.score == 0
    assert attempt.answers.count() == 2


@pytest.mark.parametrize("qtype, response", [
    (T.SINGLE_CHOICE, 7), (T.SINGLE_CHOICE, True), (T.MULTIPLE_CHOICE, [0, 0]), (T.TRUE_FALSE, "true"),
    (T.FILL_BLANK, ["a", "b"]), (T.SHORT_ANSWER, ["text"]), (T.MATCHING, [1, 2, 3]), (T.ORDERING, [0, 0, 1, 2]),
    (T.ORDERING, [0, 1]),
])
def test_a_response_of_the_wrong_shape_is_refused(building, composer, bank, learner, qtype, response):
    paper = open_paper_with(building, composer, [bank[qtype]])
    attempt, _ = papers.start_attempt(paper, by=learner)
    with pytest.raises(ValidationFailed) as exc:
        papers.save_answers(attempt, {paper.items.get().pk: response}, by=learner)
    assert _codes(exc) == {"attempt.response_invalid"}
    assert not AttemptAnswer.objects.exists()


def test_saving_checks_the_item_the_owner_and_the_state(building, composer, bank, learner, learner2):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    item = paper.items.get()
    attempt, _ = papers.start_attempt(paper, by=learner)
    with pytest.raises(ValidationFailed) as exc:
        papers.save_answers(attempt, {item.pk + 1000: 1}, by=learner)
    assert _codes(exc) == {"attempt.item_unknown"}
    with pytest.raises(PermissionDenied) as exc:
        papers.save_answers(attempt, {item.pk: 1}, by=learner2)
    assert exc.value.code == "attempt.not_yours"
    with pytest.raises(PermissionDenied):
        papers.submit_attempt(attempt, by=composer)
    papers.submit_attempt(attempt, by=learner)
    with pytest.raises(Conflict) as exc:
        papers.save_answers(attempt, {item.pk: 1}, by=learner)
    assert exc.value.code == "attempt.not_in_progress"
    with pytest.raises(Conflict):
        papers.submit_attempt(attempt, by=learner)


def test_max_attempts_is_enforced(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]], max_attempts=2)
    for number in (1, 2):
        attempt, created = papers.start_attempt(paper, by=learner)
        assert created and attempt.number == number
        papers.submit_attempt(attempt, by=learner)
    with pytest.raises(Conflict) as exc:
        papers.start_attempt(paper, by=learner)
    assert exc.value.code == "paper.attempts_exhausted"
    assert paper.attempts.count() == 2


@pytest.mark.parametrize("state", ["draft", "closed"])
def test_only_an_open_paper_takes_attempts(building, composer, bank, learner, state):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    if state == "closed":
        papers.close_paper(papers.open_paper(paper, by=composer), by=composer)
        paper.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        papers.start_attempt(paper, by=learner)
    assert exc.value.code == "paper.not_open"
    assert not Attempt.objects.exists()


def test_an_anonymous_visitor_cannot_answer(building, composer, bank):
    from django.contrib.auth.models import AnonymousUser

    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    with pytest.raises(PermissionDenied) as exc:
        papers.start_attempt(paper, by=AnonymousUser())
    assert exc.value.code == "paper.answer_denied"


def test_the_time_limit_stops_saving_and_an_overdue_attempt_is_submitted(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]], time_limit_minutes=10, max_attempts=2)
    item = paper.items.get()
    attempt, _ = papers.start_attempt(paper, by=learner)
    papers.save_answers(attempt, {item.pk: 1}, by=learner)
    assert papers.deadline(attempt) == attempt.started_at + datetime.timedelta(minutes=10)
    Attempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - datetime.timedelta(minutes=11))
    attempt.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        papers.save_answers(attempt, {item.pk: 0}, by=learner)
    assert exc.value.code == "attempt.time_up"
    second, created = papers.start_attempt(paper, by=learner)
    attempt.refresh_from_db()
    assert created and second.number == 2
    assert attempt.state == Attempt.State.GRADED and attempt.score == Decimal("2.0")  # what was saved in time


def test_closing_submits_the_attempts_in_progress(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.TRUE_FALSE]])
    attempt, _ = papers.start_attempt(paper, by=learner)
    papers.save_answers(attempt, {paper.items.get().pk: True}, by=learner)
    papers.close_paper(paper, by=composer)
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.GRADED and attempt.score == Decimal("2.0")
    with pytest.raises(Conflict):
        papers.save_answers(attempt, {paper.items.get().pk: False}, by=learner)


# --- grading ------------------------------------------------------------------------------------------------------

@pytest.fixture
def submitted(building, composer, bank, learner):
    """A learner's submitted attempt with a short answer waiting (single choice right: 2 points)."""
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.SHORT_ANSWER]], score="5")
    single, short = paper.items.order_by("position")
    attempt, _ = papers.start_attempt(paper, by=learner)
    papers.save_answers(attempt, {single.pk: 1, short.pk: "先试切端面。"}, by=learner)
    return papers.submit_attempt(attempt, by=learner)


def test_a_teacher_grades_the_short_answer_and_the_attempt_is_graded(submitted, composer):
    answer = papers.pending_answers(submitted.paper).get()
    papers.grade_answer(answer, "3.5", comment="步骤不全", by=composer)
    submitted.refresh_from_db()
    assert submitted.state == Attempt.State.GRADED and submitted.score == Decimal("8.5") and submitted.graded_at
    papers.grade_answer(answer, 5, by=composer)  # graded again: the total follows
    submitted.refresh_from_db()
    assert submitted.score == Decimal("10.0")
    assert AuditEntry.objects.filter(action="attempt.grade", target_id=str(submitted.pk)).count() == 2
    assert not papers.pending_answers(submitted.paper).exists()


@pytest.mark.parametrize("score", ["-0.1", "5.1", "2.25", "x", None])
def test_a_grade_stays_within_the_item_score(submitted, composer, score):
    answer = papers.pending_answers(submitted.paper).get()
    with pytest.raises(ValidationFailed) as exc:
        papers.grade_answer(answer, score, by=composer)
    assert _codes(exc) == {"paper.grade_invalid"}
    answer.refresh_from_db()
    assert answer.score is None


def test_a_learner_cannot_grade_and_objective_answers_are_not_graded_by_hand(submitted, learner, learner2,
                                                                               composer):
    answer = papers.pending_answers(submitted.paper).get()
    for user in (learner, learner2):
        with pytest.raises(PermissionDenied) as exc:
            papers.grade_answer(answer, 5, by=user)
        assert exc.value.code == "paper.grade_denied"
    objective = submitted.answers.exclude(pk=answer.pk).get()
    with pytest.raises(ValidationFailed) as exc:
        papers.grade_answer(objective, 1, by=composer)
    assert _codes(exc) == {"paper.answer_not_manual"}


def test_an_attempt_in_progress_is_not_graded(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SHORT_ANSWER]])
    attempt, _ = papers.start_attempt(paper, by=learner)
    papers.save_answers(attempt, {paper.items.get().pk: "草稿"}, by=learner)
    with pytest.raises(Conflict) as exc:
        papers.grade_answer(attempt.answers.get(), 1, by=composer)
    assert exc.value.code == "attempt.not_submitted"


# --- results ------------------------------------------------------------------------------------------------------

def _answer_all(paper, user, responses):
    attempt, _ = papers.start_attempt(paper, by=user)
    items = list(paper.items.order_by("position"))
    papers.save_answers(attempt, {item.pk: r for item, r in zip(items, responses)}, by=user)
    return papers.submit_attempt(attempt, by=user)


def test_results_say_not_enough_data_with_one_learner(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    _answer_all(paper, learner, [1])
    data = papers.results(paper)
    assert not data.enough_data and data.analysed == 1
    assert data.items[0].difficulty is None and data.items[0].discrimination is None
    assert data.items[0].mean == Decimal("2.0")


def test_discrimination_is_rounded_once_after_the_difference(building, composer, bank, lead):
    """11 learners → groups of round(0.27 × 11) = 3. The measured item: 2 of 3 right in the upper group, 1 of 3 in the
    lower: D = 2/3 − 1/3 = 0.333… → 0.33 (rounding each P first would give 0.67 − 0.33 = 0.34)."""
    judged = [published_question(building, lead, T.TRUE_FALSE, stem=f"判断题 {i}。") for i in range(3)]
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], *judged])
    learners = [factories.user(f"stu{i}") for i in range(11)]
    right, wrong = 1, 0
    rows = ([[right, True, True, True]] * 2 + [[wrong, True, True, True]]  # upper: 8, 8, 6
            + [[wrong, True, True, False]] * 5  # middle: 4
            + [[right, False, False, False], [wrong, True, False, False], [wrong, False, False, False]])  # 2, 2, 0
    for user, responses in zip(learners, rows):
        _answer_all(paper, user, responses)
    measured = papers.results(paper).items[0]
    assert measured.discrimination == Decimal("0.33")
    assert measured.difficulty == Decimal("0.27")  # 3 of 11 right


def test_results_give_best_and_last_scores_and_the_item_indices(building, composer, bank):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.TRUE_FALSE]], max_attempts=2)
    learners = [factories.user(f"stu{i}") for i in range(4)]
    # single choice: right for stu0, stu1; true/false: right for stu0, stu1, stu2.
    _answer_all(paper, learners[0], [1, True])
    _answer_all(paper, learners[1], [1, True])
    _answer_all(paper, learners[2], [0, True])
    _answer_all(paper, learners[3], [0, False])
    _answer_all(paper, learners[3], [0, True])  # second attempt: the latest one counts in the analysis
    data = papers.results(paper)
    assert data.enough_data and data.analysed == 4
    by_name = {r.username: r for r in data.learners}
    assert (by_name["stu3"].attempts, by_name["stu3"].best, by_name["stu3"].last) == (2, Decimal("2.0"),
                                                                                     Decimal("2.0"))
    assert (by_name["stu0"].best, by_name["stu0"].last) == (Decimal("4.0"), Decimal("4.0"))
    single, tf = data.items
    assert single.difficulty == Decimal("0.50") and tf.difficulty == Decimal("1.00")
    # groups of round(0.27 × 4) = 1: the top (stu1 or stu0, 4 points) against the bottom (2 points)
    assert single.discrimination == Decimal("1.00") and tf.discrimination == Decimal("0.00")
    assert [r.username for r in data.learners][:2] == ["stu0", "stu1"]


def test_the_export_has_chinese_headers_and_keeps_formulas_out(building, composer, bank):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    sly = factories.user("sly", real_name="=HYPERLINK(\"http://x\",\"y\")")
    _answer_all(paper, sly, [1])
    with override("zh-hans"):
        content = papers.export_results_xlsx(paper)
    book = load_workbook(io.BytesIO(content))
    scores, analysis = book.worksheets
    assert scores.title == "成绩" and analysis.title == "试题分析"
    assert [c.value for c in scores[1]][:4] == ["用户名", "真实姓名", "作答次数", "最高分"]
    name = scores.cell(row=2, column=2)
    assert name.data_type == "s" and name.value.startswith("=HYPERLINK") and name.quotePrefix
    assert analysis.cell(row=2, column=6).value == "数据不足"
    assert analysis.cell(row=2, column=3).value == bank[T.SINGLE_CHOICE].stem


def test_items_keep_their_version_when_the_question_changes(building, composer, bank):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    assert PaperQuestion.objects.get(paper=paper).question_id == bank[T.SINGLE_CHOICE].version_id


def test_a_question_blocked_during_an_attempt_is_no_longer_shown(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.SHORT_ANSWER]])
    attempt, _ = papers.start_attempt(paper, by=learner)
    blocked = bank[T.SHORT_ANSWER]
    Resource.objects.filter(pk=blocked.version.resource_id).update(moderation_state=Resource.Moderation.BLOCKED)
    for show_answers in (False, True):
        row = papers.attempt_sheet(attempt, show_answers=show_answers)[1]
        assert row["withheld"] and blocked.stem not in row["stem"] and "不再显示" in row["stem"]
        assert row["answer"] is None and row["analysis"] == ""
    assert not papers.attempt_sheet(attempt, show_answers=True)[0]["withheld"]


def test_closing_writes_each_attempts_answers_at_once_whatever_the_papers_length(building, composer, bank):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    learners = [factories.user(f"stu{i}") for i in range(3)]

    def queries_to_close(questions) -> int:
        paper = open_paper_with(building, composer, questions)
        for learner in learners:
            papers.start_attempt(paper, by=learner)
        with CaptureQueriesContext(connection) as captured:
            papers.close_paper(paper, by=composer)
        assert not paper.attempts.filter(state=Attempt.State.IN_PROGRESS).exists()
        assert AttemptAnswer.objects.filter(attempt__paper=paper).count() == len(learners) * len(questions)
        return len(captured)

    assert queries_to_close([bank[T.SINGLE_CHOICE], bank[T.TRUE_FALSE]]) == queries_to_close(list(bank.values()))
