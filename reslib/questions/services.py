"""Every change to the question bank: create, change (a new reviewed version), submit, import; and its export.

A question is a resource of type `question` (see models.py): these services write the resource and its version
through reslib.resources.services — rights, attribution, audit and the review workflow are theirs — and add the
version's QuestionContent in the same transaction. interchange.problems() is the one check of a question's own
content; the checks against the library (knowledge points by name, rights, majors) are added here, and the user
sees all broken rules at once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from reslib.core import audit
from reslib.core.errors import FieldErrors, PermissionDenied, ValidationFailed
from reslib.libraries.models import Library
from reslib.resources import services as resource_services
from reslib.resources.models import KnowledgePoint, Resource, ResourceVersion
from reslib.resources.services import Author, ResourceMetadata
from reslib.review import services as review_services

from . import formats, interchange, policies
from .interchange import QuestionData
from .models import QuestionContent, QuestionType

V = ResourceVersion
VS = ResourceVersion.State
QT = QuestionType

TITLE_CHARS = 60
# The fields of the rights and attribution (著作权人 / 署名): the same for every item of an import.
RIGHTS_FIELDS = frozenset({
    "major", "originality", "licence", "licence_text", "contributing_org", "copyright_holder_org",
    "copyright_holder_person", "source", "authors", "access",
})


@dataclass
class Attribution:
    """Rights and attribution of a question, stated when it is written: the same fields and rules as a resource's
    (reslib.resources.services.ResourceMetadata). `major` defaults to the library's core major."""

    originality: str = V.Originality.ORIGINAL
    licence: str = ""
    contributing_org: int | None = None
    copyright_holder_org: int | None = None
    copyright_holder_person: str = ""
    source: str = ""
    licence_text: str = ""
    authors: list[Author] = field(default_factory=list)
    access: str = V.Access.PUBLIC
    major: int | None = None


def attribution_of(version: ResourceVersion) -> Attribution:
    return Attribution(
        originality=version.originality, licence=version.licence, contributing_org=version.contributing_org_id,
        copyright_holder_org=version.copyright_holder_org_id, copyright_holder_person=version.copyright_holder_person,
        source=version.source, licence_text=version.licence_text, access=version.access, major=version.major_id,
        authors=[Author(name=a.name, institution=a.institution, user_id=a.user_id)
                 for a in version.authors.order_by("position")],
    )


# --- the question as text -------------------------------------------------------------------------------------------

def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def title_for(data: QuestionData) -> str:
    title = _one_line(data.title) or _one_line(data.stem)
    if len(title) > TITLE_CHARS and not _one_line(data.title):
        title = title[:TITLE_CHARS - 1] + "…"
    return title[:200] or str(QT(data.qtype).label if data.qtype in QT.values else _("Question"))


def learner_order(items: list[str]) -> list[int]:
    """A fixed order that is not the stored one, for showing items whose stored order is (part of) the answer:
    ordering items are stored in their correct order, the right side of a matching in the order of its prompts.
    Keyed with the site's secret: with a plain hash of (position, text) anyone could recompute the order of each
    candidate answer and so read the answer off the mixed order."""
    key = settings.SECRET_KEY.encode()
    return sorted(range(len(items)),
                  key=lambda i: hmac.new(key, f"{i}:{items[i]}".encode(), hashlib.sha256).hexdigest())


def as_shown(content: QuestionContent, *, show_answers: bool) -> tuple[list[str], list[str]]:
    """(options, matches) as a reader sees them: ordering items in the mixed order unless the reader sees answers,
    the matches of a matching question always mixed (with answers, the pairs are shown beside them)."""
    options = list(content.options or [])
    if content.qtype == QT.ORDERING and not show_answers:
        options = [options[i] for i in learner_order(options)]
    matches = list(content.answer or []) if content.qtype == QT.MATCHING else []
    return options, [matches[i] for i in learner_order(matches)]


def plain_text(data: QuestionData) -> str:
    """The stem and what a learner sees of the choices, never the answer or analysis: the version's description,
    which the machine pre-review checks and the search index reads."""
    lines = [(data.stem or "").strip()]
    if data.qtype in (QT.SINGLE_CHOICE, QT.MULTIPLE_CHOICE):
        lines += [f"{chr(ord('A') + i)}. {option}" for i, option in enumerate(data.options[:26])]
    elif data.qtype == QT.MATCHING:
        lines += list(data.options)
    elif data.qtype == QT.ORDERING:
        lines += [data.options[i] for i in learner_order(list(data.options))]
    return "\n".join(line for line in lines if line)


