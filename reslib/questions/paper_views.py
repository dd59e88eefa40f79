"""Web pages of papers (试卷). Thin: parse, authorise through paper_policies, call papers (the services), render.

A paper or attempt the user may not see answers 404 exactly like one that does not exist.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from reslib.core.errors import DomainError, ValidationFailed
from reslib.libraries import policies as library_policies

from . import paper_policies, papers
from .interchange import BLANK_MARK
from .models import Attempt, AttemptAnswer, Paper, QuestionType
from .paper_forms import (
    CandidateFilterForm,
    GradeForm,
    PaperForm,
    add_rule_errors,
    read_responses,
    rule_formset,
)

CANDIDATES_PER_PAGE = 20
PAPERS_PER_PAGE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _refuse(request, message, *, status=403):
    return render(request, "core/refused.html", {"message": message}, status=status)


def _library(request, library_id):
    return get_object_or_404(library_policies.visible_libraries(request.user), pk=library_id)


def _paper(request, pk) -> Paper:
    paper = Paper.objects.select_related("library", "created_by").filter(pk=pk).first()
    if (paper is None or not library_policies.can_view(request.user, paper.library)
            or not paper_policies.can_view_paper(request.user, paper)):
        raise Http404
    return paper


def _managed_paper(request, pk):
    """(paper, None) for its composers, else (paper, a refusal page)."""
    paper = _paper(request, pk)
    if not paper_policies.can_manage(request.user, paper):
        return paper, _refuse(request, _("Only the library's lead and builders and the paper's author can do this."))
    return paper, None


def _attempt(request, pk) -> Attempt:
    attempt = Attempt.objects.select_related("paper__library", "user").filter(pk=pk).first()
    if attempt is None or not paper_policies.can_view_attempt(request.user, attempt):
        raise Http404
    return attempt


def _fail(request, exc: DomainError) -> None:
    for message in exc.messages():
        messages.error(request, message)


# --- list and settings ------------------------------------------------------------------------------------------

def paper_list(request, library_id):
    library = _library(request, library_id)
    qs = paper_policies.visible_papers(request.user, library).select_related("created_by").order_by("-created_at",
                                                                                                     "-id")
    page_obj = Paginator(qs, PAPERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "questions/papers/list.html", {
        "library": library, "page_obj": page_obj,
        "can_compose": paper_policies.can_compose(request.user, library),
    })


@login_required
@require_http_methods(["GET", "POST"])
def paper_create(request, library_id):
    library = _library(request, library_id)
    if not paper_policies.can_compose(request.user, library):
        return _refuse(request, _("Only the library's lead and builders can compose papers."))
    form = PaperForm(request.POST or None, initial={"max_attempts": 1, "show_answers": True})
    if request.method == "POST" and form.is_valid():
        try:
            paper = papers.create_paper(library, form.to_data(), by=request.user)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The paper was created. Add questions by hand or by rules."))
            return redirect("questions:paper_compose", pk=paper.pk)
    return render(request, "questions/papers/form.html", {"library": library, "form": form, "paper": None},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def paper_edit(request, pk):
    paper, refusal = _managed_paper(request, pk)
    if refusal:
        return refusal
    form = PaperForm(request.POST or None, initial=PaperForm.initial_for(paper))
    if request.method == "POST" and form.is_valid():
        try:
            papers.update_paper(paper, form.to_data(), by=request.user)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The paper's settings were saved."))
            return redirect("questions:paper_detail", pk=paper.pk)
    return render(request, "questions/papers/form.html", {"library": paper.library, "form": form, "paper": paper},
                  status=400 if form.errors else 200)


def _items(paper):
    gone = {i.pk for i in papers.unavailable_items(paper)}
    items = list(paper.items.select_related("question__version").order_by("position"))
    for item in items:
        item.available = item.pk not in gone
    return items


def paper_detail(request, pk):
    paper = _paper(request, pk)
    can_manage = paper_policies.can_manage(request.user, paper)
    count, total = papers.paper_totals(paper)
    mine = []
    if request.user.is_authenticated:
        mine = list(paper.attempts.filter(user=request.user).order_by("number"))
    context = {
        "paper": paper, "library": paper.library, "can_manage": can_manage, "item_count": count, "total": total,
        "attempts": mine, "in_progress": next((a for a in mine if a.state == Attempt.State.IN_PROGRESS), None),
        "attempts_left": max(0, paper.max_attempts - len(mine)),
        "can_answer": paper_policies.can_answer(request.user, paper),
    }
    if can_manage:
        context.update(items=_items(paper), pending=papers.pending_answers(paper).count(),
                       attempt_total=paper.attempts.count())
    return render(request, "questions/papers/detail.html", context)


@login_required
@require_POST
def paper_delete(request, pk):
    paper, refusal = _managed_paper(request, pk)
    if refusal:
        return refusal
    library_id = paper.library_id
    try:
        papers.delete_paper(paper, by=request.user)
    except DomainError as exc:
        _fail(request, exc)
        return redirect("questions:paper_detail", pk=pk)
    messages.success(request, _("The paper was deleted."))
    return redirect("questions:paper_list", library_id=library_id)


@login_required
@require_POST
def paper_transition(request, pk, action):
    paper, refusal = _managed_paper(request, pk)
    if refusal:
        return refusal
    service = {"open": papers.open_paper, "close": papers.close_paper}.get(action)
    if service is None:
        raise Http404
    try:
        service(paper, by=request.user)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("The paper is open for answering.") if action == "open"
                         else _("The paper is closed."))
    return redirect("questions:paper_detail", pk=pk)


# --- composing --------------------------------------------------------------------------------------------------

@login_required
def paper_compose(request, pk):
    paper, refusal = _managed_paper(request, pk)
    if refusal:
        return refusal
    filters = CandidateFilterForm(request.GET or None, library=paper.library)
    found = papers.candidates(paper.library, **filters.filters())
    in_paper = set(paper.items.values_list("question__version__resource_id", flat=True))
    page_obj = Paginator(found, CANDIDATES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "questions/papers/compose.html", {
        "paper": paper, "library": paper.library, "filters": filters, "page_obj": page_obj, "in_paper": in_paper,
        "items": _items(paper), "totals": papers.paper_totals(paper),
        "rules": rule_formset(paper.library, paper), "rule_errors": [],
        "is_draft": paper.state == Paper.State.DRAFT,
    })


def _back_to_compose(request, pk):
    target = request.POST.get("next", "")
    if target.startswith(reverse("questions:paper_compose", args=[pk])) or target == reverse(
            "questions:paper_detail", args=[pk]):
        return redirect(target)
    return redirect("questions:paper_compose", pk=pk)


@login_required
@require_POST
def item_add(request, pk):
    paper, refusal = _managed_paper(request, pk)
    if refusal:
        return refusal
    try:
        question_id = int(request.POST.get("question", ""))
        papers.add_question(paper, question_id, request.POST.get("score"), by=request.user)
    except ValueError:
        messages.error(request, _("Choose a question."))
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("The question was added."))
    return _back_to_compose(request, pk)


@login_required
@require_POST
def item_change(request, pk, item_id, action):
    paper, refusal = _managed_paper(request, pk)
    if refusal:
        return refusal
    try:
        if action == "remove":
            papers.remove_question(paper, item_id, by=request.user)
        elif action == "score":
            papers.set_item_score(paper, item_id, request.POST.get("score"), by=request.user)
        elif action in ("up", "down"):
            order = list(paper.items.order_by("position").values_list("pk", flat=True))
            if item_id not in order:
                raise Http404
            at = order.index(item_id)
            other = at - 1 if action == "up" else at + 1
            if 0 <= other < len(order):
                order[at], order[other] = order[other], order[at]
                papers.reorder_questions(paper, order, by=request.user)
        else:
            raise Http404
    except DomainError as exc:
        _fail(request, exc)
    return _back_to_compose(request, pk)


@login_required
@require_POST
def paper_compose_rules(request, pk):
    paper, refusal = _managed_paper(request, pk)
    if refusal:
        return refusal
    formset = rule_formset(paper.library, paper, request.POST)
    general = []
    if formset.is_valid():
        rules = [f.to_rule() for f in formset.forms if not f.is_blank()]
        try:
            papers.compose_by_rules(paper, rules, by=request.user)
        except DomainError as exc:
            general = add_rule_errors(formset, exc)
        else:
            messages.success(request, _("The questions were drawn by the rules."))
            return redirect("questions:paper_compose", pk=pk)
    filters = CandidateFilterForm(None, library=paper.library)
    page_obj = Paginator(papers.candidates(paper.library), CANDIDATES_PER_PAGE).get_page(1)
    return render(request, "questions/papers/compose.html", {
        "paper": paper, "library": paper.library, "filters": filters, "page_obj": page_obj,
        "in_paper": set(paper.items.values_list("question__version__resource_id", flat=True)),
        "items": _items(paper), "totals": papers.paper_totals(paper),
        "rules": formset, "rule_errors": general, "is_draft": paper.state == Paper.State.DRAFT,
    }, status=400)


# --- answering --------------------------------------------------------------------------------------------------

@login_required
@require_POST
def attempt_start(request, pk):
    paper = _paper(request, pk)
    try:
        attempt, _created = papers.start_attempt(paper, by=request.user)
    except DomainError as exc:
        _fail(request, exc)
        return redirect("questions:paper_detail", pk=pk)
    return redirect("questions:attempt", pk=attempt.pk)


def _stem_parts(stem: str, values: list) -> list[dict]:
    """The stem cut at its blank marks (___), each blank an input; a stem without marks ends with its blank."""
    texts = BLANK_MARK.split(stem)
    if len(texts) == 1:
        texts.append("")
    parts = []
    for i, text in enumerate(texts):
        if text:
            parts.append({"text": text})
        if i < len(texts) - 1:
            value = values[i] if i < len(values) and isinstance(values[i], str) else ""
            parts.append({"blank": i, "number": i + 1, "value": value})
    return parts


def _form_rows(sheet: list[dict]) -> list[dict]:
    """What the answering form needs besides the sheet: checked flags, the saved order, blanks in the stem."""
    for row in sheet:
        response, qtype = row["response"], row["qtype"]
        if qtype == QuestionType.FILL_BLANK:
            row["parts"] = _stem_parts(row["stem"], response if isinstance(response, list) else [])
        for number, option in enumerate(row["options"]):
            option["letter"] = chr(ord("A") + number) if number < 26 else str(number + 1)
            index = option["index"]
            option["checked"] = (response == index if qtype == QuestionType.SINGLE_CHOICE
                                 else isinstance(response, list) and index in response)
            if qtype == QuestionType.MATCHING:
                option["selected"] = (response[index] if isinstance(response, list) and index < len(response)
                                      and isinstance(response[index], str) else "")
        if qtype == QuestionType.ORDERING:
            saved = response if isinstance(response, list) else None
            if saved:
                by_index = {o["index"]: o for o in row["options"]}
                row["options"] = [by_index[i] for i in saved if i in by_index]
            for rank, option in enumerate(row["options"], start=1):
                option["rank"] = rank if saved else ""
    return sheet


def _readable(row: dict, value, *, reference: bool = False) -> str:
    """A response (or with `reference` the stored answer) as a person reads it."""
    if value is None:
        return ""
    qtype = row["qtype"]
    texts = {o["index"]: o["text"] for o in row["options"]}
    if qtype == QuestionType.SINGLE_CHOICE:
        return texts.get(value, "")
    if qtype == QuestionType.MULTIPLE_CHOICE:
        return "；".join(texts.get(i, "") for i in value) if isinstance(value, list) else ""
    if qtype == QuestionType.TRUE_FALSE:
        return _("True") if value is True else _("False") if value is False else ""
    if qtype == QuestionType.FILL_BLANK and isinstance(value, list):
        if reference:
            return "；".join(" / ".join(accepted) for accepted in value)
        return "；".join(v or "—" for v in value)
    if qtype == QuestionType.MATCHING and isinstance(value, list):
        prompts = [texts.get(i, "") for i in range(len(texts))]
        return "；".join(f"{p} → {v or '—'}" for p, v in zip(prompts, value))
    if qtype == QuestionType.ORDERING and isinstance(value, list):
        return " → ".join(texts.get(i, "") for i in value)
    return str(value)


def _remaining(deadline) -> int | None:
    """Seconds left, counted by the server: the browser's clock may be wrong."""
    if deadline is None:
        return None
    return max(0, int((deadline - timezone.now()).total_seconds()))


