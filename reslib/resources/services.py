"""Every change to resources, versions and their files: inside a transaction, with an audit entry."""

import decimal
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from reslib.accounts.models import User
from reslib.core import audit
from reslib.core.errors import FieldErrors, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from reslib.core.request_context import current_client_address
from reslib.core.statemachine import StateMachine, Transition
from reslib.libraries.models import Library
from reslib.orgs.models import Organization

from . import indexing, policies
from .models import (
    Blob,
    KnowledgePoint,
    Resource,
    ResourceVersion,
    RightsCommitment,
    VersionAuthor,
    VersionFile,
)

V = ResourceVersion
VS = ResourceVersion.State

VERSION_LIFECYCLE = StateMachine(
    [
        Transition("submit", (VS.DRAFT,), VS.IN_REVIEW, _("Submit for review"), "editor"),
        Transition("withdraw", (VS.IN_REVIEW,), VS.DRAFT, _("Withdraw from review"), "editor"),
        Transition("publish", (VS.IN_REVIEW,), VS.PUBLISHED, _("Approve and publish"), "reviewer"),
        Transition("return", (VS.IN_REVIEW,), VS.DRAFT, _("Return for changes"), "reviewer", reason_required=True),
        Transition("reject", (VS.IN_REVIEW,), VS.REJECTED, _("Reject"), "reviewer", reason_required=True),
    ]
)

# The text every uploader accepts when submitting; stored verbatim (in the language shown) with each submission.
RIGHTS_COMMITMENT = _(
    "I confirm that I hold the rights to publish this resource or have the rights holder's permission; that the "
    "copyright holder, authors, originality and licence stated are true; and that the content complies with laws "
    "and regulations, contains no politically harmful, false, infringing, or commercially advertising material, and "
    "is suitable for teaching. I accept responsibility for the consequences of any false statement."
)

MAX_AUTHORS = 30
MAX_KEYWORDS = 20
# A single resource, enterprise training packages included, sells for hundreds to tens of thousands of yuan; a
# million or more is a slip of the keyboard. The cap also keeps every accepted price well inside the column
# (DecimalField max_digits=10, decimal_places=2), so no price the service accepts can fail in the database.
MAX_PRICE = decimal.Decimal("999999.99")
FEN = decimal.Decimal("0.01")


@dataclass
class Author:
    name: str
    institution: str = ""
    user_id: int | None = None


@dataclass
class ResourceMetadata:
    """What an uploader states about a resource (form / API body / import sheet row)."""

    title: str
    resource_type: str
    major: int | None
    originality: str
    licence: str
    contributing_org: int | None
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    knowledge_points: list[int] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    language: str = "zh-hans"
    difficulty: str = ""
    certificate: str = ""
    access: str = V.Access.PUBLIC
    price_mode: str = V.PriceMode.FREE
    price: decimal.Decimal | None = None
    external_url: str = ""
    copyright_holder_org: int | None = None
    copyright_holder_person: str = ""
    source: str = ""
    licence_text: str = ""
    authors: list[Author] = field(default_factory=list)


METADATA_FIELDS = [
    "title", "description", "keywords", "resource_type", "major", "audience", "language", "difficulty",
    "certificate", "access", "price_mode", "price", "external_url", "copyright_holder_org",
    "copyright_holder_person", "originality", "source", "licence", "licence_text", "contributing_org",
]


def _version_snapshot(version: ResourceVersion) -> dict:
    data = audit.snapshot(version, METADATA_FIELDS + ["number", "state"])
    data["price"] = str(data["price"]) if data["price"] is not None else None
    data["authors"] = [a.name for a in version.authors.all()]
    data["files"] = [(f.role, f.original_name, f.blob.sha256) for f in version.files.select_related("blob")]
    return data


def _price_in_range(price: decimal.Decimal) -> bool:
    """Finite, from 0.01 to MAX_PRICE, whole fen. NaN is ruled out first: comparing it raises InvalidOperation."""
    return price.is_finite() and FEN <= price <= MAX_PRICE and price == price.quantize(FEN)


