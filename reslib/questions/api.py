"""Question bank API: list, create, read, change and submit a library's questions; import and export files.

A question's id is its resource's id. Lookups go through policies.visible_questions(user, library): a question the
caller may not see answers 404 (`question.not_found`) like one that does not exist. The answer and analysis are
given only to those policies.can_see_answers allows; GET /questions/{id}/answer answers 403
(`question.answers_denied`) to anybody else.
"""

from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router
from ninja.errors import AuthenticationError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from reslib.core.api import (
    COMMON_ERRORS,
    LOGGED_IN,
    ErrorOut,
    Paginated,
    Status,
    bearer,
    current_user,
    domain_error_response,
    error_response,
)
from reslib.core.errors import DomainError, NotFound, PermissionDenied
from reslib.core.middleware import api_multipart_for
from reslib.libraries import policies as library_policies
from reslib.resources import policies as resource_policies
from reslib.resources.models import Resource, ResourceVersion, VersionAuthor
from reslib.resources.services import Author

from . import formats, interchange, policies, services
from .interchange import QuestionData
from .models import QuestionType
from .schemas import (
    AnswerOut,
    AttributionIn,
    ImportReportOut,
    QuestionDetailOut,
    QuestionIn,
    QuestionOut,
    QuestionPatch,
    SubmitIn,
)

router = Router(tags=["questions"])

WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}
ATTRIBUTION_FIELDS = tuple(AttributionIn.model_fields)
CONTENT_FIELDS = ("qtype", "stem", "options", "answer", "analysis", "difficulty", "knowledge_points", "title")
NULLABLE_FIELDS = frozenset({"answer", "contributing_org", "copyright_holder_org", "major"})


# --- lookups ----------------------------------------------------------------------------------------------------

def _library(request, library_id: int):
    library = library_policies.visible_libraries(request.user).filter(pk=library_id).first()
    if library is None:
        raise NotFound(_("No such resource library."), code="library.not_found")
    return library


def _question(request, question_id: int) -> Resource:
    resource = (policies.visible_questions(request.user).filter(pk=question_id)
                .select_related("library", "published_version", "latest_version").first())
    if resource is None:
        raise NotFound(_("No such question."), code="question.not_found")
    return resource


def _attribution(values: dict) -> services.Attribution:
    values = dict(values)
    values["authors"] = [Author(**a) for a in values.get("authors") or []]
    return services.Attribution(**values)


# --- output -----------------------------------------------------------------------------------------------------

def _summary(resource: Resource, version: ResourceVersion) -> dict:
    content = version.question
    return {
        "id": resource.pk, "library_id": resource.library_id, "title": version.title, "qtype": content.qtype,
        "qtype_label": str(QuestionType(content.qtype).label), "difficulty": version.difficulty,
        "version": version.number, "state": version.state, "state_label": str(version.get_state_display()),
        "published": resource.published_version_id is not None,
        "has_newer_version": bool(resource.published_version_id)
        and resource.latest_version_id != resource.published_version_id and version.pk == resource.latest_version_id,
        "created_at": resource.created_at, "updated_at": resource.updated_at,
    }


def _detail(request, resource: Resource) -> dict:
    user = request.user
    team = policies.can_view_drafts(user, resource.library)
    version = services.shown_version(resource, team=team)
    if version is None:
        raise NotFound(_("No such question."), code="question.not_found")
    version = (ResourceVersion.objects.select_related("question", "copyright_holder_org", "contributing_org")
               .prefetch_related(Prefetch("authors", queryset=VersionAuthor.objects.order_by("position")),
                                 "knowledge_points").get(pk=version.pk))
    content = version.question
    answers = policies.can_see_answers(user, resource)
    options, matches = services.as_shown(content, show_answers=answers)
    versions = resource_policies.visible_versions(user, resource).select_related("created_by").order_by("-number")
    data = _summary(resource, version)
    data.update({
        "stem": content.stem, "options": options, "matches": matches,
        "blanks": interchange.blank_count(content.stem) if content.qtype == QuestionType.FILL_BLANK else 0,
        "knowledge_points": [{"id": p.pk, "name": p.name, "kind": p.kind} for p in version.knowledge_points.all()],
        "answers_shown": answers,
        "answer": content.answer if answers else None,
        "analysis": content.analysis if answers else None,
        "rights": {
            "copyright_holder_org": version.copyright_holder_org,
            "copyright_holder_person": version.copyright_holder_person,
            "authors": list(version.authors.all()),
            "originality": version.originality, "originality_label": str(version.get_originality_display()),
            "source": version.source, "licence": version.licence, "licence_label": str(version.get_licence_display()),
            "licence_text": version.licence_text, "licence_url": version.licence_url,
            "contributing_org": version.contributing_org, "platform_guarantee": True,
        },
        "published_version": resource.published_version.number if resource.published_version_id else None,
        "versions": [{
            "number": v.number, "state": v.state, "state_label": str(v.get_state_display()),
            "changelog": v.changelog, "created_by": v.created_by.display_name, "created_at": v.created_at,
            "submitted_at": v.submitted_at, "published_at": v.published_at,
        } for v in versions],
        "url": request.build_absolute_uri(reverse("questions:detail", args=[resource.pk])),
    })
    return data


