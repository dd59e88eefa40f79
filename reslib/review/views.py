"""Review pages: the reviewer workbench (queue), the review page (resource beside the checklist), the levels
settings of a library, and the submit / withdraw actions of the resource page. Thin: parse, authorise through the
policies, call a service, render. Requests the user may not see answer 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reslib.accounts.models import User
from reslib.core.errors import DomainError, PermissionDenied, ValidationFailed
from reslib.core.forms import add_service_errors
from reslib.libraries.models import Library, TeamMember
from reslib.libraries.policies import visible_libraries
from reslib.resources import policies as resource_policies
from reslib.resources import spec
from reslib.resources import views as resource_views
from reslib.resources.forms import SubmitForm
from reslib.resources.models import DerivedFile, Resource, ResourceVersion, VersionAuthor, VersionFile

from . import checklist, policies, queries, services, staffing
from .forms import AssignForm, DecisionForm, LevelsForm
from .models import DECIDABLE_STATES, ReviewLevel, ReviewRequest

PAGE_SIZE = 50
S = ReviewRequest.State


def _refuse(request, message, *, status=403):
    return render(request, "resources/refused.html", {"message": message}, status=status)


# --- workbench ------------------------------------------------------------------------------------------------------

@login_required
def workbench(request):
    if not policies.is_reviewer_anywhere(request.user):
        return _refuse(request, _("The review workbench is for the libraries' reviewers and platform operators."))
    form, qs = queries.filtered_queue(request.user, request.GET)
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    request_url = reverse("review:request", args=[0]).replace("/0/", "/{}/")
    claim_url = reverse("review:claim", args=[0]).replace("/0/", "/{}/")
    for item in page_obj.object_list:
        item.own = item.submitted_by_id == request.user.pk
        item.url, item.claim_url = request_url.format(item.pk), claim_url.format(item.pk)
    managed = _managed_libraries(request.user)
    return render(request, "review/workbench.html", {"form": form, "page_obj": page_obj,
                                                     "back": request.get_full_path(),
                                                     "managed_libraries": managed,
                                                     "staffing": [(lib, staffing.level_warnings(lib))
                                                                  for lib in managed]})


def _managed_libraries(user):
    ids = TeamMember.objects.filter(user=user, role=TeamMember.Role.LEAD).values("library_id")
    return list(Library.objects.filter(pk__in=ids).order_by("name").only("pk", "name"))


# --- the review page ------------------------------------------------------------------------------------------------

def _visible_request(request, pk) -> ReviewRequest:
    return get_object_or_404(
        policies.visible_requests(request.user).select_related(
            "level", "library", "assignee", "submitted_by", "resource", "contributing_org", "previous"),
        pk=pk)


def _neighbours(user, current: ReviewRequest) -> tuple[int | None, int | None]:
    """Previous and next request of the user's queue (ordered by due date), for j/k."""
    queue = policies.queue(user).exclude(pk=current.pk)
    if current.due_at is None:
        return None, queue.order_by("due_at", "id").values_list("pk", flat=True).first()
    after = Q(due_at__gt=current.due_at) | Q(due_at=current.due_at, pk__gt=current.pk)
    before = Q(due_at__lt=current.due_at) | Q(due_at=current.due_at, pk__lt=current.pk)
    nxt = queue.filter(after).order_by("due_at", "id").values_list("pk", flat=True).first()
    prev = queue.filter(before).order_by("-due_at", "-id").values_list("pk", flat=True).first()
    return prev, nxt


def _version_context(request, review_request) -> dict:
    resource = review_request.resource
    version = (
        ResourceVersion.objects.select_related("major", "copyright_holder_org", "contributing_org", "created_by")
        .prefetch_related(
            Prefetch("authors", queryset=VersionAuthor.objects.order_by("position")),
            Prefetch("files", queryset=VersionFile.objects.select_related("blob").prefetch_related(
                Prefetch("blob__derived", queryset=DerivedFile.objects.all()))),
        ).get(pk=review_request.version_id)
    )
    files = list(version.files.all())
    main_file = next((f for f in files if f.role == VersionFile.Role.MAIN), None)
    attachments = [f for f in files if f.role == VersionFile.Role.ATTACHMENT]
    for f in files:
        f.download_url = reverse("resources:download", args=[resource.pk, f.pk])
        f.stream_url = reverse("resources:stream", args=[resource.pk, f.pk])
    can_view_files = resource_policies.can_view_unpublished(request.user, resource)
    return {
        "resource": resource,
        "version": version,
        "authors": list(version.authors.all()),
        "main_file": main_file if can_view_files else None,
        "attachments": attachments if can_view_files else [],
        "viewer_template": resource_views.VIEWER_TEMPLATE if main_file and can_view_files else None,
        **(resource_views.viewer_context(resource, main_file, attachments, content_allowed=True)
           if can_view_files else {}),
        "can_download": can_view_files,
        "findings": spec.finding_rows(version),
    }


