"""Papers API (试卷): compose, open and close papers; learners' attempts; grading; results and their export.

Lookups go through the policies: a paper or attempt the caller may not see answers 404 (`paper.not_found`,
`attempt.not_found`) exactly like one that does not exist; refused actions answer 403 with a stable code.
"""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import Router
from ninja.pagination import paginate

from reslib.core.api import COMMON_ERRORS, LOGGED_IN, ErrorOut, Paginated, Status, as_list, current_user
from reslib.core.errors import NotFound, PermissionDenied
from reslib.libraries import policies as library_policies

from . import paper_policies, papers
from .models import Attempt, AttemptAnswer, Paper, QuestionType
from .paper_schemas import (
    AnswersIn,
    AttemptOut,
    AttemptSummaryOut,
    CandidateOut,
    ComposeIn,
    GradedOut,
    GradeIn,
    ItemIn,
    ItemOut,
    OrderIn,
    PaperDetailOut,
    PaperIn,
    PaperOut,
    PendingList,
    ResultsOut,
    ScoreIn,
)

router = Router(tags=["papers"])

WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- lookups ----------------------------------------------------------------------------------------------------

def _library(request, library_id: int):
    library = library_policies.visible_libraries(request.user).filter(pk=library_id).first()
    if library is None:
        raise NotFound(_("No such resource library."), code="library.not_found")
    return library


def _paper(request, paper_id: int) -> Paper:
    paper = Paper.objects.select_related("library", "created_by").filter(pk=paper_id).first()
    if (paper is None or not library_policies.can_view(request.user, paper.library)
            or not paper_policies.can_view_paper(request.user, paper)):
        raise NotFound(_("No such paper."), code="paper.not_found")
    return paper


def _attempt(request, attempt_id: int) -> Attempt:
    attempt = Attempt.objects.select_related("paper__library", "user").filter(pk=attempt_id).first()
    if attempt is None or not paper_policies.can_view_attempt(request.user, attempt):
        raise NotFound(_("No such attempt."), code="attempt.not_found")
    return attempt


def _results_required(user, paper: Paper) -> None:
    if not paper_policies.can_view_results(user, paper):
        raise PermissionDenied(_("Only the paper's teachers see everybody's results."), code="paper.results_denied")


# --- output -----------------------------------------------------------------------------------------------------

def _paper_out(request, paper: Paper) -> dict:
    count, total = papers.paper_totals(paper)
    return {
        "id": paper.pk, "library_id": paper.library_id, "title": paper.title, "instructions": paper.instructions,
        "state": paper.state, "state_label": str(paper.get_state_display()), "mode": paper.mode,
        "rules": paper.rules, "time_limit_minutes": paper.time_limit_minutes, "max_attempts": paper.max_attempts,
        "show_answers": paper.show_answers, "created_by": paper.created_by.display_name,
        "created_at": paper.created_at, "opened_at": paper.opened_at, "closed_at": paper.closed_at,
        "item_count": count, "total_score": total, "can_manage": paper_policies.can_manage(request.user, paper),
        "url": request.build_absolute_uri(reverse("questions:paper_detail", args=[paper.pk])),
    }


def _detail(request, paper: Paper) -> dict:
    data = _paper_out(request, paper)
    data["items"] = []
    if data["can_manage"]:
        gone = {i.pk for i in papers.unavailable_items(paper)}
        for item in paper.items.select_related("question__version").order_by("position"):
            question, version = item.question, item.question.version
            data["items"].append({
                "id": item.pk, "position": item.position, "question_id": version.resource_id,
                "version": version.number, "qtype": question.qtype,
                "type_label": str(QuestionType(question.qtype).label), "stem": question.stem,
                "options": question.options, "answer": question.answer, "analysis": question.analysis,
                "difficulty": version.difficulty, "score": item.score, "available": item.pk not in gone,
            })
    return data


def _attempt_out(request, attempt: Attempt) -> dict:
    attempt = papers.submit_if_overdue(attempt, by=request.user) if attempt.user_id == request.user.pk else attempt
    show = paper_policies.shows_answers(request.user, attempt)
    paper = attempt.paper
    return {
        "id": attempt.pk, "paper_id": paper.pk, "paper_title": paper.title, "user": attempt.user.display_name,
        "number": attempt.number, "state": attempt.state, "state_label": str(attempt.get_state_display()),
        "started_at": attempt.started_at, "deadline": papers.deadline(attempt, paper),
        "submitted_at": attempt.submitted_at, "graded_at": attempt.graded_at, "score": attempt.score,
        "total_score": papers.paper_totals(paper)[1], "shows_answers": show,
        "questions": papers.attempt_sheet(attempt, show_answers=show),
    }


