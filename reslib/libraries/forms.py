"""Web forms for resource libraries. They only parse input; every business rule is checked by the services."""

import re

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reslib.core.forms import ServiceErrorsMixin
from reslib.orgs.models import Major, Organization, Region

from .models import MAX_HOSTS, MAX_SERVED_MAJORS, Library, TeamMember
from .services import LibraryApplication

HOST_LABELS = [
    _("First host institution"),
    _("Second host institution"),
    _("Third host institution"),
]
HOST_FIELDS = [f"host_{i}" for i in range(1, MAX_HOSTS + 1)]
_EXTRA_HOST_KEY = re.compile(r"^host_(\d+)$")


class MajorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class MajorMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


def province_queryset():
    return Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")


def active_majors():
    return Major.objects.filter(is_active=True).order_by("code")


class LibraryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by name"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Library name")}))
    province = forms.ModelChoiceField(label=_("Province"), queryset=province_queryset(), required=False,
                                      empty_label=_("All provinces"))
    level = forms.ChoiceField(label=pgettext_lazy("library", "Level"), required=False,
                              choices=[("", pgettext_lazy("library", "All levels"))] + list(Library.Level.choices))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses"))] + list(Library.Status.choices))
    major = MajorChoiceField(label=pgettext_lazy("library filter", "Major"), queryset=Major.objects.order_by("code"),
                             required=False, empty_label=_("All majors"),
                             help_text=_("Matches the core major or a served major."))


class LibraryApplicationForm(ServiceErrorsMixin, forms.Form):
    """The application form. Hosts come as up to three ordered selects host_1..host_3."""

    name = forms.CharField(label=_("Library name"), max_length=128,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. Computer Application Technology "
                                                                          "teaching resource library")}))
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    level = forms.ChoiceField(label=pgettext_lazy("library", "Level"),
                              choices=[("", "---------")] + list(Library.Level.choices))
    province = forms.ModelChoiceField(label=_("Province"), queryset=province_queryset())
    core_major = MajorChoiceField(label=_("Core major"), queryset=active_majors())
    served_majors = MajorMultipleChoiceField(
        label=_("Served majors"), queryset=active_majors(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8, "data-show-selected": ""}),
        help_text=format_lazy(_("At most {max}, not the core major. Hold Ctrl (⌘ on a Mac) to choose several."),
                              max=MAX_SERVED_MAJORS),
    )
    host_1 = forms.ModelChoiceField(label=HOST_LABELS[0], queryset=Organization.objects.order_by("name"),
                                    help_text=_("The lead host is responsible for reviewing the content."))
    host_2 = forms.ModelChoiceField(label=HOST_LABELS[1], queryset=Organization.objects.order_by("name"),
                                    required=False, empty_label=pgettext_lazy("host", "— none —"))
    host_3 = forms.ModelChoiceField(label=HOST_LABELS[2], queryset=Organization.objects.order_by("name"),
                                    required=False, empty_label=pgettext_lazy("host", "— none —"))
    participants = forms.ModelMultipleChoiceField(
        label=_("Participating institutions"), queryset=Organization.objects.order_by("name"), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8, "data-show-selected": ""}),
        help_text=_("Schools, universities, industry bodies, enterprises, research institutes… "
                    "A host cannot also be a participant."),
    )
    build_start = forms.DateField(label=_("Build period start"), widget=forms.DateInput(attrs={"type": "date"}))
    build_end = forms.DateField(
        label=_("Build period end"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=format_lazy(_("Optional. Empty means the start date plus the province's build period "
                                "({months} months unless the province sets another)."),
                              months=settings.RESLIB_DEFAULT_BUILD_PERIOD_MONTHS),
    )

    # Service error fields that have no input of their own are shown beside these inputs.
    FIELD_FOR_SERVICE_FIELD = {"hosts": "host_1"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra_host_ids: list[int] = []

    @classmethod
    def initial_for(cls, library: Library) -> dict:
        hosts = [h.organization_id for h in library.hosts.order_by("position")]
        initial = {
            "name": library.name,
            "description": library.description,
            "level": library.level,
            "province": library.province_id,
            "core_major": library.core_major_id,
            "served_majors": list(library.served_majors.values_list("pk", flat=True)),
            "participants": list(library.participants.values_list("organization_id", flat=True)),
            "build_start": library.build_start,
            "build_end": library.build_end,
        }
        for field_name, org_id in zip(HOST_FIELDS, hosts):
            initial[field_name] = org_id
        return initial

    def host_fields(self):
        return [self[name] for name in HOST_FIELDS]

    def clean(self):
        cleaned = super().clean()
        # A crafted request may carry host_4, host_5…: keep them, so the service refuses the fourth host
        # instead of the form silently dropping it.
        extra = []
        for key in self.data.keys() if hasattr(self.data, "keys") else []:
            match = _EXTRA_HOST_KEY.match(key)
            if match and int(match.group(1)) > MAX_HOSTS and self.data.get(key):
                extra.append((int(match.group(1)), self.data.get(key)))
        self.extra_host_ids = []
        for _n, value in sorted(extra):
            try:
                self.extra_host_ids.append(int(value))
            except (TypeError, ValueError):
                self.add_error("host_1", _("A host institution does not exist."))
        return cleaned

    def to_application(self) -> LibraryApplication:
        data = self.cleaned_data
        hosts = [data[name].pk for name in HOST_FIELDS if data.get(name)] + self.extra_host_ids
        return LibraryApplication(
            name=data["name"],
            description=data.get("description") or "",
            level=data["level"],
            province=data["province"].pk,
            core_major=data["core_major"].pk,
            served_majors=[m.pk for m in data.get("served_majors") or []],
            hosts=hosts,
            participants=[o.pk for o in data.get("participants") or []],
            build_start=data["build_start"],
            build_end=data.get("build_end"),
        )


class TransitionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


TEAM_ROLE_CHOICES = [(r.value, r.label) for r in TeamMember.Role if r != TeamMember.Role.LEAD]


class TeamMemberForm(ServiceErrorsMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150,
                               help_text=_("The person must belong to a host or participating institution."))
    role = forms.ChoiceField(label=_("Role"), choices=TEAM_ROLE_CHOICES)

    FIELD_FOR_SERVICE_FIELD = {"user": "username"}