def _bank_only(resource_type: str, bank: bool) -> None:
    """A version of type question has its body in reslib.questions (QuestionContent): only the question bank's
    services (bank=True) make and change one, so no question ever lacks its body."""
    if resource_type == V.Type.QUESTION and not bank:
        raise ValidationFailed.single("resource_type", "resource.question_in_bank",
                                      _("Questions are written and changed in the library's question bank."))


def _validate_metadata(library: Library, data: ResourceMetadata, *, bank: bool = False) -> dict:
    """Check the metadata against the library; return the looked-up related objects. Raises all errors at once."""
    _bank_only(data.resource_type, bank)
    errors = FieldErrors()
    title = (data.title or "").strip()
    if not title:
        errors.add("title", "resource.title_required", _("Please enter a title."))
    elif len(title) > 200:
        errors.add("title", "resource.title_too_long", _("The title may have at most 200 characters."))
    if data.resource_type not in V.Type.values:
        errors.add("resource_type", "resource.type_invalid", _("Choose a resource type."))
    library_major_ids = {library.core_major_id, *library.served_majors.values_list("pk", flat=True)}
    if data.major not in library_major_ids:
        errors.add("major", "resource.major_not_in_library",
                   _("Choose the library's core major or one of its served majors."))
    keywords = [k.strip() for k in data.keywords if k and k.strip()]
    if len(keywords) > MAX_KEYWORDS or any(len(k) > 32 for k in keywords):
        errors.add("keywords", "resource.keywords_invalid",
                   _("At most %(max)d keywords of at most 32 characters each.") % {"max": MAX_KEYWORDS})
    points = list(KnowledgePoint.objects.filter(pk__in=data.knowledge_points, library=library))
    if len(points) != len(set(data.knowledge_points)):
        errors.add("knowledge_points", "resource.knowledge_point_unknown",
                   _("A knowledge or skill point does not belong to this library."))
    if any(a not in V.Audience.values for a in data.audience) or len(set(data.audience)) != len(data.audience):
        errors.add("audience", "resource.audience_invalid", _("Choose the audience from the list."))
    if data.difficulty and data.difficulty not in V.Difficulty.values:
        errors.add("difficulty", "resource.difficulty_invalid", _("Choose a difficulty from the list."))
    if data.access not in V.Access.values:
        errors.add("access", "resource.access_invalid", _("Choose who may access the resource."))
    if data.price_mode not in V.PriceMode.values:
        errors.add("price_mode", "resource.price_mode_invalid", _("Choose free or paid."))
    elif data.price_mode == V.PriceMode.PAID and (data.price is None or data.price.is_zero()):
        errors.add("price", "resource.price_required", _("A paid resource needs a price above zero."))
    elif data.price_mode == V.PriceMode.PAID and not _price_in_range(data.price):
        errors.add("price", "resource.price_invalid",
                   _("The price must be an amount from 0.01 to %(max)s yuan with at most two decimal places.")
                   % {"max": MAX_PRICE})
    elif data.price_mode == V.PriceMode.FREE and data.price:
        errors.add("price", "resource.price_on_free", _("A free resource has no price."))
    is_external = data.resource_type == V.Type.EXTERNAL_LINK
    url = (data.external_url or "").strip()
    if is_external and not url.lower().startswith(("https://", "http://")):
        errors.add("external_url", "resource.external_url_required",
                   _("An external-link resource needs an http(s) address."))
    if not is_external and url:
        errors.add("external_url", "resource.external_url_only_for_links",
                   _("Only external-link resources have an address; upload the file instead."))

    holder_org = None
    person = (data.copyright_holder_person or "").strip()
    if data.copyright_holder_org and person:
        errors.add("copyright_holder_person", "resource.copyright_holder_both",
                   _("Name either an institution or a person as copyright holder, not both."))
    elif data.copyright_holder_org:
        holder_org = Organization.objects.filter(pk=data.copyright_holder_org).first()
        if holder_org is None:
            errors.add("copyright_holder_org", "resource.copyright_holder_unknown", _("This institution does not exist."))
    elif not person:
        errors.add("copyright_holder_org", "resource.copyright_holder_required",
                   _("Name the copyright holder (an institution or a person)."))
    if data.originality not in V.Originality.values:
        errors.add("originality", "resource.originality_invalid", _("Choose original, adapted or quoted."))
    elif data.originality != V.Originality.ORIGINAL and not (data.source or "").strip():
        errors.add("source", "resource.source_required",
                   _("An adapted or quoted resource must name its source."))
    if data.licence not in V.Licence.values:
        errors.add("licence", "resource.licence_invalid", _("Choose a licence."))
    elif data.licence == V.Licence.OTHER and not (data.licence_text or "").strip():
        errors.add("licence_text", "resource.licence_text_required", _("Describe the licence."))
    library_orgs = set(library.hosts.values_list("organization_id", flat=True)) | set(
        library.participants.values_list("organization_id", flat=True))
    contributing = Organization.objects.filter(pk=data.contributing_org).first() if data.contributing_org else None
    if contributing is None or contributing.pk not in library_orgs:
        errors.add("contributing_org", "resource.contributor_not_in_library",
                   _("The contributing institution must be a host or participant of the library."))
    authors = [a for a in data.authors if (a.name or "").strip()]
    if not authors:
        errors.add("authors", "resource.author_required", _("Credit at least one author."))
    elif len(authors) > MAX_AUTHORS:
        errors.add("authors", "resource.too_many_authors", _("Too many authors."))
    # Checked here: the database would only refuse an unknown account when the transaction commits.
    credited = {a.user_id for a in authors if a.user_id is not None}
    if credited and User.objects.filter(pk__in=credited).count() != len(credited):
        errors.add("authors", "resource.author_unknown",
                   _("An author is linked to a user account that does not exist."))
    errors.raise_if_any()
    return {"copyright_holder_org": holder_org, "contributing_org": contributing, "knowledge_points": points,
            "keywords": keywords, "authors": authors}