def attempt_page(request, pk):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.get_full_path()}")
    attempt = _attempt(request, pk)
    if attempt.user_id == request.user.pk:
        attempt = papers.submit_if_overdue(attempt, by=request.user)
    paper = attempt.paper
    show = paper_policies.shows_answers(request.user, attempt)
    sheet = papers.attempt_sheet(attempt, show_answers=show)
    answering = attempt.state == Attempt.State.IN_PROGRESS and attempt.user_id == request.user.pk
    context = {"attempt": attempt, "paper": paper, "library": paper.library, "show": show,
               "total": papers.paper_totals(paper)[1], "deadline": papers.deadline(attempt, paper)}
    if answering:
        context.update(rows=_form_rows(sheet), errors={}, remaining=_remaining(context["deadline"]))
        return render(request, "questions/papers/answer.html", context)
    for row in sheet:
        row["response_text"] = _readable(row, row["response"])
        row["answer_text"] = _readable(row, row["answer"], reference=True) if show else ""
        row["full"] = row["earned"] is not None and row["earned"] == row["score"]
    context["rows"] = sheet
    return render(request, "questions/papers/result.html", context)


@login_required
@require_POST
def attempt_save(request, pk):
    attempt = _attempt(request, pk)
    if attempt.user_id != request.user.pk:
        return _refuse(request, _("This is not your attempt."))
    submit = request.POST.get("action") == "submit"
    sheet = papers.attempt_sheet(attempt, show_answers=False)
    responses, errors = read_responses(sheet, request.POST)
    if errors:
        for row in sheet:
            row["response"] = responses.get(row["item"], row["response"])
        return render(request, "questions/papers/answer.html", {
            "attempt": attempt, "paper": attempt.paper, "library": attempt.paper.library, "show": False,
            "rows": _form_rows(sheet), "errors": errors, "total": papers.paper_totals(attempt.paper)[1],
            "deadline": papers.deadline(attempt, attempt.paper),
            "remaining": _remaining(papers.deadline(attempt, attempt.paper))}, status=400)
    try:
        papers.save_answers(attempt, responses, by=request.user)
    except DomainError as exc:
        if getattr(exc, "code", "") != "attempt.time_up":
            _fail(request, exc)
            return redirect("questions:attempt", pk=pk)
        submit = True
        messages.warning(request, exc.message)
    if not submit:
        messages.success(request, _("Your answers were saved."))
        return redirect("questions:attempt", pk=pk)
    try:
        papers.submit_attempt(attempt, by=request.user)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Your answers were submitted."))
    return redirect("questions:attempt", pk=pk)


