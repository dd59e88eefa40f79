"""GIFT, Moodle's plain-text question format, to and from `QuestionData`.

Types GIFT expresses: single_choice, multiple_choice, true_false, fill_blank with one blank, short_answer, matching.
Ordering and fill-in-the-blank with two or more blanks have no GIFT form (one answer set per question): `serialize`
refuses them with `question.export_unsupported`.

Reading follows Moodle's own GIFT import, so a file means here what it means in Moodle:

- questions are separated by blank lines; lines starting with `//` are comments; `::title::` is the title;
- `{}` (essay) → short_answer;
- `{T}` `{TRUE}` `{F}` `{FALSE}` → true_false (upper case, as Moodle reads them; `{true}` is a short answer);
- `{=a =b}` (short answer, also a single answer written without `=`) → fill_blank with one blank, the full-credit
  answers (`=` without a weight or with `%100%`) accepted. With text after the closing brace, the answers sit in the
  middle of the stem and their place becomes `___`; at the end, the blank follows the stem (or is where the stem
  marks it with underscores, Moodle's own convention);
- `{=a ~b ~c}` (choices): as in Moodle, a question with `=` choices has one answer: the full-credit `=` choices are
  the correct ones (one → single_choice, several → multiple_choice; partial-credit `~%50%` choices cannot be
  expressed in ResLib's all-or-nothing single choice and count as wrong). Without `=`, every choice of positive
  weight (`~%50%a ~%50%b ~%-100%c`) is correct → multiple_choice;
- `{=a -> x =b -> y}` → matching (a pair with nothing left of `->` is a Moodle distractor, ignored);
- `{#…}` (numerical) and text without an answer set (description) → `question.kind_unsupported`.

Text: `[html]` text becomes plain text; `[markdown]`, `[plain]` and `[moodle]` text is kept as written (line breaks of
moodle/plain text fold into spaces, as in Moodle); the escapes `\\~ \\= \\# \\{ \\} \\: \\\\ \\n` are honoured, and
written for every such character on export (texts with `<` or `&` are exported as `[plain]`).

Feedback: the general feedback (`####…`) is the analysis. Per-answer feedback (`=a#…`, and a true/false answer's two
feedbacks: Moodle shows the first for a wrong, the second for a right response) has no field of its own in ResLib:
each is appended to the analysis as a line "answer: feedback" so that nothing the author wrote is lost. An essay's
reference answer has no GIFT field either: it is written at the end of the general feedback after a line starting
with `参考答案：` and read back from there.

Knowledge points and difficulty: Moodle reads `[tag:…]` (and `[id:…]`, which ResLib ignores) in the comment lines of a
question as its tags (`\\]` stands for `]`). ResLib writes each knowledge point as a tag and the difficulty as the tag
`difficulty:<code>` (basic, intermediate, advanced), and reads them back. A `$CATEGORY: $course$/top/a/b` line makes
its last segment ("b") a knowledge point of the questions that follow (Moodle's root category "top" is none).

Files: UTF-8 (with or without BOM); GB 18030 (what Chinese Windows editors save) is accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _, pgettext

from ..interchange import QuestionData, blank_count
from ..models import QuestionType as T
from . import (FORMATS, FormatError, ParsedItem, category_point, check_count, check_size, checked,
               export_unsupported, finished, html_to_text, question_label, refused, split_tags, tags_of,
               unsupported_kind)

LABEL = FORMATS["gift"][3]
SUPPORTED = frozenset({T.SINGLE_CHOICE, T.MULTIPLE_CHOICE, T.TRUE_FALSE, T.FILL_BLANK, T.SHORT_ANSWER, T.MATCHING})
REFERENCE_MARK = "参考答案："
BLANK = "___"

# Escaped characters are swapped for private-use code points before the syntax is read, and back afterwards.
_ESCAPES = {c: chr(0xE100 + i) for i, c in enumerate("\\~=#{}:n")}
_RESTORE = {v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()}
_ESCAPE_RE = re.compile(r"\\([\\~=#{}:n])")
_FORMAT_RE = re.compile(r"\s*\[(html|moodle|plain|markdown)\]")
_WEIGHT_RE = re.compile(r"\s*%(-?\d+(?:\.\d+)?)%")
_TAG_RE = re.compile(r"\[tag:\s*((?:\\\]|[^\]])+?)\s*\]")
_TF = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_SPECIAL = "\\~=#{}:"


class _SyntaxProblem(Exception):
    pass


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(c, c) for c in text)


def _text(raw: str, default_format: str = "moodle") -> tuple[str, str]:
    """(plain text, format) of one piece of GIFT text with its optional [format] marker."""
    fmt = default_format
    marker = _FORMAT_RE.match(raw)
    if marker:
        fmt, raw = marker.group(1), raw[marker.end():]
    if fmt == "html":
        return html_to_text(_restore(raw)), fmt
    if fmt == "markdown":
        return _restore(raw.strip()), fmt
    return _restore(re.sub(r"[ \t]*\n\s*", " ", raw).strip()), fmt


@dataclass
class _Answer:
    equals: bool  # "=" (else "~")
    weight: float | None
    text: str
    feedback: str


def _answers(body: str, fmt: str, *, bare_allowed: bool = False) -> list[_Answer]:
    lead, *rest = re.split(r"([=~])", body)
    pieces = list(zip(rest[::2], rest[1::2]))
    if lead.strip():
        if not bare_allowed:
            raise _SyntaxProblem
        pieces.insert(0, ("=", lead))
    answers = []
    for mark, piece in pieces:
        weight = None
        match = _WEIGHT_RE.match(piece)
        if match:
            weight, piece = float(match.group(1)), piece[match.end():]
        text, _sep, feedback = piece.partition("#")
        text, answer_fmt = _text(text, fmt)
        answers.append(_Answer(mark == "=", weight, text, _text(feedback, answer_fmt)[0]))
    return answers


def _feedback_lines(pairs) -> list[str]:
    return [f"{label}: {feedback}" for label, feedback in pairs if feedback]


def _with_blank(before: str, after: str, fmt: str) -> str:
    return _text(f"{before}{BLANK}{after}", fmt)[0] if after.strip() else _text(before, fmt)[0]


def _question(text: str, context: dict) -> QuestionData | str:
    """The question of one block, or the name of its kind when ResLib has no type for it."""
    title = ""
    match = re.match(r"\s*::(.*?)::", text, re.S)
    if match:
        title, text = _text(match.group(1))[0], text[match.end():]
    opening = text.find("{")
    if opening < 0:
        return "description"
    closing = text.find("}", opening)
    if closing < 0 or "{" in text[closing:] or "}" in text[closing + 1:]:
        raise _SyntaxProblem
    before, body, after = text[:opening], text[opening + 1:closing], text[closing + 1:]
    marker = _FORMAT_RE.match(before)
    fmt = marker.group(1) if marker else "moodle"
    body, _sep, general = body.rpartition("####") if "####" in body else (body, "", "")
    body = body.strip()
    analysis = [_text(general, fmt)[0]] if general.strip() else []
    data = QuestionData(qtype="", stem="", title=title, knowledge_points=list(context["knowledge_points"]),
                        difficulty=context["difficulty"])
    if not body:
        data.qtype, data.stem, data.answer = T.SHORT_ANSWER, _text(before + after, fmt)[0], ""
        if analysis:
            # the last mark: an analysis may itself contain one (the writer then adds an empty reference after it)
            head, mark, reference = analysis[0].rpartition(REFERENCE_MARK)
            if mark and (not head or head.endswith("\n")):
                analysis, data.answer = ([head.strip()] if head.strip() else []), reference.strip()
    elif body.startswith("#"):
        return "numerical"
    elif "~" in body:
        answers = _answers(body, fmt)
        if any(a.equals for a in answers):
            correct = [i for i, a in enumerate(answers) if a.equals and (a.weight is None or a.weight >= 100)]
            data.qtype = T.SINGLE_CHOICE if len(correct) == 1 else T.MULTIPLE_CHOICE
        else:
            correct = [i for i, a in enumerate(answers) if a.weight is not None and a.weight > 0]
            data.qtype = T.MULTIPLE_CHOICE
        data.stem = _with_blank(before, after, fmt)
        data.options = [a.text for a in answers]
        data.answer = correct[0] if data.qtype == T.SINGLE_CHOICE else correct
        analysis += _feedback_lines((a.text, a.feedback) for a in answers)
    elif "=" in body and "->" in body:
        pairs = []
        for answer in _answers(body, fmt):
            left, arrow, right = answer.text.partition("->")
            if not arrow:
                raise _SyntaxProblem
            if left.strip():
                pairs.append((left.strip(), right.strip()))
        data.qtype, data.stem = T.MATCHING, _text(before + after, fmt)[0]
        data.options, data.answer = [p[0] for p in pairs], [p[1] for p in pairs]
    elif body.partition("#")[0].strip() in _TF:
        value, *feedbacks = (part.strip() for part in body.split("#", 2))
        data.qtype, data.stem, data.answer = T.TRUE_FALSE, _text(before + after, fmt)[0], _TF[value]
        wrong, right = (feedbacks + ["", ""])[:2]
        when_true, when_false = (right, wrong) if data.answer else (wrong, right)
        analysis += _feedback_lines([
            (pgettext("true or false answer", "True"), _text(when_true, fmt)[0]),
            (pgettext("true or false answer", "False"), _text(when_false, fmt)[0]),
        ])
    else:
        answers = _answers(body, fmt, bare_allowed=True)
        data.qtype, data.stem = T.FILL_BLANK, _with_blank(before, after, fmt)
        data.answer = [[a.text for a in answers if a.weight is None or a.weight >= 100]]
        analysis += _feedback_lines((a.text, a.feedback) for a in answers)
    data.analysis = "\n".join(analysis)
    return data


def _metadata(comments: list[str], context: dict) -> dict:
    tags = [tag.replace("\\]", "]") for line in comments for tag in _TAG_RE.findall(_restore(line))]
    points, difficulty = split_tags(tags)
    return {"knowledge_points": [*context["category"], *points], "difficulty": difficulty}


def _decode(data: bytes) -> str:
    check_size(data)
    unreadable = FormatError("question.file_unreadable", _("The file is not a GIFT text file."))
    if b"\x00" in data:
        raise unreadable
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise unreadable


def _blocks(text: str):
    """(first line number, question lines, comment lines) of each blank-line separated block; a block of comments
    only (a file's heading) is none."""
    block, comments, start = [], [], None
    for number, line in enumerate(text.splitlines() + [""], start=1):
        if not line.strip():
            if block:
                yield start, block, comments
            block, comments, start = [], [], None
        elif line.lstrip().startswith("//"):
            comments.append(line)
        else:
            start = start or number
            block.append(line)


def parse(data: bytes) -> list[ParsedItem]:
    text = _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(1)], _decode(data))
    items: list[ParsedItem] = []
    context = {"category": []}
    for line, lines, comments in _blocks(text):
        body = "\n".join(lines)
        if body.lstrip().startswith("$CATEGORY:"):
            context["category"] = category_point(_restore(body.strip().split(":", 1)[1]))
            continue
        location = question_label(len(items) + 1, line)
        check_count(len(items) + 1)
        try:
            result = _question(body, _metadata(comments, context))
        except _SyntaxProblem:
            items.append(refused(location, "stem", "question.syntax_invalid",
                                 _("The answers must be one set in braces {…}, each starting with = or ~.")))
            continue
        items.append(unsupported_kind(location, result) if isinstance(result, str) else checked(location, result))
    return finished(items)


