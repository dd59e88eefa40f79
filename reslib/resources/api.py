"""Resources API: list and create resources of a library, read one, edit its draft, versions, files, submission,
review decisions, and the library's knowledge-point tree.

Every lookup goes through policies.visible_resources(user) / visible_libraries(user): an object the caller may not
see answers 404 (`resource.not_found`), exactly like one that does not exist. Refused actions answer 403.
"""

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from ninja import Router
from ninja.pagination import paginate

from reslib.core.api import COMMON_ERRORS, LOGGED_IN, ErrorOut, Paginated, Status, as_list, current_user
from reslib.core.errors import NotFound, PermissionDenied
from reslib.libraries import policies as library_policies

from . import policies, services, spec, uploads
from .forms import knowledge_point_tree
from .models import KnowledgePoint, Resource, ResourceVersion, VersionAuthor, VersionFile
from .schemas import (
    AttachIn,
    CommitmentOut,
    DownloadsIn,
    FileOut,
    KnowledgePointIn,
    KnowledgePointList,
    KnowledgePointOut,
    NewVersionIn,
    ResourceDetailOut,
    ResourceIn,
    ResourceOut,
)
from .services import Author, ResourceMetadata

router = Router(tags=["resources"])

WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}
EXTERNAL_LABEL = _("External link")


# --- lookups ----------------------------------------------------------------------------------------------------

def _library(request, library_id: int):
    library = library_policies.visible_libraries(request.user).filter(pk=library_id).first()
    if library is None:
        raise NotFound(_("No such resource library."), code="library.not_found")
    return library


def _resource(request, resource_id: int) -> Resource:
    resource = (
        policies.visible_resources(request.user)
        .select_related("library", "published_version", "latest_version")
        .filter(pk=resource_id)
        .first()
    )
    if resource is None:
        raise NotFound(_("No such resource."), code="resource.not_found")
    return resource


def _metadata(payload: ResourceIn) -> ResourceMetadata:
    data = payload.dict()
    data["authors"] = [Author(**a) for a in data["authors"]]
    return ResourceMetadata(**data)


# --- output -----------------------------------------------------------------------------------------------------

def _summary(resource: Resource, version: ResourceVersion) -> dict:
    return {
        "id": resource.pk,
        "library_id": resource.library_id,
        "title": version.title,
        "resource_type": version.resource_type,
        "type_label": str(version.get_resource_type_display()),
        "is_external": version.is_external,
        "label": str(EXTERNAL_LABEL) if version.is_external else "",
        "major": version.major,
        "version": version.number,
        "state": version.state,
        "state_label": str(version.get_state_display()),
        "published": resource.published_version_id is not None,
        "access": version.access,
        "price_mode": version.price_mode,
        "downloads_allowed": resource.downloads_allowed,
        "created_at": resource.created_at,
        "updated_at": resource.updated_at,
    }


def _file_out(resource: Resource, version_file: VersionFile, *, content_allowed: bool) -> dict:
    """A file as the API lists it; without `content_allowed` (policies.can_download) no URLs that would answer 403."""
    blob = version_file.blob
    return {
        "id": version_file.pk, "role": version_file.role, "original_name": version_file.original_name,
        "size": blob.size, "sha256": blob.sha256, "mime_type": blob.mime_type, "kind": blob.kind,
        "scan_status": blob.scan_status, "scan_reason": blob.scan_reason,
        "download_url": reverse("resources:download", args=[resource.pk, version_file.pk]) if content_allowed else None,
        "stream_url": reverse("resources:stream", args=[resource.pk, version_file.pk]) if content_allowed else None,
    }


