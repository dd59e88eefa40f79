"""Papers (试卷): composing by hand or by rules, opening and closing, learners' attempts, grading and results.

Every change happens here, inside a transaction, with an audit entry. A paper changes only while it is a draft;
opening it freezes its questions. Only the published version of a question that the operator has not restricted or
blocked, and that its library has not withdrawn, goes into a paper (`eligible_questions`); the version's access
(public / registered / members) does not keep it out: putting a question into a paper is the team's decision to
show it to the paper's learners, and members-only questions are exactly the ones teachers keep for exams.

Objective answers are graded on submission by grading.grade (an item's score × the earned share, rounded to 0.1);
short answers wait for a teacher. The item analysis (results) uses each learner's latest graded attempt:
difficulty P = mean score / full score, discrimination D = P of the upper 27 % − P of the lower 27 % by total.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import io
import json
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reslib.core import audit
from reslib.core.errors import Conflict, FieldErrors, NotFound, PermissionDenied, ValidationFailed
from reslib.core.statemachine import StateMachine, Transition
from reslib.libraries.models import Library
from reslib.resources.models import KnowledgePoint, Resource, ResourceVersion

from . import grading, paper_policies
from .grading import is_int
from .interchange import DIFFICULTIES, blank_count
from .models import Attempt, AttemptAnswer, Paper, PaperQuestion, QuestionContent, QuestionType

PS = Paper.State
AS = Attempt.State

PAPER_LIFECYCLE = StateMachine([
    Transition("open", (PS.DRAFT,), PS.OPEN, _("Open for answering"), "composer"),
    Transition("close", (PS.OPEN,), PS.CLOSED, _("Close"), "composer"),
])

MAX_TITLE = 200
MAX_INSTRUCTIONS = 5000
MAX_TIME_LIMIT = 600  # minutes: a working day's exam at most
MAX_ATTEMPTS = 20
MAX_ITEMS = 200
MAX_RULES = 20
MAX_ITEM_SCORE = Decimal("100")
TENTH = Decimal("0.1")
# Answers saved this long after the time limit still count: the browser's timer submits at zero, and the request
# needs a moment to arrive.
SUBMIT_GRACE = datetime.timedelta(seconds=30)
MAX_RESPONSE_CHARS = 20000
# Fewer graded learners than this make P and D meaningless: results say "not enough data".
MIN_ANALYSIS_LEARNERS = 2
GROUP_SHARE = Decimal("0.27")


def _text(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


# --- which questions may go into a paper --------------------------------------------------------------------------

def eligible_questions(library: Library):
    """The question versions of `library` a paper may take: published now, not restricted, blocked or withdrawn."""
    return QuestionContent.objects.filter(
        library=library,
        version__state=ResourceVersion.State.PUBLISHED,
        version__resource__moderation_state=Resource.Moderation.NORMAL,
        version__resource__withdrawn_at__isnull=True,
    )


def unavailable_items(paper: Paper) -> list[PaperQuestion]:
    """Items whose question was restricted, blocked or withdrawn since composition (learners must not see them)."""
    return list(
        paper.items.exclude(
            question__version__resource__moderation_state=Resource.Moderation.NORMAL,
            question__version__resource__withdrawn_at__isnull=True,
        ).order_by("position")
    )


# --- paper settings -----------------------------------------------------------------------------------------------

@dataclass
class PaperData:
    title: str
    instructions: str = ""
    time_limit_minutes: int | None = None
    max_attempts: int = 1
    show_answers: bool = True


SETTING_FIELDS = ["title", "instructions", "time_limit_minutes", "max_attempts", "show_answers"]
SNAPSHOT_FIELDS = SETTING_FIELDS + ["state", "mode"]


def _validate(data: PaperData) -> FieldErrors:
    errors = FieldErrors()
    title = _text(data.title)
    if not title:
        errors.add("title", "paper.title_required", _("Please enter a title."))
    elif len(title) > MAX_TITLE:
        errors.add("title", "paper.title_too_long", _("The title may have at most %(max)d characters.")
                   % {"max": MAX_TITLE})
    if len(_text(data.instructions)) > MAX_INSTRUCTIONS:
        errors.add("instructions", "paper.instructions_too_long",
                   _("The instructions may have at most %(max)d characters.") % {"max": MAX_INSTRUCTIONS})
    limit = data.time_limit_minutes
    if limit is not None and (not is_int(limit) or not 1 <= limit <= MAX_TIME_LIMIT):
        errors.add("time_limit_minutes", "paper.time_limit_invalid",
                   _("The time limit must be from 1 to %(max)d minutes, or empty for none.")
                   % {"max": MAX_TIME_LIMIT})
    if not is_int(data.max_attempts) or not 1 <= data.max_attempts <= MAX_ATTEMPTS:
        errors.add("max_attempts", "paper.max_attempts_invalid",
                   _("A learner may be allowed 1 to %(max)d attempts.") % {"max": MAX_ATTEMPTS})
    return errors


def _apply(paper: Paper, data: PaperData) -> None:
    paper.title = _text(data.title)
    paper.instructions = _text(data.instructions)
    paper.time_limit_minutes = data.time_limit_minutes
    paper.max_attempts = data.max_attempts
    paper.show_answers = bool(data.show_answers)


def _composer_required(user, library: Library) -> None:
    if not paper_policies.can_compose(user, library):
        raise PermissionDenied(_("Only the library's lead and builders can compose papers."),
                               code="paper.compose_denied")


def _manager_required(user, paper: Paper) -> None:
    if not paper_policies.can_manage(user, paper):
        raise PermissionDenied(_("Only the library's lead and builders and the paper's author can change it."),
                               code="paper.manage_denied")


def _locked(paper: Paper) -> Paper:
    """The paper's row, locked for this transaction and re-read: concurrent edits of one paper queue here."""
    return Paper.objects.select_for_update().select_related("library").get(pk=paper.pk)