def data_of(content: QuestionContent, version: ResourceVersion | None = None) -> QuestionData:
    """A stored question as plain data (for the edit form, the API and the exporters)."""
    version = version or content.version
    data = QuestionData(
        qtype=content.qtype, stem=content.stem, options=list(content.options or []), answer=content.answer,
        analysis=content.analysis, difficulty=version.difficulty,
        knowledge_points=[p.name for p in version.knowledge_points.all()],
    )
    # A title made from the stem is no title of the author's: left empty, it follows the stem when that changes.
    if version.title != title_for(data):
        data.title = version.title
    return data


# --- checks against the library -----------------------------------------------------------------------------------

class PointIndex:
    """The library's knowledge tree by name (and id), read once: an import resolves thousands of items against it.

    A name used twice in the tree (under different parents) means the point of that name added first."""

    def __init__(self, library: Library):
        self.by_id: dict[int, KnowledgePoint] = {}
        self.by_name: dict[str, KnowledgePoint] = {}
        for point in KnowledgePoint.objects.filter(library=library).order_by("id"):
            self.by_id[point.pk] = point
            self.by_name.setdefault(point.name, point)

    def resolve(self, refs) -> tuple[list[KnowledgePoint], list[str]]:
        """Names (or, from the form and the API, ids) → points; the references that name no point."""
        found: dict[int, KnowledgePoint] = {}
        unknown: list[str] = []
        for ref in refs:
            point = (self.by_id.get(ref) if isinstance(ref, int) and not isinstance(ref, bool)
                     else self.by_name.get(str(ref).strip()))
            if point is None:
                unknown.append(str(ref))
            else:
                found[point.pk] = point
        return list(found.values()), unknown


def check(library: Library, data: QuestionData, points: PointIndex | None = None):
    """(normalised data or None, the knowledge points, FieldErrors) for one question of `library`."""
    errors = interchange.problems(data)
    refs = [r for r in (data.knowledge_points or []) if not isinstance(r, str) or r.strip()]
    found, unknown = (points or PointIndex(library)).resolve(refs)
    if unknown:
        errors.add("knowledge_points", "question.knowledge_point_unknown",
                   _("These knowledge points are not in the library's knowledge tree: %(names)s")
                   % {"names": "、".join(unknown)})
    clean = None if errors else interchange.normalised(QuestionData(**{**data.__dict__, "knowledge_points": []}))
    return clean, found, errors


def _metadata(library: Library, data: QuestionData, points: list[KnowledgePoint],
              attribution: Attribution) -> ResourceMetadata:
    return ResourceMetadata(
        title=title_for(data), resource_type=V.Type.QUESTION,
        major=attribution.major or library.core_major_id, originality=attribution.originality,
        licence=attribution.licence, contributing_org=attribution.contributing_org,
        description=plain_text(data), knowledge_points=[p.pk for p in points],
        difficulty=data.difficulty if data.difficulty in interchange.DIFFICULTIES else "",
        access=attribution.access, copyright_holder_org=attribution.copyright_holder_org,
        copyright_holder_person=attribution.copyright_holder_person, source=attribution.source,
        licence_text=attribution.licence_text, authors=list(attribution.authors),
    )


class _Invalid(Exception):
    """Rolls back a write whose question content was wrong, after the resource's own checks had their say."""


def _write_checked(errors: FieldErrors, write):
    """Run `write` (resource service + question rows) in one transaction and raise every broken rule at once:
    the question's own (`errors`) and the resource service's (rights, attribution, major). Nothing stays on failure."""
    try:
        with transaction.atomic():
            result = write()
            if errors:
                raise _Invalid
            return result
    except ValidationFailed as exc:
        raise ValidationFailed(errors.errors + exc.errors) from None
    except _Invalid:
        raise ValidationFailed(errors.errors) from None


def _snapshot(content: QuestionContent) -> dict:
    return {"version": content.version.number, "qtype": content.qtype, "stem": content.stem[:200],
            "options": len(content.options or [])}


# --- create, change, submit -----------------------------------------------------------------------------------------

