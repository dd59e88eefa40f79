"""Forms of the papers' pages, and reading a learner's answers from the answering page's POST."""

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from reslib.core.forms import ServiceErrorsMixin
from reslib.resources.forms import knowledge_point_tree
from reslib.resources.models import ResourceVersion

from . import papers
from .interchange import DIFFICULTIES
from .models import QuestionType


def _difficulty_choices(empty_label):
    labels = dict(ResourceVersion.Difficulty.choices)
    return [("", empty_label)] + [(d, labels[d]) for d in DIFFICULTIES if d]


def _point_choices(library, empty_label):
    return [("", empty_label)] + [(str(p.pk), "　" * depth + p.name) for p, depth in knowledge_point_tree(library)]


class PaperForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=papers.MAX_TITLE)
    instructions = forms.CharField(label=_("Instructions for learners"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 3}), max_length=papers.MAX_INSTRUCTIONS)
    time_limit_minutes = forms.IntegerField(label=_("Time limit (minutes)"), required=False, min_value=1,
                                            max_value=papers.MAX_TIME_LIMIT,
                                            help_text=_("Leave empty for no time limit."))
    max_attempts = forms.IntegerField(label=_("Attempts allowed"), min_value=1, max_value=papers.MAX_ATTEMPTS,
                                      initial=1)
    show_answers = forms.BooleanField(label=_("Show answers and analysis to learners after submission"),
                                      required=False, initial=True)

    def to_data(self) -> papers.PaperData:
        return papers.PaperData(**self.cleaned_data)

    @staticmethod
    def initial_for(paper) -> dict:
        return {name: getattr(paper, name) for name in papers.SETTING_FIELDS}


class CandidateFilterForm(forms.Form):
    qtype = forms.ChoiceField(label=_("Question type"), required=False)
    difficulty = forms.ChoiceField(label=_("Difficulty"), required=False)
    point = forms.ChoiceField(label=_("Knowledge point"), required=False)
    q = forms.CharField(label=_("Stem contains"), required=False, max_length=100)

    def __init__(self, *args, library, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qtype"].choices = [("", _("All types"))] + list(QuestionType.choices)
        self.fields["difficulty"].choices = _difficulty_choices(_("Any difficulty"))
        self.fields["point"].choices = _point_choices(library, _("Any knowledge point"))

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"qtype": data["qtype"], "difficulty": data["difficulty"],
                "knowledge_point": int(data["point"]) if data["point"] else None, "text": data["q"]}


class RuleForm(forms.Form):
    qtype = forms.ChoiceField(label=_("Question type"), required=False)
    knowledge_point = forms.ChoiceField(label=_("Knowledge point"), required=False)
    difficulty = forms.ChoiceField(label=_("Difficulty"), required=False)
    count = forms.IntegerField(label=_("Number"), required=False, min_value=1, max_value=papers.MAX_ITEMS)
    score = forms.DecimalField(label=_("Score each"), required=False, min_value=0.1, max_value=100,
                               decimal_places=1)

    def __init__(self, *args, library, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qtype"].choices = [("", "—")] + list(QuestionType.choices)
        self.fields["knowledge_point"].choices = _point_choices(library, _("Any"))
        self.fields["difficulty"].choices = _difficulty_choices(_("Any"))

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("qtype") and not data.get("count")

    def to_rule(self) -> dict:
        data = self.cleaned_data
        return {"qtype": data["qtype"], "difficulty": data["difficulty"], "count": data["count"],
                "knowledge_point": int(data["knowledge_point"]) if data["knowledge_point"] else None,
                "score": data["score"]}


RULE_ROWS = 6


def rule_formset(library, paper, data=None):
    rules = [{**r, "knowledge_point": str(r["knowledge_point"] or "")} for r in (paper.rules or [])]
    blanks = max(RULE_ROWS - len(rules), 2)
    return formset_factory(RuleForm, extra=blanks)(data, initial=rules or None, prefix="rules",
                                                   form_kwargs={"library": library})


def add_rule_errors(formset, exc) -> list[str]:
    """Put the service's `rules.<i>[.<field>]` errors on the i-th row of the filled rows; returns the others."""
    filled = [f for f in formset.forms if not f.is_blank()]
    general = []
    for field, _code, message in getattr(exc, "errors", [(None, None, exc.message)]):
        parts = (field or "").split(".")
        if len(parts) >= 2 and parts[0] == "rules" and parts[1].isdigit() and int(parts[1]) < len(filled):
            form = filled[int(parts[1])]
            name = parts[2] if len(parts) > 2 and parts[2] in form.fields else None
            form.add_error(name, str(message))
        else:
            general.append(str(message))
    return general


class GradeForm(forms.Form):
    score = forms.DecimalField(label=_("Score"), min_value=0, max_value=100, decimal_places=1)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=papers.MAX_INSTRUCTIONS,
                              widget=forms.Textarea(attrs={"rows": 2}))


# --- the answering page -------------------------------------------------------------------------------------------

def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_responses(sheet: list[dict], post) -> tuple[dict, dict]:
    """({item id: response}, {item id: error}) from the answering form; unanswered questions give None."""
    responses, errors = {}, {}
    for row in sheet:
        item, qtype, key = row["item"], row["qtype"], f"q{row['item']}"
        response = None
        if qtype == QuestionType.SINGLE_CHOICE:
            response = _int(post.get(key))
        elif qtype == QuestionType.MULTIPLE_CHOICE:
            chosen = sorted({i for i in (_int(v) for v in post.getlist(key)) if i is not None})
            response = chosen or None
        elif qtype == QuestionType.TRUE_FALSE:
            response = {"true": True, "false": False}.get(post.get(key))
        elif qtype == QuestionType.FILL_BLANK:
            blanks = [post.get(f"{key}_{k}", "").strip() for k in range(row["blanks"])]
            response = blanks if any(blanks) else None
        elif qtype == QuestionType.SHORT_ANSWER:
            response = post.get(key, "").strip() or None
        elif qtype == QuestionType.MATCHING:
            chosen = [post.get(f"{key}_{o['index']}", "") for o in row["options"]]
            response = chosen if any(chosen) else None
        elif qtype == QuestionType.ORDERING:
            ranks = {o["index"]: _int(post.get(f"{key}_{o['index']}")) for o in row["options"]}
            if any(r is not None for r in ranks.values()):
                values = list(ranks.values())
                if None in values or sorted(values) != list(range(1, len(values) + 1)):
                    errors[item] = _("Number the items 1 to %(n)d, each number once.") % {"n": len(values)}
                    continue
                response = sorted(ranks, key=ranks.get)
        responses[item] = response
    return responses, errors