def _hits_by_kind(hits):
    grouped = {}
    for hit in hits or []:
        grouped.setdefault(hit.get("kind", "other"), []).append(hit)
    return [(services.HIT_KIND_LABELS.get(kind, kind), items) for kind, items in grouped.items()]


def _review_context(request, review_request, *, form=None, errors=None, assign_form=None):
    user = request.user
    decidable = review_request.state in DECIDABLE_STATES
    refusal = policies.decide_refusal(user, review_request) if decidable else None
    can_decide = decidable and refusal is None
    if form is None:
        form = DecisionForm(initial={"level": review_request.level_id})
    prev_id, next_id = _neighbours(user, review_request)
    can_assign = decidable and policies.can_assign(user, review_request)
    candidates = []
    if can_assign:
        excluded = policies.conflicted_user_ids(review_request)
        candidates = [u for u in policies.group_users(review_request.level, review_request) if u.pk not in excluded]
    return {
        "req": review_request,
        "form": form,
        "checklist_rows": form.rows(),
        "errors": errors or [],
        "can_decide": can_decide,
        "can_claim": can_decide and review_request.assignee_id is None,
        "can_release": decidable and review_request.assignee_id and (
            review_request.assignee_id == user.pk or can_assign),
        "can_assign": can_assign,
        "assign_candidates": candidates,
        "assign_form": assign_form or AssignForm(),
        "refusal": refusal[1] if refusal else None,
        "hits": _hits_by_kind(review_request.machine_hits),
        "levels": services.levels_for(review_request.library),
        "staffing_warnings": staffing.request_warnings(review_request),
        "history": list(queries.history(review_request.resource_id)),
        "checklist_labels": checklist.LABELS,
        "prev_id": prev_id,
        "next_id": next_id,
        **_version_context(request, review_request),
    }


@login_required
def review_page(request, pk):
    review_request = _visible_request(request, pk)
    return render(request, "review/request.html", _review_context(request, review_request))


def _after_action(request, review_request, message):
    messages.success(request, message)
    nxt = request.POST.get("next") or ""
    if nxt == "queue":
        return redirect("review:workbench")
    return redirect("review:request", pk=review_request.pk)