# --- grading and results ----------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def grading(request, pk):
    paper = _paper(request, pk)
    if not paper_policies.can_grade(request.user, paper):
        return _refuse(request, _("Only the paper's teachers can grade answers."))
    failed_id, failed_form = None, None
    if request.method == "POST":
        answer = AttemptAnswer.objects.filter(pk=request.POST.get("answer") or 0, attempt__paper=paper).first()
        if answer is None:
            raise Http404
        form = GradeForm(request.POST)
        if form.is_valid():
            try:
                papers.grade_answer(answer, form.cleaned_data["score"], comment=form.cleaned_data["comment"],
                                    by=request.user)
            except ValidationFailed as exc:
                form.add_error("score" if any(f == "score" for f, _c, _m in exc.errors) else None,
                               exc.messages()[0])
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("The answer was graded."))
                return redirect("questions:paper_grading", pk=pk)
        failed_id, failed_form = answer.pk, form
    pending = list(papers.pending_answers(paper)[:50])
    for answer in pending:
        answer.form = failed_form if answer.pk == failed_id else GradeForm()
    return render(request, "questions/papers/grading.html", {
        "paper": paper, "library": paper.library, "pending": pending,
        "pending_total": papers.pending_answers(paper).count(),
    }, status=400 if failed_form is not None else 200)


@login_required
def results_page(request, pk):
    paper = _paper(request, pk)
    if not paper_policies.can_view_results(request.user, paper):
        return _refuse(request, _("Only the paper's teachers see everybody's results."))
    data = papers.results(paper)
    return render(request, "questions/papers/results.html", {
        "paper": paper, "library": paper.library, "data": data,
    })


@login_required
def results_xlsx(request, pk):
    paper = _paper(request, pk)
    if not paper_policies.can_view_results(request.user, paper):
        return _refuse(request, _("Only the paper's teachers see everybody's results."))
    response = HttpResponse(papers.export_results_xlsx(paper), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="paper-{paper.pk}-results.xlsx"'
    return response
