"""One IMS QTI assessment item to and from `QuestionData`, in the 2.1 and the 3.0 binding.

QTI 3.0 renames QTI 2.1's elements and attributes mechanically (`choiceInteraction` → `qti-choice-interaction`,
`responseIdentifier` → `response-identifier`; HTML elements keep their names), so one writer and one reader serve
both, through a `Dialect` that spells names. How each ResLib type is written (and what is read back):

| ResLib          | interaction                                   | response declaration / correct response             |
|-----------------|-----------------------------------------------|-----------------------------------------------------|
| single_choice   | choiceInteraction maxChoices=1                | identifier, single; the correct choice              |
| multiple_choice | choiceInteraction maxChoices=0                | identifier, multiple; the correct choices           |
| true_false      | choiceInteraction, choices TRUE 正确 / FALSE 错误 | identifier, single; TRUE or FALSE                |
| fill_blank      | one textEntryInteraction per blank, inline in the stem | string, single, one per blank: the first accepted answer as correct response, every accepted answer a mapEntry (case-insensitive) |
| short_answer    | extendedTextInteraction                        | string, single; the reference answer as correct response (none when empty): QTI's "optimal value" of a response, shown to scorers, never used for automatic scoring (no response processing) |
| matching        | matchInteraction: prompts (L1…) and distinct matches (R1…) | directedPair, multiple; one "Ln Rm" pair per prompt, each mapped to 1 |
| ordering        | orderInteraction, choices in their correct order (shuffled on delivery) | identifier, ordered; the correct order |

Reading another tool's item: a choiceInteraction is true_false when its two choices are TRUE/FALSE (identifiers) or
read 正确/错误, 对/错, True/False; otherwise single cardinality → single_choice, multiple → multiple_choice. The
correct choices come from the correct response, or from the mapping's positively scored keys when there is none.
An item whose interactions are only text entries is a fill_blank (each accepted answer: the correct response and the
positively mapped keys); any other interaction (hotspot, gap match, inline choice, upload, …) or several
interactions of different kinds → `question.kind_unsupported`.

The stem is the item body's text without the interactions (a blank becomes `___`; the prompt of the interaction is
part of it); line breaks are `<br/>` inside one `<p>`. The analysis is a modalFeedback (outcome FEEDBACK, identifier
ANALYSIS, shown when FEEDBACK holds ANALYSIS); on import every modal feedback's text is joined into the analysis.
Difficulty and knowledge points do not live in the item but in the package manifest (see `qti`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ..interchange import BLANK_MARK, QuestionData
from ..models import QuestionType as T
from . import html_to_text

BLANK = "___"
TITLE_CHARS = 30
TRUE_ID, FALSE_ID = "TRUE", "FALSE"
TRUE_LABEL, FALSE_LABEL = "正确", "错误"
TRUE_FALSE_TEXTS = {("正确", "错误"), ("对", "错"), ("true", "false"), ("是", "否"), ("√", "×")}
ANALYSIS_ID = "ANALYSIS"

# The interactions ResLib reads; every other one in an item body makes the item unsupported.
KNOWN = ("choiceInteraction", "textEntryInteraction", "extendedTextInteraction", "matchInteraction",
         "orderInteraction")
OTHER = ("associateInteraction", "customInteraction", "drawingInteraction", "endAttemptInteraction",
         "gapMatchInteraction", "graphicAssociateInteraction", "graphicGapMatchInteraction",
         "graphicOrderInteraction", "hotspotInteraction", "hottextInteraction", "inlineChoiceInteraction",
         "mediaInteraction", "positionObjectInteraction", "selectPointInteraction", "sliderInteraction",
         "uploadInteraction", "portableCustomInteraction")


def _kebab(name: str) -> str:
    return re.sub(r"([A-Z])", r"-\1", name).lower()


@dataclass(frozen=True)
class Dialect:
    version: str
    namespace: str
    cp_namespace: str
    item_type: str
    templates: str  # base URI of the standard response processing templates
    template_suffix: str

    def q(self, name: str) -> str:
        """Clark name of a QTI element given by its QTI 2.1 name."""
        local = name if self.version == "2.1" else "qti-" + _kebab(name)
        return f"{{{self.namespace}}}{local}"

    def h(self, name: str) -> str:
        """Clark name of an (X)HTML element of the item body."""
        return f"{{{self.namespace}}}{name}"

    def a(self, name: str) -> str:
        return name if self.version == "2.1" else _kebab(name)

    def template(self, name: str) -> str:
        return self.templates + name + self.template_suffix

    def local(self, element) -> str:
        """QTI 2.1 name of a QTI element of this dialect (HTML names unchanged)."""
        name = etree.QName(element).localname
        if self.version == "2.1" or not name.startswith("qti-"):
            return name
        head, *rest = name[4:].split("-")
        return head + "".join(part.capitalize() for part in rest)


QTI21 = Dialect("2.1", "http://www.imsglobal.org/xsd/imsqti_v2p1", "http://www.imsglobal.org/xsd/imscp_v1p1",
                "imsqti_item_xmlv2p1", "http://www.imsglobal.org/question/qti_v2p1/rptemplates/", "")
QTI30 = Dialect("3.0", "http://www.imsglobal.org/xsd/imsqtiasi_v3p0",
                "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1", "imsqti_item_xmlv3p0",
                "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/", ".xml")
DIALECTS = {"qti21": QTI21, "qti30": QTI30}
ROOTS = {QTI21.q("assessmentItem"): QTI21, QTI30.q("assessmentItem"): QTI30}


def default_title(stem: str) -> str:
    """The title written for a question without one: the start of its stem (QTI requires a title)."""
    line = " ".join((stem or "").split())
    return line[:TITLE_CHARS] or "—"


# ---------------------------------------------------------------------------------------------------------- writing

class _Writer:
    def __init__(self, dialect: Dialect):
        self.d = dialect

    def el(self, parent, name: str, attrs: dict | None = None, text: str | None = None, html: bool = False):
        tag = self.d.h(name) if html else self.d.q(name)
        if parent is None:
            element = etree.Element(tag, nsmap={None: self.d.namespace})
        else:
            element = etree.SubElement(parent, tag)
        for key, value in (attrs or {}).items():
            element.set(self.d.a(key), str(value))
        if text is not None:
            element.text = text
        return element

    def lines(self, parent, text: str):
        """Text with its line breaks as <br/>, appended to `parent`."""
        for number, line in enumerate(text.split("\n")):
            if number:
                br = self.el(parent, "br", html=True)
                br.tail = line
            elif len(parent):
                parent[-1].tail = (parent[-1].tail or "") + line
            else:
                parent.text = (parent.text or "") + line

    def paragraph(self, parent, text: str):
        self.lines(self.el(parent, "p", html=True), text)

    def declaration(self, item, identifier, cardinality, base_type, correct=(), mapping=None, upper_bound=None):
        declaration = self.el(item, "responseDeclaration",
                              {"identifier": identifier, "cardinality": cardinality, "baseType": base_type})
        if correct:
            values = self.el(declaration, "correctResponse")
            for value in correct:
                self.el(values, "value", text=value)
        if mapping:
            attrs = {"defaultValue": 0}
            if upper_bound is not None:
                attrs["upperBound"] = upper_bound
            entries = self.el(declaration, "mapping", attrs)
            for key, case_sensitive in mapping:
                attrs = {"mapKey": key, "mappedValue": 1}
                if case_sensitive is not None:
                    attrs["caseSensitive"] = "true" if case_sensitive else "false"
                self.el(entries, "mapEntry", attrs)

    def outcomes(self, item, analysis: bool):
        self.el(item, "outcomeDeclaration", {"identifier": "SCORE", "cardinality": "single", "baseType": "float"})
        if analysis:
            self.el(item, "outcomeDeclaration", {"identifier": "FEEDBACK", "cardinality": "single",
                                                 "baseType": "identifier"})

    def feedback(self, item, analysis: str):
        feedback = self.el(item, "modalFeedback", {"outcomeIdentifier": "FEEDBACK", "identifier": ANALYSIS_ID,
                                                  "showHide": "show"})
        if self.d.version != "2.1":
            feedback = self.el(feedback, "contentBody")
        self.paragraph(feedback, analysis)


def write_item(data: QuestionData, identifier: str, dialect: Dialect) -> bytes:
    w = _Writer(dialect)
    item = w.el(None, "assessmentItem", {"identifier": identifier, "title": data.title or default_title(data.stem),
                                         "adaptive": "false", "timeDependent": "false"})
    item.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-CN")
    processing = _DECLARE[data.qtype](w, item, data)
    w.outcomes(item, bool(data.analysis))
    body = w.el(item, "itemBody")
    _BODY[data.qtype](w, body, data)
    if processing is not None:
        processing(w, item)
    if data.analysis:
        w.feedback(item, data.analysis)
    return etree.tostring(item, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _template(name):
    def processing(w, item):
        w.el(item, "responseProcessing", {"template": w.d.template(name)})
    return processing


def _choice_ids(data):
    if data.qtype == T.TRUE_FALSE:
        return [TRUE_ID, FALSE_ID]
    return [f"C{i + 1}" for i in range(len(data.options))]


def _declare_choice(w, item, data):
    ids = _choice_ids(data)
    if data.qtype == T.TRUE_FALSE:
        correct, cardinality = [TRUE_ID if data.answer else FALSE_ID], "single"
    elif data.qtype == T.SINGLE_CHOICE:
        correct, cardinality = [ids[data.answer]], "single"
    else:
        correct, cardinality = [ids[i] for i in sorted(data.answer)], "multiple"
    w.declaration(item, "RESPONSE", cardinality, "identifier", correct)
    return _template("match_correct")


def _body_choice(w, body, data):
    w.paragraph(body, data.stem)
    texts = [TRUE_LABEL, FALSE_LABEL] if data.qtype == T.TRUE_FALSE else data.options
    interaction = w.el(body, "choiceInteraction", {
        "responseIdentifier": "RESPONSE", "shuffle": "false",
        "maxChoices": 0 if data.qtype == T.MULTIPLE_CHOICE else 1})
    for identifier, text in zip(_choice_ids(data), texts):
        w.el(interaction, "simpleChoice", {"identifier": identifier}, text)


def _stem_parts(stem: str) -> tuple[list[str], bool]:
    """The stem cut at its blank marks, and whether the (single) blank follows the stem because it has no mark."""
    parts = BLANK_MARK.split(stem)
    return (parts, False) if len(parts) > 1 else ([stem, ""], True)


def _declare_blanks(w, item, data):
    for number, accepted in enumerate(data.answer, 1):
        w.declaration(item, f"RESPONSE_{number}", "single", "string", accepted[:1],
                      [(a, False) for a in dict.fromkeys(accepted)], upper_bound=1)

    def processing(w, item):
        rules = w.el(item, "responseProcessing")
        total = w.el(w.el(rules, "setOutcomeValue", {"identifier": "SCORE"}), "sum")
        for number in range(1, len(data.answer) + 1):
            w.el(total, "mapResponse", {"identifier": f"RESPONSE_{number}"})
    return processing


def _body_blanks(w, body, data):
    parts, _appended = _stem_parts(data.stem)
    paragraph = w.el(body, "p", html=True)
    for number, part in enumerate(parts):
        w.lines(paragraph, part)
        if number < len(parts) - 1:
            w.el(paragraph, "textEntryInteraction", {"responseIdentifier": f"RESPONSE_{number + 1}",
                                                     "expectedLength": 12})


def _declare_essay(w, item, data):
    w.declaration(item, "RESPONSE", "single", "string", [data.answer] if data.answer else [])
    return None


def _body_essay(w, body, data):
    w.paragraph(body, data.stem)
    w.el(body, "extendedTextInteraction", {"responseIdentifier": "RESPONSE", "expectedLines": 6})


def _targets(data) -> list[str]:
    return list(dict.fromkeys(data.answer))


def _declare_match(w, item, data):
    targets = _targets(data)
    pairs = [f"L{i + 1} R{targets.index(match) + 1}" for i, match in enumerate(data.answer)]
    w.declaration(item, "RESPONSE", "multiple", "directedPair", pairs, [(p, None) for p in pairs])
    return _template("map_response")


def _body_match(w, body, data):
    targets = _targets(data)
    w.paragraph(body, data.stem)
    interaction = w.el(body, "matchInteraction", {"responseIdentifier": "RESPONSE", "shuffle": "false",
                                                  "maxAssociations": len(data.options)})
    left, right = w.el(interaction, "simpleMatchSet"), w.el(interaction, "simpleMatchSet")
    for i, text in enumerate(data.options):
        w.el(left, "simpleAssociableChoice", {"identifier": f"L{i + 1}", "matchMax": 1}, text)
    for i, text in enumerate(targets):
        w.el(right, "simpleAssociableChoice", {"identifier": f"R{i + 1}", "matchMax": data.answer.count(text)}, text)


def _declare_order(w, item, data):
    w.declaration(item, "RESPONSE", "ordered", "identifier", [f"O{i + 1}" for i in range(len(data.options))])
    return _template("match_correct")


def _body_order(w, body, data):
    w.paragraph(body, data.stem)
    interaction = w.el(body, "orderInteraction", {"responseIdentifier": "RESPONSE", "shuffle": "true"})
    for i, text in enumerate(data.options):
        w.el(interaction, "simpleChoice", {"identifier": f"O{i + 1}"}, text)


_DECLARE = {T.SINGLE_CHOICE: _declare_choice, T.MULTIPLE_CHOICE: _declare_choice, T.TRUE_FALSE: _declare_choice,
            T.FILL_BLANK: _declare_blanks, T.SHORT_ANSWER: _declare_essay, T.MATCHING: _declare_match,
            T.ORDERING: _declare_order}
_BODY = {T.SINGLE_CHOICE: _body_choice, T.MULTIPLE_CHOICE: _body_choice, T.TRUE_FALSE: _body_choice,
         T.FILL_BLANK: _body_blanks, T.SHORT_ANSWER: _body_essay, T.MATCHING: _body_match, T.ORDERING: _body_order}


# ---------------------------------------------------------------------------------------------------------- reading

class Unsupported(Exception):
    """The item is valid QTI but not a question ResLib has a type for; the argument names its kind."""


def _text(element) -> str:
    """Visible text of an element of the item (tags dropped, line breaks kept), read as HTML would show it."""
    return html_to_text(etree.tostring(element, encoding="unicode", with_tail=False))


def _swap(element, text: str) -> None:
    """Replace `element` by plain `text`, keeping what followed it."""
    parent, previous = element.getparent(), element.getprevious()
    joined = text + (element.tail or "")
    if previous is not None:
        previous.tail = (previous.tail or "") + joined
    else:
        parent.text = (parent.text or "") + joined
    parent.remove(element)


class _Reader:
    def __init__(self, root, dialect: Dialect):
        self.d, self.root = dialect, root
        self.declarations = {decl.get("identifier"): decl for decl in root.iter(dialect.q("responseDeclaration"))}

    def attr(self, element, name, default=None):
        return element.get(self.d.a(name), default)

    def values(self, element, container: str) -> list[str]:
        found = element.find(self.d.q(container))
        return [] if found is None else [(v.text or "").strip() for v in found.iter(self.d.q("value"))]

    def correct(self, identifier) -> list[str]:
        declaration = self.declarations.get(identifier)
        if declaration is None:
            return []
        values = self.values(declaration, "correctResponse")
        if values:
            return values
        mapping = declaration.find(self.d.q("mapping"))
        if mapping is None:
            return []
        return [self.attr(entry, "mapKey", "").strip() for entry in mapping.iter(self.d.q("mapEntry"))
                if _number(self.attr(entry, "mappedValue", "0")) > 0]

    def accepted(self, identifier) -> list[str]:
        """Every accepted answer of a text entry: the correct response and the positively mapped keys."""
        declaration = self.declarations.get(identifier)
        if declaration is None:
            return []
        found = self.values(declaration, "correctResponse")
        mapping = declaration.find(self.d.q("mapping"))
        if mapping is not None:
            found += [self.attr(entry, "mapKey", "").strip() for entry in mapping.iter(self.d.q("mapEntry"))
                      if _number(self.attr(entry, "mappedValue", "0")) > 0]
        return [a for a in dict.fromkeys(found) if a]

    def cardinality(self, identifier) -> str:
        declaration = self.declarations.get(identifier)
        return "" if declaration is None else self.attr(declaration, "cardinality", "")

    def analysis(self) -> str:
        return "\n".join(t for t in (_text(f) for f in self.root.iter(self.d.q("modalFeedback"))) if t)

    def read(self) -> QuestionData:
        body = self.root.find(self.d.q("itemBody"))
        if body is None:
            raise Unsupported("itemBody")
        body = etree.fromstring(etree.tostring(body))  # a copy: reading takes the interactions out
        for hidden in (*body.iter(self.d.q("rubricBlock")), *body.iter(self.d.q("feedbackBlock")),
                       *body.iter(self.d.q("feedbackInline")), *body.iter(self.d.q("templateBlock"))):
            hidden.getparent().remove(hidden)
        interactions = [e for e in body.iter() if isinstance(e.tag, str) and self.d.local(e).endswith("Interaction")]
        kinds = {self.d.local(e) for e in interactions}
        unknown = sorted(kinds - set(KNOWN))
        if unknown or not interactions:
            raise Unsupported(unknown[0] if unknown else "no interaction")
        if kinds == {"textEntryInteraction"}:
            return self.blanks(body, interactions)
        if len(interactions) > 1:
            raise Unsupported(" + ".join(sorted(kinds)))
        interaction = interactions[0]
        kind = self.d.local(interaction)
        return getattr(self, kind)(body, interaction)

    def stem(self, body, interaction) -> str:
        prompt = interaction.find(self.d.q("prompt"))
        prompt_text = _text(prompt) if prompt is not None else ""
        _swap(interaction, "")
        return "\n".join(t for t in (_text(body), prompt_text) if t)

    def data(self, qtype, stem, options=(), answer=None) -> QuestionData:
        title = (self.root.get("title") or "").strip()
        return QuestionData(qtype=qtype, stem=stem, options=list(options), answer=answer, analysis=self.analysis(),
                            title="" if title == default_title(stem) else title)

    def choices(self, interaction, name) -> list[tuple[str, str]]:
        choices = []
        for choice in interaction.iter(self.d.q(name)):
            for feedback in list(choice.iter(self.d.q("feedbackInline"))):
                _swap(feedback, "")
            choices.append((choice.get("identifier", ""), _text(choice)))
        return choices

    def choiceInteraction(self, body, interaction):
        identifier = self.attr(interaction, "responseIdentifier")
        choices = self.choices(interaction, "simpleChoice")
        stem = self.stem(body, interaction)
        ids = [i for i, _ in choices]
        correct = [ids.index(c) for c in self.correct(identifier) if c in ids]
        texts = tuple(t.casefold() for _, t in choices)
        # ResLib writes true/false as TRUE/FALSE and choices as C1, C2 …: a single choice of 是 / 否 stays one. The
        # texts decide only for other tools' items.
        written_here = ids == [f"C{i + 1}" for i in range(len(ids))]
        if len(choices) == 2 and ({i.upper() for i in ids} == {TRUE_ID, FALSE_ID}
                                  or (texts in TRUE_FALSE_TEXTS and not written_here)):
            true_index = ([i.upper() for i in ids].index(TRUE_ID) if {i.upper() for i in ids} == {TRUE_ID, FALSE_ID}
                          else 0)
            answer = correct[0] == true_index if len(correct) == 1 else None
            return self.data(T.TRUE_FALSE, stem, answer=answer)
        options = [t for _, t in choices]
        if self.cardinality(identifier) == "single":
            return self.data(T.SINGLE_CHOICE, stem, options, correct[0] if len(correct) == 1 else None)
        return self.data(T.MULTIPLE_CHOICE, stem, options, sorted(set(correct)))

    def blanks(self, body, interactions):
        answer = [self.accepted(self.attr(e, "responseIdentifier")) for e in interactions]
        for interaction in interactions:
            _swap(interaction, BLANK)
        return self.data(T.FILL_BLANK, _text(body), answer=answer)

    def extendedTextInteraction(self, body, interaction):
        reference = "\n".join(self.values(self.declarations.get(self.attr(interaction, "responseIdentifier"),
                                                                etree.Element("none")), "correctResponse"))
        return self.data(T.SHORT_ANSWER, self.stem(body, interaction), answer=reference)

    def matchInteraction(self, body, interaction):
        identifier = self.attr(interaction, "responseIdentifier")
        sets = interaction.findall(self.d.q("simpleMatchSet"))
        left = self.choices(sets[0], "simpleAssociableChoice")
        right = dict(self.choices(sets[1], "simpleAssociableChoice"))
        pairs = {}
        for value in self.correct(identifier):
            source, _, target = " ".join(value.split()).partition(" ")
            pairs.setdefault(source, right.get(target, ""))
        stem = self.stem(body, interaction)
        return self.data(T.MATCHING, stem, [t for _, t in left], [pairs.get(i, "") for i, _ in left])

    def orderInteraction(self, body, interaction):
        choices = dict(self.choices(interaction, "simpleChoice"))
        order = [c for c in self.correct(self.attr(interaction, "responseIdentifier")) if c in choices]
        ids = order + [i for i in choices if i not in order] if len(order) == len(choices) else list(choices)
        return self.data(T.ORDERING, self.stem(body, interaction), [choices[i] for i in ids])


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0


def read_item(root, dialect: Dialect) -> QuestionData:
    """The question of a schema-valid item; raises `Unsupported` for a kind ResLib has no type for."""
    return _Reader(root, dialect).read()
