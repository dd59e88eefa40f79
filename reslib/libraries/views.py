"""Web pages of the resource libraries. Thin: parse, authorise through the policies, call a service, render."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from reslib.accounts import roles
from reslib.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.orgs.models import Region

from . import people, policies, queries, services
from .forms import LibraryApplicationForm, LibraryFilterForm, TeamMemberForm, TransitionForm
from .lifecycle import LIFECYCLE
from .models import Library, LibraryParticipant, TeamMember

PAGE_SIZE = 20

# Lifecycle-history labels of the audit actions that are not lifecycle transitions.
HISTORY_ACTION_LABELS = {
    "library.create": lambda: _("Application created"),
    "library.update": lambda: _("Application changed"),
    "library.team_add": lambda: _("Team member added"),
    "library.team_remove": lambda: _("Team member removed"),
}


def _refuse(request, message, *, status=403):
    return render(request, "libraries/refused.html", {"message": message}, status=status)


def _visible_library(request, pk) -> Library:
    """The library if this user may see it; 404 otherwise (invisible objects do not exist for the user)."""
    return get_object_or_404(policies.visible_libraries(request.user).select_related("province", "core_major"), pk=pk)


# --- List -------------------------------------------------------------------------------------------------------

def library_list(request):
    form = LibraryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    libraries = queries.filtered(queries.listed(request.user), **filters)
    page_obj = Paginator(libraries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "libraries/list.html", {
        "form": form,
        "page_obj": page_obj,
        "libraries": page_obj.object_list,
        "can_apply": policies.can_apply(request.user),
        "filtered": bool(form.is_bound and any(v for k, v in request.GET.items() if k != "page")),
    })


# --- Detail -----------------------------------------------------------------------------------------------------

def _status_label(value):
    try:
        return Library.Status(value).label
    except ValueError:
        return value or ""


def _history(library, *, insider: bool):
    """The lifecycle history; `insider` (policies.can_see_people) decides whether people show by name or by what
    they are to the library."""
    entries = list(
        AuditEntry.objects.filter(target_type=Library._meta.label_lower, target_id=str(library.pk),
                                  action__startswith="library.")
        .select_related("actor__organization")
        .order_by("-created_at", "-id")
    )
    team_data = {}
    for entry in entries:
        if entry.action in ("library.team_add", "library.team_remove"):
            data = entry.after if entry.action == "library.team_add" else entry.before
            team_data[entry.pk] = data if isinstance(data, dict) else {}
    member_ids = {d.get("user") for d in team_data.values() if d.get("user")}
    members = (get_user_model().objects.select_related("organization").in_bulk(member_ids)
               if member_ids else {})
    actor_roles = {} if insider else people.public_roles(library, [e.actor for e in entries])
    history = []
    for entry in entries:
        action = entry.action.removeprefix("library.")
        transition = LIFECYCLE.by_action.get(action)
        if transition is not None:
            label = transition.label
        elif entry.action in HISTORY_ACTION_LABELS:
            label = HISTORY_ACTION_LABELS[entry.action]()
        else:
            label = entry.action
        before = entry.before.get("status") if isinstance(entry.before, dict) else None
        after = entry.after.get("status") if isinstance(entry.after, dict) else None
        detail = ""
        if entry.pk in team_data:
            data = team_data[entry.pk]
            member = members.get(data.get("user"))
            role = data.get("role")
            role_label = str(TeamMember.Role(role).label) if role in TeamMember.Role.values else ""
            if insider:
                parts = [member.display_name if member else data.get("username", ""), role_label]
            else:
                parts = [role_label, member.organization.name if member and member.organization_id else ""]
            detail = " · ".join(p for p in parts if p)
        if entry.actor is None:
            actor = entry.actor_username if insider else ""
        else:
            actor = entry.actor.display_name if insider else actor_roles.get(entry.actor_id, "")
        history.append({
            "entry": entry,
            "label": label,
            "system": not entry.actor_id and not entry.actor_username,
            "actor": actor,
            "before": _status_label(before) if before and before != after else "",
            "after": _status_label(after) if after and before != after else "",
            "detail": detail,
        })
    return history


def _team_groups(library, *, insider: bool):
    members = list(library.team.select_related("user__organization").order_by("created_at", "id"))
    for member in members:
        member.name = people.member_name(member.user, insider=insider)
    groups = []
    for role in TeamMember.Role:
        in_role = [m for m in members if m.role == role]
        if in_role:
            groups.append({"role": role, "label": role.label, "members": in_role})
    return groups


def _detail_context(request, library, *, action_errors=None, open_action=None, reasons=None, team_form=None,
                    team_error=None):
    user = request.user
    actions = []
    for transition in services.available_actions(library, user):
        actions.append({
            "transition": transition,
            "action": transition.action,
            "label": transition.label,
            "reason_required": transition.reason_required,
            "url": reverse("libraries:transition", args=[library.pk, transition.action]),
            "errors": (action_errors or {}).get(transition.action, []),
            "open": transition.action == open_action,
            "reason": (reasons or {}).get(transition.action, ""),
            "danger": transition.action in {"decline", "fail_acceptance", "withdraw"},
        })
    can_manage_team = policies.can_manage_team(user, library)
    insider = policies.can_see_people(user, library)
    participants = list(LibraryParticipant.objects.filter(library=library).select_related("organization")
                        .order_by("organization__name"))
    return {
        "library": library,
        "hosts": list(library.hosts.select_related("organization").order_by("position")),
        "participants": participants,
        "served_majors": list(library.served_majors.order_by("code")),
        "team_groups": _team_groups(library, insider=insider),
        "progress": library.build_progress_percent(),
        "build_started": library.build_start <= timezone.localdate(),
        "history": _history(library, insider=insider),
        "actions": actions,
        "action_errors_general": (action_errors or {}).get("", []),
        "can_edit": policies.can_edit_application(user, library),
        "can_manage_team": can_manage_team,
        "team_form": team_form if team_form is not None else (TeamMemberForm() if can_manage_team else None),
        "team_error": team_error,
    }


def library_detail(request, pk):
    library = _visible_library(request, pk)
    return render(request, "libraries/detail.html", _detail_context(request, library))


# --- Lifecycle transitions --------------------------------------------------------------------------------------

@require_POST
def library_transition(request, pk, action):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={reverse('libraries:detail', args=[pk])}")
    library = _visible_library(request, pk)
    form = TransitionForm(request.POST)
    reason = request.POST.get("reason", "")
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            library = services.transition_library(library, action, by=request.user, reason=reason)
        except DomainError as exc:
            return _transition_failed(request, library, action, exc, reason)
        transition = LIFECYCLE.by_action[action]
        messages.success(request, _("Done: %(action)s. The library is now “%(status)s”.")
                         % {"action": transition.label, "status": library.get_status_display()})
        detail_url = reverse("libraries:detail", args=[library.pk])
        if request.htmx:
            return HttpResponseClientRedirect(detail_url)
        return redirect(detail_url)
    errors = [str(e) for e in form.errors.get("reason", [])]
    return _render_action_errors(request, library, action, errors, reason, status=400)


def _transition_failed(request, library, action, exc, reason):
    return _render_action_errors(request, library, action, exc.messages(), reason, status=exc.http_status)


def _render_action_errors(request, library, action, errors, reason, *, status):
    library.refresh_from_db()
    available = {t.action for t in services.available_actions(library, request.user)}
    if action in available:
        action_errors, open_action = {action: errors}, action
    else:
        # Not (or no longer) an action of this user here: show the refusal above the actions.
        action_errors, open_action = {"": errors}, None
    context = _detail_context(request, library, action_errors=action_errors, open_action=open_action,
                              reasons={action: reason})
    if request.htmx and open_action:
        item = next(a for a in context["actions"] if a["action"] == action)
        return render(request, "libraries/_action_form.html", {"item": item, "library": library})
    if request.htmx:
        return render(request, "libraries/_action_refusal.html", {"errors": errors})
    return render(request, "libraries/detail.html", context, status=status)


# --- Application form -------------------------------------------------------------------------------------------

def _refuse_apply(request):
    return _refuse(request, _("Only a user who belongs to an institution can apply for a library. "
                              "Ask your institution's administrator to link your account to it."))


@login_required
@require_http_methods(["GET", "POST"])
def library_create(request):
    if not policies.can_apply(request.user):
        return _refuse_apply(request)
    if request.method == "POST":
        form = LibraryApplicationForm(request.POST)
        if form.is_valid():
            try:
                library = services.create_library(form.to_application(), by=request.user)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            else:
                messages.success(request, _("The application was saved as a draft. Submit it when it is complete."))
                return redirect("libraries:detail", pk=library.pk)
        status = 400
    else:
        org = request.user.organization
        form = LibraryApplicationForm(initial={"host_1": org.pk, "province": org.province_id, "level": "provincial"})
        status = 200
    return render(request, "libraries/form.html", {"form": form, "library": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def library_edit(request, pk):
    library = _visible_library(request, pk)
    if not policies.can_edit_application(request.user, library):
        return _refuse(request, _("Only the project lead can change the application, and only before it is filed."))
    if request.method == "POST":
        form = LibraryApplicationForm(request.POST)
        if form.is_valid():
            try:
                services.update_library(library, form.to_application(), by=request.user)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            else:
                messages.success(request, _("The application was saved."))
                return redirect("libraries:detail", pk=library.pk)
        status = 400
    else:
        form = LibraryApplicationForm(initial=LibraryApplicationForm.initial_for(library))
        status = 200
    return render(request, "libraries/form.html", {"form": form, "library": library}, status=status)


# --- Team -------------------------------------------------------------------------------------------------------

def _team_response(request, library, *, team_form=None, team_error=None, status=200):
    context = _detail_context(request, library, team_form=team_form, team_error=team_error)
    if request.htmx:
        # htmx swaps only 2xx responses; the errors are inside the fragment.
        return render(request, "libraries/_team.html", context)
    if status == 200:
        return redirect(reverse("libraries:detail", args=[library.pk]) + "#team")
    return render(request, "libraries/detail.html", context, status=status)


@login_required
@require_POST
def team_add(request, pk):
    library = _visible_library(request, pk)
    if not policies.can_manage_team(request.user, library):
        return _refuse(request, _("Only the project lead can manage the team."))
    form = TeamMemberForm(request.POST)
    if form.is_valid():
        member_user = get_user_model().objects.filter(username=form.cleaned_data["username"].strip()).first()
        if member_user is None:
            form.add_error("username", _("There is no user with this username."))
        else:
            try:
                services.add_team_member(library, by=request.user, user=member_user, role=form.cleaned_data["role"])
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                return _refuse(request, exc.message)
            else:
                messages.success(request, _("%(name)s joined the team.") % {"name": member_user.display_name})
                return _team_response(request, library, team_form=TeamMemberForm())
    return _team_response(request, library, team_form=form, status=400)


@login_required
@require_POST
def team_remove(request, pk, member_id):
    library = _visible_library(request, pk)
    if not policies.can_manage_team(request.user, library):
        return _refuse(request, _("Only the project lead can manage the team."))
    try:
        services.remove_team_member(library, member_id, by=request.user)
    except NotFound:
        return _team_response(request, library, team_error=_("This team member no longer exists."), status=404)
    except (ValidationFailed, PermissionDenied) as exc:
        return _team_response(request, library, team_error=str(exc.message), status=exc.http_status)
    messages.success(request, _("The team member was removed."))
    return _team_response(request, library)


# --- Province workbench -----------------------------------------------------------------------------------------

@login_required
def workbench(request):
    user = request.user
    if not policies.can_view_workbench(user):
        return _refuse(request, _("The workbench is for province administrators and platform operators."))
    libraries = policies.visible_libraries(user)
    if roles.is_operator(user):
        provinces = []
    else:
        codes = sorted(roles.administered_province_codes(user))
        libraries = libraries.filter(province_id__in=codes)
        provinces = list(Region.objects.filter(code__in=codes).order_by("code"))
    pending = (
        libraries.filter(status=Library.Status.SUBMITTED)
        .select_related("province", "core_major", "created_by")
        .prefetch_related(queries.hosts_prefetch())
        .order_by("submitted_at", "id")
    )
    counts = dict(libraries.order_by().values_list("status").annotate(n=Count("id")))
    province_param = provinces[0].code if len(provinces) == 1 else ""
    by_status = []
    for status in Library.Status:
        query = f"status={status.value}" + (f"&province={province_param}" if province_param else "")
        by_status.append({"status": status, "label": status.label, "count": counts.get(status.value, 0),
                          "url": f"{reverse('libraries:list')}?{query}"})
    separator = "、" if get_language().startswith("zh") else ", "
    return render(request, "libraries/workbench.html", {
        "provinces": provinces,
        "province_names": separator.join(p.name for p in provinces),
        "pending": pending,
        "by_status": by_status,
        "total": sum(counts.values()),
    })
