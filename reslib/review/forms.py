"""Web forms of the review pages. They parse input only; the services check every rule."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reslib.core.forms import ServiceErrorsMixin
from reslib.libraries.models import Library

from . import checklist
from .models import ReviewLevel, ReviewRequest

S = ReviewRequest.State


class QueueFilterForm(forms.Form):
    STATE_CHOICES = [("open", pgettext_lazy("review requests", "Open")), (S.PENDING, S.PENDING.label), (S.IN_REVIEW, S.IN_REVIEW.label),
                     (S.PENDING_MACHINE, S.PENDING_MACHINE.label),
                     ("closed", pgettext_lazy("review requests", "Closed"))]
    SCOPE_CHOICES = [("todo", _("For me to review")), ("all", _("Everything I can see"))]
    WHO_CHOICES = [("", _("Anyone")), ("mine", _("Mine")), ("unclaimed", _("Unclaimed"))]

    scope = forms.ChoiceField(label=_("Show"), choices=SCOPE_CHOICES, required=False)
    library = forms.ModelChoiceField(label=_("Library"), queryset=Library.objects.none(), required=False,
                                     empty_label=pgettext_lazy("filter", "All"))
    level = forms.ChoiceField(label=pgettext_lazy("review", "Level"), required=False,
                              choices=[("", pgettext_lazy("filter", "All"))] + list(ReviewLevel.Kind.choices))
    state = forms.ChoiceField(label=_("State"), choices=STATE_CHOICES, required=False)
    who = forms.ChoiceField(label=_("Reviewer"), choices=WHO_CHOICES, required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, libraries=None, **kwargs):
        super().__init__(*args, **kwargs)
        if libraries is not None:
            self.fields["library"].queryset = libraries


class DecisionForm(ServiceErrorsMixin, forms.Form):
    # The service names checklist items "checklist.<code>"; the form's radio fields are "item-<code>".
    FIELD_FOR_SERVICE_FIELD = {f"checklist.{code}": f"item-{code}" for code in checklist.CODES}

    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("return", _("Return for changes")),
                                          ("reject", _("Reject"))], required=False)
    comment = forms.CharField(label=_("Comment to the submitter"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}))
    level = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, _group, label, help_text in checklist.ITEMS:
            self.fields[f"item-{code}"] = forms.ChoiceField(
                label=label, help_text=help_text, required=False, widget=forms.RadioSelect,
                choices=[("pass", pgettext_lazy("checklist", "Pass")), ("fail", pgettext_lazy("checklist", "Fail"))])
            self.fields[f"note-{code}"] = forms.CharField(required=False, max_length=1000, label=label,
                                                          widget=forms.TextInput(attrs={"placeholder": _("Note")}))

    def checklist_results(self) -> dict:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        results = {}
        for code in checklist.CODES:
            value = data.get(f"item-{code}")
            results[code] = {"passed": True if value == "pass" else False if value == "fail" else None,
                             "comment": data.get(f"note-{code}", "")}
        return results

    def rows(self):
        """[(group label, [(code, item field, note field), ...]), ...] for the template."""
        return [(group, [(code, self[f"item-{code}"], self[f"note-{code}"]) for code, _l, _h in items])
                for group, items in checklist.grouped()]


class AssignForm(forms.Form):
    user = forms.IntegerField(label=_("Reviewer"))


class LevelsForm(forms.Form):
    """One row of fields per level: "<kind>-enabled", "<kind>-group_mode", "<kind>-members", "<kind>-due_days"."""

    def __init__(self, *args, levels, member_choices, operator_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.levels = levels
        for level in levels:
            kind = level.kind
            self.fields[f"{kind}-enabled"] = forms.BooleanField(
                label=_("Enabled"), required=False, initial=level.enabled,
                disabled=kind == ReviewLevel.Kind.LEAD_HOST)
            self.fields[f"{kind}-group_mode"] = forms.ChoiceField(
                label=_("Reviewer group"), choices=ReviewLevel.GroupMode.choices, initial=level.group_mode,
                widget=forms.RadioSelect)
            choices = operator_choices if kind == ReviewLevel.Kind.PLATFORM else member_choices
            self.fields[f"{kind}-members"] = forms.TypedMultipleChoiceField(
                label=_("Named reviewers"), choices=choices, coerce=int, required=False,
                initial=[u.pk for u in level.members.all()], widget=forms.CheckboxSelectMultiple)
            self.fields[f"{kind}-due_days"] = forms.IntegerField(
                label=_("Days to decide"), required=False, initial=level.due_days,
                widget=forms.NumberInput(attrs={"min": 1, "max": 60}))

    def rows(self):
        return [(level, self[f"{level.kind}-enabled"], self[f"{level.kind}-group_mode"],
                 self[f"{level.kind}-members"], self[f"{level.kind}-due_days"]) for level in self.levels]