@login_required
@require_POST
def decide(request, pk):
    review_request = _visible_request(request, pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        result = services.decide(review_request, by=request.user, decision=data.get("decision") or "",
                                 checklist_results=form.checklist_results(), comment=data.get("comment", ""),
                                 level_id=data.get("level"))
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return render(request, "review/request.html", _review_context(request, review_request, form=form),
                      status=400)
    except DomainError as exc:
        review_request = _visible_request(request, pk)
        return render(request, "review/request.html",
                      _review_context(request, review_request, errors=exc.messages()), status=exc.http_status)
    labels = {S.APPROVED: _("Approved: the version is published."), S.PENDING: _("Approved for the next level."),
              S.RETURNED: _("Returned to the submitter for changes."), S.REJECTED: _("Rejected.")}
    messages.success(request, labels.get(result.state, _("Done.")))
    _prev, nxt = _neighbours(request.user, result)
    if nxt:
        return redirect("review:request", pk=nxt)
    return redirect("review:workbench")


def _simple_action(request, pk, action):
    review_request = _visible_request(request, pk)
    try:
        if action == "claim":
            services.claim(review_request, by=request.user)
            message = _("You are now reviewing this request.")
        elif action == "release":
            services.release(review_request, by=request.user)
            message = _("Released: the request is back in the queue.")
        else:
            form = AssignForm(request.POST)
            user = User.objects.filter(pk=form.data.get("user") or 0, is_active=True).first() if \
                str(form.data.get("user") or "").isdigit() else None
            services.assign(review_request, by=request.user, to=user)
            message = _("Assigned to %(name)s.") % {"name": user.display_name}
    except DomainError as exc:
        if request.POST.get("next") == "queue":
            messages.error(request, "；".join(exc.messages()))
            return redirect(request.POST.get("back") or reverse("review:workbench"))
        review_request = _visible_request(request, pk)
        return render(request, "review/request.html",
                      _review_context(request, review_request, errors=exc.messages()), status=exc.http_status)
    return _after_action(request, review_request, message)


@login_required
@require_POST
def claim(request, pk):
    return _simple_action(request, pk, "claim")


@login_required
@require_POST
def release(request, pk):
    return _simple_action(request, pk, "release")


@login_required
@require_POST
def assign(request, pk):
    return _simple_action(request, pk, "assign")


# --- submit / withdraw from the resource page ---------------------------------------------------------------------

def _resource(request, pk) -> Resource:
    return get_object_or_404(resource_policies.visible_resources(request.user).select_related(
        "library", "published_version", "latest_version"), pk=pk)


@login_required
@require_POST
def submit(request, pk):
    resource = _resource(request, pk)
    if not resource_policies.can_edit(request.user, resource):
        return _refuse(request, _("Only the library's lead and builders can change its resources."))
    form = SubmitForm(request.POST)
    form.is_valid()
    try:
        services.submit_for_review(resource.latest_version, by=request.user,
                                   commitment_accepted=bool(form.cleaned_data.get("commitment")))
    except PermissionDenied as exc:
        return _refuse(request, exc.message)
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return resource_views._detail_with_errors(request, resource, "submit", [], status=400, submit_form=form)
    except DomainError as exc:
        return resource_views._detail_with_errors(request, resource, "submit", exc, status=exc.http_status)
    messages.success(request, _("The version was submitted for review. The machine pre-review runs first; you will "
                                "be notified of every decision."))
    return redirect(reverse("resources:detail", args=[resource.pk]) + "#review")


@login_required
@require_POST
def withdraw(request, pk):
    resource = _resource(request, pk)
    if not resource_policies.can_edit(request.user, resource):
        return _refuse(request, _("Only the library's lead and builders can change its resources."))
    try:
        services.withdraw_resource(resource, by=request.user, reason=request.POST.get("reason", ""))
    except PermissionDenied as exc:
        return _refuse(request, exc.message)
    except DomainError as exc:
        return resource_views._detail_with_errors(request, resource, "withdraw", exc, status=exc.http_status)
    messages.success(request, _("The version was withdrawn from review and is a draft again."))
    return redirect(reverse("resources:detail", args=[resource.pk]))


# --- levels settings ------------------------------------------------------------------------------------------------

def _levels_form(library, data=None):
    levels = services.levels_for(library)
    team = (TeamMember.objects.filter(library=library, role__in=policies.REVIEWING_ROLES)
            .select_related("user__organization").order_by("user__real_name", "user__username"))
    seen, member_choices = set(), []
    for tm in team:
        if tm.user_id in seen:
            continue
        seen.add(tm.user_id)
        org = tm.user.organization.name if tm.user.organization_id else ""
        member_choices.append((tm.user_id, f"{tm.user.display_name}（{org}）" if org else tm.user.display_name))
    operators = policies.operators(active_only=False).order_by("real_name", "username")
    operator_choices = [(u.pk, u.display_name) for u in operators]
    member_choices += [c for c in operator_choices if c[0] not in seen]
    levels = list(ReviewLevel.objects.filter(pk__in=[lvl.pk for lvl in levels]).prefetch_related("members")
                  .order_by("position"))
    return LevelsForm(data, levels=levels, member_choices=member_choices, operator_choices=operator_choices)


@login_required
def levels_settings(request, library_id):
    library = get_object_or_404(visible_libraries(request.user), pk=library_id)
    if not policies.can_manage_levels(request.user, library):
        return _refuse(request, _("Only the library lead can change its review levels."))
    if request.method == "POST":
        form = _levels_form(library, request.POST)
        form.is_valid()
        data = form.cleaned_data
        items = [services.LevelSettings(
            kind=level.kind, enabled=bool(data.get(f"{level.kind}-enabled")),
            group_mode=data.get(f"{level.kind}-group_mode") or request.POST.get(f"{level.kind}-group_mode", ""),
            members=list(data.get(f"{level.kind}-members") or []),
            due_days=data.get(f"{level.kind}-due_days")) for level in form.levels]
        try:
            services.update_levels(library, items, by=request.user)
        except ValidationFailed as exc:
            add_service_errors(form, exc)
            return render(request, "review/levels.html", {"library": library, "form": form,
                                                          "staffing_warnings": staffing.level_warnings(library)},
                          status=400)
        except DomainError as exc:
            return _refuse(request, exc.message, status=exc.http_status)
        messages.success(request, _("The review levels were saved."))
        return redirect("review:levels", library_id=library.pk)
    return render(request, "review/levels.html", {"library": library, "form": _levels_form(library),
                                                  "staffing_warnings": staffing.level_warnings(library)})
