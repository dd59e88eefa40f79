"""Question interchange formats: each turns a file into `QuestionData` items and back.

Every format module offers `parse(data: bytes) -> list[ParsedItem]` and `serialize(items: list[QuestionData]) ->
bytes`. Parsing never raises on a bad item: the item carries its errors (the import report shows them per row /
per item) and the good items are still returned. A file that cannot be read at all raises `FormatError`, and so does
a file without a single question (`question.file_empty`), a file over `MAX_FILE_BYTES` or with more than
`MAX_ITEMS` questions: nothing of it is imported. `serialize` raises `FormatError("question.export_unsupported")`
naming the type when an item's type cannot be expressed in the format, rather than leaving the item out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import import_module

from django.utils.translation import gettext, gettext_lazy as _

from reslib.core.errors import FieldErrors

from ..interchange import QuestionData, normalised, problems
from ..models import QuestionType

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ITEMS = 20_000
# GIFT and Moodle XML carry a question's difficulty as a Moodle tag "difficulty:<code>" beside its knowledge points.
DIFFICULTY_TAG = "difficulty:"

# name → (module, file extension, MIME type, label)
FORMATS = {
    "gift": ("gift", "gift", "text/plain; charset=utf-8", _("GIFT (Moodle)")),
    "moodle_xml": ("moodle_xml", "xml", "application/xml", _("Moodle XML")),
    "qti21": ("qti", "zip", "application/zip", _("IMS QTI 2.1")),
    "qti30": ("qti", "zip", "application/zip", _("IMS QTI 3.0")),
    "xlsx": ("excel", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             _("Excel template")),
}


class FormatError(Exception):
    """The file as a whole cannot be read (not the format, hostile XML, corrupt archive): nothing is imported."""

    def __init__(self, code: str, message):
        super().__init__(str(message))
        self.code = code
        self.message = message


@dataclass
class ParsedItem:
    """One question of an imported file: where it was (row / item label), its data, or why it cannot be used.

    `data` is None only when the item could not be read as a question at all (a kind ResLib has no type for, broken
    syntax); an item whose content breaks a rule keeps its data beside the errors, so the report can show what was
    read. Only items without errors may be imported; their data is already `normalised`.
    """

    location: str
    data: QuestionData | None
    errors: FieldErrors = field(default_factory=FieldErrors)


def checked(location: str, data: QuestionData) -> ParsedItem:
    """The item as the import report sees it: validated by `interchange.problems`, normalised when valid."""
    errors = problems(data)
    return ParsedItem(location, data if errors else normalised(data), errors)


def refused(location: str, field_name: str, code: str, message) -> ParsedItem:
    errors = FieldErrors()
    errors.add(field_name, code, message)
    return ParsedItem(location, None, errors)


def unsupported_kind(location: str, kind: str) -> ParsedItem:
    return refused(location, "qtype", "question.kind_unsupported",
                   _("Unsupported question kind “%(kind)s”: ResLib has no such question type.") % {"kind": kind})


def split_tags(tags: list[str]) -> tuple[list[str], str]:
    """(knowledge points, difficulty) of a question's Moodle tags."""
    difficulties = [t[len(DIFFICULTY_TAG):] for t in tags if t.startswith(DIFFICULTY_TAG)]
    return [t for t in tags if not t.startswith(DIFFICULTY_TAG)], (difficulties[-1] if difficulties else "")


def tags_of(item: QuestionData) -> list[str]:
    return [*item.knowledge_points, *([DIFFICULTY_TAG + item.difficulty] if item.difficulty else [])]


def category_point(path: str) -> list[str]:
    """The knowledge point a Moodle category path ("$course$/top/数控/对刀") names: its last segment, none for
    Moodle's root categories."""
    segments = [s.strip() for s in path.split("/") if s.strip()]
    last = segments[-1] if segments else ""
    return [] if not last or last == "top" or last.startswith("$") else [last]


def question_label(number: int, line: int) -> str:
    """Where an item of a text or XML file was, for the import report: "第 3 题（第 12 行）"."""
    return gettext("Question %(number)d (line %(line)d)") % {"number": number, "line": line}


def check_size(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise FormatError("question.file_too_large",
                          _("The file is too large (at most %(mib)d MiB).") % {"mib": MAX_FILE_BYTES // 2**20})


def check_count(count: int) -> None:
    """Called as items are read, so a file with too many is refused before all of it is held in memory."""
    if count > MAX_ITEMS:
        raise FormatError("question.too_many_items",
                          _("The file holds more than %(max)d questions; split it into smaller files.")
                          % {"max": MAX_ITEMS})


def finished(items: list[ParsedItem]) -> list[ParsedItem]:
    if not items:
        raise FormatError("question.file_empty", _("The file contains no questions."))
    return items


def export_unsupported(qtype: str, format_label) -> FormatError:
    return FormatError("question.export_unsupported",
                       _("%(format)s cannot express questions of the type “%(type)s”; export them in another format.")
                       % {"format": format_label, "type": QuestionType(qtype).label})


# <pre> keeps its line breaks and indentation: they are hidden from the white-space folding under private-use code
# points and restored at the end.
_PRE_BREAK, _PRE_SPACE, _PRE_TAB = "\ue000", "\ue001", "\ue002"


class _TextExtractor(HTMLParser):
    """Visible text of an HTML fragment: block ends become line breaks, white space collapses as a browser does it
    (except inside <pre>), script/style contents and comments are dropped, character references are decoded by the
    parser itself (convert_charrefs)."""

    # Paragraph-like blocks stand apart by a blank line, list items and rows follow each other line by line.
    PARAGRAPHS = frozenset({"p", "div", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section",
                            "article", "ul", "ol", "dl", "hr"})
    LINES = frozenset({"li", "tr", "dt", "dd"})
    HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.PARAGRAPHS or tag in self.LINES:
            self.parts.append("\n")
            self.pre += tag == "pre"

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.PARAGRAPHS:
            self.parts.append("\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data):
        if self.hidden:
            return
        if self.pre:
            if self.parts and self.parts[-1] == "\n" and data.startswith("\n"):
                data = data[1:]  # as in browsers, a line break right after <pre> is not shown
            self.parts.append(data.replace("\n", _PRE_BREAK).replace(" ", _PRE_SPACE).replace("\t", _PRE_TAB))
        else:
            self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment from an imported file (never rendered as HTML anywhere)."""
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [line.strip(" ") for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    text = text.replace(_PRE_BREAK, "\n").replace(_PRE_SPACE, " ").replace(_PRE_TAB, "\t")
    return text.strip("\n").rstrip()


def _module(fmt: str):
    if fmt not in FORMATS:
        raise FormatError("question.format_unknown", _("Choose a file format from the list."))
    return import_module(f"{__name__}.{FORMATS[fmt][0]}")


def parse(fmt: str, data: bytes) -> list[ParsedItem]:
    module = _module(fmt)
    return finished(module.parse(data, fmt) if fmt.startswith("qti") else module.parse(data))


def serialize(fmt: str, items: list[QuestionData]) -> bytes:
    module = _module(fmt)
    return module.serialize(items, fmt) if fmt.startswith("qti") else module.serialize(items)