def _detail(request, resource: Resource, version: ResourceVersion | None = None) -> dict:
    is_team = policies.can_view_unpublished(request.user, resource)
    version = version or (resource.latest_version if is_team else resource.published_version)
    if version is None:
        raise NotFound(_("No such resource."), code="resource.not_found")
    version = (
        ResourceVersion.objects.select_related("major", "copyright_holder_org", "contributing_org")
        .prefetch_related(Prefetch("authors", queryset=VersionAuthor.objects.order_by("position")),
                          "knowledge_points", Prefetch("files", queryset=VersionFile.objects.select_related("blob")))
        .get(pk=version.pk)
    )
    data = _summary(resource, version)
    content_allowed = policies.can_download(request.user, resource, version)
    files = [_file_out(resource, f, content_allowed=content_allowed) for f in version.files.all()]
    versions = policies.visible_versions(request.user, resource).select_related("created_by").order_by("-number")
    data.update({
        "description": version.description,
        "keywords": list(version.keywords or []),
        "knowledge_points": [{"id": p.pk, "name": p.name, "kind": p.kind} for p in version.knowledge_points.all()],
        "audience": list(version.audience or []),
        "language": version.language,
        "difficulty": version.difficulty,
        "certificate": version.certificate,
        "price": version.price,
        "external_url": version.external_url,
        "rights": {
            "copyright_holder_org": version.copyright_holder_org,
            "copyright_holder_person": version.copyright_holder_person,
            "authors": list(version.authors.all()),
            "originality": version.originality,
            "originality_label": str(version.get_originality_display()),
            "source": version.source,
            "licence": version.licence,
            "licence_label": str(version.get_licence_display()),
            "licence_text": version.licence_text,
            "licence_url": version.licence_url,
            "contributing_org": version.contributing_org,
            "platform_guarantee": not version.is_external,
        },
        "files": files,
        "check_findings": spec.finding_rows(version) if is_team else [],
        "published_version": resource.published_version.number if resource.published_version_id else None,
        "latest_version": resource.latest_version.number if is_team and resource.latest_version_id else None,
        "versions": [{
            "number": v.number, "state": v.state, "state_label": str(v.get_state_display()),
            "changelog": v.changelog, "created_by": v.created_by.display_name, "created_at": v.created_at,
            "submitted_at": v.submitted_at, "published_at": v.published_at,
        } for v in versions],
        "url": request.build_absolute_uri(reverse("resources:detail", args=[resource.pk])),
    })
    return data


def _fresh_detail(request, resource_id: int, version=None) -> dict:
    return _detail(request, _resource(request, resource_id), version)


# --- resources --------------------------------------------------------------------------------------------------

@router.get("/libraries/{library_id}/resources", response={200: list[ResourceOut], 404: ErrorOut},
            summary="Resources of a library the caller may see")
@paginate(Paginated)
def list_resources(request, library_id: int, type: str = "", major: int | None = None,
                   knowledge_point: int | None = None, q: str = ""):
    """The public sees published versions; the library team also sees drafts (their latest version).
    Filters: `type` (resource type code), `major` (id), `knowledge_point` (id), `q` (part of the title)."""
    library = _library(request, library_id)
    qs = services.filter_resources(policies.visible_resources(request.user).filter(library=library),
                                   resource_type=type, major=major, knowledge_point=knowledge_point, title=q)
    qs = qs.select_related("published_version__major", "latest_version__major").order_by("-created_at", "-id")
    return _SummaryList(qs)


class _SummaryList:
    """A lazily sliced queryset whose rows are rendered as summaries (keeps the paginator's LIMIT/OFFSET)."""

    def __init__(self, qs):
        self.qs = qs

    def count(self):
        return self.qs.count()

    def __len__(self):  # pragma: no cover - the paginator uses count()
        return self.count()

    def __getitem__(self, item):
        return [_summary(r, r.published_version or r.latest_version) for r in self.qs[item]]


@router.post("/libraries/{library_id}/resources", auth=LOGGED_IN,
             response={201: ResourceDetailOut, **COMMON_ERRORS},
             summary="Create a resource (draft version 1) — the library's lead and builders")
def create_resource(request, library_id: int, payload: ResourceIn):
    user = current_user(request)
    library = _library(request, library_id)
    resource = services.create_resource(library, _metadata(payload), by=user)
    return Status(201, _fresh_detail(request, resource.pk))


@router.get("/resources/commitment", response=CommitmentOut,
            summary="The rights and content-safety commitment accepted on submission")
def commitment(request):
    return {"text": str(services.RIGHTS_COMMITMENT), "language": get_language() or "zh-hans"}


@router.get("/resources/{resource_id}", response={200: ResourceDetailOut, 404: ErrorOut},
            summary="One resource: its published version, or for the team its latest (?version=n for any)")
def get_resource(request, resource_id: int, version: int | None = None):
    resource = _resource(request, resource_id)
    chosen = None
    if version is not None:
        chosen = resource.versions.filter(number=version).first()
        if chosen is None or (chosen.pk != resource.published_version_id
                              and not policies.can_view_unpublished(request.user, resource)):
            raise NotFound(_("No such version."), code="resource.version_not_found")
    return _detail(request, resource, chosen)