def _draft_required(paper: Paper) -> None:
    if paper.state != PS.DRAFT:
        raise Conflict(_("Only a draft paper can be changed; this one is “%(state)s”.")
                       % {"state": paper.get_state_display()}, code="paper.not_draft")


def create_paper(library: Library, data: PaperData, *, by) -> Paper:
    _composer_required(by, library)
    _validate(data).raise_if_any()
    with transaction.atomic():
        paper = Paper(library=library, created_by=by)
        _apply(paper, data)
        paper.save()
        audit.record(actor=by, action="paper.create", target=paper, after=audit.snapshot(paper, SNAPSHOT_FIELDS))
    return paper


def update_paper(paper: Paper, data: PaperData, *, by) -> Paper:
    _manager_required(by, paper)
    _validate(data).raise_if_any()
    with transaction.atomic():
        paper = _locked(paper)
        _draft_required(paper)
        before = audit.snapshot(paper, SNAPSHOT_FIELDS)
        _apply(paper, data)
        paper.save()
        audit.record(actor=by, action="paper.update", target=paper, before=before,
                     after=audit.snapshot(paper, SNAPSHOT_FIELDS))
    return paper


def delete_paper(paper: Paper, *, by) -> None:
    """A draft was never answered; anything later keeps its attempts and is closed instead."""
    _manager_required(by, paper)
    with transaction.atomic():
        paper = _locked(paper)
        _draft_required(paper)
        audit.record(actor=by, action="paper.delete", target=paper, before=audit.snapshot(paper, SNAPSHOT_FIELDS))
        paper.delete()


# --- items by hand ------------------------------------------------------------------------------------------------

def parse_score(value, field_name: str = "score") -> Decimal:
    """A score above 0, at most 100, with at most one decimal place; else ValidationFailed `paper.score_invalid`."""
    try:
        score = Decimal(str(value).strip()) if value is not None and not isinstance(value, bool) else None
    except InvalidOperation:
        score = None
    if score is None or not score.is_finite() or not Decimal(0) < score <= MAX_ITEM_SCORE or score != score.quantize(
            TENTH):
        raise ValidationFailed.single(field_name, "paper.score_invalid",
                                      _("A score must be above 0 and at most %(max)s, with at most one decimal place.")
                                      % {"max": MAX_ITEM_SCORE})
    return score.quantize(TENTH)


def _items_snapshot(paper: Paper) -> list:
    return [[i.position, i.question_id, str(i.score)] for i in paper.items.order_by("position")]


def add_question(paper: Paper, question_id: int, score, *, by) -> PaperQuestion:
    """Add a question (the id of its resource) with its score at the end of a draft paper: its published version."""
    _manager_required(by, paper)
    score = parse_score(score)
    with transaction.atomic():
        paper = _locked(paper)
        _draft_required(paper)
        question = (eligible_questions(paper.library)
                    .filter(version__resource_id=question_id).select_related("version").first())
        if question is None:
            raise ValidationFailed.single("question", "paper.question_unavailable", _(
                "Only published questions of this library that are not restricted or blocked can go into a paper."))
        items = paper.items.all()
        if items.filter(question__version__resource_id=question_id).exists():
            raise ValidationFailed.single("question", "paper.question_duplicate",
                                          _("This question is already in the paper."))
        if items.count() >= MAX_ITEMS:
            raise ValidationFailed.single("question", "paper.too_many_items",
                                          _("A paper holds at most %(max)d questions.") % {"max": MAX_ITEMS})
        before = _items_snapshot(paper)
        position = (items.aggregate(m=Max("position"))["m"] or 0) + 1
        item = PaperQuestion.objects.create(paper=paper, position=position, question=question, score=score)
        paper.mode = Paper.Mode.MANUAL
        paper.save(update_fields=["mode", "updated_at"])
        audit.record(actor=by, action="paper.add_question", target=paper, before={"items": before},
                     after={"items": _items_snapshot(paper)})
    return item


def _item(paper: Paper, item_id: int) -> PaperQuestion:
    item = paper.items.filter(pk=item_id).first()
    if item is None:
        raise NotFound(_("This question is not in the paper."), code="paper.item_not_found")
    return item


def _renumber(paper: Paper, ordered_ids: list[int]) -> None:
    """Positions 1..n in the given order. Moved out of the way first: (paper, position) is unique at every step."""
    offset = MAX_ITEMS + 1
    for position, item_id in enumerate(ordered_ids, start=1):
        PaperQuestion.objects.filter(pk=item_id).update(position=offset + position)
    for position, item_id in enumerate(ordered_ids, start=1):
        PaperQuestion.objects.filter(pk=item_id).update(position=position)


def remove_question(paper: Paper, item_id: int, *, by) -> None:
    _manager_required(by, paper)
    with transaction.atomic():
        paper = _locked(paper)
        _draft_required(paper)
        item = _item(paper, item_id)
        before = _items_snapshot(paper)
        item.delete()
        _renumber(paper, list(paper.items.order_by("position").values_list("pk", flat=True)))
        paper.mode = Paper.Mode.MANUAL
        paper.save(update_fields=["mode", "updated_at"])
        audit.record(actor=by, action="paper.remove_question", target=paper, before={"items": before},
                     after={"items": _items_snapshot(paper)})


