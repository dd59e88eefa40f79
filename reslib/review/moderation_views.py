"""The operator's moderation console (moderated resources, actions, audit trail, word list, negative list,
emergency action) and the library's withdrawal page. Thin: parse, authorise, call reslib.review.moderation, render."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from reslib.core.errors import DomainError, ValidationFailed
from reslib.core.middleware import multipart_for
from reslib.core.views import login_prompt
from reslib.core.forms import ServiceErrorsMixin
from reslib.core.models import AuditEntry
from reslib.resources import policies
from reslib.resources.models import Resource

from . import moderation
from .moderation_models import EmergencyAction, NegativeListEntry, SensitiveWord

PAGE_SIZE = 25
MAX_IMPORT_BYTES = 5 * 1024 * 1024


# --- forms --------------------------------------------------------------------------------------------------------

class ModerationForm(ServiceErrorsMixin, forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=[(k, v) for k, v in moderation.ACTION_LABELS.items()])
    reason_category = forms.ChoiceField(label=gettext_lazy("Reason category"),
                                        choices=[("", "—")] + list(Resource.ReasonCategory.choices), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=moderation.MAX_REASON)


class WithdrawalForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=moderation.MAX_REASON)


class ConsoleFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False, choices=[
        ("", gettext_lazy("All moderated")), ("restricted", gettext_lazy("Restricted")), ("blocked", gettext_lazy("Blocked")),
        ("withdrawn", gettext_lazy("Withdrawn by the library"))])
    category = forms.ChoiceField(label=gettext_lazy("Reason category"), required=False,
                                 choices=[("", gettext_lazy("All"))] + list(Resource.ReasonCategory.choices))
    q = forms.CharField(label=gettext_lazy("Title"), required=False, max_length=100)


class EmergencyCriteriaForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Match by"), choices=EmergencyAction.Kind.choices)
    value = forms.CharField(label=gettext_lazy("Value"), max_length=255)


class EmergencyConfirmForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(choices=EmergencyAction.Kind.choices, widget=forms.HiddenInput)
    value = forms.CharField(max_length=255, widget=forms.HiddenInput)
    expected_count = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    reason_category = forms.ChoiceField(label=gettext_lazy("Reason category"), required=False,
                                        choices=[("", "—")] + list(Resource.ReasonCategory.choices))
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=moderation.MAX_REASON)


class WordForm(ServiceErrorsMixin, forms.Form):
    word = forms.CharField(label=gettext_lazy("Word"), max_length=64, required=False)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=SensitiveWord.Category.choices)
    level = forms.ChoiceField(label=gettext_lazy("Level"), choices=SensitiveWord.Level.choices,
                              initial=SensitiveWord.Level.FLAG)


class WordImportForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Text or CSV file"),
                           help_text=gettext_lazy("One word per line, or “word,category,level” (e.g. 某词,广告,flag). "
                                           "UTF-8 or GB18030; lines starting with # are skipped."))
    category = forms.ChoiceField(label=gettext_lazy("Default category"), choices=SensitiveWord.Category.choices,
                                 initial=SensitiveWord.Category.OTHER)
    level = forms.ChoiceField(label=gettext_lazy("Default level"), choices=SensitiveWord.Level.choices,
                              initial=SensitiveWord.Level.FLAG)


class WordFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Word"), required=False, max_length=64)
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False,
                                 choices=[("", gettext_lazy("All"))] + list(SensitiveWord.Category.choices))
    level = forms.ChoiceField(label=gettext_lazy("Level"), required=False,
                              choices=[("", gettext_lazy("All"))] + list(SensitiveWord.Level.choices))
    active = forms.ChoiceField(label=gettext_lazy("Status"), required=False, choices=[
        ("", gettext_lazy("Active")), ("inactive", gettext_lazy("Deactivated")), ("all", gettext_lazy("All"))])


class NegativeForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=NegativeListEntry.Kind.choices)
    value = forms.CharField(label=gettext_lazy("Value"), max_length=255, required=False)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=255, required=False)


# --- helpers ------------------------------------------------------------------------------------------------------

def _refuse(request, message=None, status=403):
    return render(request, "resources/refused.html",
                  {"message": message or _("Only platform operators can do this.")}, status=status)


def _operator_only(view):
    def wrapper(request, *args, **kwargs):
        if not moderation.can_moderate(request.user):
            return _refuse(request)
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return login_required(wrapper)


def _decode_upload(uploaded) -> str:
    data = uploaded.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed.single("file", "moderation.import_too_large", _("The file is larger than 5 MB."))
    from .prereview import decode_text

    return decode_text(data)


def _moderation_trail(resource_id=None):
    entries = AuditEntry.objects.filter(action__startswith="moderation.").select_related("actor")
    if resource_id is not None:
        entries = entries.filter(target_type="resources.resource", target_id=str(resource_id))
    return entries.order_by("-created_at", "-id")


# --- console ------------------------------------------------------------------------------------------------------

@_operator_only
def console(request):
    form = ConsoleFilterForm(request.GET or None)
    resources = Resource.objects.filter(~Q(moderation_state=Resource.Moderation.NORMAL) | Q(withdrawn_at__isnull=False))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["state"] == "withdrawn":
            resources = resources.filter(withdrawn_at__isnull=False)
        elif data["state"]:
            resources = resources.filter(moderation_state=data["state"])
        if data["category"]:
            resources = resources.filter(moderation_reason_category=data["category"])
        if data["q"]:
            q = data["q"].strip()
            resources = resources.filter(Q(published_version__title__icontains=q)
                                         | Q(latest_version__title__icontains=q))
    resources = resources.select_related("library", "published_version", "latest_version", "moderated_by",
                                         "withdrawn_by").order_by("-updated_at", "-id")
    page_obj = Paginator(resources, PAGE_SIZE).get_page(request.GET.get("page"))
    trail = Paginator(_moderation_trail(), PAGE_SIZE).get_page(request.GET.get("trail"))
    return render(request, "review/moderation/console.html", {
        "form": form, "page_obj": page_obj, "trail": trail,
        "emergencies": list(EmergencyAction.objects.select_related("created_by")[:5]),
        "word_count": SensitiveWord.objects.filter(active=True).count(),
        "negative_count": NegativeListEntry.objects.filter(active=True).count(),
        "tab": "console",
    })


@_operator_only
@require_http_methods(["GET", "POST"])
def resource_action(request, pk):
    resource = get_object_or_404(
        Resource.objects.select_related("library", "published_version", "latest_version", "created_by"), pk=pk)
    status = 200
    if request.method == "POST":
        form = ModerationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                moderation.moderate(resource, data["action"], by=request.user,
                                    reason_category=data["reason_category"], reason=data["reason"])
            except DomainError as exc:
                form.add_service_errors(exc)
                status = exc.http_status if not isinstance(exc, ValidationFailed) else 400
            else:
                messages.success(request, _("Done: “%(title)s” is now %(state)s.") % {
                    "title": str(resource), "state": Resource.Moderation(
                        moderation.TRANSITIONS[data["action"]][1]).label})
                return redirect("moderation:resource", pk=resource.pk)
        else:
            status = 400
    else:
        default = "restore" if resource.moderation_state != Resource.Moderation.NORMAL else "block"
        form = ModerationForm(initial={"action": default})
    allowed = [a for a, (sources, _t) in moderation.TRANSITIONS.items() if resource.moderation_state in sources]
    form.fields["action"].choices = [(a, moderation.ACTION_LABELS[a]) for a in allowed]
    return render(request, "review/moderation/resource.html", {
        "resource": resource, "form": form, "trail": list(_moderation_trail(resource.pk)[:50]),
        "tab": "console",
    }, status=status)


# --- the library's withdrawal -------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def withdrawal(request, pk):
    resource = get_object_or_404(
        policies.visible_resources(request.user).select_related("library", "published_version", "latest_version"),
        pk=pk)
    if not moderation.can_withdraw(request.user, resource):
        return _refuse(request, _("Only the library's lead and builders can withdraw its resources."))
    withdrawn = resource.withdrawn_at is not None
    status = 200
    if request.method == "POST":
        form = WithdrawalForm(request.POST)
        if form.is_valid():
            try:
                if withdrawn:
                    moderation.reinstate(resource, by=request.user, reason=form.cleaned_data["reason"])
                else:
                    moderation.withdraw(resource, by=request.user, reason=form.cleaned_data["reason"])
            except DomainError as exc:
                form.add_service_errors(exc)
                status = 400 if isinstance(exc, ValidationFailed) else exc.http_status
            else:
                messages.success(request, _("The resource was reinstated.") if withdrawn
                                 else _("The resource was withdrawn; the public now sees a notice instead."))
                return redirect("resources:detail", pk=resource.pk)
        else:
            status = 400
    else:
        form = WithdrawalForm()
    return render(request, "review/moderation/withdrawal.html", {
        "resource": resource, "form": form, "withdrawn": withdrawn, "library": resource.library,
    }, status=status)


# --- emergency action ---------------------------------------------------------------------------------------------

@_operator_only
@require_http_methods(["GET", "POST"])
def emergency(request):
    preview = None
    confirm_form = None
    status = 200
    if request.method == "POST":
        confirm_form = EmergencyConfirmForm(request.POST)
        criteria_form = EmergencyCriteriaForm(request.POST)
        if confirm_form.is_valid():
            data = confirm_form.cleaned_data
            try:
                batch = moderation.emergency_block(
                    by=request.user, kind=data["kind"], value=data["value"],
                    reason_category=data["reason_category"], reason=data["reason"],
                    expected_count=data["expected_count"])
            except DomainError as exc:
                confirm_form.add_service_errors(exc)
                status = 400 if isinstance(exc, ValidationFailed) else exc.http_status
            else:
                messages.success(request, _("Emergency action done: %(count)d resources blocked.")
                                 % {"count": batch.count})
                return redirect("moderation:console")
        else:
            status = 400
        try:
            preview = moderation.emergency_preview(by=request.user, kind=request.POST.get("kind", ""),
                                                   value=request.POST.get("value", ""))
        except DomainError:
            preview = None
    else:
        criteria_form = EmergencyCriteriaForm(request.GET or None)
        if criteria_form.is_bound and criteria_form.is_valid():
            data = criteria_form.cleaned_data
            try:
                preview = moderation.emergency_preview(by=request.user, kind=data["kind"], value=data["value"])
            except DomainError as exc:
                criteria_form.add_service_errors(exc)
                status = 400
            else:
                confirm_form = EmergencyConfirmForm(initial={"kind": preview.kind, "value": preview.value,
                                                             "expected_count": preview.count})
        elif criteria_form.is_bound:
            status = 400
    return render(request, "review/moderation/emergency.html", {
        "criteria_form": criteria_form, "confirm_form": confirm_form, "preview": preview,
        "sample_size": moderation.EMERGENCY_SAMPLE, "tab": "emergency",
        "recent": list(EmergencyAction.objects.select_related("created_by")[:10]),
    }, status=status)


# --- word list ----------------------------------------------------------------------------------------------------

def _may_import_words(request):
    """The word-list import's check before its multipart body is read (core.middleware.MultipartGuardMiddleware)."""
    if not request.user.is_authenticated:
        return login_prompt(request, _("Log in to import words."))
    return None if moderation.can_moderate(request.user) else _refuse(request)


