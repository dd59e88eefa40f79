"""ResLib's Excel question template (.xlsx) to and from `QuestionData`; all seven types.

The sheet "题目" holds one question per row under the column titles of row 1:

    题型 | 题干 | 选项A … 选项T | 答案 | 解析 | 难度 | 知识点

Columns are found by their titles, so their order does not matter and any but 题型, 题干 and 答案 may be left out.
Twenty choice columns (not ten) because matching and ordering questions have up to twenty items; choice questions
still have at most ten. The sheet "说明" explains how to fill each type (`_notes`, `_guide`):

| 题型 (or the code)    | 选项                         | 答案                                                          |
|-----------------------|------------------------------|---------------------------------------------------------------|
| 单选 single_choice    | the choices                  | the letter of the correct choice: B                           |
| 多选 multiple_choice  | the choices                  | the letters of the correct choices: A,C (also AC, A、C, A；C) |
| 判断 true_false       | —                            | 对 / 错 (also 正确/错误, √/×, T/F, TRUE/FALSE)                |
| 填空 fill_blank       | —                            | blanks separated by ";", accepted alternatives by "|": 正|顺时针;停止 |
| 简答 short_answer     | —                            | the reference answer (may be empty)                           |
| 匹配 matching         | the items on the left        | their matches on the right, in the same order, by "|"         |
| 排序 ordering         | the items in correct order   | empty                                                         |

Full-width ；｜ count as ; |. In 答案 and 知识点 a backslash makes the next character plain (\\; \\| \\\\). 难度: 初级 /
中级 / 高级 — the labels of the resources' difficulty — or the codes basic / intermediate / advanced. 知识点:
names separated by ";". Title (QuestionData.title) has no column. Errors are reported per row ("第 5 行").

Reading uses openpyxl in read-only mode with cached values (a formula is never evaluated), after checking the
archive's unpacked size (a zip bomb is refused); writing puts every text through `reslib.core.xlsx.set_value`, so no
question text becomes a live formula in the exported sheet. `template()` is the workbook teachers download: the
guide and one example row per type, which import as seven valid questions.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from datetime import date, datetime, time

from django.utils import translation
from django.utils.translation import gettext, gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from reslib.core.xlsx import append_row
from reslib.resources.models import ResourceVersion

from ..interchange import CHOICE_RANGE, PAIR_RANGE, QuestionData
from ..models import QuestionType as T
from . import MAX_FILE_BYTES, MAX_ITEMS, FormatError, ParsedItem, check_count, check_size, checked, finished

QUESTIONS_SHEET = "题目"
GUIDE_SHEET = "说明"
LETTERS = "ABCDEFGHIJKLMNOPQRST"
OPTION_COLUMNS = [f"选项{letter}" for letter in LETTERS]
HEADERS = ["题型", "题干", *OPTION_COLUMNS, "答案", "解析", "难度", "知识点"]
REQUIRED = ("题型", "题干", "答案")
TYPE_NAMES = {T.SINGLE_CHOICE: "单选", T.MULTIPLE_CHOICE: "多选", T.TRUE_FALSE: "判断", T.FILL_BLANK: "填空",
              T.SHORT_ANSWER: "简答", T.MATCHING: "匹配", T.ORDERING: "排序"}
TRUE_WORDS = frozenset({"对", "正确", "是", "√", "✓", "T", "TRUE", "Y", "YES"})
FALSE_WORDS = frozenset({"错", "错误", "否", "×", "✗", "X", "F", "FALSE", "N", "NO"})
MAX_UNPACKED_BYTES = 4 * MAX_FILE_BYTES
LAST_ROW = MAX_ITEMS + 1 + 5_000  # the header, every question, and room for blank rows between them
BLANK_SEPARATORS = ";；"
ALTERNATIVE_SEPARATORS = "|｜"
CHOICE_SEPARATORS = re.compile(r"[\s,，、;；]+")


def _types() -> dict[str, str]:
    names = {}
    for qtype, name in TYPE_NAMES.items():
        names[name] = names[name + "题"] = names[qtype] = qtype
    return names


def _difficulty_labels() -> dict[str, str]:
    """Every spelling of a difficulty the template accepts → its code; the Chinese label is what is written."""
    spellings = {code: code for code in ResourceVersion.Difficulty.values}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            spellings.update({str(d.label).casefold(): d.value for d in ResourceVersion.Difficulty})
    return spellings


def _zh_difficulty(code: str) -> str:
    if not code:
        return ""
    with translation.override("zh-hans"):
        return str(ResourceVersion.Difficulty(code).label)


# reading

def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


def _split(text: str, separators: str, *, unescape: bool = True) -> list[str]:
    """Parts of a cell between separators; a backslash makes the next character plain (kept when `unescape` is
    False, for a second split of each part)."""
    parts, current, chars = [], [], iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            current.append(following if unescape else char + following)
        elif char in separators:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _letters(text: str) -> list[int] | None:
    text = unicodedata.normalize("NFKC", text).upper()
    letters = [c for part in CHOICE_SEPARATORS.split(text) for c in part]
    if not letters or any(c not in LETTERS for c in letters):
        return None
    return [LETTERS.index(c) for c in letters]


def _answer(qtype: str, text: str):
    if qtype == T.SINGLE_CHOICE:
        letters = _letters(text)
        return letters[0] if letters and len(letters) == 1 else None
    if qtype == T.MULTIPLE_CHOICE:
        return _letters(text)
    if qtype == T.TRUE_FALSE:
        word = unicodedata.normalize("NFKC", text).upper()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    if qtype == T.FILL_BLANK:
        return [[a for a in _split(blank, ALTERNATIVE_SEPARATORS) if a]
                for blank in _split(text, BLANK_SEPARATORS, unescape=False)]
    if qtype == T.MATCHING:
        return _split(text, ALTERNATIVE_SEPARATORS)
    if qtype == T.SHORT_ANSWER:
        return text
    return None


def _item(row_number: int, cells: dict[str, str], types: dict, difficulties: dict) -> ParsedItem:
    raw_type = cells.get("题型", "")
    qtype = types.get(raw_type, types.get(raw_type.lower(), raw_type))
    options = [cells.get(column, "") for column in OPTION_COLUMNS]
    while options and not options[-1]:
        options.pop()
    raw_difficulty = cells.get("难度", "")
    data = QuestionData(
        qtype=qtype, stem=cells.get("题干", ""), options=options, answer=_answer(qtype, cells.get("答案", "")),
        analysis=cells.get("解析", ""), difficulty=difficulties.get(raw_difficulty.casefold(), raw_difficulty),
        knowledge_points=[k for k in _split(cells.get("知识点", ""), BLANK_SEPARATORS + "\n") if k],
    )
    item = checked(gettext("Row %(row)d") % {"row": row_number}, data)
    if qtype == T.ORDERING and cells.get("答案"):
        item.errors.add("answer", "question.answer_invalid",
                        _("For an ordering question, put the items in their correct order in the choice columns "
                          "and leave 答案 empty."))
    return item


def _check_archive(data: bytes) -> None:
    unreadable = FormatError("question.file_unreadable",
                             _("The file is not an Excel workbook (.xlsx); save it as .xlsx and try again."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise unreadable from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise FormatError("question.file_too_large", _("The workbook unpacks to too much data."))


def _open(data: bytes):
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors) for a broken file
        raise FormatError("question.file_unreadable",
                          _("The file is not an Excel workbook (.xlsx); save it as .xlsx and try again.")) from None


def parse(data: bytes) -> list[ParsedItem]:
    check_size(data)
    _check_archive(data)
    workbook = _open(data)
    try:
        sheet = workbook[QUESTIONS_SHEET] if QUESTIONS_SHEET in workbook.sheetnames else workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [unicodedata.normalize("NFKC", _cell_text(v)) for v in next(rows, ())]
        columns = {name: index for index, name in enumerate(header) if name in HEADERS}
        if any(name not in columns for name in REQUIRED):
            raise FormatError("question.template_invalid",
                              _("The first row of the sheet 题目 must hold the column titles 题型, 题干 and 答案 "
                                "(download the template)."))
        types, difficulties = _types(), _difficulty_labels()
        items: list[ParsedItem] = []
        for row_number, row in enumerate(rows, start=2):
            if row_number > LAST_ROW:
                # read-only openpyxl yields every empty row up to the sheet's declared size: a tiny file that
                # declares row 10 000 000 would keep the request busy for half a minute
                raise FormatError("question.too_many_rows", _(
                    "The sheet goes on beyond row %(row)d; a file holds at most %(max)d questions. Delete the rows "
                    "below the questions or split the file.") % {"row": LAST_ROW, "max": MAX_ITEMS})
            cells = {name: _cell_text(row[index]) if index < len(row) else "" for name, index in columns.items()}
            if not any(cells.values()):
                continue
            check_count(len(items) + 1)
            items.append(_item(row_number, cells, types, difficulties))
    finally:
        workbook.close()
    return finished(items)


# writing

def _join(values, separator: str, specials: str) -> str:
    return separator.join("".join("\\" + c if c in specials + "\\" else c for c in v) for v in values)


def _answer_text(item: QuestionData) -> str:
    specials = BLANK_SEPARATORS + ALTERNATIVE_SEPARATORS
    if item.qtype == T.SINGLE_CHOICE:
        return LETTERS[item.answer]
    if item.qtype == T.MULTIPLE_CHOICE:
        return ",".join(LETTERS[i] for i in sorted(item.answer))
    if item.qtype == T.TRUE_FALSE:
        return "对" if item.answer else "错"
    if item.qtype == T.FILL_BLANK:
        return ";".join(_join(accepted, "|", specials) for accepted in item.answer)
    if item.qtype == T.MATCHING:
        return _join(item.answer, "|", specials)
    if item.qtype == T.SHORT_ANSWER:
        return item.answer or ""
    return ""


def _questions_sheet(sheet, items: list[QuestionData]) -> None:
    append_row(sheet, HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    for index, width in ((1, 8), (2, 48)):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    types = DataValidation(type="list", formula1='"' + ",".join(TYPE_NAMES.values()) + '"', allow_blank=True)
    difficulty_column = sheet.cell(row=1, column=HEADERS.index("难度") + 1).column_letter
    difficulties = DataValidation(
        type="list", formula1='"' + ",".join(_zh_difficulty(d) for d in ResourceVersion.Difficulty.values) + '"',
        allow_blank=True)
    types.add("A2:A1048576")
    difficulties.add(f"{difficulty_column}2:{difficulty_column}1048576")
    sheet.add_data_validation(types)
    sheet.add_data_validation(difficulties)
    for item in items:
        options = list(item.options) + [""] * (len(OPTION_COLUMNS) - len(item.options))
        append_row(sheet, [TYPE_NAMES[item.qtype], item.stem, *options, _answer_text(item), item.analysis,
                           _zh_difficulty(item.difficulty),
                           _join(item.knowledge_points, ";", BLANK_SEPARATORS + "\n")])


def _guide() -> list[tuple[str, str, str]]:
    choices = {"low": CHOICE_RANGE[0], "high": CHOICE_RANGE[1]}
    pairs = {"low": PAIR_RANGE[0], "high": PAIR_RANGE[1]}
    how = {
        T.SINGLE_CHOICE: gettext("The choices in 选项A, 选项B, … (%(low)d to %(high)d). 答案: the letter of the "
                                 "correct choice.") % choices,
        T.MULTIPLE_CHOICE: gettext("The choices in 选项A, 选项B, … (%(low)d to %(high)d). 答案: the letters of all "
                                   "correct choices, separated by commas.") % choices,
        T.TRUE_FALSE: gettext("No choices. 答案: 对 or 错."),
        T.FILL_BLANK: gettext("Mark each blank in the stem with three underscores ___ (without a mark, the blank "
                              "follows the stem). 答案: the answers of the blanks in order, separated by semicolons; "
                              "several accepted answers of one blank separated by |."),
        T.SHORT_ANSWER: gettext("No choices. 答案: the reference answer for the teacher who grades (may be empty)."),
        T.MATCHING: gettext("The items on the left in 选项A, 选项B, … (%(low)d to %(high)d). 答案: the match of "
                            "each item, in the same order, separated by |.") % pairs,
        T.ORDERING: gettext("The items in their correct order in 选项A, 选项B, … (%(low)d to %(high)d); learners "
                            "see them shuffled. 答案: leave empty.") % pairs,
    }
    header = (gettext("Question type (题型)"), gettext("How to fill the row"), gettext("Example of 答案"))
    return [header, *((TYPE_NAMES[e.qtype], how[e.qtype], _answer_text(e)) for e in EXAMPLES)]


def _notes() -> list[str]:
    return [
        gettext("Fill one question per row of the sheet 题目, from row 2 on. Keep the column titles of row 1; only "
                "题型, 题干 and 答案 are required."),
        gettext("题型: 单选, 多选, 判断, 填空, 简答, 匹配 or 排序."),
        gettext("难度: 初级, 中级 or 高级; may be empty."),
        gettext("知识点: names of knowledge points of the library, separated by semicolons; may be empty."),
        gettext("解析: the explanation learners see after answering; may be empty."),
        gettext("In 答案 and 知识点 a backslash makes the next character plain text: \\; for a semicolon, \\| for a "
                "bar, \\\\ for a backslash that belong to an answer."),
        gettext("The example rows in the sheet 题目 show each type: replace them with your questions."),
    ]


def _guide_sheet(sheet) -> None:
    for note in _notes():
        append_row(sheet, [note])
    append_row(sheet, [])
    first = sheet.max_row + 1
    for row in _guide():
        append_row(sheet, list(row))
    for cell in sheet[first]:
        cell.font = Font(bold=True)
    for letter, width in (("A", 16), ("B", 90), ("C", 30)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def serialize(items: list[QuestionData]) -> bytes:
    workbook = Workbook()
    questions = workbook.active
    questions.title = QUESTIONS_SHEET
    _questions_sheet(questions, items)
    _guide_sheet(workbook.create_sheet(GUIDE_SHEET))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


EXAMPLES = [
    QuestionData(T.SINGLE_CHOICE, "数控车床编程中，G00 指令的功能是（ ）。", ["直线插补", "快速定位", "圆弧插补", "暂停"],
                 1, analysis="G00 使刀具以机床设定的最快速度移动到目标点，不进行切削。", difficulty="basic",
                 knowledge_points=["数控编程基础"]),
    QuestionData(T.MULTIPLE_CHOICE, "下列属于数控车床常用坐标轴的有（ ）。", ["X 轴", "Y 轴", "Z 轴"], [0, 2],
                 analysis="卧式数控车床一般只有 X、Z 两个坐标轴。", difficulty="intermediate",
                 knowledge_points=["数控编程基础", "机床坐标系"]),
    QuestionData(T.TRUE_FALSE, "数控车床的 Z 轴与主轴轴线平行。", [], True, difficulty="basic",
                 knowledge_points=["机床坐标系"]),
    QuestionData(T.FILL_BLANK, "M03 指令使主轴___转，M05 指令使主轴___。", [], [["正", "顺时针"], ["停止"]],
                 difficulty="basic", knowledge_points=["数控编程基础"]),
    QuestionData(T.SHORT_ANSWER, "简述数控车床对刀的目的。", [],
                 "确定工件坐标系在机床坐标系中的位置，使程序中的坐标与实际加工位置一致。",
                 difficulty="advanced", knowledge_points=["对刀"]),
    QuestionData(T.MATCHING, "将下列 G 代码与其功能对应。", ["G01", "G02", "G03"],
                 ["直线插补", "顺时针圆弧插补", "逆时针圆弧插补"], difficulty="intermediate",
                 knowledge_points=["数控编程基础"]),
    QuestionData(T.ORDERING, "将数控加工的步骤按先后顺序排列。", ["分析零件图样", "编写加工程序", "程序校验与试切", "正式加工"],
                 None, difficulty="intermediate", knowledge_points=["数控加工工艺"]),
]


def template() -> bytes:
    """The template to download: both sheets, one example row per type."""
    return serialize(EXAMPLES)