def set_item_score(paper: Paper, item_id: int, score, *, by) -> PaperQuestion:
    _manager_required(by, paper)
    score = parse_score(score)
    with transaction.atomic():
        paper = _locked(paper)
        _draft_required(paper)
        item = _item(paper, item_id)
        before = str(item.score)
        item.score = score
        item.save(update_fields=["score"])
        audit.record(actor=by, action="paper.set_score", target=paper,
                     before={"item": item.pk, "score": before}, after={"item": item.pk, "score": str(score)})
    return item


def reorder_questions(paper: Paper, item_ids: list[int], *, by) -> None:
    """Put the items in the given order; the list must name every item of the paper exactly once."""
    _manager_required(by, paper)
    with transaction.atomic():
        paper = _locked(paper)
        _draft_required(paper)
        current = list(paper.items.order_by("position").values_list("pk", flat=True))
        if sorted(item_ids) != sorted(current) or len(set(item_ids)) != len(item_ids):
            raise ValidationFailed.single("items", "paper.order_invalid",
                                          _("List every question of the paper exactly once."))
        before = _items_snapshot(paper)
        _renumber(paper, item_ids)
        paper.save(update_fields=["updated_at"])
        audit.record(actor=by, action="paper.reorder", target=paper, before={"items": before},
                     after={"items": _items_snapshot(paper)})


# --- items by rules -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    qtype: str
    knowledge_point: int | None
    difficulty: str
    count: int
    score: Decimal

    def as_json(self) -> dict:
        return {"qtype": self.qtype, "knowledge_point": self.knowledge_point, "difficulty": self.difficulty,
                "count": self.count, "score": str(self.score)}


class RuleShortfall(ValidationFailed):
    """Some rules find fewer questions than they ask for; `shortfalls` says which and by how much."""

    def __init__(self, shortfalls: list[dict], errors):
        super().__init__(errors)
        self.shortfalls = shortfalls

    def as_dict(self) -> dict:
        data = super().as_dict()
        data["shortfalls"] = self.shortfalls
        return data


def parse_rules(library: Library, rules) -> list[Rule]:
    """Check every rule at once; fields are named `rules.<i>.<key>` (i from 0)."""
    errors = FieldErrors()
    if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
        raise ValidationFailed.single("rules", "paper.rules_invalid",
                                      _("Give 1 to %(max)d rules.") % {"max": MAX_RULES})
    point_ids = set(KnowledgePoint.objects.filter(library=library).values_list("pk", flat=True))
    parsed = []
    for i, raw in enumerate(rules):
        where = f"rules.{i}"
        if not isinstance(raw, dict):
            errors.add(where, "paper.rules_invalid", _("Each rule needs a type, a count and a score."))
            continue
        qtype, point = raw.get("qtype"), raw.get("knowledge_point")
        difficulty, count = raw.get("difficulty") or "", raw.get("count")
        if qtype not in QuestionType.values:
            errors.add(f"{where}.qtype", "paper.rule_type_invalid", _("Choose a question type."))
        if point is not None and (not is_int(point) or point not in point_ids):
            errors.add(f"{where}.knowledge_point", "paper.rule_point_invalid",
                       _("Choose a knowledge point of this library, or none."))
        if difficulty not in DIFFICULTIES:
            errors.add(f"{where}.difficulty", "paper.rule_difficulty_invalid",
                       _("Choose a difficulty from the list."))
        if not is_int(count) or not 1 <= count <= MAX_ITEMS:
            errors.add(f"{where}.count", "paper.rule_count_invalid",
                       _("The number of questions must be from 1 to %(max)d.") % {"max": MAX_ITEMS})
        try:
            score = parse_score(raw.get("score"), f"{where}.score")
        except ValidationFailed as exc:
            errors.errors.extend(exc.errors)
            score = None
        if not errors:
            parsed.append(Rule(qtype, point, difficulty, count, score))
    errors.raise_if_any()
    if sum(r.count for r in parsed) > MAX_ITEMS:
        raise ValidationFailed.single("rules", "paper.too_many_items",
                                      _("A paper holds at most %(max)d questions.") % {"max": MAX_ITEMS})
    return parsed


