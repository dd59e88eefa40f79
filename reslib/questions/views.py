"""Web pages of a library's question bank (题库). Thin: parse, authorise through the policies, call a service, render.

Lookups go through libraries' visible_libraries(user) and policies.visible_questions(user, library): a question the
user may not see answers 404 like one that does not exist. Answers and analysis are rendered only for
policies.can_see_answers (the question body partial asks it itself).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from reslib.core.errors import DomainError, PermissionDenied, ValidationFailed
from reslib.core.middleware import multipart_for
from reslib.core.views import login_prompt
from reslib.libraries import policies as library_policies
from reslib.libraries.models import Library
from reslib.resources import policies as resource_policies
from reslib.resources import services as resource_services
from reslib.resources.forms import knowledge_point_tree
from reslib.resources.models import Resource, ResourceVersion
from reslib.review import services as review_services

from . import formats, policies, services
from .forms import AttributionFields, BankFilterForm, ExportForm, ImportForm, QuestionForm, SubmitForm
from .models import QuestionType

PAGE_SIZE = 20
VS = ResourceVersion.State
QUESTION = ResourceVersion.Type.QUESTION


def _refuse(request, message, *, status=403):
    return render(request, "core/refused.html", {"message": message}, status=status)


def _library(request, library_id) -> Library:
    return get_object_or_404(library_policies.visible_libraries(request.user).select_related("core_major"),
                             pk=library_id)


def _question(request, pk) -> Resource:
    return get_object_or_404(
        policies.visible_questions(request.user)
        .select_related("library", "published_version__question", "latest_version__question"),
        pk=pk)


def _type_counts(counts: dict) -> list[dict]:
    return [{"qtype": value, "label": label, "count": counts.get(value) or 0} for value, label in QuestionType.choices]


# --- the bank ---------------------------------------------------------------------------------------------------

def bank(request, library_id):
    library = _library(request, library_id)
    user = request.user
    team = policies.can_view_drafts(user, library)
    points = knowledge_point_tree(library)
    form = BankFilterForm(request.GET or None, points=points, team=team)
    visible = policies.visible_questions(user, library)
    filtered = services.filter_questions(visible, team=team, **form.filters())
    page_obj = Paginator(services.listed(filtered, team=team), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for resource in page_obj.object_list:
        version = services.shown_version(resource, team=team)
        rows.append({"resource": resource, "version": version, "question": version.question,
                     "has_newer": team and resource.published_version_id
                     and resource.latest_version_id != resource.published_version_id})
    counts = services.counts_by_type(visible.filter(**{("latest_version" if team else "published_version")
                                                        + "__isnull": False}), team=team)
    return render(request, "questions/bank.html", {
        "library": library, "form": form, "page_obj": page_obj, "rows": rows,
        "type_counts": _type_counts(counts), "total": sum(c or 0 for c in counts.values()),
        "is_team": team, "can_author": policies.can_author(user, library),
        "can_export": policies.can_export(user, library),
        "filtered": bool(form.is_bound and any(v for k, v in request.GET.items() if k != "page")),
    })


# --- write ------------------------------------------------------------------------------------------------------

def _save_or_errors(form, action):
    try:
        return action()
    except ValidationFailed as exc:
        form.add_service_errors(exc)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def create(request, library_id):
    library = _library(request, library_id)
    if not policies.can_author(request.user, library):
        return _refuse(request, _("Only the library's lead and builders can add questions while it is being built."))
    status = 200
    if request.method == "POST":
        form = QuestionForm(request.POST, library=library)
        if form.is_valid():
            try:
                content = _save_or_errors(form, lambda: services.create_question(
                    library, form.to_question(), by=request.user, attribution=form.to_attribution()))
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            if content is not None:
                messages.success(request, _("The question was saved as a draft. Submit it for review to publish it."))
                return redirect("questions:detail", pk=content.version.resource_id)
        status = 400
    else:
        initial = AttributionFields.initial_for_user(library, request.user)
        initial["qtype"] = request.GET.get("qtype") if request.GET.get("qtype") in QuestionType.values else ""
        form = QuestionForm(library=library, initial=initial)
    return render(request, "questions/form.html", {"form": form, "library": library, "resource": None},
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk):
    resource = _question(request, pk)
    library = resource.library
    if not policies.can_edit(request.user, resource):
        return _refuse(request, _("Only the library's lead and builders can change its questions."))
    latest = resource.latest_version
    if latest.state == VS.IN_REVIEW:
        return _refuse(request, _("This question is being reviewed. Withdraw it from review before changing it."),
                       status=409)
    status = 200
    if request.method == "POST":
        form = QuestionForm(request.POST, library=library)
        if form.is_valid():
            try:
                content = _save_or_errors(form, lambda: services.update_question(
                    resource, form.to_question(), by=request.user, attribution=form.to_attribution(),
                    changelog=form.cleaned_data.get("changelog") or ""))
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            if content is not None:
                messages.success(request, _("The changes were saved as a draft version. Submit it for review; "
                                            "until it is approved the published version stays visible."))
                return redirect("questions:detail", pk=resource.pk)
        status = 400
    else:
        data = services.data_of(latest.question, latest)
        form = QuestionForm(library=library, question=data, initial=QuestionForm.initial_for(
            data, services.attribution_of(latest), list(latest.knowledge_points.values_list("pk", flat=True))))
    return render(request, "questions/form.html", {"form": form, "library": library, "resource": resource,
                                                   "version": latest}, status=status)


# --- one question -----------------------------------------------------------------------------------------------

def _detail_context(request, resource, *, submit_form=None, errors=None) -> dict:
    user = request.user
    library = resource.library
    team = policies.can_view_drafts(user, library)
    version = services.shown_version(resource, team=team)
    latest = resource.latest_version
    can_edit = policies.can_edit(user, resource)
    return {
        "resource": resource, "library": library, "version": version, "question": version.question,
        "latest": latest, "is_team": team,
        "published": resource.published_version,
        "has_newer": team and resource.published_version_id and latest.pk != resource.published_version_id,
        "authors": list(version.authors.order_by("position")),
        "knowledge_points": list(version.knowledge_points.all()),
        "versions": list(resource_policies.visible_versions(user, resource).select_related("created_by")
                         .order_by("-number")),
        "can_edit": can_edit and latest.state != VS.IN_REVIEW,
        "can_submit": can_edit and latest.state == VS.DRAFT,
        "review_request": review_services.open_request_for(resource) if team else None,
        "rights_commitment": resource_services.RIGHTS_COMMITMENT,
        "submit_form": submit_form or SubmitForm(),
        "errors": errors or [],
    }


def detail(request, pk):
    resource = _question(request, pk)
    if services.shown_version(resource, team=policies.can_view_drafts(request.user, resource.library)) is None:
        return redirect("questions:bank", library_id=resource.library_id)
    return render(request, "questions/detail.html", _detail_context(request, resource))


@login_required
@require_POST
def submit(request, pk):
    resource = _question(request, pk)
    form = SubmitForm(request.POST)
    form.is_valid()
    try:
        services.submit_question(resource, by=request.user,
                                 commitment_accepted=bool(form.cleaned_data.get("commitment")))
    except PermissionDenied as exc:
        return _refuse(request, exc.message)
    except DomainError as exc:
        resource.refresh_from_db()
        return render(request, "questions/detail.html",
                      _detail_context(request, resource, submit_form=form, errors=exc.messages()),
                      status=exc.http_status)
    messages.success(request, _("The question was submitted for review."))
    return redirect("questions:detail", pk=resource.pk)


# --- import and export ------------------------------------------------------------------------------------------

def _importer_library(request, library_id):
    library = _library(request, library_id)
    if not policies.can_import(request.user, library):
        return library, _refuse(request, _("Only the library's lead and builders can import questions while it is "
                                           "being built."))
    return library, None


def _may_import(request, library_id):
    """import_page's check before its multipart body is read (core.middleware.MultipartGuardMiddleware)."""
    if not request.user.is_authenticated:
        return login_prompt(request, _("Log in to import questions."))
    return _importer_library(request, library_id)[1]