@multipart_for(_may_import_words)
@_operator_only
@require_http_methods(["GET", "POST"])
def words(request):
    status = 200
    form = WordForm()
    import_form = WordImportForm()
    import_report = None
    if request.method == "POST":
        if request.POST.get("form") == "import":
            import_form = WordImportForm(request.POST, request.FILES)
            if import_form.is_valid():
                data = import_form.cleaned_data
                try:
                    import_report = moderation.import_words(
                        by=request.user, content=_decode_upload(data["file"]), category=data["category"],
                        level=data["level"])
                except DomainError as exc:
                    import_form.add_service_errors(exc)
                    status = 400
                else:
                    messages.success(request, _("Import done: %(added)d added, %(updated)d updated, %(unchanged)d "
                                                "unchanged, %(errors)d lines with errors.")
                                     % {"added": import_report.added, "updated": import_report.updated,
                                        "unchanged": import_report.unchanged,
                                        "errors": len(import_report.errors)})
                    if not import_report.errors:
                        return redirect("moderation:words")
            else:
                status = 400
        else:
            form = WordForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    word = moderation.add_word(by=request.user, word=data["word"], category=data["category"],
                                               level=data["level"])
                except DomainError as exc:
                    form.add_service_errors(exc)
                    status = 400
                else:
                    messages.success(request, _("“%(word)s” was added to the list.") % {"word": word.word})
                    return redirect("moderation:words")
            else:
                status = 400
    filters = WordFilterForm(request.GET or None)
    entries = SensitiveWord.objects.select_related("added_by")
    active = ""
    if filters.is_bound and filters.is_valid():
        data = filters.cleaned_data
        active = data["active"]
        if data["q"]:
            entries = entries.filter(Q(word__icontains=data["q"].strip()) | Q(normalised__icontains=data["q"].strip()))
        if data["category"]:
            entries = entries.filter(category=data["category"])
        if data["level"]:
            entries = entries.filter(level=data["level"])
    if active == "inactive":
        entries = entries.filter(active=False)
    elif active != "all":
        entries = entries.filter(active=True)
    page_obj = Paginator(entries.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "review/moderation/words.html", {
        "form": form, "import_form": import_form, "import_report": import_report, "filters": filters,
        "page_obj": page_obj, "tab": "words",
    }, status=status)