def _write_metadata(version: ResourceVersion, data: ResourceMetadata, checked: dict) -> None:
    version.title = data.title.strip()
    version.description = (data.description or "").strip()
    version.keywords = checked["keywords"]
    version.resource_type = data.resource_type
    version.major_id = data.major
    version.audience = list(data.audience)
    version.language = data.language or "zh-hans"
    version.difficulty = data.difficulty or ""
    version.certificate = (data.certificate or "").strip()
    version.access = data.access
    version.price_mode = data.price_mode
    version.price = data.price if data.price_mode == V.PriceMode.PAID else None
    version.external_url = (data.external_url or "").strip()
    version.copyright_holder_org = checked["copyright_holder_org"]
    version.copyright_holder_person = (data.copyright_holder_person or "").strip()
    version.originality = data.originality
    version.source = (data.source or "").strip()
    version.licence = data.licence
    version.licence_text = (data.licence_text or "").strip() if data.licence == V.Licence.OTHER else ""
    version.contributing_org = checked["contributing_org"]
    version.save()
    version.knowledge_points.set(checked["knowledge_points"])
    version.authors.all().delete()
    VersionAuthor.objects.bulk_create(
        VersionAuthor(version=version, position=i, name=a.name.strip(), institution=(a.institution or "").strip(),
                      user_id=a.user_id)
        for i, a in enumerate(checked["authors"], start=1)
    )


def refresh_findings(version: ResourceVersion) -> list[dict]:
    """Re-run the machine checks of a version (technical specification, file types, virus scan results)."""
    from . import spec

    findings = spec.evaluate_version(version)
    ResourceVersion.objects.filter(pk=version.pk).update(check_findings=findings)
    version.check_findings = findings
    return findings


def create_resource(library: Library, data: ResourceMetadata, *, by, bank: bool = False) -> Resource:
    if not policies.can_create(by, library):
        raise PermissionDenied(_("Only the library's lead and builders can add resources while it is being built."),
                               code="resource.create_denied")
    with transaction.atomic():
        checked = _validate_metadata(library, data, bank=bank)
        resource = Resource.objects.create(library=library, created_by=by)
        version = ResourceVersion(resource=resource, number=1, created_by=by)
        _write_metadata(version, data, checked)
        resource.latest_version = version
        resource.save(update_fields=["latest_version", "updated_at"])
        refresh_findings(version)
        audit.record(actor=by, action="resource.create", target=resource, after=_version_snapshot(version))
    return resource


