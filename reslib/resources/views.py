"""Web pages of resources. Thin: parse, authorise through the policies, call a service, render.

Every lookup goes through policies.visible_resources(user) (resources) or libraries' visible_libraries(user), so
an object the user may not see answers 404 exactly like one that does not exist.
"""

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from reslib.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from reslib.core.middleware import multipart_for
from reslib.core.views import login_prompt
from reslib.libraries import policies as library_policies
from reslib.libraries.models import Library

from . import bulk_import, delivery, policies, services, spec, uploads
from .forms import (
    DecisionForm,
    FileUploadForm,
    ImportForm,
    KnowledgePointForm,
    NewVersionForm,
    ResourceFilterForm,
    ResourceForm,
    SubmitForm,
    knowledge_point_tree,
    library_organizations,
)
from .models import DerivedFile, KnowledgePoint, Resource, ResourceVersion, VersionAuthor, VersionFile
from .qr import qr_svg
from .storage import store_stream

PAGE_SIZE = 20
VS = ResourceVersion.State
V = ResourceVersion

# Picks the viewer by the context's `viewer` (delivery.viewer_for).
VIEWER_TEMPLATE = "resources/viewers/viewer.html"
IMPORT_SESSION_KEY = "reslib_import_report"


def _refuse(request, message, *, status=403):
    return render(request, "resources/refused.html", {"message": message}, status=status)


def _library(request, library_id) -> Library:
    return get_object_or_404(
        library_policies.visible_libraries(request.user).select_related("core_major"), pk=library_id
    )


def _resource(request, pk) -> Resource:
    return get_object_or_404(
        policies.visible_resources(request.user).select_related(
            "library", "published_version", "latest_version"
        ),
        pk=pk,
    )


def _login_redirect(request):
    return redirect(f"{reverse('accounts:login')}?next={request.get_full_path()}")


# --- List -------------------------------------------------------------------------------------------------------

def resource_list(request, library_id):
    library = _library(request, library_id)
    points = knowledge_point_tree(library)
    form = ResourceFilterForm(request.GET or None, library=library, points=points)
    resources = policies.visible_resources(request.user).filter(library=library)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        resources = services.filter_resources(resources, resource_type=data.get("type"), major=data.get("major"),
                                              knowledge_point=data.get("point"), title=data.get("q"))
    counted = services.countable(resources).count()
    listed = resources.select_related(
        "published_version__major", "latest_version__major", "published_version__contributing_org",
        "latest_version__contributing_org",
    ).order_by("-created_at", "-id")
    page_obj = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    external = page_obj.paginator.count - counted
    is_team = policies.can_view_unpublished_in(request.user, library)
    rows = []
    for resource in page_obj.object_list:
        version = resource.published_version or resource.latest_version
        rows.append({
            "resource": resource,
            "version": version,
            "latest": resource.latest_version,
            "has_newer": is_team and resource.published_version_id
            and resource.latest_version_id != resource.published_version_id,
        })
    return render(request, "resources/list.html", {
        "library": library,
        "form": form,
        "page_obj": page_obj,
        "rows": rows,
        "counted_total": counted,
        "external_total": external,
        "can_create": policies.can_create(request.user, library),
        "can_manage_points": policies.can_manage_knowledge_points(request.user, library),
        "is_team": is_team,
        "filtered": bool(form.is_bound and any(v for k, v in request.GET.items() if k != "page")),
    })


