"""Web forms for resources. They only parse input; every business rule is checked by the services.

Most fields are optional at the form level on purpose: the service checks them all at once and answers with one
Chinese message per broken rule, which the view puts beside the field (so a user sees every problem in one go).
"""

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reslib.core.forms import ServiceErrorsMixin
from reslib.orgs.models import Major, Organization

from .models import KnowledgePoint, ResourceVersion, VersionFile
from .services import MAX_AUTHORS, Author, ResourceMetadata

V = ResourceVersion

LANGUAGE_CHOICES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
    ("other", _("Other language")),
]

KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")


def split_keywords(raw: str) -> list[str]:
    return [k for k in KEYWORD_SPLIT.split(raw or "") if k]


def knowledge_point_tree(library) -> list[tuple[KnowledgePoint, int]]:
    """All points of a library in tree order (depth-first), each with its depth. One query."""
    points = list(KnowledgePoint.objects.filter(library=library).order_by("position", "id"))
    children: dict[int | None, list[KnowledgePoint]] = {}
    for point in points:
        children.setdefault(point.parent_id, []).append(point)
    ordered: list[tuple[KnowledgePoint, int]] = []

    def walk(parent_id, depth):
        for point in children.get(parent_id, []):
            ordered.append((point, depth))
            if depth < 20:
                walk(point.pk, depth + 1)

    walk(None, 0)
    return ordered


def library_majors(library):
    served = library.served_majors.through.objects.filter(library=library).values("major_id")
    return Major.objects.filter(Q(pk=library.core_major_id) | Q(pk__in=served)).order_by("code")


def library_organizations(library):
    host_ids = library.hosts.values("organization_id")
    participant_ids = library.participants.values("organization_id")
    return Organization.objects.filter(Q(pk__in=host_ids) | Q(pk__in=participant_ids)).order_by("name")


class MajorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class ResourceFilterForm(forms.Form):
    type = forms.ChoiceField(label=_("Resource type"), required=False,
                             choices=[("", _("All types"))] + list(V.Type.choices))
    major = MajorChoiceField(label=_("Major"), queryset=Major.objects.none(), required=False,
                             empty_label=_("All majors"))
    point = forms.TypedChoiceField(label=_("Knowledge point"), required=False, coerce=int, empty_value=None)
    q = forms.CharField(label=_("Search by title"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title")}))

    def __init__(self, *args, library, points=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["major"].queryset = library_majors(library)
        points = points if points is not None else knowledge_point_tree(library)
        self.fields["point"].choices = [("", _("All knowledge points"))] + [
            (p.pk, "　" * depth + p.name) for p, depth in points
        ]


# The types a resource form or import sheet offers: questions are written in the question bank (reslib.questions).
AUTHORED_TYPE_CHOICES = [(value, label) for value, label in V.Type.choices if value != V.Type.QUESTION]

# Fields the service requires: marked with an asterisk although the form itself lets them through empty.
REQUIRED_BY_SERVICE = {"title", "resource_type", "major", "originality", "licence", "contributing_org", "authors"}


class ResourceForm(ServiceErrorsMixin, forms.Form):
    """Metadata and rights of a resource version. Authors come as parallel lists author_name / author_institution."""

    title = forms.CharField(label=_("Title"), required=False, max_length=300)
    resource_type = forms.ChoiceField(label=_("Resource type"), required=False,
                                      choices=[("", "---------")] + AUTHORED_TYPE_CHOICES)
    external_url = forms.CharField(
        label=_("External link"), required=False, max_length=1000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("Only for the type “External link”. External links are not covered by the platform's rights "
                    "guarantee and do not count towards resource totals."),
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    keywords = forms.CharField(label=_("Keywords"), required=False, max_length=800,
                               help_text=_("Separate keywords with commas or spaces."))
    major = MajorChoiceField(label=_("Major"), queryset=Major.objects.none(), required=False,
                             help_text=_("The library's core major or one of its served majors."))
    knowledge_points = forms.TypedMultipleChoiceField(
        label=_("Knowledge and skill points"), required=False, coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    audience = forms.MultipleChoiceField(label=_("Audience"), required=False, choices=V.Audience.choices,
                                         widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=LANGUAGE_CHOICES)
    difficulty = forms.ChoiceField(label=_("Difficulty"), required=False,
                                   choices=[("", _("Not stated"))] + list(V.Difficulty.choices))
    certificate = forms.CharField(label=_("1+X certificate"), required=False, max_length=128,
                                  help_text=_("Optional: the 1+X vocational skill certificate this resource serves."))
    access = forms.ChoiceField(label=_("Who may access it"), required=False, choices=V.Access.choices)
    price_mode = forms.ChoiceField(label=_("Price"), required=False, choices=V.PriceMode.choices)
    # No digit limits here: the service's price rule answers with its own message and code (resource.price_invalid).
    price = forms.DecimalField(label=_("Price (yuan)"), required=False, help_text=_("Only for paid resources."),
                               widget=forms.NumberInput(attrs={"step": "0.01"}))

    copyright_holder_org = forms.ModelChoiceField(
        label=_("Copyright holder (institution)"), queryset=Organization.objects.order_by("name"), required=False,
        empty_label=_("— a person instead —"))
    copyright_holder_person = forms.CharField(
        label=_("Copyright holder (person)"), required=False, max_length=128,
        help_text=_("Name either an institution or a person."))
    originality = forms.ChoiceField(label=_("Originality"), required=False, choices=V.Originality.choices,
                                    widget=forms.RadioSelect)
    source = forms.CharField(label=_("Source"), required=False, max_length=500,
                             help_text=_("Required when the resource is adapted or quoted."))
    licence = forms.ChoiceField(label=_("Licence"), required=False,
                                choices=[("", "---------")] + list(V.Licence.choices))
    licence_text = forms.CharField(label=_("Licence terms"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}),
                                   help_text=_("Only for the licence “Other”."))
    contributing_org = forms.ModelChoiceField(
        label=_("Contributing institution"), queryset=Organization.objects.none(), required=False,
        help_text=_("A host or participating institution of the library."))
    # Errors about the author list are shown beside the author rows.
    authors = forms.CharField(required=False, widget=forms.HiddenInput, label=_("Authors (in credit order)"))

    def __init__(self, *args, library, **kwargs):
        super().__init__(*args, **kwargs)
        self.library = library
        self.fields["major"].queryset = library_majors(library)
        self.fields["contributing_org"].queryset = library_organizations(library)
        self.point_tree = knowledge_point_tree(library)
        self.fields["knowledge_points"].choices = [
            (p.pk, "　" * depth + p.name + (f" [{p.get_kind_display()}]" if p.kind == p.Kind.SKILL else ""))
            for p, depth in self.point_tree
        ]
        for name in REQUIRED_BY_SERVICE:
            self.fields[name].widget.attrs["aria-required"] = "true"
            self.fields[name].service_required = True
        self.author_rows = self._author_rows()

    def _author_rows(self) -> list[dict]:
        if self.is_bound:
            names = self.data.getlist("author_name") if hasattr(self.data, "getlist") else []
            institutions = self.data.getlist("author_institution") if hasattr(self.data, "getlist") else []
            rows = []
            for i, name in enumerate(names[:MAX_AUTHORS + 5]):
                institution = institutions[i] if i < len(institutions) else ""
                rows.append({"name": (name or "")[:64], "institution": (institution or "")[:128]})
        else:
            rows = list(self.initial.get("author_rows") or [])
        return rows or [{"name": "", "institution": ""}]

    @classmethod
    def initial_for(cls, version: ResourceVersion) -> dict:
        return {
            "title": version.title,
            "resource_type": version.resource_type,
            "external_url": version.external_url,
            "description": version.description,
            "keywords": "，".join(version.keywords or []),
            "major": version.major_id,
            "knowledge_points": [p.pk for p in version.knowledge_points.all()],
            "audience": list(version.audience or []),
            "language": version.language,
            "difficulty": version.difficulty,
            "certificate": version.certificate,
            "access": version.access,
            "price_mode": version.price_mode,
            "price": version.price,
            "copyright_holder_org": version.copyright_holder_org_id,
            "copyright_holder_person": version.copyright_holder_person,
            "originality": version.originality,
            "source": version.source,
            "licence": version.licence,
            "licence_text": version.licence_text,
            "contributing_org": version.contributing_org_id,
            "author_rows": [{"name": a.name, "institution": a.institution} for a in version.authors.all()],
        }

    def to_metadata(self) -> ResourceMetadata:
        d = self.cleaned_data
        return ResourceMetadata(
            title=d.get("title") or "",
            resource_type=d.get("resource_type") or "",
            major=d["major"].pk if d.get("major") else None,
            originality=d.get("originality") or "",
            licence=d.get("licence") or "",
            contributing_org=d["contributing_org"].pk if d.get("contributing_org") else None,
            description=d.get("description") or "",
            keywords=split_keywords(d.get("keywords") or ""),
            knowledge_points=list(d.get("knowledge_points") or []),
            audience=list(d.get("audience") or []),
            language=d.get("language") or "zh-hans",
            difficulty=d.get("difficulty") or "",
            certificate=d.get("certificate") or "",
            access=d.get("access") or V.Access.PUBLIC,
            price_mode=d.get("price_mode") or V.PriceMode.FREE,
            price=d.get("price"),
            external_url=d.get("external_url") or "",
            copyright_holder_org=d["copyright_holder_org"].pk if d.get("copyright_holder_org") else None,
            copyright_holder_person=d.get("copyright_holder_person") or "",
            source=d.get("source") or "",
            licence_text=d.get("licence_text") or "",
            authors=[Author(name=r["name"], institution=r["institution"]) for r in self.author_rows],
        )


class FileUploadForm(ServiceErrorsMixin, forms.Form):
    """The small-file form; large files go through the tus upload widget."""

    file = forms.FileField(label=_("File"))
    role = forms.ChoiceField(label=_("Role"), choices=VersionFile.Role.choices, initial=VersionFile.Role.MAIN)


class SubmitForm(forms.Form):
    commitment = forms.BooleanField(label=_("I accept the commitment above."), required=False)


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class NewVersionForm(forms.Form):
    changelog = forms.CharField(label=_("What changes in the new version"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}))


class KnowledgePointForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=KnowledgePoint.Kind.choices, required=False)
    parent = forms.TypedChoiceField(label=_("Under"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, points=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("— top level —"))] + [
            (p.pk, "　" * depth + p.name) for p, depth in points
        ]


class ImportForm(forms.Form):
    sheet = forms.FileField(label=_("Metadata sheet (.xlsx)"),
                            help_text=_("Fill in the template; one row per resource."))
    archive = forms.FileField(label=_("Files (.zip)"), required=False,
                              help_text=_("A ZIP archive with the files named in the sheet's file columns."))