@multipart_for(_may_import)
@login_required
@require_http_methods(["GET", "POST"])
def import_page(request, library_id):
    library, refusal = _importer_library(request, library_id)
    if refusal:
        return refusal
    report = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, library=library)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = services.import_questions(library, by=request.user, fmt=form.cleaned_data["format"],
                                                   data=upload.read(), attribution=form.to_attribution())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
        if report is None:
            status = 400
    else:
        form = ImportForm(library=library, initial={**AttributionFields.initial_for_user(library, request.user),
                                                    "format": "gift"})
    return render(request, "questions/import.html", {
        "library": library, "form": form, "report": report,
    }, status=status)


@login_required
def export(request, library_id):
    library = _library(request, library_id)
    if not policies.can_export(request.user, library):
        return _refuse(request, _("Only the library's editors and reviewers can export its questions with answers."))
    team = policies.can_view_drafts(request.user, library)
    filters = BankFilterForm(request.GET or None, points=knowledge_point_tree(library), team=team)
    form = ExportForm(request.GET or None)
    if form.is_bound and form.is_valid():
        fmt = form.cleaned_data["format"]
        try:
            content = services.export_questions(request.user, library, fmt, **filters.filters())
        except DomainError as exc:
            form.add_error("format", " ".join(exc.messages()))
        else:
            _module, extension, mime, _label = formats.FORMATS[fmt]
            response = HttpResponse(content, content_type=mime)
            response["Content-Disposition"] = f'attachment; filename="questions-{library.pk}.{extension}"'
            return response
    return render(request, "questions/export.html", {"library": library, "form": form, "filters": filters},
                  status=400 if form.is_bound else 200)


@login_required
def template(request, library_id):
    library, refusal = _importer_library(request, library_id)
    if refusal:
        return refusal
    response = HttpResponse(services.import_template(), content_type=formats.FORMATS["xlsx"][2])
    response["Content-Disposition"] = 'attachment; filename="questions-template.xlsx"'
    return response