@router.put("/resources/{resource_id}/draft", auth=LOGGED_IN, response={200: ResourceDetailOut, **WRITE_ERRORS},
            summary="Change the metadata and rights of the latest draft version")
def update_draft(request, resource_id: int, payload: ResourceIn):
    """Not a draft → 400 `resource.version_not_draft` under `fields.version` (start a new version first)."""
    user = current_user(request)
    resource = _resource(request, resource_id)
    services.update_metadata(resource.latest_version, _metadata(payload), by=user)
    return _fresh_detail(request, resource_id)


@router.post("/resources/{resource_id}/versions", auth=LOGGED_IN,
             response={201: ResourceDetailOut, **WRITE_ERRORS},
             summary="Start a new draft version from the latest one (the published version stays visible)")
def start_version(request, resource_id: int, payload: NewVersionIn):
    user = current_user(request)
    resource = _resource(request, resource_id)
    services.start_new_version(resource, by=user, changelog=payload.changelog)
    return Status(201, _fresh_detail(request, resource_id))


@router.post("/resources/{resource_id}/files", auth=LOGGED_IN, response={201: FileOut, **WRITE_ERRORS},
             summary="Attach a completed tus upload to the draft as main file or attachment")
def attach_file(request, resource_id: int, payload: AttachIn):
    """Only the upload's own user may attach it, once it is complete (`resource.upload_incomplete`; one whose bytes
    all arrived but whose completion was cut short is completed now) and before it expires (`resource.upload_expired`).
    A new main file replaces the old one."""
    user = current_user(request)
    resource = _resource(request, resource_id)
    if not policies.can_edit(user, resource):
        raise PermissionDenied(_("Only the library's lead and builders can change its resources."),
                               code="resource.edit_denied")
    upload = uploads.completed_upload(payload.upload_id, user=user)
    version_file = services.attach_file(resource.latest_version, upload.blob, role=payload.role,
                                        original_name=upload.filename or upload.blob.sha256[:12], by=user)
    return Status(201, _file_out(resource, version_file, content_allowed=True))  # the team always may


@router.delete("/resources/{resource_id}/files/{file_id}", auth=LOGGED_IN, response={204: None, **WRITE_ERRORS},
               summary="Remove a file from the draft")
def remove_file(request, resource_id: int, file_id: int):
    user = current_user(request)
    resource = _resource(request, resource_id)
    services.remove_file(resource.latest_version, file_id, by=user)
    return Status(204, None)


# POST /resources/{id}/submit and /withdraw, and review decisions, belong to the review API (reslib.review.api).


@router.put("/resources/{resource_id}/downloads", auth=LOGGED_IN, response={200: ResourceDetailOut, **WRITE_ERRORS},
            summary="Switch downloads of the resource on or off")
def set_downloads(request, resource_id: int, payload: DownloadsIn):
    user = current_user(request)
    resource = _resource(request, resource_id)
    services.set_downloads_allowed(resource, payload.allowed, by=user)
    return _fresh_detail(request, resource_id)


# --- knowledge points -------------------------------------------------------------------------------------------

@router.get("/libraries/{library_id}/knowledge-points", response={200: KnowledgePointList, 404: ErrorOut},
            summary="The library's knowledge and skill points, in tree order (a bounded list, unpaged)")
def list_knowledge_points(request, library_id: int):
    library = _library(request, library_id)
    return as_list(p for p, _depth in knowledge_point_tree(library))


@router.post("/libraries/{library_id}/knowledge-points", auth=LOGGED_IN,
             response={201: KnowledgePointOut, **COMMON_ERRORS},
             summary="Add a knowledge or skill point (the library's lead and builders)")
def add_knowledge_point(request, library_id: int, payload: KnowledgePointIn):
    user = current_user(request)
    library = _library(request, library_id)
    point = services.add_knowledge_point(library, by=user, name=payload.name, kind=payload.kind,
                                         parent_id=payload.parent)
    return Status(201, point)


@router.delete("/libraries/{library_id}/knowledge-points/{point_id}", auth=LOGGED_IN,
               response={204: None, **WRITE_ERRORS}, summary="Remove an unused knowledge or skill point")
def remove_knowledge_point(request, library_id: int, point_id: int):
    user = current_user(request)
    library = _library(request, library_id)
    point = KnowledgePoint.objects.filter(pk=point_id, library=library).first()
    if point is None:
        raise NotFound(_("No such knowledge point."), code="knowledge.not_found")
    services.remove_knowledge_point(point, by=user)
    return Status(204, None)