def _attempt_summary(attempt: Attempt) -> dict:
    return {
        "id": attempt.pk, "paper_id": attempt.paper_id, "user": attempt.user.display_name, "number": attempt.number,
        "state": attempt.state, "state_label": str(attempt.get_state_display()), "started_at": attempt.started_at,
        "submitted_at": attempt.submitted_at, "graded_at": attempt.graded_at, "score": attempt.score,
    }


def _data(payload: PaperIn) -> papers.PaperData:
    return papers.PaperData(**payload.dict())


# --- papers -----------------------------------------------------------------------------------------------------

@router.get("/libraries/{library_id}/papers", response={200: list[PaperOut], 404: ErrorOut},
            summary="Papers of a library the caller may see")
@paginate(Paginated)
def list_papers(request, library_id: int, state: str = ""):
    """Composers see every paper; everyone else the open and closed ones. Filter: `state` (draft/open/closed)."""
    library = _library(request, library_id)
    qs = papers.with_totals(paper_policies.visible_papers(request.user, library).select_related("library", "created_by"))
    if state:
        qs = qs.filter(state=state)
    return _Mapped(qs.order_by("-created_at", "-id"), lambda paper: _paper_out(request, paper))


class _Mapped:
    """A queryset the paginator slices (keeping its LIMIT/OFFSET), each row of the page turned into output by `out`."""

    def __init__(self, qs, out):
        self.qs, self.out = qs, out

    def count(self):
        return self.qs.count()

    def __len__(self):  # pragma: no cover - the paginator uses count()
        return self.count()

    def __getitem__(self, item):
        return [self.out(row) for row in self.qs[item]]


@router.post("/libraries/{library_id}/papers", auth=LOGGED_IN, response={201: PaperDetailOut, **COMMON_ERRORS},
             summary="Create a draft paper (the library's lead and builders)")
def create_paper(request, library_id: int, payload: PaperIn):
    user = current_user(request)
    library = _library(request, library_id)
    paper = papers.create_paper(library, _data(payload), by=user)
    return Status(201, _detail(request, _paper(request, paper.pk)))


@router.get("/papers/{paper_id}", response={200: PaperDetailOut, 404: ErrorOut},
            summary="One paper; its questions with answers for its composers only")
def get_paper(request, paper_id: int):
    return _detail(request, _paper(request, paper_id))


@router.put("/papers/{paper_id}", auth=LOGGED_IN, response={200: PaperDetailOut, **WRITE_ERRORS},
            summary="Change a draft paper's settings")
def update_paper(request, paper_id: int, payload: PaperIn):
    """Not a draft → 409 `paper.not_draft`."""
    user = current_user(request)
    papers.update_paper(_paper(request, paper_id), _data(payload), by=user)
    return _detail(request, _paper(request, paper_id))


@router.delete("/papers/{paper_id}", auth=LOGGED_IN, response={204: None, **WRITE_ERRORS},
               summary="Delete a draft paper")
def delete_paper(request, paper_id: int):
    user = current_user(request)
    papers.delete_paper(_paper(request, paper_id), by=user)
    return Status(204, None)


@router.get("/papers/{paper_id}/candidates", auth=LOGGED_IN, response={200: list[CandidateOut], **COMMON_ERRORS},
            summary="Questions a composer may add: published, not restricted or blocked")
@paginate(Paginated)
def list_candidates(request, paper_id: int, qtype: str = "", difficulty: str = "",
                    knowledge_point: int | None = None, q: str = ""):
    user = current_user(request)
    paper = _paper(request, paper_id)
    if not paper_policies.can_manage(user, paper):
        raise PermissionDenied(_("Only the library's lead and builders and the paper's author can change it."),
                               code="paper.manage_denied")
    qs = papers.candidates(paper.library, qtype=qtype, difficulty=difficulty, knowledge_point=knowledge_point,
                           text=q)
    return _Mapped(qs, _candidate_out)


def _candidate_out(c) -> dict:
    return {"question_id": c.version.resource_id, "version": c.version.number, "qtype": c.qtype,
            "type_label": str(QuestionType(c.qtype).label), "stem": c.stem, "difficulty": c.version.difficulty}


# --- items ------------------------------------------------------------------------------------------------------

@router.post("/papers/{paper_id}/items", auth=LOGGED_IN, response={201: ItemOut, **WRITE_ERRORS},
             summary="Add a published question with its score at the end of a draft paper")
