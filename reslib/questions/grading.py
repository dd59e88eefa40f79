"""Automatic grading of objective answers: the share of a question's score a response earns.

Response shapes, by type: single_choice → choice index; multiple_choice → list of indices; true_false → bool;
fill_blank → one string per blank; matching → for each prompt the chosen match; ordering → the option indices in the
order the learner put them (options are stored in their correct order). Short answers are graded by a teacher.

Rules (the usual ones of Chinese vocational exams, stated so teachers can explain a score):
- multiple choice: every correct choice and no wrong one → full score; only correct choices but not all of them
  (少选) → half; any wrong choice (错选) → nothing;
- fill in the blank and matching: the share of blanks / pairs answered right; blanks compare after Unicode NFKC
  folding (full-width letters and digits), collapsed spaces and ignoring case;
- ordering: full score only for the exact order.
"""

from __future__ import annotations

import unicodedata
from fractions import Fraction

from .models import MANUAL_TYPES, QuestionType

PARTIAL_MULTIPLE = Fraction(1, 2)


def fold(text) -> str:
    if not isinstance(text, str):
        return ""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def is_int(value) -> bool:
    """An int that is not a bool (JSON true would otherwise pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _multiple(answer: list[int], response) -> Fraction:
    if not isinstance(response, list) or not all(is_int(i) for i in response):
        return Fraction(0)
    chosen, correct = set(response), set(answer)
    if chosen == correct:
        return Fraction(1)
    if chosen and chosen < correct:
        return PARTIAL_MULTIPLE
    return Fraction(0)


def _share(expected: list, response, matches) -> Fraction:
    if not isinstance(response, list) or not expected:
        return Fraction(0)
    right = sum(1 for i, want in enumerate(expected) if i < len(response) and matches(want, response[i]))
    return Fraction(right, len(expected))


def grade(qtype: str, options: list, answer, response) -> Fraction | None:
    """The earned share in [0, 1]; None for a type a teacher grades. A malformed or missing response earns 0."""
    if qtype in MANUAL_TYPES:
        return None
    if qtype == QuestionType.SINGLE_CHOICE:
        return Fraction(int(is_int(response) and response == answer))
    if qtype == QuestionType.MULTIPLE_CHOICE:
        return _multiple(answer, response)
    if qtype == QuestionType.TRUE_FALSE:
        return Fraction(int(isinstance(response, bool) and response == answer))
    if qtype == QuestionType.FILL_BLANK:
        return _share(answer, response, lambda accepted, given: fold(given) in {fold(a) for a in accepted})
    if qtype == QuestionType.MATCHING:
        return _share(answer, response, lambda want, given: fold(given) == fold(want))
    if qtype == QuestionType.ORDERING:
        return Fraction(int(response == list(range(len(options)))))
    raise ValueError(f"unknown question type {qtype!r}")