def _escape(text: str) -> str:
    return "".join("\\" + c if c in _SPECIAL else ("\\n" if c == "\n" else c) for c in text)


def _marked(text: str) -> str:
    """Escaped text, as [plain] when Moodle would otherwise read HTML in it or take its start for a format marker."""
    plain = "<" in text or "&" in text or text.startswith("[")
    return ("[plain]" if plain else "") + _escape(text)


def _choice(mark: str, text: str, weight: str = "") -> str:
    # A text starting with % would be read as a weight: an explicit weight goes first.
    if not weight and text.startswith("%"):
        weight = "%100%" if mark == "=" else "%0%"
    return f"    {mark}{weight}{_marked(text)}"


def _weight(value: float) -> str:
    return "%" + f"{value:.5f}".rstrip("0").rstrip(".") + "%"


def _refuse_arrow(texts, what) -> None:
    if any("->" in t for t in texts):
        raise FormatError("question.export_unsupported",
                          _("GIFT cannot hold “->” in %(what)s; change the text or export in another format.")
                          % {"what": what})


def _answer_set(item: QuestionData) -> list[str]:
    qtype = item.qtype
    if qtype == T.SINGLE_CHOICE:
        return [_choice("=" if i == item.answer else "~", o) for i, o in enumerate(item.options)]
    if qtype == T.MULTIPLE_CHOICE:
        share = _weight(100 / len(item.answer))
        return [_choice("~", o, share if i in item.answer else "%-100%") for i, o in enumerate(item.options)]
    if qtype == T.TRUE_FALSE:
        return ["TRUE" if item.answer else "FALSE"]
    if qtype == T.FILL_BLANK:
        _refuse_arrow(item.answer[0], _("the answers of a fill-in-the-blank question"))
        return [_choice("=", a) for a in item.answer[0]]
    if qtype == T.MATCHING:
        _refuse_arrow(item.options, _("the items of a matching question"))
        return [f"    ={_marked(left)} -> {_escape(right)}" for left, right in zip(item.options, item.answer)]
    return []