def _lock_draft(version: ResourceVersion, by) -> ResourceVersion:
    version = ResourceVersion.objects.select_for_update().select_related("resource__library").get(pk=version.pk)
    if not policies.can_edit(by, version.resource):
        raise PermissionDenied(_("Only the library's lead and builders can change its resources."),
                               code="resource.edit_denied")
    if version.state != VS.DRAFT:
        raise ValidationFailed.single("version", "resource.version_not_draft",
                                      _("Only a draft version can be changed; start a new version instead."))
    return version


def update_metadata(version: ResourceVersion, data: ResourceMetadata, *, by,
                    bank: bool = False) -> ResourceVersion:
    with transaction.atomic():
        version = _lock_draft(version, by)
        _bank_only(version.resource_type, bank)
        before = _version_snapshot(version)
        checked = _validate_metadata(version.resource.library, data, bank=bank)
        _write_metadata(version, data, checked)
        refresh_findings(version)
        audit.record(actor=by, action="resource.update", target=version.resource, before=before,
                     after=_version_snapshot(version))
    return version


def start_new_version(resource: Resource, *, by, changelog: str = "", bank: bool = False) -> ResourceVersion:
    """Editing a published resource: copy its latest version into a new draft; the published one stays visible."""
    if not policies.can_edit(by, resource):
        raise PermissionDenied(_("Only the library's lead and builders can change its resources."),
                               code="resource.edit_denied")
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        source = resource.latest_version
        _bank_only(source.resource_type, bank)
        if source.state in (VS.DRAFT, VS.IN_REVIEW):
            raise ValidationFailed.single("version", "resource.version_open",
                                          _("This resource already has a version in progress."))
        number = (resource.versions.aggregate(m=Max("number"))["m"] or 0) + 1
        points = list(source.knowledge_points.all())
        authors = list(source.authors.all())
        files = list(source.files.all())
        version = source
        version.pk = None
        version.id = None
        version._state.adding = True
        version.number, version.state, version.changelog = number, VS.DRAFT, (changelog or "").strip()
        version.created_by, version.submitted_at, version.published_at = by, None, None
        version.save()
        version.knowledge_points.set(points)
        VersionAuthor.objects.bulk_create(
            VersionAuthor(version=version, position=a.position, name=a.name, institution=a.institution,
                          user_id=a.user_id) for a in authors)
        VersionFile.objects.bulk_create(
            VersionFile(version=version, blob_id=f.blob_id, role=f.role, original_name=f.original_name,
                        position=f.position) for f in files)
        resource.latest_version = version
        resource.save(update_fields=["latest_version", "updated_at"])
        refresh_findings(version)
        audit.record(actor=by, action="resource.new_version", target=resource, after={"version": number})
    return version


def attach_file(version: ResourceVersion, blob: Blob, *, role: str, original_name: str, by) -> VersionFile:
    """Attach stored bytes to a draft. A new main file replaces the old one."""
    with transaction.atomic():
        version = _lock_draft(version, by)
        if version.is_external:
            raise ValidationFailed.single("file", "resource.external_has_no_files",
                                          _("An external-link resource keeps only its address, no files."))
        if version.resource_type == V.Type.QUESTION:
            raise ValidationFailed.single("file", "resource.question_has_no_files",
                                          _("A question of the question bank has no files."))
        if role not in VersionFile.Role.values:
            raise ValidationFailed.single("role", "resource.file_role_invalid", _("Choose main file or attachment."))
        name = (original_name or "").replace("/", "_").replace("\\", "_").strip()[:255] or blob.sha256[:12]
        before = _version_snapshot(version)
        if role == VersionFile.Role.MAIN:
            version.files.filter(role=VersionFile.Role.MAIN).delete()
        position = version.files.filter(role=role).count()
        version_file = VersionFile.objects.create(version=version, blob=blob, role=role, original_name=name,
                                                  position=position)
        refresh_findings(version)
        audit.record(actor=by, action="resource.attach_file", target=version.resource, before=before,
                     after=_version_snapshot(version))
    return version_file