def _fresh_detail(request, question_id: int) -> dict:
    return _detail(request, _question(request, question_id))


class _SummaryList:
    """A lazily sliced queryset rendered as summaries (keeps the paginator's LIMIT/OFFSET)."""

    def __init__(self, qs, team: bool):
        self.qs, self.team = qs, team

    def count(self):
        return self.qs.count()

    def __len__(self):  # pragma: no cover - the paginator uses count()
        return self.count()

    def __getitem__(self, item):
        return [_summary(r, services.shown_version(r, team=self.team)) for r in self.qs[item]]


# --- questions --------------------------------------------------------------------------------------------------

@router.get("/libraries/{library_id}/questions", response={200: list[QuestionOut], 404: ErrorOut},
            summary="Questions of a library's bank the caller may see")
@paginate(Paginated)
def list_questions(request, library_id: int, qtype: str = "", difficulty: str = "",
                   knowledge_point: int | None = None, state: str = "", q: str = ""):
    """The public sees published versions; the library team sees its latest versions, drafts included.
    Filters: `qtype`, `difficulty`, `knowledge_point` (id), `state` (draft, in_review, published, rejected), `q` (part
    of the stem or title)."""
    library = _library(request, library_id)
    team = policies.can_view_drafts(request.user, library)
    qs = services.filter_questions(policies.visible_questions(request.user, library), team=team, qtype=qtype,
                                   difficulty=difficulty, knowledge_point=knowledge_point, state=state, text=q)
    return _SummaryList(services.listed(qs, team=team), team)


@router.post("/libraries/{library_id}/questions", auth=LOGGED_IN, response={201: QuestionDetailOut, **COMMON_ERRORS},
             summary="Write a question (draft version 1) — the library's lead and builders")
def create_question(request, library_id: int, payload: QuestionIn):
    """Every broken rule at once under `fields`, e.g. `question.answer_invalid`, `question.knowledge_point_unknown`,
    `resource.copyright_holder_required`. Others than the lead and builders: 403 `question.create_denied`."""
    user = current_user(request)
    library = _library(request, library_id)
    values = payload.dict()
    data = QuestionData(**{name: values[name] for name in CONTENT_FIELDS})
    attribution = _attribution({name: values[name] for name in ATTRIBUTION_FIELDS})
    content = services.create_question(library, data, by=user, attribution=attribution)
    return Status(201, _fresh_detail(request, content.version.resource_id))


@router.get("/questions/{question_id}", response={200: QuestionDetailOut, 404: ErrorOut},
            summary="One question: the published version, for the team the latest")
def get_question(request, question_id: int):
    return _fresh_detail(request, question_id)


@router.get("/questions/{question_id}/answer", auth=LOGGED_IN, response={200: AnswerOut, **COMMON_ERRORS},
            summary="The answer and analysis (the library's editors and reviewers, operators)")
def get_answer(request, question_id: int):
    resource = _question(request, question_id)
    if not policies.can_see_answers(request.user, resource):
        raise PermissionDenied(_("Only the library's editors and reviewers can see the answers."),
                               code="question.answers_denied")
    version = services.shown_version(resource, team=policies.can_view_drafts(request.user, resource.library))
    content = version.question
    return {"id": resource.pk, "version": version.number, "qtype": content.qtype, "answer": content.answer,
            "analysis": content.analysis}


@router.patch("/questions/{question_id}", auth=LOGGED_IN, response={200: QuestionDetailOut, **WRITE_ERRORS},
              summary="Change a question: a draft in place, a published one as a new draft version")
def update_question(request, question_id: int, payload: QuestionPatch):
    """Only the fields sent change. In review → 400 `question.in_review` (withdraw first)."""
    user = current_user(request)
    resource = _question(request, question_id)
    if not policies.can_edit(user, resource):
        raise PermissionDenied(_("Only the library's lead and builders can change its questions."),
                               code="question.edit_denied")
    latest = ResourceVersion.objects.select_related("question").get(pk=resource.latest_version_id)
    # A null clears what may be empty (an answer, an institution as copyright holder); for anything else it is
    # the same as not sending the field.
    sent = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in NULLABLE_FIELDS}
    current = services.data_of(latest.question, latest)
    # by id: names need not be unique in the tree, and a PATCH that leaves the points alone must not move them
    current.knowledge_points = [p.pk for p in latest.knowledge_points.all()]
    data = QuestionData(**{**current.__dict__, **{k: sent[k] for k in CONTENT_FIELDS if k in sent}})
    attribution = None
    if any(name in sent for name in ATTRIBUTION_FIELDS):
        base = services.attribution_of(latest).__dict__
        base["authors"] = [a.__dict__ for a in base["authors"]]
        attribution = _attribution({**base, **{k: sent[k] for k in ATTRIBUTION_FIELDS if k in sent}})
    services.update_question(resource, data, by=user, attribution=attribution, changelog=sent.get("changelog", ""))
    return _fresh_detail(request, question_id)