def _item(item: QuestionData) -> str:
    if item.qtype not in SUPPORTED:
        raise export_unsupported(item.qtype, LABEL)
    if item.qtype == T.FILL_BLANK and blank_count(item.stem) > 1:
        raise FormatError("question.export_unsupported",
                          _("GIFT holds one blank per fill-in-the-blank question; export questions with several "
                            "blanks in another format."))
    lines = []
    tags = tags_of(item)
    if tags:
        lines.append("// " + " ".join("[tag:" + t.replace("]", "\\]") + "]" for t in tags))
    title = f"::{_escape(item.title)}::" if item.title else ""
    general = item.analysis
    if item.qtype == T.SHORT_ANSWER and (item.answer or REFERENCE_MARK in general):
        general = (general + "\n" if general else "") + REFERENCE_MARK + item.answer
    feedback = f"####{_escape(general)}" if general else ""
    answers = _answer_set(item)
    if len(answers) > 1:
        lines += [f"{title}{_marked(item.stem)} {{", *answers]
        lines.append(f"    {feedback}" if feedback else "}")
        if feedback:
            lines.append("}")
    else:
        lines.append(f"{title}{_marked(item.stem)} {{{''.join(a.strip() for a in answers)}{feedback}}}")
    return "\n".join(lines)


def serialize(items: list[QuestionData]) -> bytes:
    return ("\n\n".join(_item(item) for item in items) + "\n").encode("utf-8")
