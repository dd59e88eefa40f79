"""Moodle XML (`<quiz><question type="…">`) to and from `QuestionData`.

All seven types have a Moodle XML form:

| ResLib          | Moodle question type                                                                     |
|-----------------|------------------------------------------------------------------------------------------|
| single_choice   | multichoice, `<single>true</single>`                                                     |
| multiple_choice | multichoice, `<single>false</single>` (correct choices share 100 %, wrong ones −100 %)   |
| true_false      | truefalse                                                                                |
| fill_blank      | shortanswer (one blank); multianswer (Cloze) with SHORTANSWER gaps (two or more blanks) |
| short_answer    | essay (the reference answer is the "information for graders")                            |
| matching        | matching (subquestions without text are Moodle distractors, ignored on import)           |
| ordering        | ordering (the qtype_ordering plugin, answers in their correct order)                     |

Reading follows Moodle's meaning: a single-answer multichoice has the full-credit (100 %) answers as its correct
choices (several → multiple_choice; partial credit has no counterpart in ResLib's all-or-nothing single choice), a
multiple-answer one every answer of positive fraction; a shortanswer accepts its full-credit answers. Other types
(numerical, calculated, description, ddwtos, gapselect, Cloze with other gaps than short answers, …) get
`question.kind_unsupported`.

Texts: `html` and `moodle_auto_format` text is turned into plain text (tags dropped, entities decoded, images lost);
`plain_text` and `markdown` text is kept as written. ResLib writes `plain_text`, which Moodle shows as written.
The general feedback is the analysis; per-answer feedback has no field of its own in ResLib and is appended to the
analysis as lines "answer: feedback" so that it is not lost.

Knowledge points and difficulty are Moodle tags (`<tags><tag><text>`): each knowledge point a tag, the difficulty the
tag `difficulty:<code>`. A `<question type="category">` makes the last segment of its path a knowledge point of the
questions that follow. The question's `<name>` is the title, unless it is just the start of the stem (what ResLib
writes when a question has no title). The XML is read only through `safe_xml.parse_xml` (no DTD, no entities).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _, pgettext
from lxml import etree

from ..interchange import BLANK_MARK, QuestionData, blank_count
from ..models import QuestionType as T
from . import (FORMATS, FormatError, ParsedItem, category_point, check_count, check_size, checked, finished,
               html_to_text, question_label, refused, split_tags, tags_of, unsupported_kind)
from .safe_xml import parse_xml

LABEL = FORMATS["moodle_xml"][3]
NAME_CHARS = 50
FULL = 99.9999  # Moodle writes fractions with seven decimals: 100 may come as 99.9999900
_CLOZE = re.compile(r"\{(\d*):([A-Za-z_]+):((?:\\.|[^\\}])*)\}")
_CLOZE_SHORT = frozenset({"SHORTANSWER", "SA", "MW", "SHORTANSWER_C", "SAC", "MWC"})
_CLOZE_SPECIAL = '\\}~#/"'
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class _Broken(Exception):
    pass


# reading

def _raw(element) -> str:
    text = element.find("text") if element is not None else None
    return "".join(text.itertext()) if text is not None else ""


def _text(element) -> str:
    """Plain text of a Moodle text element (<questiontext format="…"><text>…</text>)."""
    if element is None:
        return ""
    raw, fmt = _raw(element), element.get("format", "moodle_auto_format")
    if fmt == "html":
        return html_to_text(raw)
    if fmt == "moodle_auto_format":
        return html_to_text(raw.replace("\n", "<br>"))
    return raw.strip()


def _fraction(element) -> float:
    try:
        return float(element.get("fraction", "0"))
    except ValueError:
        raise _Broken from None


def _feedback_lines(pairs) -> list[str]:
    return [f"{label}: {feedback}" for label, feedback in pairs if feedback]


def _choices(element, data: QuestionData) -> list[str]:
    answers = [(_text(a), _fraction(a), _text(a.find("feedback"))) for a in element.findall("answer")]
    single = (element.findtext("single") or "true").strip().lower() in ("true", "1")
    if single:
        correct = [i for i, a in enumerate(answers) if a[1] >= FULL]
        data.qtype = T.SINGLE_CHOICE if len(correct) == 1 else T.MULTIPLE_CHOICE
    else:
        correct = [i for i, a in enumerate(answers) if a[1] > 0]
        data.qtype = T.MULTIPLE_CHOICE
    data.options = [a[0] for a in answers]
    data.answer = correct[0] if data.qtype == T.SINGLE_CHOICE else correct
    return _feedback_lines((a[0], a[2]) for a in answers)


def _true_false(element, data: QuestionData) -> list[str]:
    answers = {_raw(a).strip().lower(): a for a in element.findall("answer")}
    if set(answers) != {"true", "false"}:
        raise _Broken
    data.qtype, data.answer = T.TRUE_FALSE, _fraction(answers["true"]) >= FULL
    return _feedback_lines([(pgettext("true or false answer", "True"), _text(answers["true"].find("feedback"))),
                            (pgettext("true or false answer", "False"), _text(answers["false"].find("feedback")))])


def _short(element, data: QuestionData) -> list[str]:
    # Accepted answers are compared as typed, whatever format Moodle labels them with: never read as HTML.
    answers = [(_raw(a).strip(), _fraction(a), _text(a.find("feedback"))) for a in element.findall("answer")]
    data.qtype, data.answer = T.FILL_BLANK, [[a[0] for a in answers if a[1] >= FULL]]
    return _feedback_lines((a[0], a[2]) for a in answers)


def _essay(element, data: QuestionData) -> list[str]:
    data.qtype, data.answer = T.SHORT_ANSWER, _text(element.find("graderinfo"))
    return []


def _matching(element, data: QuestionData) -> list[str]:
    pairs = [(_text(s), _raw(s.find("answer")).strip()) for s in element.findall("subquestion")]
    data.qtype = T.MATCHING
    data.options, data.answer = [p[0] for p in pairs if p[0]], [p[1] for p in pairs if p[0]]
    return []


def _ordering(element, data: QuestionData) -> list[str]:
    answers = [(_fraction(a), i, _text(a)) for i, a in enumerate(element.findall("answer"))]
    data.qtype, data.options = T.ORDERING, [a[2] for a in sorted(answers)]
    return []


def _unescape_cloze(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).strip()


def _cloze_answers(spec: str) -> list[str]:
    accepted = []
    for answer in re.split(r"(?<!\\)~", spec):
        answer = re.split(r"(?<!\\)#", answer, maxsplit=1)[0]
        weight = re.match(r"\s*%(-?\d+(?:\.\d+)?)%", answer)
        if answer.lstrip().startswith("="):
            accepted.append(_unescape_cloze(answer.lstrip()[1:]))
        elif weight and float(weight.group(1)) >= FULL:
            accepted.append(_unescape_cloze(answer[weight.end():]))
    return accepted


def _cloze(element, data: QuestionData) -> list[str] | str:
    text = _text(element.find("questiontext"))
    gaps = list(_CLOZE.finditer(text))
    if not gaps:
        raise _Broken
    other = sorted({g.group(2).upper() for g in gaps} - _CLOZE_SHORT)
    if other:
        return "multianswer: " + ", ".join(other)
    data.qtype, data.stem = T.FILL_BLANK, _CLOZE.sub("___", text)
    data.answer = [_cloze_answers(g.group(3)) for g in gaps]
    return []


_READERS = {"multichoice": _choices, "truefalse": _true_false, "shortanswer": _short, "essay": _essay,
            "matching": _matching, "ordering": _ordering, "multianswer": _cloze}


def _default_name(stem: str) -> str:
    """The name written for a question without a title: the start of its stem (blank marks as Cloze reads them)."""
    return (BLANK_MARK.sub("___", stem).strip().splitlines() or [""])[0][:NAME_CHARS]


def _question(element, context: dict) -> QuestionData | str:
    data = QuestionData(qtype="", stem=_text(element.find("questiontext")))
    extra = _READERS[element.get("type")](element, data)
    if isinstance(extra, str):
        return extra
    name = _raw(element.find("name")).strip()
    data.title = "" if name == _default_name(data.stem) else name
    general = _text(element.find("generalfeedback"))
    data.analysis = "\n".join(([general] if general else []) + extra)
    points, data.difficulty = split_tags([_raw(t).strip() for t in element.iterfind("tags/tag")])
    data.knowledge_points = [*context["category"], *points]
    return data


def parse(data: bytes) -> list[ParsedItem]:
    check_size(data)
    root = parse_xml(data)
    if root.tag != "quiz":
        raise FormatError("question.file_unreadable",
                          _("The file is not a Moodle XML question file (its root element must be <quiz>)."))
    items: list[ParsedItem] = []
    context = {"category": []}
    for element in root.iterchildren("question"):
        kind = element.get("type", "")
        if kind == "category":
            context["category"] = category_point(_raw(element.find("category")))
            continue
        location = question_label(len(items) + 1, element.sourceline)
        check_count(len(items) + 1)
        if kind not in _READERS:
            items.append(unsupported_kind(location, kind))
            continue
        try:
            result = _question(element, context)
        except _Broken:
            items.append(refused(location, "answer", "question.syntax_invalid",
                                 _("The answers of this question cannot be read.")))
            continue
        items.append(unsupported_kind(location, result) if isinstance(result, str) else checked(location, result))
    return finished(items)


# writing

def _clean(text: str) -> str:
    return _XML_UNSAFE.sub("", text)


def _sub(parent, tag: str, value: str | None = None, **attributes):
    child = etree.SubElement(parent, tag, **attributes)
    if value is not None:
        child.text = _clean(value)
    return child


def _textual(parent, tag: str, text: str, **attributes):
    element = _sub(parent, tag, format="plain_text", **attributes)
    _sub(element, "text", text)
    return element


def _answer(parent, fraction: str, text: str):
    return _textual(parent, "answer", text, fraction=fraction)


def _fraction_text(value: float) -> str:
    return f"{value:.7f}"


def _cloze_gap(accepted: list[str]) -> str:
    escaped = ["".join("\\" + c if c in _CLOZE_SPECIAL else c for c in a) for a in accepted]
    return "{1:SHORTANSWER:" + "~".join("=" + a for a in escaped) + "}"


def _write(root, item: QuestionData) -> None:
    qtype = item.qtype
    moodle_type = {T.SINGLE_CHOICE: "multichoice", T.MULTIPLE_CHOICE: "multichoice", T.TRUE_FALSE: "truefalse",
                   T.FILL_BLANK: "shortanswer" if blank_count(item.stem) == 1 else "multianswer",
                   T.SHORT_ANSWER: "essay", T.MATCHING: "matching", T.ORDERING: "ordering"}[qtype]
    question = _sub(root, "question", type=moodle_type)
    _sub(_sub(question, "name"), "text", item.title or _default_name(item.stem))
    stem = item.stem
    if moodle_type == "multianswer":
        gaps = iter(item.answer)
        stem = BLANK_MARK.sub(lambda m: _cloze_gap(next(gaps)), item.stem)
    _textual(question, "questiontext", stem)
    _textual(question, "generalfeedback", item.analysis)
    _sub(question, "defaultgrade", "1")
    _sub(question, "penalty", "0")
    _sub(question, "hidden", "0")
    if qtype in (T.SINGLE_CHOICE, T.MULTIPLE_CHOICE):
        _sub(question, "single", "true" if qtype == T.SINGLE_CHOICE else "false")
        _sub(question, "shuffleanswers", "true")
        _sub(question, "answernumbering", "ABCD")
        share = 100 / len(item.answer) if qtype == T.MULTIPLE_CHOICE else 100
        correct = {item.answer} if qtype == T.SINGLE_CHOICE else set(item.answer)
        for i, option in enumerate(item.options):
            wrong = 0 if qtype == T.SINGLE_CHOICE else -100
            _answer(question, _fraction_text(share if i in correct else wrong), option)
    elif qtype == T.TRUE_FALSE:
        for value in (True, False):
            fraction = "100" if item.answer == value else "0"
            _sub(_sub(question, "answer", fraction=fraction, format="moodle_auto_format"), "text",
                 "true" if value else "false")
    elif moodle_type == "shortanswer":
        _sub(question, "usecase", "0")
        for accepted in item.answer[0]:
            _answer(question, "100", accepted)
    elif qtype == T.SHORT_ANSWER:
        _sub(question, "responseformat", "editor")
        _sub(question, "responserequired", "1")
        _sub(question, "responsefieldlines", "10")
        _textual(question, "graderinfo", item.answer)
        _textual(question, "responsetemplate", "")
    elif qtype == T.MATCHING:
        _sub(question, "shuffleanswers", "true")
        for left, right in zip(item.options, item.answer):
            subquestion = _textual(question, "subquestion", left)
            _sub(_sub(subquestion, "answer"), "text", right)
    elif qtype == T.ORDERING:
        for tag, value in (("layouttype", "VERTICAL"), ("selecttype", "ALL"), ("selectcount", "0"),
                           ("gradingtype", "ALL_OR_NOTHING"), ("showgrading", "SHOW"), ("numberingstyle", "none")):
            _sub(question, tag, value)
        for position, option in enumerate(item.options, start=1):
            _answer(question, _fraction_text(position), option)
    tags = tags_of(item)
    if tags:
        container = _sub(question, "tags")
        for tag in tags:
            _sub(_sub(container, "tag"), "text", tag)


def serialize(items: list[QuestionData]) -> bytes:
    root = etree.Element("quiz")
    for item in items:
        _write(root, item)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
