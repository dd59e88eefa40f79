"""Request and response schemas of the papers API (试卷)."""

import datetime
import decimal
from typing import Any

from ninja import Field, Schema


class PaperIn(Schema):
    """Mirrors papers.PaperData; the service checks every rule at once (codes like paper.title_required)."""

    title: str = ""
    instructions: str = ""
    time_limit_minutes: int | None = Field(None, description="minutes (1–600); null for no limit")
    max_attempts: int = Field(1, description="attempts each learner may make (1–20)")
    show_answers: bool = Field(True, description="show answers and analysis to a learner after submission")


class ItemIn(Schema):
    question_id: int = Field(..., description="the question's id (its resource); its published version is taken")
    # Any number parses: the service's one rule answers paper.score_invalid.
    score: decimal.Decimal | None = Field(None, allow_inf_nan=True, description="above 0, at most 100, one decimal")


class ScoreIn(Schema):
    score: decimal.Decimal | None = Field(None, allow_inf_nan=True)


class OrderIn(Schema):
    items: list[int] = Field(..., description="every item id of the paper, in the new order")


class RuleIn(Schema):
    qtype: str = Field("", description="single_choice, multiple_choice, true_false, fill_blank, short_answer, "
                                       "matching, ordering")
    knowledge_point: int | None = Field(None, description="a knowledge point of the library (its sub-points "
                                                          "count too), or null for any")
    difficulty: str = Field("", description="basic / intermediate / advanced, or empty for any")
    count: int = 0
    score: decimal.Decimal | None = Field(None, allow_inf_nan=True, description="score of each drawn question")


class ComposeIn(Schema):
    rules: list[RuleIn] = Field(..., description="drawn in order, without repetition")


class ItemOut(Schema):
    id: int
    position: int
    question_id: int
    version: int
    qtype: str
    type_label: str
    stem: str
    options: list[str]
    answer: Any = None
    analysis: str
    difficulty: str
    score: decimal.Decimal
    available: bool = Field(..., description="false once the operator restricted or blocked the question, or "
                                             "its library withdrew it")


class PaperOut(Schema):
    id: int
    library_id: int
    title: str
    instructions: str
    state: str
    state_label: str
    mode: str
    rules: list[dict]
    time_limit_minutes: int | None
    max_attempts: int
    show_answers: bool
    created_by: str
    created_at: datetime.datetime
    opened_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    item_count: int
    total_score: decimal.Decimal
    can_manage: bool
    url: str


class PaperDetailOut(PaperOut):
    items: list[ItemOut] = Field(..., description="the questions with answers — for the paper's composers only")


class CandidateOut(Schema):
    question_id: int
    version: int
    qtype: str
    type_label: str
    stem: str
    difficulty: str


class OptionOut(Schema):
    index: int
    text: str


class QuestionOut(Schema):
    """One question as the learner answers it (never the answer while in progress)."""

    item: int
    position: int
    qtype: str
    type_label: str
    stem: str
    score: decimal.Decimal
    options: list[OptionOut] = Field(..., description="choices; for matching the prompts; for ordering the items "
                                                      "shuffled — respond with their `index` values in order")
    matches: list[str] = Field(..., description="matching: the right-hand matches to choose from")
    blanks: int = Field(..., description="fill_blank: the number of blanks")
    response: Any = None
    earned: decimal.Decimal | None = Field(None, description="after submission, when the paper shows answers")
    comment: str = ""
    answer: Any = None
    analysis: str = ""


class AttemptSummaryOut(Schema):
    id: int
    paper_id: int
    user: str
    number: int
    state: str
    state_label: str
    started_at: datetime.datetime
    submitted_at: datetime.datetime | None
    graded_at: datetime.datetime | None
    score: decimal.Decimal | None


class AttemptOut(Schema):
    id: int
    paper_id: int
    paper_title: str
    user: str
    number: int
    state: str
    state_label: str
    started_at: datetime.datetime
    deadline: datetime.datetime | None
    submitted_at: datetime.datetime | None
    graded_at: datetime.datetime | None
    score: decimal.Decimal | None
    total_score: decimal.Decimal
    shows_answers: bool
    questions: list[QuestionOut] = []


class AnswerIn(Schema):
    item: int
    response: Any = None


class AnswersIn(Schema):
    answers: list[AnswerIn]


class PendingOut(Schema):
    id: int
    attempt_id: int
    learner: str
    position: int
    stem: str
    reference_answer: Any = None
    response: Any = None
    max_score: decimal.Decimal
    submitted_at: datetime.datetime | None


class PendingList(Schema):
    items: list[PendingOut]
    count: int


class GradeIn(Schema):
    score: decimal.Decimal | None = Field(None, allow_inf_nan=True)
    comment: str = ""


class GradedOut(Schema):
    id: int
    score: decimal.Decimal
    attempt_state: str
    attempt_score: decimal.Decimal | None


class LearnerResultOut(Schema):
    username: str
    name: str
    attempts: int
    best: decimal.Decimal | None
    last: decimal.Decimal | None
    pending: int
    in_progress: bool


class ItemResultOut(Schema):
    item_id: int
    position: int
    qtype: str
    stem: str
    score: decimal.Decimal
    mean: decimal.Decimal | None
    difficulty: decimal.Decimal | None = Field(None, description="P = mean score / full score; null without "
                                                                 "enough data")
    discrimination: decimal.Decimal | None = Field(None, description="D = P(upper 27 %) − P(lower 27 %)")


class ResultsOut(Schema):
    total_score: decimal.Decimal
    analysed: int = Field(..., description="learners in the item analysis (their latest graded attempt)")
    enough_data: bool
    note: str
    learners: list[LearnerResultOut]
    items: list[ItemResultOut]
