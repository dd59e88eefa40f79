"""One question as plain data: what the editor form, the API, the importers and the exporters exchange.

Every format (GIFT, Moodle XML, IMS QTI 2.1 / 3.0, the Excel template) converts to and from `QuestionData`; the
services turn it into a reviewed question version. The shapes of `options` and `answer` per type:

| type            | options                                  | answer                                          |
|-----------------|------------------------------------------|-------------------------------------------------|
| single_choice   | the choices (2–10)                       | index of the correct choice (int)               |
| multiple_choice | the choices (2–10)                       | sorted indices of the correct choices (≥ 1)     |
| true_false      | []                                       | True or False                                   |
| fill_blank      | []                                       | per blank, the accepted answers: [["a", "b"]]   |
| short_answer    | []                                       | the reference answer (str, may be empty)        |
| matching        | the prompts on the left (2–20)           | for each prompt its match on the right (str)    |
| ordering        | the items in their correct order (2–20)  | None                                            |

A fill-in-the-blank stem marks each blank with three or more underscores (`___`); a stem without a mark has one
blank, after the stem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from reslib.core.errors import FieldErrors

from .models import QuestionType

BLANK_MARK = re.compile(r"_{3,}")
MAX_STEM_CHARS = 5000
MAX_OPTION_CHARS = 1000
MAX_ANALYSIS_CHARS = 5000
CHOICE_RANGE = (2, 10)
PAIR_RANGE = (2, 20)
DIFFICULTIES = ("", "basic", "intermediate", "advanced")


@dataclass
class QuestionData:
    qtype: str
    stem: str
    options: list[str] = field(default_factory=list)
    answer: Any = None
    analysis: str = ""
    difficulty: str = ""
    knowledge_points: list[str] = field(default_factory=list)  # names in the library's knowledge tree
    title: str = ""  # a short name some formats carry (GIFT ::title::, QTI title); the stem's start otherwise


def blank_count(stem: str) -> int:
    return max(1, len(BLANK_MARK.findall(stem)))


def _texts_ok(values, limit: int) -> bool:
    return all(isinstance(v, str) and v.strip() and len(v) <= limit for v in values)


def _choice_problems(data: QuestionData, errors: FieldErrors) -> None:
    low, high = CHOICE_RANGE
    if not low <= len(data.options) <= high or not _texts_ok(data.options, MAX_OPTION_CHARS):
        errors.add("options", "question.options_invalid",
                   _("Give %(low)d to %(high)d non-empty choices.") % {"low": low, "high": high})
        return
    indices = range(len(data.options))
    if data.qtype == QuestionType.SINGLE_CHOICE:
        if not isinstance(data.answer, int) or isinstance(data.answer, bool) or data.answer not in indices:
            errors.add("answer", "question.answer_invalid", _("Mark exactly one correct choice."))
    elif (not isinstance(data.answer, list) or not data.answer
          or any(not isinstance(i, int) or isinstance(i, bool) or i not in indices for i in data.answer)
          or len(set(data.answer)) != len(data.answer)):
        errors.add("answer", "question.answer_invalid", _("Mark at least one correct choice."))


def _pair_problems(data: QuestionData, errors: FieldErrors) -> None:
    low, high = PAIR_RANGE
    if not low <= len(data.options) <= high or not _texts_ok(data.options, MAX_OPTION_CHARS):
        errors.add("options", "question.options_invalid",
                   _("Give %(low)d to %(high)d non-empty items.") % {"low": low, "high": high})
        return
    if data.qtype == QuestionType.MATCHING and (
            not isinstance(data.answer, list) or len(data.answer) != len(data.options)
            or not _texts_ok(data.answer, MAX_OPTION_CHARS)):
        errors.add("answer", "question.answer_invalid", _("Give a match for every item."))


def _answer_problems(data: QuestionData, errors: FieldErrors) -> None:
    qtype = data.qtype
    if qtype in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        _choice_problems(data, errors)
    elif qtype in (QuestionType.MATCHING, QuestionType.ORDERING):
        _pair_problems(data, errors)
    elif qtype == QuestionType.TRUE_FALSE:
        if not isinstance(data.answer, bool):
            errors.add("answer", "question.answer_invalid", _("Choose true or false."))
    elif qtype == QuestionType.FILL_BLANK:
        blanks = blank_count(data.stem or "")
        if (not isinstance(data.answer, list) or len(data.answer) != blanks
                or any(not isinstance(a, list) or not a or not _texts_ok(a, MAX_OPTION_CHARS) for a in data.answer)):
            errors.add("answer", "question.answer_invalid",
                       _("Give at least one accepted answer for each of the %(count)d blanks.") % {"count": blanks})
    elif qtype == QuestionType.SHORT_ANSWER:
        if not isinstance(data.answer, str) or len(data.answer) > MAX_ANALYSIS_CHARS:
            errors.add("answer", "question.answer_invalid",
                       _("The reference answer may have at most %(max)d characters.") % {"max": MAX_ANALYSIS_CHARS})


def problems(data: QuestionData) -> FieldErrors:
    """Everything wrong with one question's own content, all at once (the library-dependent checks — knowledge
    points, rights — are the services')."""
    errors = FieldErrors()
    if data.qtype not in QuestionType.values:
        errors.add("qtype", "question.type_invalid", _("Choose a question type."))
        return errors
    stem = (data.stem or "").strip()
    if not stem:
        errors.add("stem", "question.stem_required", _("Please enter the question stem."))
    elif len(stem) > MAX_STEM_CHARS:
        errors.add("stem", "question.stem_too_long",
                   _("The stem may have at most %(max)d characters.") % {"max": MAX_STEM_CHARS})
    if data.qtype not in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.MATCHING,
                          QuestionType.ORDERING) and data.options:
        errors.add("options", "question.options_unexpected", _("This question type has no choices."))
    else:
        _answer_problems(data, errors)
    if len(data.analysis or "") > MAX_ANALYSIS_CHARS:
        errors.add("analysis", "question.analysis_too_long",
                   _("The analysis may have at most %(max)d characters.") % {"max": MAX_ANALYSIS_CHARS})
    if data.difficulty not in DIFFICULTIES:
        errors.add("difficulty", "question.difficulty_invalid", _("Choose a difficulty from the list."))
    return errors


def normalised(data: QuestionData) -> QuestionData:
    """The canonical form stored: trimmed texts, sorted multiple-choice indices."""
    answer = data.answer
    if data.qtype == QuestionType.MULTIPLE_CHOICE:
        answer = sorted(answer)
    elif data.qtype == QuestionType.FILL_BLANK:
        answer = [[a.strip() for a in accepted] for accepted in answer]
    elif data.qtype == QuestionType.MATCHING:
        answer = [a.strip() for a in answer]
    elif data.qtype == QuestionType.SHORT_ANSWER:
        answer = answer.strip()
    return QuestionData(
        qtype=data.qtype, stem=data.stem.strip(), options=[o.strip() for o in data.options], answer=answer,
        analysis=(data.analysis or "").strip(), difficulty=data.difficulty,
        knowledge_points=[k.strip() for k in data.knowledge_points if k and k.strip()],
        title=(data.title or "").strip(),
    )
