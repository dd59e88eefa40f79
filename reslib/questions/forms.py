"""Web forms of the question bank. They only parse input into QuestionData and Attribution; every rule is checked by
the services (interchange.problems() and the resources' rights rules), whose errors are put beside the fields.

The type-dependent parts of the question form are rows of same-named inputs: choices (`option` with the `correct`
marker holding the row number), blanks (`blank`, accepted answers separated by | or ｜), matching pairs (`pair_left`
/ `pair_right`) and ordering items (`order_item`, in the correct order). Only the part of the chosen type is read.
"""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reslib.core.forms import ServiceErrorsMixin
from reslib.orgs.models import Organization
from reslib.resources.forms import MajorChoiceField, knowledge_point_tree, library_majors, library_organizations
from reslib.resources.models import ResourceVersion
from reslib.resources.services import MAX_AUTHORS, Author

from .interchange import QuestionData
from .models import QuestionType
from .services import Attribution, available_formats

V = ResourceVersion
QT = QuestionType
MAX_ROWS = 25
ACCEPTED_SPLIT = re.compile(r"\s*[|｜]\s*")  # only what the help text names: answers may hold ；
DIFFICULTY_CHOICES = [("", _("Not stated"))] + list(V.Difficulty.choices)
STATE_CHOICES = [("", _("All states"))] + [(s.value, s.label) for s in (V.State.DRAFT, V.State.IN_REVIEW,
                                                                         V.State.PUBLISHED, V.State.REJECTED)]
DEFAULT_ROWS = {"choices": 4, "pairs": 3, "order": 4, "blanks": 1}


def _list(data, name: str) -> list[str]:
    values = data.getlist(name) if hasattr(data, "getlist") else []
    return [(v or "").strip() for v in values[:MAX_ROWS + 5]]


def _point_choices(points):
    return [(p.pk, "　" * depth + p.name + (f" [{p.get_kind_display()}]" if p.kind == p.Kind.SKILL else ""))
            for p, depth in points]


class BankFilterForm(forms.Form):
    qtype = forms.ChoiceField(label=_("Question type"), required=False,
                              choices=[("", _("All types"))] + list(QT.choices))
    difficulty = forms.ChoiceField(label=_("Difficulty"), required=False,
                                   choices=[("", _("All difficulties"))] + list(V.Difficulty.choices))
    point = forms.TypedChoiceField(label=_("Knowledge point"), required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATE_CHOICES)
    q = forms.CharField(label=_("Search the stem"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("A word of the stem")}))

    def __init__(self, *args, points, team: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].choices = [("", _("All knowledge points"))] + _point_choices(points)
        if not team:
            del self.fields["state"]

    def filters(self) -> dict:
        if not (self.is_bound and self.is_valid()):
            return {}
        d = self.cleaned_data
        return {"qtype": d.get("qtype") or "", "difficulty": d.get("difficulty") or "",
                "knowledge_point": d.get("point"), "state": d.get("state") or "", "text": d.get("q") or ""}