def remove_file(version: ResourceVersion, file_id: int, *, by) -> None:
    with transaction.atomic():
        version = _lock_draft(version, by)
        before = _version_snapshot(version)
        deleted, _rows = version.files.filter(pk=file_id).delete()
        if not deleted:
            raise NotFound(code="resource.file_not_found")
        refresh_findings(version)
        audit.record(actor=by, action="resource.remove_file", target=version.resource, before=before,
                     after=_version_snapshot(version))


def _check_actor(transition: Transition, resource: Resource, by) -> None:
    allowed = policies.can_edit(by, resource) if transition.actor == "editor" else policies.can_publish(by, resource)
    if not allowed:
        raise PermissionDenied(code="resource.transition_denied")


def submit_version(version: ResourceVersion, *, by, commitment_accepted: bool) -> ResourceVersion:
    """Send a draft to review, with the uploader's rights commitment. Blocking machine findings stop it."""
    with transaction.atomic():
        version = ResourceVersion.objects.select_for_update().select_related("resource__library").get(pk=version.pk)
        transition = VERSION_LIFECYCLE.transition_for("submit", VS(version.state))
        _check_actor(transition, version.resource, by)
        errors = FieldErrors()
        if not commitment_accepted:
            errors.add("commitment", "resource.commitment_required",
                       _("You must accept the rights and content-safety commitment."))
        if (not version.is_external and version.resource_type != V.Type.QUESTION
                and not version.files.filter(role=VersionFile.Role.MAIN).exists()):
            errors.add("file", "resource.main_file_required", _("Upload the main file first."))
        refresh_findings(version)
        if version.has_blocking_findings:
            errors.add("file", "resource.blocking_findings",
                       _("The files do not meet the technical specification; fix the errors shown first."))
        errors.raise_if_any()
        RightsCommitment.objects.create(version=version, user=by, text=str(RIGHTS_COMMITMENT),
                                        language=get_language() or "zh-hans", client_address=current_client_address())
        version.state, version.submitted_at = VS.IN_REVIEW, timezone.now()
        version.save(update_fields=["state", "submitted_at"])
        audit.record(actor=by, action="resource.submit", target=version.resource,
                     before={"version": version.number, "state": VS.DRAFT},
                     after={"version": version.number, "state": VS.IN_REVIEW})
    return version


def decide_version(version: ResourceVersion, action: str, *, by, reason: str = "") -> ResourceVersion:
    """withdraw / publish / return / reject a version in review. Publishing replaces the public version."""
    reason = (reason or "").strip()
    with transaction.atomic():
        version = ResourceVersion.objects.select_for_update().select_related("resource").get(pk=version.pk)
        if action == "submit":
            raise IllegalTransition(current=VS(version.state), requested=VS.IN_REVIEW)
        transition = VERSION_LIFECYCLE.transition_for(action, VS(version.state))
        resource = Resource.objects.select_for_update().get(pk=version.resource_id)
        _check_actor(transition, resource, by)
        if transition.reason_required and not reason:
            raise ValidationFailed.single("reason", "resource.reason_required", _("Please give a reason."))
        before = version.state
        version.state = transition.target
        if transition.target == VS.PUBLISHED:
            version.published_at = timezone.now()
            if resource.published_version_id:
                ResourceVersion.objects.filter(pk=resource.published_version_id).update(state=VS.SUPERSEDED)
            resource.published_version = version
            resource.save(update_fields=["published_version", "updated_at"])
            indexing.schedule_reindex(resource.pk)  # the public version changed: search follows after commit
        version.save(update_fields=["state", "published_at"])
        audit.record(actor=by, action=f"resource.{action}", target=resource, reason=reason,
                     before={"version": version.number, "state": before},
                     after={"version": version.number, "state": version.state})
    return version


