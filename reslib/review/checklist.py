"""The reviewer's checklist: the seven content dimensions of 教科信厅〔2024〕1号, the rights, the machine findings."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

GROUP_CONTENT = "content"
GROUP_RIGHTS = "rights"
GROUP_MACHINE = "machine"

GROUPS = [
    (GROUP_CONTENT, _("Seven dimensions")),
    (GROUP_RIGHTS, _("Rights")),
    (GROUP_MACHINE, _("Machine findings")),
]

# (code, group, label, what the reviewer checks)
ITEMS = [
    ("political", GROUP_CONTENT, _("Political correctness"),
     _("Correct political stance; no content against the Constitution, laws or national unity.")),
    ("orientation", GROUP_CONTENT, _("Value orientation"),
     _("Promotes core socialist values; no vulgar, violent or discriminatory content.")),
    ("scientific", GROUP_CONTENT, _("Scientific accuracy"),
     _("Facts, data, terms and methods are correct and current in the field.")),
    ("applicability", GROUP_CONTENT, _("Applicability"),
     _("Fits the major, the stated audience and the teaching goals.")),
    ("normative", GROUP_CONTENT, _("Conformity to norms"),
     _("Language, symbols, units, maps and citations follow national standards.")),
    ("timeliness", GROUP_CONTENT, _("Timeliness"),
     _("Reflects current industry practice, standards and policies.")),
    ("public_welfare", GROUP_CONTENT, _("Public welfare"),
     _("No commercial advertising or paid promotion hidden in the content.")),
    ("copyright_holder", GROUP_RIGHTS, _("Copyright holder"), _("The stated copyright holder is plausible and complete.")),
    ("attribution", GROUP_RIGHTS, pgettext_lazy("review checklist", "Attribution"),
     _("Authors are credited correctly and in order.")),
    ("originality", GROUP_RIGHTS, pgettext_lazy("review checklist", "Originality"),
     _("Original, adapted or quoted as stated; sources are named.")),
    ("licence", GROUP_RIGHTS, pgettext_lazy("review checklist", "Licence"),
     _("The licence is stated and allows publication on the platform.")),
    ("tech_spec", GROUP_MACHINE, _("Technical specification"),
     _("The files meet the library's technical specification.")),
    ("virus_scan", GROUP_MACHINE, _("Virus scan"), _("No file is infected.")),
    ("sensitive_words", GROUP_MACHINE, _("Sensitive words"),
     _("Every sensitive-word hit listed under the machine pre-review was checked in context.")),
    ("duplicates", GROUP_MACHINE, _("Duplicates"),
     _("Duplicates found by the machine are justified (e.g. a shared file).")),
]

CODES = [code for code, *_rest in ITEMS]
LABELS = {code: label for code, _group, label, _help in ITEMS}

# Which machine-hit kinds (reslib.review.prereview) belong to which checklist item.
HIT_ITEM = {"spec": "tech_spec", "virus": "virus_scan", "sensitive_word": "sensitive_words",
            "duplicate": "duplicates", "negative_list": "sensitive_words"}


def grouped():
    """[(group label, [(code, label, help), ...]), ...] for templates."""
    return [(label, [(c, lab, h) for c, g, lab, h in ITEMS if g == group]) for group, label in GROUPS]
