"""The Excel question template: reading rows as teachers fill them, writing them back, the downloadable template."""

import io
import zipfile

import pytest
from django.utils import translation
from openpyxl import Workbook, load_workbook

from reslib.questions import formats
from reslib.questions.formats import FormatError, excel
from reslib.questions.interchange import QuestionData, normalised
from reslib.questions.models import QuestionType as T
from tests.questions.factories import SAMPLES


def codes(item):
    return {code for _field, code, _message in item.errors.errors}


def workbook(rows, headers=("题型", "题干", "选项A", "选项B", "选项C", "答案", "解析", "难度", "知识点"),
             title="题目") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_reads_as_one_valid_question_of_each_type():
    with translation.override("en"):
        items = excel.parse(excel.template())
    assert [(i.location, codes(i)) for i in items] == [(f"Row {n}", set()) for n in range(2, 9)]
    assert [i.data.qtype for i in items] == list(T.values)
    assert [i.data for i in items] == [normalised(e) for e in excel.EXAMPLES]


def test_the_template_explains_each_type_in_chinese():
    with translation.override("zh-hans"):
        book = load_workbook(io.BytesIO(excel.template()))
    assert book.sheetnames == ["题目", "说明"]
    guide = [[c.value for c in row] for row in book["说明"].iter_rows()]
    text = "\n".join(str(v) for row in guide for v in row if v)
    assert "每行填写一道题" in text and "反斜杠" in text
    by_type = {row[0]: row for row in guide if row and row[0] in excel.TYPE_NAMES.values()}
    assert set(by_type) == set(excel.TYPE_NAMES.values())
    assert by_type["填空"][2] == "正|顺时针;停止" and "下划线" in by_type["填空"][1]
    assert [c.value for c in book["题目"][1]] == excel.HEADERS


ROUND_TRIP = [
    QuestionData(T.SINGLE_CHOICE, **SAMPLES[T.SINGLE_CHOICE], analysis="先建立工件坐标系。", difficulty="basic",
                 knowledge_points=["对刀", "含;分号的知识点", "反斜杠\\"]),
    QuestionData(T.MULTIPLE_CHOICE, **SAMPLES[T.MULTIPLE_CHOICE], difficulty="intermediate"),
    QuestionData(T.MULTIPLE_CHOICE, "十个选项", [f"选项{i}" for i in range(10)], [0, 9]),
    QuestionData(T.TRUE_FALSE, **SAMPLES[T.TRUE_FALSE], analysis="第一行\n第二行"),
    QuestionData(T.TRUE_FALSE, "错误的说法。", [], False, difficulty="advanced"),
    QuestionData(T.FILL_BLANK, **SAMPLES[T.FILL_BLANK]),
    QuestionData(T.FILL_BLANK, "___与___", [], [["a;b", "c|d", "e\\f"], ["全角；｜"]]),
    QuestionData(T.SHORT_ANSWER, **SAMPLES[T.SHORT_ANSWER]),
    QuestionData(T.SHORT_ANSWER, "没有参考答案", [], ""),
    QuestionData(T.MATCHING, **SAMPLES[T.MATCHING]),
    QuestionData(T.MATCHING, "二十对", [f"左{i}" for i in range(20)], [f"右|{i}" for i in range(20)]),
    QuestionData(T.ORDERING, **SAMPLES[T.ORDERING], difficulty="basic"),
    QuestionData(T.SINGLE_CHOICE, '=HYPERLINK("http://example.invalid","点我")', ["+1", "@SUM(A1)"], 0),
]


@pytest.mark.parametrize("question", ROUND_TRIP, ids=lambda q: f"{q.qtype}-{q.stem[:6]}")
def test_every_type_reads_back_as_written(question):
    question = normalised(question)
    items = excel.parse(excel.serialize([question]))
    assert [(i.data, i.errors.errors) for i in items] == [(question, [])]


def test_a_file_of_many_questions_reads_back_in_order():
    questions = [normalised(q) for q in ROUND_TRIP]
    items = formats.parse("xlsx", formats.serialize("xlsx", questions))
    assert [i.data for i in items] == questions


def test_text_that_looks_like_a_formula_stays_text_in_the_export():
    data = excel.serialize([normalised(ROUND_TRIP[-1])])
    sheet = load_workbook(io.BytesIO(data))["题目"]
    assert sheet["B2"].data_type == "s" and sheet["B2"].value.startswith("=HYPERLINK")
    assert sheet["B2"].quotePrefix and sheet["C2"].quotePrefix


