"""Request and response schemas of the question bank API."""

import datetime
from typing import Any

from ninja import Field, Schema

from reslib.resources.schemas import AuthorIn, KnowledgePointRef, RightsOut, VersionOut

QTYPES = ("single_choice, multiple_choice, true_false, fill_blank, short_answer, matching, ordering — the shapes of "
          "`options` and `answer` per type are in reslib/questions/interchange.py")


class AttributionIn(Schema):
    """Rights and attribution (著作权人 / 署名): the same fields and rules as a resource's."""

    originality: str = Field("original", description="original / adapted / quoted")
    licence: str = Field("", description="all_rights_reserved, cc_by, cc_by_sa, cc_by_nd, cc_by_nc, cc_by_nc_sa, "
                                         "cc_by_nc_nd, other")
    contributing_org: int | None = Field(None, description="a host or participating institution of the library")
    copyright_holder_org: int | None = None
    copyright_holder_person: str = ""
    source: str = ""
    licence_text: str = ""
    authors: list[AuthorIn] = Field([], description="in credit order (署名)")
    access: str = Field("public", description="public / registered / members")
    major: int | None = Field(None, description="the library's core major (default) or a served major")


class QuestionIn(AttributionIn):
    qtype: str = Field("", description=QTYPES)
    stem: str = ""
    options: list[str] = []
    answer: Any = None
    analysis: str = ""
    difficulty: str = Field("", description="basic / intermediate / advanced, or empty")
    knowledge_points: list[int | str] = Field([], description="ids or names of the library's knowledge points")
    title: str = Field("", description="a short name; the start of the stem when empty")


class QuestionPatch(Schema):
    """Only the fields sent change. A published question gets a new draft version that is reviewed again."""

    qtype: str | None = None
    stem: str | None = None
    options: list[str] | None = None
    answer: Any = None
    analysis: str | None = None
    difficulty: str | None = None
    knowledge_points: list[int | str] | None = None
    title: str | None = None
    changelog: str = ""
    originality: str | None = None
    licence: str | None = None
    contributing_org: int | None = None
    copyright_holder_org: int | None = None
    copyright_holder_person: str | None = None
    source: str | None = None
    licence_text: str | None = None
    authors: list[AuthorIn] | None = None
    access: str | None = None
    major: int | None = None


class QuestionOut(Schema):
    id: int
    library_id: int
    title: str
    qtype: str
    qtype_label: str
    difficulty: str
    version: int
    state: str
    state_label: str
    published: bool
    has_newer_version: bool = Field(..., description="the team works on a version after the published one")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class QuestionDetailOut(QuestionOut):
    stem: str
    options: list[str] = Field(..., description="ordering items are shown in a fixed mixed order to those who do not "
                                                "see the answer")
    matches: list[str] = Field(..., description="matching: the right-hand side in a mixed order")
    blanks: int = Field(..., description="fill in the blank: the number of blanks")
    knowledge_points: list[KnowledgePointRef]
    answers_shown: bool = Field(..., description="answer and analysis: the library's editors and reviewers and "
                                                 "operators only")
    answer: Any = None
    analysis: str | None = None
    rights: RightsOut
    published_version: int | None
    versions: list[VersionOut]
    url: str


class SubmitIn(Schema):
    commitment_accepted: bool = Field(False, description="the author accepts the rights and content-safety "
                                                         "commitment (GET /resources/commitment shows the text)")


class AnswerOut(Schema):
    id: int
    version: int
    qtype: str
    answer: Any = None
    analysis: str


class ImportErrorOut(Schema):
    field: str
    code: str
    message: str


class ImportItemOut(Schema):
    location: str
    ok: bool
    question_id: int | None
    title: str
    errors: list[ImportErrorOut]


class ImportReportOut(Schema):
    format: str
    created: int
    failed: int
    items: list[ImportItemOut]