def return_by_machine(version: ResourceVersion, *, reason: str) -> ResourceVersion:
    """The machine pre-review (reslib.review) found a blocking hit: the version in review goes back to draft.

    No person acts here, so there is no actor check; the audit entry has no actor and names the reason."""
    with transaction.atomic():
        version = ResourceVersion.objects.select_for_update().select_related("resource").get(pk=version.pk)
        transition = VERSION_LIFECYCLE.transition_for("return", VS(version.state))
        version.state = transition.target
        version.save(update_fields=["state"])
        audit.record(actor=None, action="resource.machine_return", target=version.resource, reason=reason,
                     before={"version": version.number, "state": VS.IN_REVIEW},
                     after={"version": version.number, "state": version.state})
    return version


def set_downloads_allowed(resource: Resource, allowed: bool, *, by) -> Resource:
    if not policies.can_edit(by, resource):
        raise PermissionDenied(code="resource.edit_denied")
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        before = resource.downloads_allowed
        resource.downloads_allowed = bool(allowed)
        resource.save(update_fields=["downloads_allowed", "updated_at"])
        audit.record(actor=by, action="resource.downloads", target=resource, before={"downloads_allowed": before},
                     after={"downloads_allowed": resource.downloads_allowed})
    return resource


# --- lists of resources (pages and API) ---------------------------------------------------------------------------


def shown(field: str, value) -> Q:
    """Filter on the version a reader sees: the published one, else (for the team) the latest."""
    return Q(**{f"published_version__{field}": value}) | Q(
        published_version__isnull=True, **{f"latest_version__{field}": value}
    )


def filter_resources(resources, *, resource_type: str = "", major=None, knowledge_point=None, title: str = ""):
    """The list filters, each on the version a reader sees; empty ones are skipped."""
    if resource_type:
        resources = resources.filter(shown("resource_type", resource_type))
    if major is not None:
        resources = resources.filter(shown("major", major))
    if knowledge_point is not None:
        resources = resources.filter(shown("knowledge_points", knowledge_point)).distinct()
    title = (title or "").strip()
    if title:
        resources = resources.filter(shown("title__icontains", title))
    return resources


def countable(resources):
    """Resource totals exclude external links — judged on the version a reader sees, like the list itself: the
    platform neither hosts nor guarantees them."""
    return resources.exclude(shown("resource_type", V.Type.EXTERNAL_LINK))


# --- knowledge and skill points ----------------------------------------------------------------------------------


def add_knowledge_point(library: Library, *, by, name: str, kind: str = KnowledgePoint.Kind.KNOWLEDGE,
                        parent_id: int | None = None) -> KnowledgePoint:
    if not policies.can_manage_knowledge_points(by, library):
        raise PermissionDenied(code="resource.knowledge_denied")
    errors = FieldErrors()
    name = (name or "").strip()
    if not name or len(name) > 128:
        errors.add("name", "knowledge.name_invalid", _("Enter a name of at most 128 characters."))
    if kind not in KnowledgePoint.Kind.values:
        errors.add("kind", "knowledge.kind_invalid", _("Choose knowledge point or skill point."))
    parent = None
    if parent_id:
        parent = KnowledgePoint.objects.filter(pk=parent_id, library=library).first()
        if parent is None:
            errors.add("parent", "knowledge.parent_unknown", _("The parent point does not belong to this library."))
    if name and KnowledgePoint.objects.filter(library=library, parent=parent, name=name).exists():
        errors.add("name", "knowledge.name_taken", _("This point already exists here."))
    errors.raise_if_any()
    with transaction.atomic():
        position = KnowledgePoint.objects.filter(library=library, parent=parent).count()
        point = KnowledgePoint.objects.create(library=library, parent=parent, name=name, kind=kind, position=position)
        audit.record(actor=by, action="knowledge.add", target=library,
                     after={"id": point.pk, "name": name, "kind": kind, "parent": parent_id})
    return point


def remove_knowledge_point(point: KnowledgePoint, *, by) -> None:
    if not policies.can_manage_knowledge_points(by, point.library):
        raise PermissionDenied(code="resource.knowledge_denied")
    if point.children.exists() or point.versions.exists():
        raise ValidationFailed.single("point", "knowledge.in_use",
                                      _("This point has sub-points or tagged resources and cannot be removed."))
    with transaction.atomic():
        audit.record(actor=by, action="knowledge.remove", target=point.library,
                     before={"id": point.pk, "name": point.name})
        point.delete()