@router.post("/questions/{question_id}/submit", auth=LOGGED_IN, response={200: QuestionDetailOut, **WRITE_ERRORS},
             summary="Submit the draft for review with the rights commitment (opens a review request)")
def submit_question(request, question_id: int, payload: SubmitIn):
    """Without `commitment_accepted` → 400 `resource.commitment_required`. The machine pre-review reads the stem
    and choices; reviewers approve level by level and the last approval publishes."""
    user = current_user(request)
    resource = _question(request, question_id)
    services.submit_question(resource, by=user, commitment_accepted=payload.commitment_accepted)
    return _fresh_detail(request, question_id)


# --- files ------------------------------------------------------------------------------------------------------

def _may_send_import(request, library_id):
    """MultipartGuardMiddleware's check before the file is read: a token or session of someone who may import into
    the library (the endpoint authenticates again, CSRF included, before anything is imported)."""
    try:
        user = bearer(request) or (request.user if request.user.is_authenticated else None)
    except AuthenticationError as exc:
        return error_response("auth.required", exc.message, 401)
    if user is None:
        return error_response("auth.required", _("Please log in or send an API token."), 401)
    if not str(library_id).isdigit():
        return None  # the endpoint answers the malformed address
    request.user = user
    try:
        library = _library(request, int(library_id))
    except DomainError as exc:
        return domain_error_response(exc)
    if not policies.can_import(user, library):
        return error_response("question.import_denied", _(
            "Only the library's lead and builders can import questions while it is being built."), 403)
    return None


IMPORT_URL_NAME = "questions_import"
api_multipart_for(IMPORT_URL_NAME, _may_send_import)


@router.post("/libraries/{library_id}/questions/import", auth=LOGGED_IN, url_name=IMPORT_URL_NAME,
             response={200: ImportReportOut, **COMMON_ERRORS},
             summary="Import a file of questions (multipart: file, format and the rights of all its questions)")
def import_questions(request, library_id: int, file: File[UploadedFile], format: Form[str] = "",
                     originality: Form[str] = "original", licence: Form[str] = "",
                     contributing_org: Form[int | None] = None, copyright_holder_org: Form[int | None] = None,
                     copyright_holder_person: Form[str] = "", source: Form[str] = "", licence_text: Form[str] = "",
                     authors: Form[list[str]] = None, access: Form[str] = "public", major: Form[int | None] = None):
    """`format`: gift, moodle_xml, qti21, qti30, xlsx. `authors`: one form field per author name, in credit order.
    Every good item becomes a draft; the report lists each item with its question id or its errors. An unreadable
    file → 400 with the format's code; wrong rights → 400 naming those fields, nothing imported."""
    user = current_user(request)
    library = _library(request, library_id)
    attribution = services.Attribution(
        originality=originality, licence=licence, contributing_org=contributing_org,
        copyright_holder_org=copyright_holder_org, copyright_holder_person=copyright_holder_person, source=source,
        licence_text=licence_text, access=access, major=major,
        authors=[Author(name=name) for name in authors or [] if name.strip()])
    report = services.import_questions(library, by=user, fmt=format, data=file.read(), attribution=attribution)
    return {"format": report.format, "created": report.created, "failed": report.failed, "items": [
        {"location": item.location, "ok": item.ok, "question_id": item.question_id, "title": item.title,
         "errors": [{"field": f, "code": c, "message": m} for f, c, m in item.errors]} for item in report.items]}


def _download(content: bytes, fmt: str, stem: str) -> HttpResponse:
    _module, extension, mime, _label = formats.FORMATS[fmt]
    response = HttpResponse(content, content_type=mime)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{extension}"'
    return response


@router.get("/libraries/{library_id}/questions/export", auth=LOGGED_IN, response={200: None, **COMMON_ERRORS},
            summary="Download the questions with answers in a file format (editors, reviewers, operators)")
def export_questions(request, library_id: int, format: str = "gift", qtype: str = "", difficulty: str = "",
                     knowledge_point: int | None = None, state: str = "", q: str = ""):
    """Filters as the list. Anybody who may not see the answers: 403 `question.export_denied`."""
    user = current_user(request)
    library = _library(request, library_id)
    content = services.export_questions(user, library, format, qtype=qtype, difficulty=difficulty,
                                        knowledge_point=knowledge_point, state=state, text=q)
    return _download(content, format, f"questions-{library.pk}")


@router.get("/libraries/{library_id}/questions/template", response={200: None, **COMMON_ERRORS},
            summary="The Excel template for importing questions")
def import_template(request, library_id: int):
    _library(request, library_id)
    return _download(services.import_template(), "xlsx", "questions-template")