def create_question(library: Library, data: QuestionData, *, by, attribution: Attribution,
                    points: PointIndex | None = None) -> QuestionContent:
    """A new question: a resource with draft version 1 of type question, and its content."""
    if not policies.can_author(by, library):
        raise PermissionDenied(_("Only the library's lead and builders can add questions while it is being built."),
                               code="question.create_denied")
    clean, found, errors = check(library, data, points)

    def write():
        resource = resource_services.create_resource(
            library, _metadata(library, clean or data, found, attribution), by=by, bank=True)
        if clean is None:
            return None
        version = resource.latest_version
        content = QuestionContent.objects.create(
            version=version, library=library, qtype=clean.qtype, stem=clean.stem, options=clean.options,
            answer=clean.answer, analysis=clean.analysis)
        audit.record(actor=by, action="question.create", target=resource, after=_snapshot(content))
        return content

    return _write_checked(errors, write)


def update_question(resource: Resource, data: QuestionData, *, by, attribution: Attribution | None = None,
                    changelog: str = "") -> QuestionContent:
    """Change a question. A draft is changed in place; a published (or rejected) question gets a new draft version
    that is reviewed again, while the published version stays what everybody sees until the new one is approved."""
    if not policies.can_edit(by, resource):
        raise PermissionDenied(_("Only the library's lead and builders can change its questions."),
                               code="question.edit_denied")
    library = resource.library
    clean, found, errors = check(library, data)

    def write():
        locked = (Resource.objects.select_for_update(of=("self",)).select_related("latest_version")
                  .get(pk=resource.pk))
        latest = locked.latest_version
        if latest.resource_type != V.Type.QUESTION:
            raise ValidationFailed.single("qtype", "question.not_a_question", _("This resource is not a question."))
        if latest.state == VS.IN_REVIEW:
            raise ValidationFailed.single(
                "version", "question.in_review",
                _("This question is being reviewed. Withdraw it from review before changing it."))
        rights = attribution or attribution_of(latest)
        before = _snapshot(latest.question)
        version = latest if latest.state == VS.DRAFT else resource_services.start_new_version(
            locked, by=by, changelog=changelog, bank=True)
        resource_services.update_metadata(version, _metadata(library, clean or data, found, rights), by=by, bank=True)
        if clean is None:
            return None
        content, _created = QuestionContent.objects.update_or_create(
            version=version, defaults={"library": library, "qtype": clean.qtype, "stem": clean.stem,
                                       "options": clean.options, "answer": clean.answer, "analysis": clean.analysis})
        audit.record(actor=by, action="question.update", target=locked, before=before, after=_snapshot(content))
        return content

    return _write_checked(errors, write)


def submit_question(resource: Resource, *, by, commitment_accepted: bool):
    """Send the question's draft to review (with the rights commitment): the review workflow of every resource,
    machine pre-review of the stem and choices included. Approval at the last level publishes it."""
    if not policies.can_submit(by, resource):
        raise PermissionDenied(_("Only the library's lead and builders can change its questions."),
                               code="question.edit_denied")
    return review_services.submit_for_review(resource.latest_version, by=by, commitment_accepted=commitment_accepted)


# --- lists ------------------------------------------------------------------------------------------------------------

def shown_version(resource: Resource, *, team: bool) -> ResourceVersion | None:
    """The version a reader sees: the team works on the latest, everybody else sees the published one."""
    return resource.latest_version if team else resource.published_version


def filter_questions(questions, *, team: bool, qtype: str = "", difficulty: str = "", knowledge_point=None,
                     state: str = "", text: str = ""):
    """The bank's filters, each on the version the reader sees (see shown_version); empty ones are skipped."""
    prefix = "latest_version" if team else "published_version"
    if qtype:
        questions = questions.filter(**{f"{prefix}__question__qtype": qtype})
    if difficulty:
        questions = questions.filter(**{f"{prefix}__difficulty": difficulty})
    if knowledge_point is not None:
        questions = questions.filter(**{f"{prefix}__knowledge_points": knowledge_point}).distinct()
    if state:
        questions = questions.filter(**{f"{prefix}__state": state})
    text = (text or "").strip()
    if text:
        questions = questions.filter(Q(**{f"{prefix}__question__stem__icontains": text})
                                     | Q(**{f"{prefix}__title__icontains": text}))
    return questions