def _point_and_descendants(library: Library, point_id: int, tree: dict) -> list[int]:
    """A rule on a knowledge point also takes questions tagged with the points below it."""
    if not tree:
        for pk, parent in KnowledgePoint.objects.filter(library=library).values_list("pk", "parent_id"):
            tree.setdefault(parent, []).append(pk)
    found, stack = [], [point_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(tree.get(current, ()))
    return found


def _rule_filter(library: Library, rule: Rule, tree: dict) -> Q:
    condition = Q(qtype=rule.qtype)
    if rule.difficulty:
        condition &= Q(version__difficulty=rule.difficulty)
    if rule.knowledge_point is not None:
        condition &= Q(version__knowledge_points__in=_point_and_descendants(library, rule.knowledge_point, tree))
    return condition


def _fitting_ids(library: Library, rule: Rule, tree: dict, among: list[int] | None = None) -> list[int]:
    """The ids of the eligible versions a rule may draw from (all of them, or those of `among`)."""
    qs = eligible_questions(library).filter(_rule_filter(library, rule, tree))
    if among is not None:
        qs = qs.filter(pk__in=among)
    return list(qs.values_list("version_id", flat=True).distinct())


# A rule without a knowledge point matches a large share of the library's questions of its type: such a rule first
# samples that type's ids (one query on the (library, qtype) index, no joins) and checks eligibility and difficulty on
# the sample only. The first `count` fitting ids of a random sample are a uniform draw among all fitting ones. When
# the sample holds too few (a rare difficulty, many blocked questions), the exact query decides and counts.
OVERSAMPLE = {False: 1.5, True: 4}  # by "the rule names a difficulty" (one of three levels)
OVERSAMPLE_EXTRA = 20


def _draw_rule(library: Library, rule: Rule, taken: set[int], rng: random.Random, pools: dict,
               tree: dict) -> tuple[list[int], int | None]:
    """(chosen ids, None) or ([], the number available) when the rule falls short."""
    if rule.knowledge_point is None:
        if rule.qtype not in pools:
            pools[rule.qtype] = list(QuestionContent.objects.filter(library=library, qtype=rule.qtype)
                                     .values_list("version_id", flat=True))
        pool = [pk for pk in pools[rule.qtype] if pk not in taken]
        size = int(rule.count * OVERSAMPLE[bool(rule.difficulty)]) + OVERSAMPLE_EXTRA
        if size < len(pool):
            sample = rng.sample(pool, size)
            fitting = set(_fitting_ids(library, rule, tree, among=sample))
            chosen = [pk for pk in sample if pk in fitting][:rule.count]
            if len(chosen) == rule.count:
                return chosen, None
    candidates = [pk for pk in _fitting_ids(library, rule, tree) if pk not in taken]
    if len(candidates) < rule.count:
        return [], len(candidates)
    return rng.sample(candidates, rule.count), None


def draw(library: Library, rules: list[Rule], *, rng: random.Random | None = None) -> list[tuple[int, Rule]]:
    """Draw (version id, rule) pairs without repetition, rule after rule; RuleShortfall names every rule lacking
    questions (a question drawn by an earlier rule does not count again for a later one)."""
    rng = rng or random.SystemRandom()
    taken: set[int] = set()
    drawn: list[tuple[int, Rule]] = []
    shortfalls, errors = [], []
    pools: dict = {}
    tree: dict = {}
    for i, rule in enumerate(rules):
        chosen, available = _draw_rule(library, rule, taken, rng, pools, tree)
        if available is not None:
            shortfalls.append({"rule": i, "needed": rule.count, "available": available})
            errors.append((f"rules.{i}", "paper.rule_short", _(
                "Rule %(number)d (%(type)s) asks for %(count)d questions but the bank has only %(available)d "
                "that fit.") % {"number": i + 1, "type": QuestionType(rule.qtype).label, "count": rule.count,
                                "available": available}))
            continue
        taken.update(chosen)
        drawn.extend((pk, rule) for pk in chosen)
    if shortfalls:
        raise RuleShortfall(shortfalls, errors)
    return drawn


def compose_by_rules(paper: Paper, rules, *, by, rng: random.Random | None = None) -> list[PaperQuestion]:
    """Replace a draft paper's questions by a random draw following `rules`; nothing changes if a rule falls short."""
    _manager_required(by, paper)
    with transaction.atomic():
        paper = _locked(paper)
        _draft_required(paper)
        parsed = parse_rules(paper.library, rules)
        drawn = draw(paper.library, parsed, rng=rng)
        before = {"mode": paper.mode, "rules": paper.rules, "items": _items_snapshot(paper)}
        paper.items.all().delete()
        items = PaperQuestion.objects.bulk_create(
            PaperQuestion(paper=paper, position=position, question_id=version_id, score=rule.score)
            for position, (version_id, rule) in enumerate(drawn, start=1)
        )
        paper.mode = Paper.Mode.RANDOM
        paper.rules = [r.as_json() for r in parsed]
        paper.save(update_fields=["mode", "rules", "updated_at"])
        audit.record(actor=by, action="paper.compose", target=paper, before=before,
                     after={"mode": paper.mode, "rules": paper.rules, "items": _items_snapshot(paper)})
    return items


# --- lifecycle ----------------------------------------------------------------------------------------------------

def _unavailable_error(items: list[PaperQuestion]) -> ValidationFailed:
    return ValidationFailed.single("items", "paper.question_unavailable", _(
        "Questions %(positions)s were restricted, blocked or withdrawn since they were added; remove them first.")
        % {"positions": "、".join(str(i.position) for i in items)})


def open_paper(paper: Paper, *, by) -> Paper:
    _manager_required(by, paper)
    with transaction.atomic():
        paper = _locked(paper)
        transition = PAPER_LIFECYCLE.transition_for("open", PS(paper.state))
        if not paper.items.exists():
            raise ValidationFailed.single("items", "paper.empty", _("Add at least one question before opening."))
        gone = unavailable_items(paper)
        if gone:
            raise _unavailable_error(gone)
        before = audit.snapshot(paper, SNAPSHOT_FIELDS)
        paper.state = transition.target
        paper.opened_at = timezone.now()
        paper.save(update_fields=["state", "opened_at", "updated_at"])
        audit.record(actor=by, action="paper.open", target=paper, before=before,
                     after=audit.snapshot(paper, SNAPSHOT_FIELDS))
    return paper


def close_paper(paper: Paper, *, by) -> Paper:
    """Close answering; attempts still in progress are submitted with what their learners saved."""
    _manager_required(by, paper)
    with transaction.atomic():
        paper = _locked(paper)
        transition = PAPER_LIFECYCLE.transition_for("close", PS(paper.state))
        items = list(paper.items.select_related("question"))
        for attempt in paper.attempts.filter(state=AS.IN_PROGRESS).select_for_update():
            _submit(attempt, paper, by=by, reason="paper closed", items=items)
        before = audit.snapshot(paper, SNAPSHOT_FIELDS)
        paper.state = transition.target
        paper.closed_at = timezone.now()
        paper.save(update_fields=["state", "closed_at", "updated_at"])
        audit.record(actor=by, action="paper.close", target=paper, before=before,
                     after=audit.snapshot(paper, SNAPSHOT_FIELDS))
    return paper


# --- attempts -----------------------------------------------------------------------------------------------------

def deadline(attempt: Attempt, paper: Paper | None = None) -> datetime.datetime | None:
    paper = paper or attempt.paper
    if not paper.time_limit_minutes:
        return None
    return attempt.started_at + datetime.timedelta(minutes=paper.time_limit_minutes)


def _overdue(attempt: Attempt, paper: Paper, now=None) -> bool:
    end = deadline(attempt, paper)
    return end is not None and (now or timezone.now()) > end + SUBMIT_GRACE


def _not_open(paper: Paper) -> Conflict:
    return Conflict(_("This paper is not open for answering."), code="paper.not_open")


def start_attempt(paper: Paper, *, by) -> tuple[Attempt, bool]:
    """The learner's attempt in progress (continued), or a new one; (attempt, created). An attempt past its time
    limit is submitted first."""
    if not paper_policies.can_answer(by, paper):
        if paper.state != PS.OPEN:
            raise _not_open(paper)
        raise PermissionDenied(_("Please log in to answer this paper."), code="paper.answer_denied")
    with transaction.atomic():
        paper = _locked(paper)  # a paper being closed right now takes no new attempt
        if paper.state != PS.OPEN:
            raise _not_open(paper)
        current = paper.attempts.select_for_update().filter(user=by, state=AS.IN_PROGRESS).first()
        if current is not None:
            if not _overdue(current, paper):
                return current, False
            _submit(current, paper, by=by, reason="time limit")
        used = paper.attempts.filter(user=by).count()
        if used >= paper.max_attempts:
            raise Conflict(_("You have used all %(max)d attempts at this paper.") % {"max": paper.max_attempts},
                           code="paper.attempts_exhausted")
        if unavailable_items(paper):
            raise Conflict(_("A question of this paper is no longer available; please tell its teacher."),
                           code="paper.question_unavailable")
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(paper=paper, user=by, number=used + 1)
        except IntegrityError:
            # Two starts of one learner at once (two tabs): the other one created the attempt.
            raise Conflict(code="attempt.concurrent_start") from None
        audit.record(actor=by, action="attempt.start", target=attempt, after={"paper": paper.pk, "number": used + 1})
    return attempt, True


def _own_attempt_required(user, attempt: Attempt) -> None:
    if not paper_policies.can_change_attempt(user, attempt):
        raise PermissionDenied(_("This is not your attempt."), code="attempt.not_yours")


def _locked_attempt(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().select_related("paper").get(pk=attempt.pk)


def _response_ok(question: QuestionContent, response) -> bool:
    """The shape grading expects for the type; None (not answered) is always accepted."""
    if response is None:
        return True
    qtype, n = question.qtype, len(question.options)
    if qtype == QuestionType.SINGLE_CHOICE:
        return is_int(response) and 0 <= response < n
    if qtype == QuestionType.MULTIPLE_CHOICE:
        return (isinstance(response, list) and all(is_int(i) and 0 <= i < n for i in response)
                and len(set(response)) == len(response))
    if qtype == QuestionType.TRUE_FALSE:
        return isinstance(response, bool)
    if qtype == QuestionType.FILL_BLANK:
        return (isinstance(response, list) and len(response) <= blank_count(question.stem)
                and all(isinstance(s, str) for s in response))
    if qtype == QuestionType.SHORT_ANSWER:
        return isinstance(response, str)
    if qtype == QuestionType.MATCHING:
        return isinstance(response, list) and len(response) <= n and all(isinstance(s, str) for s in response)
    if qtype == QuestionType.ORDERING:
        return (isinstance(response, list) and all(is_int(i) for i in response)
                and sorted(response) == list(range(n)))
    return False


def save_answers(attempt: Attempt, responses: dict[int, object], *, by) -> Attempt:
    """Store the learner's responses ({item id: response}) of an attempt in progress; other items keep theirs."""
    _own_attempt_required(by, attempt)
    with transaction.atomic():
        attempt = _locked_attempt(attempt)
        paper = attempt.paper
        if attempt.state != AS.IN_PROGRESS:
            raise Conflict(_("This attempt was already submitted."), code="attempt.not_in_progress")
        if paper.state != PS.OPEN:
            raise _not_open(paper)
        if _overdue(attempt, paper):
            raise Conflict(_("The time is up; your saved answers will be submitted."), code="attempt.time_up")
        items = {i.pk: i for i in paper.items.select_related("question")}
        errors = FieldErrors()
        for item_id, response in responses.items():
            item = items.get(item_id)
            if item is None:
                errors.add(f"answers.{item_id}", "attempt.item_unknown", _("This question is not in the paper."))
            elif len(json.dumps(response, ensure_ascii=False)) > MAX_RESPONSE_CHARS:
                errors.add(f"answers.{item_id}", "attempt.response_too_long",
                           _("An answer may have at most %(max)d characters.") % {"max": MAX_RESPONSE_CHARS})
            elif not _response_ok(item.question, response):
                errors.add(f"answers.{item_id}", "attempt.response_invalid",
                           _("This answer does not fit the question (question %(position)d).")
                           % {"position": item.position})
        errors.raise_if_any()
        existing = {a.item_id: a for a in attempt.answers.filter(item_id__in=list(responses))}
        for item_id, response in responses.items():
            if items[item_id].question.qtype == QuestionType.ORDERING:
                response = _stored_order(response, ordering_slots(attempt, items[item_id]))
            answer = existing.get(item_id)
            if answer is None:
                AttemptAnswer.objects.create(attempt=attempt, item_id=item_id, response=response)
            elif answer.response != response:
                answer.response = response
                answer.save(update_fields=["response", "updated_at"])
        audit.record(actor=by, action="attempt.save", target=attempt, after={"items": sorted(responses)})
    return attempt


def _blank(response) -> bool:
    return response is None or (isinstance(response, str) and not response.strip())


def earned(item_score: Decimal, share: Fraction) -> Decimal:
    return (item_score * Decimal(share.numerator) / Decimal(share.denominator)).quantize(TENTH, ROUND_HALF_UP)


def _submit(attempt: Attempt, paper: Paper, *, by, reason: str = "", items: list | None = None) -> None:
    """Grade what can be graded and set the state (inside the caller's transaction, the attempt locked). `items`: the
    paper's items with their questions, when the caller submits many attempts (closing the paper) and read them once.
    """
    items = items if items is not None else list(paper.items.select_related("question"))
    answers = {a.item_id: a for a in attempt.answers.all()}
    pending = False
    total = Decimal(0)
    now = timezone.now()
    new, changed = [], []
    for item in items:
        answer = answers.get(item.pk)
        if answer is None:
            answer = AttemptAnswer(attempt=attempt, item=item, response=None)
            new.append(answer)
        else:
            changed.append(answer)
        question = item.question
        share = grading.grade(question.qtype, question.options, question.answer, answer.response)
        if share is None and _blank(answer.response):
            share = Fraction(0)  # an empty short answer needs no teacher
        if share is None:
            pending = True
            answer.score = None
        else:
            answer.score = earned(item.score, share)
            total += answer.score
        answer.updated_at = now
    AttemptAnswer.objects.bulk_create(new)
    AttemptAnswer.objects.bulk_update(changed, ["score", "updated_at"])
    attempt.submitted_at = now
    attempt.state = AS.SUBMITTED if pending else AS.GRADED
    attempt.score = None if pending else total
    attempt.graded_at = None if pending else now
    attempt.save(update_fields=["state", "submitted_at", "score", "graded_at"])
    audit.record(actor=by, action="attempt.submit", target=attempt, reason=reason,
                 after={"state": attempt.state, "score": str(total) if not pending else None})


def submit_attempt(attempt: Attempt, *, by) -> Attempt:
    _own_attempt_required(by, attempt)
    with transaction.atomic():
        attempt = _locked_attempt(attempt)
        if attempt.state != AS.IN_PROGRESS:
            raise Conflict(_("This attempt was already submitted."), code="attempt.not_in_progress")
        _submit(attempt, attempt.paper, by=by)
    return attempt


def submit_if_overdue(attempt: Attempt, *, by) -> Attempt:
    """A learner coming back to an attempt whose time ran out finds it submitted (also when another request, a second
    tab, has just submitted it)."""
    if attempt.state != AS.IN_PROGRESS or not _overdue(attempt, attempt.paper):
        return attempt
    _own_attempt_required(by, attempt)
    with transaction.atomic():
        attempt = _locked_attempt(attempt)
        if attempt.state == AS.IN_PROGRESS:
            _submit(attempt, attempt.paper, by=by, reason="time limit")
    return attempt


def grade_answer(answer: AttemptAnswer, score, *, by, comment: str = "") -> AttemptAnswer:
    """A teacher's score for a short answer (0 ≤ score ≤ the item's score, one decimal); the attempt is graded once
    none of its answers waits any more. A graded answer may be graded again (the total follows)."""
    with transaction.atomic():
        answer = (AttemptAnswer.objects.select_for_update()
                  .select_related("attempt__paper__library", "item__question").get(pk=answer.pk))
        attempt, item = answer.attempt, answer.item
        if not paper_policies.can_grade(by, attempt.paper):
            raise PermissionDenied(_("Only the paper's teachers can grade answers."), code="paper.grade_denied")
        if not item.question.is_manual:
            raise ValidationFailed.single("score", "paper.answer_not_manual",
                                          _("Objective answers are graded automatically."))
        if attempt.state == AS.IN_PROGRESS:
            raise Conflict(_("The learner has not submitted this attempt yet."), code="attempt.not_submitted")
        try:
            value = Decimal(str(score).strip()) if score is not None and not isinstance(score, bool) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= item.score or value != value.quantize(TENTH):
            raise ValidationFailed.single("score", "paper.grade_invalid", _(
                "The score must be from 0 to %(max)s, with at most one decimal place.") % {"max": item.score})
        comment = _text(comment)
        if len(comment) > MAX_INSTRUCTIONS:
            raise ValidationFailed.single("comment", "paper.comment_too_long", _(
                "The comment may have at most %(max)d characters.") % {"max": MAX_INSTRUCTIONS})
        before = {"score": None if answer.score is None else str(answer.score), "state": attempt.state}
        answer.score = value.quantize(TENTH)
        answer.comment = comment
        answer.graded_by = by
        answer.save(update_fields=["score", "comment", "graded_by", "updated_at"])
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if not attempt.answers.filter(score__isnull=True).exists():
            scores = attempt.answers.values_list("score", flat=True)
            attempt.score = sum(scores, Decimal(0))
            if attempt.state != AS.GRADED:
                attempt.state = AS.GRADED
                attempt.graded_at = timezone.now()
            attempt.save(update_fields=["score", "state", "graded_at"])
        audit.record(actor=by, action="attempt.grade", target=attempt, before=before,
                     after={"answer": answer.pk, "score": str(answer.score), "state": attempt.state})
    return answer


def pending_answers(paper: Paper):
    """Short answers waiting for a teacher, oldest submission first."""
    return (AttemptAnswer.objects.filter(attempt__paper=paper, attempt__state=AS.SUBMITTED, score__isnull=True)
            .select_related("attempt__user", "item__question").order_by("attempt__submitted_at", "item__position"))


# --- presenting a question to a learner ---------------------------------------------------------------------------

def ordering_slots(attempt: Attempt | None, item: PaperQuestion) -> list[int]:
    """The order in which an ordering item's options are shown in this attempt: slot k shows stored option
    slots[k]. Learners answer in slots (the `index` they see); the stored options are in the correct order, so showing
    their stored positions would give the answer away, and the shuffle is keyed with the site's secret so that the
    slots cannot be recomputed from the attempt's and item's ids."""
    key = hmac.new(settings.SECRET_KEY.encode(), f"ordering:{attempt.pk if attempt else 0}:{item.pk}".encode(),
                   hashlib.sha256).digest()
    slots = list(range(len(item.question.options)))
    random.Random(key).shuffle(slots)
    return slots


def _stored_order(response, slots: list[int]):
    """An ordering response in the learner's slots → the stored options' positions, which grading compares."""
    return [slots[k] for k in response] if isinstance(response, list) else response


def _shown_order(value, slots: list[int]):
    """Stored positions → the slots this attempt shows (inverse of _stored_order)."""
    return [slots.index(i) for i in value] if isinstance(value, list) else value


def presented(item: PaperQuestion, attempt: Attempt | None) -> dict:
    """What a learner's form shows for one item, never the answer: ordering items in the attempt's slots
    (`ordering_slots`), the right-hand matches sorted and shuffled with a seed of the attempt, so a reload shows the
    same order."""
    question = item.question
    seed = random.Random(f"{attempt.pk if attempt else 0}:{item.pk}")
    data = {"item": item.pk, "position": item.position, "qtype": question.qtype,
            "type_label": str(QuestionType(question.qtype).label), "stem": question.stem,
            "score": item.score, "options": [], "matches": [], "blanks": 0}
    if question.qtype in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.MATCHING):
        data["options"] = [{"index": i, "text": text} for i, text in enumerate(question.options)]
    if question.qtype == QuestionType.MATCHING:
        matches = sorted(set(question.answer or []))
        seed.shuffle(matches)
        data["matches"] = matches
    elif question.qtype == QuestionType.ORDERING:
        data["options"] = [{"index": k, "text": question.options[i]}
                           for k, i in enumerate(ordering_slots(attempt, item))]
    elif question.qtype == QuestionType.FILL_BLANK:
        data["blanks"] = blank_count(question.stem)
    return data


WITHHELD_NOTICE = _("This question was restricted by the platform and is no longer shown.")


def attempt_sheet(attempt: Attempt, *, show_answers: bool) -> list[dict]:
    """Each item as presented, with the learner's response; with `show_answers` also the earned score, the
    teacher's comment, the reference answer and the analysis. Two queries whatever the paper's length."""
    answers = {a.item_id: a for a in attempt.answers.all()}
    withheld = {item.pk for item in unavailable_items(attempt.paper)}
    rows = []
    for item in attempt.paper.items.select_related("question").order_by("position"):
        row = presented(item, attempt)
        row["withheld"] = item.pk in withheld
        if row["withheld"]:  # restricted, blocked or withdrawn since the paper was composed: shown to nobody
            row.update(stem=str(WITHHELD_NOTICE), options=[], matches=[], blanks=0)
        answer = answers.get(item.pk)
        row["response"] = answer.response if answer else None
        slots = ordering_slots(attempt, item) if item.question.qtype == QuestionType.ORDERING else None
        if slots is not None:
            row["response"] = _shown_order(row["response"], slots)
        row.update(earned=None, comment="", answer=None, analysis="")
        if show_answers and not row["withheld"]:
            question = item.question
            row.update(earned=answer.score if answer else None, comment=answer.comment if answer else "",
                       answer=question.answer, analysis=question.analysis)
            if slots is not None:
                row["answer"] = _shown_order(list(range(len(question.options))), slots)
        rows.append(row)
    return rows


def candidates(library: Library, *, qtype: str = "", difficulty: str = "", knowledge_point: int | None = None,
               text: str = ""):
    """Questions a composer may pick by hand, newest first, with the filters of the compose page."""
    qs = eligible_questions(library).select_related("version")
    if qtype:
        qs = qs.filter(qtype=qtype)
    if difficulty:
        qs = qs.filter(version__difficulty=difficulty)
    if knowledge_point is not None:
        qs = qs.filter(version__knowledge_points__in=_point_and_descendants(library, knowledge_point, {})).distinct()
    if text.strip():
        qs = qs.filter(stem__icontains=text.strip())
    return qs.order_by("-version_id")


def with_totals(papers):
    """Papers with their number of items and total score, for lists (one query for the page, not one per paper)."""
    return papers.annotate(item_count=Count("items"), total_score=Sum("items__score"))


def paper_totals(paper: Paper) -> tuple[int, Decimal]:
    if hasattr(paper, "item_count"):  # from with_totals
        return paper.item_count, Decimal(paper.total_score or 0).quantize(TENTH)
    scores = list(paper.items.values_list("score", flat=True))
    return len(scores), sum(scores, Decimal(0)).quantize(TENTH)


# --- results ------------------------------------------------------------------------------------------------------

@dataclass
class LearnerResult:
    user_id: int
    username: str
    name: str
    attempts: int
    best: Decimal | None
    last: Decimal | None
    pending: int
    in_progress: bool


@dataclass
class ItemResult:
    item_id: int
    position: int
    qtype: str
    stem: str
    score: Decimal
    mean: Decimal | None
    difficulty: Decimal | None
    discrimination: Decimal | None

    @property
    def type_label(self) -> str:
        return str(QuestionType(self.qtype).label)


@dataclass
class Results:
    total: Decimal
    learners: list[LearnerResult]
    items: list[ItemResult]
    analysed: int  # learners in the item analysis (their latest graded attempt each)
    enough_data: bool
    min_learners: int = MIN_ANALYSIS_LEARNERS


def _ratio(total: Decimal, count: int, full: Decimal) -> Decimal:
    return total / count / full


def _index(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def results(paper: Paper) -> Results:
    """Scores per learner (best and last graded score) and the item analysis of the paper."""
    items = list(paper.items.select_related("question").order_by("position"))
    total = sum((i.score for i in items), Decimal(0))
    attempts = list(paper.attempts.select_related("user").order_by("user_id", "number"))
    by_user: dict[int, list[Attempt]] = {}
    for a in attempts:
        by_user.setdefault(a.user_id, []).append(a)
    learners, latest = [], []
    for user_attempts in by_user.values():
        graded = [a for a in user_attempts if a.state == AS.GRADED]
        user = user_attempts[0].user
        learners.append(LearnerResult(
            user_id=user.pk, username=user.username, name=user.display_name, attempts=len(user_attempts),
            best=max((a.score for a in graded), default=None), last=graded[-1].score if graded else None,
            pending=sum(1 for a in user_attempts if a.state == AS.SUBMITTED),
            in_progress=any(a.state == AS.IN_PROGRESS for a in user_attempts)))
        if graded:
            latest.append(graded[-1])
    learners.sort(key=lambda r: (r.best is None, -(r.best or 0), r.username))

    scores: dict[tuple[int, int], Decimal] = {}
    for attempt_id, item_id, score in AttemptAnswer.objects.filter(
            attempt__in=[a.pk for a in latest]).values_list("attempt_id", "item_id", "score"):
        scores[(attempt_id, item_id)] = score or Decimal(0)
    n = len(latest)
    enough = n >= MIN_ANALYSIS_LEARNERS
    ranked = sorted(latest, key=lambda a: (a.score, a.pk), reverse=True)
    group = max(1, int((GROUP_SHARE * n).to_integral_value(ROUND_HALF_UP))) if n else 0
    upper = ranked[:group]
    lower = ranked[len(ranked) - group:]
    rows = []
    for item in items:
        item_scores = [scores.get((a.pk, item.pk), Decimal(0)) for a in latest]
        mean = (sum(item_scores, Decimal(0)) / n).quantize(TENTH, ROUND_HALF_UP) if n else None
        difficulty = discrimination = None
        if enough:
            difficulty = _index(_ratio(sum(item_scores, Decimal(0)), n, item.score))
            high = sum((scores.get((a.pk, item.pk), Decimal(0)) for a in upper), Decimal(0))
            low = sum((scores.get((a.pk, item.pk), Decimal(0)) for a in lower), Decimal(0))
            # rounded once, after the difference
            discrimination = _index(_ratio(high, group, item.score) - _ratio(low, group, item.score))
        rows.append(ItemResult(item_id=item.pk, position=item.position, qtype=item.question.qtype,
                               stem=item.question.stem, score=item.score, mean=mean,
                               difficulty=difficulty, discrimination=discrimination))
    return Results(total=total, learners=learners, items=rows, analysed=n, enough_data=enough)


def export_results_xlsx(paper: Paper) -> bytes:
    """Two sheets, headers in the active language: learners' scores and the item analysis."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from reslib.core.xlsx import append_row

    data = results(paper)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = gettext("Scores")
    append_row(sheet, [gettext("Username"), gettext("Real name"), gettext("Attempts"), gettext("Best score"),
                       gettext("Last score"), gettext("Awaiting grading")])
    for row in data.learners:
        append_row(sheet, [row.username, row.name, row.attempts, _number(row.best), _number(row.last), row.pending])
    analysis = workbook.create_sheet(gettext("Item analysis"))
    append_row(analysis, [gettext("No."), gettext("Question type"), gettext("Stem"), gettext("Score"),
                          gettext("Mean score"), gettext("Difficulty P"), gettext("Discrimination D")])
    missing = gettext("Not enough data")
    for row in data.items:
        append_row(analysis, [
            row.position, str(QuestionType(row.qtype).label), row.stem[:1000], _number(row.score), _number(row.mean),
            _number(row.difficulty) if data.enough_data else missing,
            _number(row.discrimination) if data.enough_data else missing,
        ])
    for ws, widths in ((sheet, [16, 16, 10, 12, 12, 12]), (analysis, [8, 14, 60, 8, 12, 14, 14])):
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _number(value: Decimal | None):
    return None if value is None else float(value)