def test_rows_are_read_as_teachers_write_them():
    headers = ("知识点", "题干", "题型", "答案", "选项A", "选项B", "选项C", "难度", "备注")
    data = workbook([
        ("对刀；坐标系", "单选题干", "单选题", "ｂ", "甲", "乙", "丙", "中级", "ignored"),
        ("", "多选题干", "MULTIPLE_CHOICE", "a、c", "甲", "乙", "丙", "Advanced"),
        ("", "多选紧写", "多选", "AC", "甲", "乙", "丙", "basic"),
        (None, "判断题干", "判断", True),
        (None, "判断题干二", "判断", "×"),
        (None, "填空题干 ___", "填空", 4),
        (None, "匹配题干", "匹配", "一｜二", "甲", "乙"),
    ], headers=headers)
    items = excel.parse(data)
    assert [codes(i) for i in items] == [set()] * 7
    d = [i.data for i in items]
    assert (d[0].qtype, d[0].answer, d[0].difficulty, d[0].knowledge_points) == (
        T.SINGLE_CHOICE, 1, "intermediate", ["对刀", "坐标系"])
    assert [(x.qtype, x.answer, x.difficulty) for x in d[1:3]] == [
        (T.MULTIPLE_CHOICE, [0, 2], "advanced"), (T.MULTIPLE_CHOICE, [0, 2], "basic")]
    assert [(x.qtype, x.answer) for x in d[3:]] == [
        (T.TRUE_FALSE, True), (T.TRUE_FALSE, False), (T.FILL_BLANK, [["4"]]), (T.MATCHING, ["一", "二"])]


def test_each_broken_row_is_reported_with_its_row_number_and_the_others_still_read():
    data = workbook([
        ("单选", "好的题", "甲", "乙", None, "A"),
        (None,),
        ("问答", "未知题型", None, None, None, "A"),
        ("单选", "答案字母超出", "甲", "乙", None, "Z"),
        ("判断", "判断不清", None, None, None, "也许"),
        ("排序", "排序不应有答案", "一", "二", None, "B,A"),
        ("填空", "___与___", None, None, None, "只有一空"),
        ("匹配", "匹配缺一", "甲", "乙", None, "一"),
        ("判断", "带选项的判断", "对", "错", None, "对", None, "很难"),
    ])
    with translation.override("zh-hans"):
        items = excel.parse(data)
    assert [i.location for i in items] == [f"第 {n} 行" for n in (2, 4, 5, 6, 7, 8, 9, 10)]
    assert [codes(i) for i in items] == [
        set(), {"question.type_invalid"}, {"question.answer_invalid"}, {"question.answer_invalid"},
        {"question.answer_invalid"}, {"question.answer_invalid"}, {"question.answer_invalid"},
        {"question.options_unexpected", "question.difficulty_invalid"}]
    assert "排序题" in str(items[4].errors.errors[0][2])
    assert all(i.data is not None for i in items)


def make_zip(members) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("data, code", [
    (b"", "question.file_unreadable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old .xls", "question.file_unreadable"),
    (b"PK\x03\x04 truncated", "question.file_unreadable"),
    ("题型,题干,答案\n判断,csv,对".encode(), "question.file_unreadable"),
])
def test_files_that_are_not_workbooks_are_refused(data, code):
    with pytest.raises(FormatError) as refused:
        excel.parse(data)
    assert refused.value.code == code


def test_a_zip_that_is_not_a_workbook_is_refused():
    with pytest.raises(FormatError) as refused:
        excel.parse(make_zip({"hello.txt": "hi"}))
    assert refused.value.code == "question.file_unreadable"


def test_a_sheet_without_the_required_titles_or_without_rows_is_refused():
    with pytest.raises(FormatError) as refused:
        excel.parse(workbook([("判断", "题", "对")], headers=("type", "stem", "answer")))
    assert refused.value.code == "question.template_invalid"
    with pytest.raises(FormatError) as refused:
        excel.parse(workbook([(None,), ()]))
    assert refused.value.code == "question.file_empty"


def test_a_first_sheet_with_another_name_is_read():
    items = excel.parse(workbook([("判断", "题", None, None, None, "对")], title="Sheet1"))
    assert items[0].data.answer is True


def test_files_over_the_limits_are_refused(monkeypatch):
    rows = [("判断", f"题{i}", None, None, None, "对") for i in range(3)]
    monkeypatch.setattr(formats, "MAX_ITEMS", 2)
    with pytest.raises(FormatError) as refused:
        excel.parse(workbook(rows))
    assert refused.value.code == "question.too_many_items"
    monkeypatch.setattr(excel, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(FormatError) as refused:
        excel.parse(workbook(rows[:1]))
    assert refused.value.code == "question.file_too_large"


def test_a_sheet_that_declares_a_million_rows_is_refused_without_reading_them():
    book = Workbook()
    sheet = book.active
    sheet.title = "题目"
    sheet.append(["题型", "题干", "答案"])
    sheet.append(["判断", "第一题", "对"])
    sheet.cell(row=1_000_000, column=1, value="判断")  # a tiny file; read-only openpyxl yields every row up to it
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(FormatError) as refused:
        excel.parse(out.getvalue())
    assert refused.value.code == "question.too_many_rows"
    assert "25001" in str(refused.value.message)


def test_blank_rows_between_questions_are_skipped():
    items = excel.parse(workbook([("判断", "题一", None, None, None, "对"), *[(None,)] * 50,
                                  ("判断", "题二", None, None, None, "错")]))
    assert [(item.location, item.data.answer) for item in items] == [("第 2 行", True), ("第 53 行", False)]