def counts_by_type(questions, *, team: bool) -> dict[str, int]:
    """How many questions of each type, in one query."""
    prefix = "latest_version" if team else "published_version"
    return questions.aggregate(**{t: Count("pk", filter=Q(**{f"{prefix}__question__qtype": t}), distinct=True)
                                  for t in QT.values})


def listed(questions, *, team: bool):
    prefix = "latest_version" if team else "published_version"
    return (questions.filter(**{f"{prefix}__isnull": False})
            .select_related(prefix, f"{prefix}__question", "latest_version")
            .order_by("-created_at", "-id"))


# --- import and export ------------------------------------------------------------------------------------------------

def available_formats() -> list[tuple[str, str]]:
    return [(name, label) for name, (_module, _ext, _mime, label) in formats.FORMATS.items()]


def import_template() -> bytes:
    """The Excel workbook teachers fill in: a guide and one example row per type (formats.excel)."""
    from .formats import excel

    return excel.template()


@dataclass
class ImportItem:
    location: str
    ok: bool
    question_id: int | None = None
    title: str = ""
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (field, code, message)


@dataclass
class ImportReport:
    format: str
    items: list[ImportItem] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for item in self.items if item.ok)

    @property
    def failed(self) -> int:
        return sum(1 for item in self.items if not item.ok)


def import_questions(library: Library, *, by, fmt: str, data: bytes, attribution: Attribution) -> ImportReport:
    """Every good item of the file becomes a draft question, each in its own transaction; a bad item is reported
    (where, which rule, why) and nothing of it is saved. Knowledge points are named and must exist in the library's
    tree. Rights and attribution are the same for all items: when they are wrong, nothing is imported and the
    errors name those fields."""
    if not policies.can_import(by, library):
        raise PermissionDenied(_("Only the library's lead and builders can import questions while it is being built."),
                               code="question.import_denied")
    try:
        parsed = formats.parse(fmt, data)
    except formats.FormatError as exc:
        raise ValidationFailed.single("file", exc.code, exc.message) from None
    points = PointIndex(library)
    report = ImportReport(format=fmt)
    rights_checked = False
    for item in parsed:
        if item.errors or item.data is None:
            report.items.append(ImportItem(
                location=item.location, ok=False, title=title_for(item.data) if item.data else "",
                errors=[(f, c, str(m)) for f, c, m in item.errors.errors]
                or [("file", "question.item_unreadable", str(_("This item could not be read.")))]))
            continue
        try:
            content = create_question(library, item.data, by=by, attribution=attribution, points=points)
        except ValidationFailed as exc:
            if not rights_checked and all(f in RIGHTS_FIELDS for f, _c, _m in exc.errors):
                raise
            report.items.append(ImportItem(location=item.location, ok=False, title=title_for(item.data),
                                           errors=[(f, c, str(m)) for f, c, m in exc.errors]))
            continue
        rights_checked = True
        report.items.append(ImportItem(location=item.location, ok=True, question_id=content.version.resource_id,
                                       title=content.version.title))
    with transaction.atomic():
        audit.record(actor=by, action="question.import", target=library,
                     after={"format": fmt, "created": report.created, "failed": report.failed})
    return report


def export_questions(user, library: Library, fmt: str, **filters) -> bytes:
    """The questions of `library` the user may see, with answers, in `fmt` (formats.FORMATS). Filters as
    filter_questions. Only those who may see the answers may export: every format carries them."""
    if not policies.can_export(user, library):
        raise PermissionDenied(_("Only the library's editors and reviewers can export its questions with answers."),
                               code="question.export_denied")
    if fmt not in formats.FORMATS:
        raise ValidationFailed.single("format", "question.format_unknown", _("Choose a file format from the list."))
    team = policies.can_view_drafts(user, library)
    questions = listed(filter_questions(policies.visible_questions(user, library), team=team, **filters), team=team)
    prefix = "latest_version" if team else "published_version"
    items = []
    for resource in questions.prefetch_related(f"{prefix}__knowledge_points").iterator(chunk_size=500):
        version = getattr(resource, prefix)
        items.append(data_of(version.question, version))
    try:
        return formats.serialize(fmt, items)
    except formats.FormatError as exc:
        raise ValidationFailed.single("format", exc.code, exc.message) from None