def add_item(request, paper_id: int, payload: ItemIn):
    """Unpublished, restricted, blocked, withdrawn or another library's → 400 `paper.question_unavailable`."""
    user = current_user(request)
    paper = _paper(request, paper_id)
    item = papers.add_question(paper, payload.question_id, payload.score, by=user)
    return Status(201, next(i for i in _detail(request, paper)["items"] if i["id"] == item.pk))


@router.put("/papers/{paper_id}/items/order", auth=LOGGED_IN, response={200: PaperDetailOut, **WRITE_ERRORS},
            summary="Reorder a draft paper's questions")
def reorder_items(request, paper_id: int, payload: OrderIn):
    user = current_user(request)
    paper = _paper(request, paper_id)
    papers.reorder_questions(paper, payload.items, by=user)
    return _detail(request, _paper(request, paper_id))


@router.put("/papers/{paper_id}/items/{item_id}", auth=LOGGED_IN, response={200: ItemOut, **WRITE_ERRORS},
            summary="Change one question's score")
def set_item_score(request, paper_id: int, item_id: int, payload: ScoreIn):
    user = current_user(request)
    paper = _paper(request, paper_id)
    papers.set_item_score(paper, item_id, payload.score, by=user)
    return next(i for i in _detail(request, paper)["items"] if i["id"] == item_id)


@router.delete("/papers/{paper_id}/items/{item_id}", auth=LOGGED_IN, response={204: None, **WRITE_ERRORS},
               summary="Remove a question from a draft paper")
def remove_item(request, paper_id: int, item_id: int):
    user = current_user(request)
    papers.remove_question(_paper(request, paper_id), item_id, by=user)
    return Status(204, None)


@router.post("/papers/{paper_id}/compose", auth=LOGGED_IN, response={200: PaperDetailOut, **WRITE_ERRORS},
             summary="Replace a draft paper's questions by a random draw following rules")
def compose(request, paper_id: int, payload: ComposeIn):
    """A rule the bank cannot fill → 400 `paper.rule_short`, with `fields["rules.<i>"]` per short rule and
    `shortfalls: [{rule, needed, available}]`; nothing is changed then."""
    user = current_user(request)
    paper = _paper(request, paper_id)
    papers.compose_by_rules(paper, [r.dict() for r in payload.rules], by=user)
    return _detail(request, _paper(request, paper_id))


@router.post("/papers/{paper_id}/open", auth=LOGGED_IN, response={200: PaperDetailOut, **WRITE_ERRORS},
             summary="Open a draft paper for answering")
def open_paper(request, paper_id: int):
    user = current_user(request)
    papers.open_paper(_paper(request, paper_id), by=user)
    return _detail(request, _paper(request, paper_id))


@router.post("/papers/{paper_id}/close", auth=LOGGED_IN, response={200: PaperDetailOut, **WRITE_ERRORS},
             summary="Close an open paper (attempts in progress are submitted)")
def close_paper(request, paper_id: int):
    user = current_user(request)
    papers.close_paper(_paper(request, paper_id), by=user)
    return _detail(request, _paper(request, paper_id))


# --- attempts ---------------------------------------------------------------------------------------------------

@router.get("/papers/{paper_id}/attempts", auth=LOGGED_IN, response={200: list[AttemptSummaryOut], **COMMON_ERRORS},
            summary="Attempts at a paper: all of them for its teachers, one's own for a learner")
@paginate(Paginated)
def list_attempts(request, paper_id: int):
    user = current_user(request)
    paper = _paper(request, paper_id)
    qs = paper.attempts.select_related("user")
    if not paper_policies.can_view_results(user, paper):
        qs = qs.filter(user=user)
    return _Mapped(qs.order_by("-started_at", "-id"), _attempt_summary)


@router.post("/papers/{paper_id}/attempts", auth=LOGGED_IN,
             response={200: AttemptOut, 201: AttemptOut, **WRITE_ERRORS},
             summary="Start an attempt (201), or continue the one in progress (200)")
def start_attempt(request, paper_id: int):
    """Closed or draft paper → 409 `paper.not_open`; every attempt used → 409 `paper.attempts_exhausted`."""
    user = current_user(request)
    attempt, created = papers.start_attempt(_paper(request, paper_id), by=user)
    return Status(201 if created else 200, _attempt_out(request, _attempt(request, attempt.pk)))


@router.get("/attempts/{attempt_id}", auth=LOGGED_IN, response={200: AttemptOut, **COMMON_ERRORS},
            summary="One attempt with its questions; answers and scores per question once the paper shows them")