class AttributionFields(forms.Form):
    """Rights and attribution (著作权人 / 署名) of questions, as on the resource form. Authors come as parallel lists
    author_name / author_institution."""

    major = MajorChoiceField(label=_("Major"), queryset=None, required=False,
                             help_text=_("The library's core major or one of its served majors."))
    access = forms.ChoiceField(label=_("Who may see it"), required=False, choices=V.Access.choices)
    copyright_holder_org = forms.ModelChoiceField(
        label=_("Copyright holder (institution)"), queryset=Organization.objects.order_by("name"), required=False,
        empty_label=_("— a person instead —"))
    copyright_holder_person = forms.CharField(label=_("Copyright holder (person)"), required=False, max_length=128,
                                              help_text=_("Name either an institution or a person."))
    originality = forms.ChoiceField(label=_("Originality"), required=False, choices=V.Originality.choices,
                                    widget=forms.RadioSelect)
    source = forms.CharField(label=_("Source"), required=False, max_length=500,
                             help_text=_("Required when the question is adapted or quoted."))
    licence = forms.ChoiceField(label=_("Licence"), required=False,
                                choices=[("", "---------")] + list(V.Licence.choices))
    licence_text = forms.CharField(label=_("Licence terms"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                   help_text=_("Only for the licence “Other”."))
    contributing_org = forms.ModelChoiceField(label=_("Contributing institution"), queryset=Organization.objects.none(),
                                              required=False,
                                              help_text=_("A host or participating institution of the library."))
    authors = forms.CharField(required=False, widget=forms.HiddenInput, label=_("Authors (in credit order)"))

    RIGHTS_REQUIRED = ("originality", "licence", "contributing_org", "authors")

    def __init__(self, *args, library, **kwargs):
        super().__init__(*args, **kwargs)
        self.library = library
        self.fields["major"].queryset = library_majors(library)
        self.fields["contributing_org"].queryset = library_organizations(library)
        for name in self.RIGHTS_REQUIRED:
            self.fields[name].service_required = True
        self.author_rows = self._author_rows()

    def _author_rows(self) -> list[dict]:
        if self.is_bound:
            names, institutions = _list(self.data, "author_name"), _list(self.data, "author_institution")
            rows = [{"name": name[:64], "institution": (institutions[i] if i < len(institutions) else "")[:128]}
                    for i, name in enumerate(names[:MAX_AUTHORS + 5])]
        else:
            rows = list(self.initial.get("author_rows") or [])
        return rows or [{"name": "", "institution": ""}]

    @staticmethod
    def initial_for_user(library, user) -> dict:
        in_library = library_organizations(library).filter(pk=user.organization_id).exists()
        own_org = user.organization_id if in_library else None
        return {"major": library.core_major_id, "contributing_org": own_org, "copyright_holder_org": own_org,
                "access": V.Access.PUBLIC, "originality": V.Originality.ORIGINAL, "licence": V.Licence.CC_BY_NC_SA,
                "author_rows": [{"name": user.display_name,
                                 "institution": user.organization.name if user.organization_id else ""}]}

    @staticmethod
    def initial_for_attribution(a: Attribution) -> dict:
        return {"major": a.major, "access": a.access, "copyright_holder_org": a.copyright_holder_org,
                "copyright_holder_person": a.copyright_holder_person, "originality": a.originality,
                "source": a.source, "licence": a.licence, "licence_text": a.licence_text,
                "contributing_org": a.contributing_org,
                "author_rows": [{"name": x.name, "institution": x.institution} for x in a.authors]}

    def to_attribution(self) -> Attribution:
        d = self.cleaned_data
        return Attribution(
            major=d["major"].pk if d.get("major") else None, access=d.get("access") or V.Access.PUBLIC,
            copyright_holder_org=d["copyright_holder_org"].pk if d.get("copyright_holder_org") else None,
            copyright_holder_person=d.get("copyright_holder_person") or "", originality=d.get("originality") or "",
            source=d.get("source") or "", licence=d.get("licence") or "", licence_text=d.get("licence_text") or "",
            contributing_org=d["contributing_org"].pk if d.get("contributing_org") else None,
            authors=[Author(name=r["name"], institution=r["institution"]) for r in self.author_rows if r["name"]],
        )


class QuestionForm(ServiceErrorsMixin, AttributionFields):
    qtype = forms.ChoiceField(label=_("Question type"), required=False, choices=[("", "---------")] + list(QT.choices))
    title = forms.CharField(label=_("Short title"), required=False, max_length=200,
                            help_text=_("Optional: the start of the stem is used when empty."))
    stem = forms.CharField(label=_("Stem"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("For fill in the blank, mark each blank with three underscores ___."))
    # Errors about the type-dependent rows are shown beside them (the rows themselves are not Django fields).
    options = forms.CharField(required=False, widget=forms.HiddenInput, label=_("Choices"))
    answer = forms.CharField(required=False, widget=forms.HiddenInput, label=_("Answer"))
    true_false = forms.ChoiceField(label=_("Correct answer"), required=False, widget=forms.RadioSelect,
                                   choices=[("true", pgettext_lazy("true or false answer", "True")),
                                            ("false", pgettext_lazy("true or false answer", "False"))])
    reference_answer = forms.CharField(label=_("Reference answer"), required=False,
                                       widget=forms.Textarea(attrs={"rows": 3}))
    analysis = forms.CharField(label=_("Analysis"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    difficulty = forms.ChoiceField(label=_("Difficulty"), required=False, choices=DIFFICULTY_CHOICES)
    knowledge_points = forms.TypedMultipleChoiceField(
        label=_("Knowledge and skill points"), required=False, coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 8}), help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."))
    changelog = forms.CharField(label=_("What changes in the new version"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, library, question: QuestionData | None = None, **kwargs):
        super().__init__(*args, library=library, **kwargs)
        self.point_tree = knowledge_point_tree(library)
        self.fields["knowledge_points"].choices = _point_choices(self.point_tree)
        for name in ("qtype", "stem"):
            self.fields[name].service_required = True
        self.rows = self._rows(question)

    def _rows(self, question: QuestionData | None) -> dict:
        """The rows of every type-dependent part, as submitted or from the stored question (padded to a few rows)."""
        if self.is_bound:
            data = self.data
            correct = set(_list(data, "correct"))
            choices = [{"text": t, "correct": str(i) in correct} for i, t in enumerate(_list(data, "option"))]
            lefts, rights = _list(data, "pair_left"), _list(data, "pair_right")
            pairs = [{"left": lefts[i] if i < len(lefts) else "", "right": rights[i] if i < len(rights) else ""}
                     for i in range(max(len(lefts), len(rights)))]
            rows = {"choices": choices, "pairs": pairs, "order": _list(data, "order_item"),
                    "blanks": _list(data, "blank")}
        else:
            rows = {"choices": [], "pairs": [], "order": [], "blanks": []}
            q = question
            if q is not None and q.qtype in (QT.SINGLE_CHOICE, QT.MULTIPLE_CHOICE):
                marked = {q.answer} if q.qtype == QT.SINGLE_CHOICE else set(q.answer or [])
                rows["choices"] = [{"text": t, "correct": i in marked} for i, t in enumerate(q.options)]
            elif q is not None and q.qtype == QT.MATCHING:
                rows["pairs"] = [{"left": left, "right": right} for left, right in zip(q.options, q.answer or [])]
            elif q is not None and q.qtype == QT.ORDERING:
                rows["order"] = list(q.options)
            elif q is not None and q.qtype == QT.FILL_BLANK:
                rows["blanks"] = [" | ".join(accepted) for accepted in q.answer or []]
        rows["choices"] += [{"text": "", "correct": False}] * (DEFAULT_ROWS["choices"] - len(rows["choices"]))
        rows["pairs"] += [{"left": "", "right": ""}] * (DEFAULT_ROWS["pairs"] - len(rows["pairs"]))
        rows["order"] += [""] * (DEFAULT_ROWS["order"] - len(rows["order"]))
        rows["blanks"] += [""] * (DEFAULT_ROWS["blanks"] - len(rows["blanks"]))
        return rows

    @staticmethod
    def initial_for(question: QuestionData, attribution: Attribution, point_ids: list[int]) -> dict:
        initial = AttributionFields.initial_for_attribution(attribution)
        initial.update({"qtype": question.qtype, "title": question.title, "stem": question.stem,
                        "analysis": question.analysis, "difficulty": question.difficulty,
                        "knowledge_points": point_ids})
        if question.qtype == QT.TRUE_FALSE:
            initial["true_false"] = "true" if question.answer else "false"
        elif question.qtype == QT.SHORT_ANSWER:
            initial["reference_answer"] = question.answer or ""
        return initial

    def _options_and_answer(self, qtype: str):
        rows = self.rows
        if qtype in (QT.SINGLE_CHOICE, QT.MULTIPLE_CHOICE):
            kept = [row for row in rows["choices"] if row["text"]]
            marked = [i for i, row in enumerate(kept) if row["correct"]]
            if qtype == QT.SINGLE_CHOICE:
                return [row["text"] for row in kept], marked[0] if len(marked) == 1 else None
            return [row["text"] for row in kept], marked
        if qtype == QT.TRUE_FALSE:
            value = self.cleaned_data.get("true_false")
            return [], {"true": True, "false": False}.get(value)
        if qtype == QT.FILL_BLANK:
            return [], [[a for a in ACCEPTED_SPLIT.split(blank) if a] for blank in rows["blanks"] if blank]
        if qtype == QT.SHORT_ANSWER:
            return [], self.cleaned_data.get("reference_answer") or ""
        if qtype == QT.MATCHING:
            kept = [row for row in rows["pairs"] if row["left"] or row["right"]]
            return [row["left"] for row in kept], [row["right"] for row in kept]
        if qtype == QT.ORDERING:
            return [item for item in rows["order"] if item], None
        return [], None

    def to_question(self) -> QuestionData:
        d = self.cleaned_data
        qtype = d.get("qtype") or ""
        options, answer = self._options_and_answer(qtype)
        return QuestionData(qtype=qtype, stem=d.get("stem") or "", options=options, answer=answer,
                            analysis=d.get("analysis") or "", difficulty=d.get("difficulty") or "",
                            knowledge_points=list(d.get("knowledge_points") or []), title=d.get("title") or "")


class SubmitForm(forms.Form):
    commitment = forms.BooleanField(label=_("I accept the commitment above."), required=False)


def format_choices():
    return available_formats()


class ImportForm(ServiceErrorsMixin, AttributionFields):
    file = forms.FileField(label=_("File"), required=False)
    format = forms.ChoiceField(label=_("File format"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = format_choices()
        self.fields["file"].service_required = True

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file is None:
            raise forms.ValidationError(_("Choose the file to import."))
        return file


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("File format"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = format_choices()