@_operator_only
@require_POST
def word_toggle(request, word_id):
    active = request.POST.get("active") == "1"
    try:
        word = moderation.set_word_active(word_id, active, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, (_("“%(word)s” is active again.") if active else _("“%(word)s” was deactivated."))
                         % {"word": word.word})
    return redirect(request.POST.get("next") if str(request.POST.get("next", "")).startswith("/moderation/")
                    else reverse("moderation:words"))


# --- negative list ------------------------------------------------------------------------------------------------

@_operator_only
@require_http_methods(["GET", "POST"])
def negative_list(request):
    status = 200
    form = NegativeForm()
    if request.method == "POST":
        form = NegativeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = moderation.add_negative_entry(by=request.user, kind=data["kind"], value=data["value"],
                                                      note=data["note"])
            except DomainError as exc:
                form.add_service_errors(exc)
                status = 400
            else:
                messages.success(request, _("“%(value)s” was added to the negative list.") % {"value": entry.value})
                return redirect("moderation:negative_list")
        else:
            status = 400
    kind = request.GET.get("kind", "")
    entries = NegativeListEntry.objects.select_related("added_by").order_by("-active", "-created_at", "-id")
    if kind in NegativeListEntry.Kind.values:
        entries = entries.filter(kind=kind)
    page_obj = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "review/moderation/negative_list.html", {
        "form": form, "page_obj": page_obj, "kind": kind, "kinds": NegativeListEntry.Kind.choices,
        "tab": "negative",
    }, status=status)


@_operator_only
@require_POST
def negative_toggle(request, entry_id):
    active = request.POST.get("active") == "1"
    try:
        entry = moderation.set_negative_active(entry_id, active, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, (_("“%(value)s” is active again.") if active
                                   else _("“%(value)s” was deactivated.")) % {"value": entry.value})
    return redirect("moderation:negative_list")