def get_attempt(request, attempt_id: int):
    current_user(request)
    return _attempt_out(request, _attempt(request, attempt_id))


@router.put("/attempts/{attempt_id}/answers", auth=LOGGED_IN, response={200: AttemptOut, **WRITE_ERRORS},
            summary="Save responses (each replaces the item's previous one)")
def save_answers(request, attempt_id: int, payload: AnswersIn):
    """Response shapes: single_choice → index; multiple_choice → [indices]; true_false → true/false; fill_blank →
    [text per blank]; short_answer → text; matching → [chosen match per prompt]; ordering → [option `index` values
    in the chosen order]. Wrong shape → 400 `attempt.response_invalid`; time up → 409 `attempt.time_up`."""
    user = current_user(request)
    attempt = _attempt(request, attempt_id)
    papers.save_answers(attempt, {a.item: a.response for a in payload.answers}, by=user)
    return _attempt_out(request, _attempt(request, attempt_id))


@router.post("/attempts/{attempt_id}/submit", auth=LOGGED_IN, response={200: AttemptOut, **WRITE_ERRORS},
             summary="Submit: objective questions are graded at once, short answers wait for a teacher")
def submit_attempt(request, attempt_id: int):
    user = current_user(request)
    papers.submit_attempt(_attempt(request, attempt_id), by=user)
    return _attempt_out(request, _attempt(request, attempt_id))


# --- grading and results ----------------------------------------------------------------------------------------

@router.get("/papers/{paper_id}/grading", auth=LOGGED_IN, response={200: PendingList, **COMMON_ERRORS},
            summary="Short answers waiting for a teacher (a bounded list: at most 200, oldest first)")
def pending(request, paper_id: int):
    user = current_user(request)
    paper = _paper(request, paper_id)
    if not paper_policies.can_grade(user, paper):
        raise PermissionDenied(_("Only the paper's teachers can grade answers."), code="paper.grade_denied")
    rows = [{
        "id": a.pk, "attempt_id": a.attempt_id, "learner": a.attempt.user.display_name,
        "position": a.item.position, "stem": a.item.question.stem, "reference_answer": a.item.question.answer,
        "response": a.response, "max_score": a.item.score, "submitted_at": a.attempt.submitted_at,
    } for a in papers.pending_answers(paper)[:200]]
    return as_list(rows)


@router.post("/papers/{paper_id}/grading/{answer_id}", auth=LOGGED_IN, response={200: GradedOut, **WRITE_ERRORS},
             summary="Grade one short answer (0 to the question's score, one decimal)")
def grade(request, paper_id: int, answer_id: int, payload: GradeIn):
    user = current_user(request)
    paper = _paper(request, paper_id)
    answer = AttemptAnswer.objects.filter(pk=answer_id, attempt__paper=paper).first()
    if answer is None:
        raise NotFound(_("No such answer."), code="answer.not_found")
    answer = papers.grade_answer(answer, payload.score, comment=payload.comment, by=user)
    attempt = answer.attempt
    attempt.refresh_from_db()
    return {"id": answer.pk, "score": answer.score, "attempt_state": attempt.state, "attempt_score": attempt.score}


def _results_note(data: papers.Results) -> str:
    if data.enough_data:
        return ""
    return str(_("Not enough data: the item analysis needs at least %(n)d learners with a graded attempt.")
               % {"n": data.min_learners})


@router.get("/papers/{paper_id}/results", auth=LOGGED_IN, response={200: ResultsOut, **COMMON_ERRORS},
            summary="Scores per learner and the item analysis (difficulty P, discrimination D)")
def results(request, paper_id: int):
    user = current_user(request)
    paper = _paper(request, paper_id)
    _results_required(user, paper)
    data = papers.results(paper)
    return {"total_score": data.total, "analysed": data.analysed, "enough_data": data.enough_data,
            "note": _results_note(data), "learners": [vars(r) for r in data.learners],
            "items": [vars(r) for r in data.items]}


@router.get("/papers/{paper_id}/results.xlsx", auth=LOGGED_IN, response={200: None, **COMMON_ERRORS},
            summary="The results as an Excel workbook (scores and item analysis)")
def results_xlsx(request, paper_id: int):
    user = current_user(request)
    paper = _paper(request, paper_id)
    _results_required(user, paper)
    response = HttpResponse(papers.export_results_xlsx(paper), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="paper-{paper.pk}-results.xlsx"'
    return response