# --- Create and edit --------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def resource_create(request, library_id):
    library = _library(request, library_id)
    if not policies.can_create(request.user, library):
        return _refuse(request, _("Only the library's lead and builders can add resources while it is being built."))
    status = 200
    if request.method == "POST":
        form = ResourceForm(request.POST, library=library)
        if form.is_valid():
            try:
                resource = services.create_resource(library, form.to_metadata(), by=request.user)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            else:
                messages.success(request, _("The resource was saved as a draft. Upload its main file next."))
                return redirect("resources:detail", pk=resource.pk)
        status = 400
    else:
        user = request.user
        in_library = library_organizations(library).filter(pk=user.organization_id).exists()
        own_org = user.organization_id if in_library else None
        form = ResourceForm(library=library, initial={
            "major": library.core_major_id,
            "contributing_org": own_org,
            "copyright_holder_org": own_org,
            "language": "zh-hans",
            "access": V.Access.PUBLIC,
            "price_mode": V.PriceMode.FREE,
            "originality": V.Originality.ORIGINAL,
            "licence": V.Licence.CC_BY_NC_SA,
            "author_rows": [{"name": user.display_name,
                             "institution": user.organization.name if user.organization_id else ""}],
        })
    return render(request, "resources/form.html", {"form": form, "library": library, "resource": None},
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def resource_edit(request, pk):
    resource = _resource(request, pk)
    if not policies.can_edit(request.user, resource):
        return _refuse(request, _("Only the library's lead and builders can change its resources."))
    version = resource.latest_version
    if version.resource_type == V.Type.QUESTION:
        return redirect("questions:edit", pk=resource.pk)
    if version.state != VS.DRAFT:
        return _refuse(request, _("Only a draft version can be changed; start a new version instead."), status=409)
    library = resource.library
    status = 200
    if request.method == "POST":
        form = ResourceForm(request.POST, library=library)
        if form.is_valid():
            try:
                services.update_metadata(version, form.to_metadata(), by=request.user)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            else:
                messages.success(request, _("The draft was saved."))
                return redirect("resources:detail", pk=resource.pk)
        status = 400
    else:
        form = ResourceForm(library=library, initial=ResourceForm.initial_for(version))
    return render(request, "resources/form.html", {"form": form, "library": library, "resource": resource,
                                                   "version": version}, status=status)


# --- Resource page ----------------------------------------------------------------------------------------------

def _shown_version(request, resource, is_team) -> ResourceVersion:
    number = request.GET.get("version")
    if number and is_team:
        try:
            return resource.versions.get(number=int(number))
        except (ValueError, ResourceVersion.DoesNotExist):
            raise Http404 from None
    if is_team:
        return resource.latest_version
    if resource.published_version_id is None:
        raise Http404
    return resource.published_version


def viewer_context(resource, main_file, attachments, *, content_allowed: bool) -> dict:
    """What a viewer needs: which viewer, the derived files and the URLs that deliver them. Without
    `content_allowed` (policies.can_download) only the preview pictures' URLs: a player or frame would meet a 403."""
    if main_file is None:
        return {}
    derived = {d.kind: d for d in main_file.blob.derived.all()}

    def derived_url(kind):
        item = derived.get(kind)
        if not content_allowed and kind not in policies.PREVIEW_KINDS:
            return ""
        if item is not None and item.state == DerivedFile.State.DONE and item.storage_name:
            return reverse("resources:derived", args=[resource.pk, main_file.pk, kind])
        return ""

    subtitles = [
        {"file": f, "url": reverse("resources:subtitles", args=[resource.pk, f.pk]),
         "label": f.original_name.rsplit(".", 1)[0]}
        for f in attachments
        if content_allowed and (f.original_name.lower().endswith((".srt", ".vtt")) or f.blob.kind == "subtitle")
    ]
    return {
        "viewer": delivery.viewer_for(main_file, derived),
        "derived": derived,
        "poster_url": derived_url(DerivedFile.Kind.POSTER),
        "thumbnail_url": derived_url(DerivedFile.Kind.THUMBNAIL),
        "web_video_url": derived_url(DerivedFile.Kind.WEB_VIDEO),
        "pdf_preview_url": derived_url(DerivedFile.Kind.PDF_PREVIEW),
        "subtitles": subtitles,
    }


def _detail_context(request, resource, *, version=None, errors=None, upload_form=None, submit_form=None,
                    decision_form=None, new_version_form=None):
    user = request.user
    is_team = policies.can_view_unpublished(user, resource)
    version = version or _shown_version(request, resource, is_team)
    version = (
        ResourceVersion.objects.select_related("major", "copyright_holder_org", "contributing_org", "created_by")
        .prefetch_related(
            Prefetch("authors", queryset=VersionAuthor.objects.order_by("position")),
            "knowledge_points",
            Prefetch("files", queryset=VersionFile.objects.select_related("blob").prefetch_related(
                Prefetch("blob__derived", queryset=DerivedFile.objects.all()))),
        )
        .get(pk=version.pk)
    )
    files = list(version.files.all())
    main_file = next((f for f in files if f.role == VersionFile.Role.MAIN), None)
    attachments = [f for f in files if f.role == VersionFile.Role.ATTACHMENT]
    can_download = policies.can_download(user, resource, version)
    for f in files:  # no link, player or frame that would only meet a 403
        f.download_url = reverse("resources:download", args=[resource.pk, f.pk]) if can_download else ""
        f.stream_url = reverse("resources:stream", args=[resource.pk, f.pk]) if can_download else ""
    versions = policies.visible_versions(user, resource).select_related("created_by").order_by("-number")
    latest = resource.latest_version
    can_edit = policies.can_edit(user, resource)
    can_publish = policies.can_publish(user, resource)
    editable_draft = can_edit and latest.state == VS.DRAFT and version.pk == latest.pk
    resource_url = request.build_absolute_uri(reverse("resources:detail", args=[resource.pk]))
    context = {
        "resource": resource,
        "library": resource.library,
        "version": version,
        "latest": latest,
        "is_latest": version.pk == latest.pk,
        "is_published_version": version.pk == resource.published_version_id,
        "is_team": is_team,
        "authors": list(version.authors.all()),
        "knowledge_points": list(version.knowledge_points.all()),
        "audience_labels": [V.Audience(a).label for a in version.audience or [] if a in V.Audience.values],
        "main_file": main_file,
        "attachments": attachments,
        "viewer_template": VIEWER_TEMPLATE if main_file else None,
        **viewer_context(resource, main_file, attachments, content_allowed=can_download),
        "can_download": can_download,
        "cc_link": version.licence_url,
        "findings": spec.finding_rows(version) if is_team else [],
        "versions": list(versions),
        "resource_url": resource_url,
        "qr_svg": mark_safe(qr_svg(resource_url)),  # noqa: S308 - generated SVG, the URL is not echoed
        "can_edit": can_edit,
        "can_publish": can_publish,
        "editable_draft": editable_draft,
        "can_upload": editable_draft and not version.is_external and version.resource_type != V.Type.QUESTION,
        "can_submit": editable_draft,
        "can_withdraw": can_edit and latest.state == VS.IN_REVIEW,
        "can_decide": can_publish and latest.state == VS.IN_REVIEW,
        # A question's new version is started by editing it in the question bank.
        "can_start_version": can_edit and latest.state in (VS.PUBLISHED, VS.REJECTED, VS.SUPERSEDED)
        and version.resource_type != V.Type.QUESTION,
        "rights_commitment": services.RIGHTS_COMMITMENT,
        "upload_form": upload_form or FileUploadForm(),
        "submit_form": submit_form or SubmitForm(),
        "decision_form": decision_form or DecisionForm(),
        "new_version_form": new_version_form or NewVersionForm(),
        "attach_upload_url": reverse("resources:attach_upload", args=[resource.pk]),
        "max_small_upload": settings.RESLIB_SMALL_UPLOAD_BYTES,
        "errors": errors or {},
    }
    return context


def resource_detail(request, pk):
    resource = policies.visible_resources(request.user).select_related(
        "library", "published_version", "latest_version").filter(pk=pk).first()
    if resource is None:
        if not request.user.is_authenticated and policies.opens_on_login(pk):
            return login_prompt(request, _("This resource is open to registered users. Log in to see it."))
        return _tombstone_or_404(request, pk)
    return render(request, "resources/detail.html", _detail_context(request, resource))


def _tombstone_or_404(request, pk):
    """A published resource that was blocked or withdrawn shows a tombstone (title, reason category, date) to
    those who may no longer see it; anything else they may not see (drafts, unpublished, restricted) is a 404."""
    tombstone = policies.tombstone(pk)
    if tombstone is None:
        raise Http404
    return render(request, "review/moderation/tombstone.html", tombstone, status=410)


def _detail_with_errors(request, resource, section, exc_or_messages, *, status=400, **forms):
    messages_ = exc_or_messages.messages() if isinstance(exc_or_messages, DomainError) else exc_or_messages
    resource.refresh_from_db()
    context = _detail_context(request, resource, version=resource.latest_version, errors={section: messages_},
                              **forms)
    return render(request, "resources/detail.html", context, status=status)


def _back(resource, anchor=""):
    return redirect(reverse("resources:detail", args=[resource.pk]) + (f"#{anchor}" if anchor else ""))


def _editor_or_refuse(request, resource):
    if not policies.can_edit(request.user, resource):
        return _refuse(request, _("Only the library's lead and builders can change its resources."))
    return None


# --- Files ------------------------------------------------------------------------------------------------------

def _may_send_files(request, pk):
    """upload_file's check before its multipart body is read (core.middleware.MultipartGuardMiddleware)."""
    if not request.user.is_authenticated:
        return login_prompt(request, _("Log in to add files."), next_url=reverse("resources:detail", args=[pk]))
    return _editor_or_refuse(request, _resource(request, pk))


@multipart_for(_may_send_files)
@login_required
@require_POST
def upload_file(request, pk):
    resource = _resource(request, pk)
    refusal = _editor_or_refuse(request, resource)
    if refusal:
        return refusal
    form = FileUploadForm(request.POST, request.FILES)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        if uploaded.size > settings.RESLIB_SMALL_UPLOAD_BYTES:
            form.add_error("file", _("This file is too large for the simple form; use the resumable upload."))
        else:
            try:
                blob = store_stream(uploaded.chunks(), original_name=uploaded.name,
                                    max_bytes=settings.RESLIB_SMALL_UPLOAD_BYTES)
                services.attach_file(resource.latest_version, blob, role=form.cleaned_data["role"],
                                     original_name=uploaded.name, by=request.user)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            except DomainError as exc:
                form.add_error("file", str(exc.message))
            else:
                messages.success(request, _("The file “%(name)s” was added.") % {"name": uploaded.name})
                return _back(resource, "files")
    return _detail_with_errors(request, resource, "upload", [], status=400, upload_form=form)


@login_required
@require_POST
def attach_upload(request, pk):
    """Attach a completed resumable (tus) upload of this user to the draft."""
    resource = _resource(request, pk)
    refusal = _editor_or_refuse(request, resource)
    if refusal:
        return refusal
    role = request.POST.get("role") or VersionFile.Role.MAIN
    try:
        upload = uploads.completed_upload(request.POST.get("upload_id"), user=request.user)
        services.attach_file(resource.latest_version, upload.blob, role=role,
                             original_name=upload.filename or upload.blob.sha256[:12], by=request.user)
    except PermissionDenied as exc:
        return _refuse(request, exc.message)
    except DomainError as exc:
        return _detail_with_errors(request, resource, "upload", exc, status=exc.http_status)
    messages.success(request, _("The file “%(name)s” was added.") % {"name": upload.filename})
    return _back(resource, "files")


@login_required
@require_POST
def remove_file(request, pk, file_id):
    resource = _resource(request, pk)
    refusal = _editor_or_refuse(request, resource)
    if refusal:
        return refusal
    try:
        services.remove_file(resource.latest_version, file_id, by=request.user)
    except PermissionDenied as exc:
        return _refuse(request, exc.message)
    except NotFound:
        return _detail_with_errors(request, resource, "files", [_("This file is no longer part of the draft.")],
                                   status=404)
    except DomainError as exc:
        return _detail_with_errors(request, resource, "files", exc, status=exc.http_status)
    messages.success(request, _("The file was removed from the draft."))
    return _back(resource, "files")


def _visible_file(request, pk, file_id) -> tuple[Resource, VersionFile]:
    resource = _resource(request, pk)
    version_file = get_object_or_404(
        VersionFile.objects.select_related("blob", "version"), pk=file_id, version__resource=resource
    )
    if version_file.version_id != resource.published_version_id and not policies.can_view_unpublished(
        request.user, resource
    ):
        raise Http404
    if not policies.files_served(request.user, resource):  # blocked: no file route serves its bytes
        raise DjangoPermissionDenied(_("This resource is blocked; its files are not available."))
    return resource, version_file


def _content_or_refuse(request, resource, version_file):
    """The refusal of every route that hands out a file's content (policies.can_download), else None."""
    if policies.can_download(request.user, resource, version_file.version):
        return None
    return _refuse(request, _("Downloads of this resource are not available to you."))


@require_http_methods(["GET", "HEAD"])
def download_file(request, pk, file_id):
    resource, version_file = _visible_file(request, pk, file_id)
    refusal = _content_or_refuse(request, resource, version_file)
    if refusal:
        return refusal
    return delivery.serve_blob(request, version_file.blob, filename=version_file.original_name, as_attachment=True)


@require_http_methods(["GET", "HEAD"])
def stream_file(request, pk, file_id):
    """In-page playback and viewing: the same bytes as a download, so the same policy decides."""
    resource, version_file = _visible_file(request, pk, file_id)
    refusal = _content_or_refuse(request, resource, version_file)
    if refusal:
        return refusal
    return delivery.serve_blob(request, version_file.blob, filename=version_file.original_name, as_attachment=False)


DERIVED_NAMES = {"poster": "poster.jpg", "thumbnail": "thumbnail.jpg", "web_video": "video.mp4",
                 "pdf_preview": "preview.pdf"}


@require_http_methods(["GET", "HEAD"])
def derived_file(request, pk, file_id, kind):
    """Poster and thumbnail: whoever sees the version (can_preview); the web rendition and the PDF preview carry the
    whole content and are decided like the file itself (can_download)."""
    resource, version_file = _visible_file(request, pk, file_id)
    if kind not in DerivedFile.Kind.values:
        raise Http404
    if kind in policies.PREVIEW_KINDS:
        if not policies.can_preview(request.user, resource, version_file.version):
            raise Http404
    else:
        refusal = _content_or_refuse(request, resource, version_file)
        if refusal:
            return refusal
    derived = DerivedFile.objects.select_related("blob").filter(
        blob=version_file.blob, kind=kind, state=DerivedFile.State.DONE).exclude(storage_name="").first()
    if derived is None:
        raise Http404
    stem = version_file.original_name.rsplit(".", 1)[0]
    return delivery.serve_derived(request, derived, filename=f"{stem}-{DERIVED_NAMES[kind]}", as_attachment=False)


@require_http_methods(["GET", "HEAD"])
def subtitle_file(request, pk, file_id):
    """An SRT/WebVTT attachment as WebVTT for the player's <track>: an attachment's content, like a download."""
    resource, version_file = _visible_file(request, pk, file_id)
    refusal = _content_or_refuse(request, resource, version_file)
    if refusal:
        return refusal
    return delivery.serve_subtitle_vtt(request, version_file.blob)


# --- Versions and review ----------------------------------------------------------------------------------------

# Submitting for review, withdrawing and deciding are pages of the review workflow (reslib.review.views).


@login_required
@require_POST
def new_version(request, pk):
    resource = _resource(request, pk)
    refusal = _editor_or_refuse(request, resource)
    if refusal:
        return refusal
    form = NewVersionForm(request.POST)
    form.is_valid()
    try:
        services.start_new_version(resource, by=request.user, changelog=form.cleaned_data.get("changelog", ""))
    except PermissionDenied as exc:
        return _refuse(request, exc.message)
    except DomainError as exc:
        return _detail_with_errors(request, resource, "new_version", exc, status=exc.http_status,
                                   new_version_form=form)
    messages.success(request, _("A new draft version was started; the published version stays visible until the "
                                "new one is approved."))
    return redirect("resources:edit", pk=resource.pk)


@login_required
@require_POST
def set_downloads(request, pk):
    resource = _resource(request, pk)
    refusal = _editor_or_refuse(request, resource)
    if refusal:
        return refusal
    allowed = request.POST.get("allowed") in ("1", "true", "on")
    try:
        services.set_downloads_allowed(resource, allowed, by=request.user)
    except PermissionDenied as exc:
        return _refuse(request, exc.message)
    messages.success(request, _("Downloads are now allowed.") if allowed else _("Downloads are now switched off."))
    return _back(resource)


# --- Knowledge points -------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def knowledge_points(request, library_id):
    library = _library(request, library_id)
    can_manage = policies.can_manage_knowledge_points(request.user, library)
    points = knowledge_point_tree(library)
    status = 200
    form = KnowledgePointForm(points=points) if can_manage else None
    if request.method == "POST":
        if not request.user.is_authenticated:
            return _login_redirect(request)
        if not can_manage:
            return _refuse(request, _("Only the library's lead and builders can maintain its knowledge points."))
        form = KnowledgePointForm(request.POST, points=points)
        if form.is_valid():
            data = form.cleaned_data
            try:
                point = services.add_knowledge_point(library, by=request.user, name=data.get("name") or "",
                                                     kind=data.get("kind") or KnowledgePoint.Kind.KNOWLEDGE,
                                                     parent_id=data.get("parent"))
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            else:
                messages.success(request, _("“%(name)s” was added.") % {"name": point.name})
                return redirect("resources:knowledge_points", library_id=library.pk)
        status = 400
    used = set(ResourceVersion.knowledge_points.through.objects.filter(knowledgepoint__library=library)
               .values_list("knowledgepoint_id", flat=True).distinct())
    parents = {p.parent_id for p, _d in points}
    rows = [{"point": p, "depth": d, "indent": d * 1.4, "removable": p.pk not in used and p.pk not in parents}
            for p, d in points]
    return render(request, "resources/knowledge_points.html", {
        "library": library, "rows": rows, "form": form, "can_manage": can_manage,
    }, status=status)


@login_required
@require_POST
def knowledge_point_remove(request, library_id, point_id):
    library = _library(request, library_id)
    if not policies.can_manage_knowledge_points(request.user, library):
        return _refuse(request, _("Only the library's lead and builders can maintain its knowledge points."))
    point = get_object_or_404(KnowledgePoint, pk=point_id, library=library)
    try:
        services.remove_knowledge_point(point, by=request.user)
    except DomainError as exc:
        messages.error(request, " ".join(exc.messages()))
    else:
        messages.success(request, _("“%(name)s” was removed.") % {"name": point.name})
    return redirect("resources:knowledge_points", library_id=library.pk)


# --- Bulk import ------------------------------------------------------------------------------------------------

def _importer_library(request, library_id):
    library = _library(request, library_id)
    if not policies.can_create(request.user, library):
        return library, _refuse(request, _("Only the library's lead and builders can import resources while it is "
                                           "being built."))
    return library, None


def _may_import(request, library_id):
    """import_page's check before its multipart body is read (core.middleware.MultipartGuardMiddleware)."""
    if not request.user.is_authenticated:
        return login_prompt(request, _("Log in to import resources."))
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
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            result = bulk_import.run_import(library, sheet=form.cleaned_data["sheet"],
                                            archive=form.cleaned_data.get("archive"), by=request.user)
            if result.error:
                form.add_error(result.error_field or None, str(result.error))
                status = 400
            else:
                report = result
                request.session[IMPORT_SESSION_KEY] = {"library": library.pk, "rows": result.as_json()}
        else:
            status = 400
    else:
        form = ImportForm()
    if report is not None:
        for row in report.rows:
            row.url = reverse("resources:detail", args=[row.resource_id]) if row.resource_id else ""
    return render(request, "resources/import.html", {
        "library": library, "form": form, "report": report,
        "columns": bulk_import.COLUMNS,
        "max_entries": bulk_import.MAX_ENTRIES,
    }, status=status)


@login_required
def import_template(request, library_id):
    library, refusal = _importer_library(request, library_id)
    if refusal:
        return refusal
    data = bulk_import.build_template(library)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename=\"reslib-import-template.xlsx\""
    return response


@login_required
def import_report(request, library_id):
    library, refusal = _importer_library(request, library_id)
    if refusal:
        return refusal
    stored = request.session.get(IMPORT_SESSION_KEY)
    if not stored or stored.get("library") != library.pk:
        raise Http404
    rows = stored["rows"]
    for row in rows:
        if row.get("resource_id"):
            row["url"] = request.build_absolute_uri(reverse("resources:detail", args=[row["resource_id"]]))
    out = io.BytesIO(bulk_import.build_report(rows))
    response = HttpResponse(out.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename=\"reslib-import-report.xlsx\""
    return response
