"""GIFT import and export.

The fixtures in /work/shared/fixtures/gift (35 `*.gift` inputs with the parse tree `*.json` the reference PEG grammar
gives) come from fuhrmanator/GIFT-grammar-PEG.js @84236c6 `tests/questions/`, MIT licence (the licence text is
`LICENSE-GIFT-grammar-PEG.js.txt` beside them; see /work/shared/fixtures/README.md). Every fixture is parsed and
compared with its tree on what ResLib keeps: type, stem, choices, correctness, feedback (and title, tags). Where
ResLib reads a file as Moodle does and the grammar's tree says something else, the comparison states Moodle's rule.
"""

import json
import re
from pathlib import Path

import pytest
from django.utils import translation

from reslib.questions import formats
from reslib.questions.formats import FormatError, gift, html_to_text
from reslib.questions.interchange import QuestionData, normalised
from reslib.questions.models import QuestionType as T
from tests.questions.factories import SAMPLES

FIXTURES = Path("/work/shared/fixtures/gift")
UNSUPPORTED = {"Description", "Numerical"}


def codes(item):
    return {code for _field, code, _message in item.errors.errors}


def norm(text: str) -> str:
    """White space folded; a blank with the spaces the grammar pads it with is the same blank."""
    return re.sub(r"\s*_{3,}\s*", "___", " ".join((text or "").split()))


def plain(node) -> str:
    if not node:
        return ""
    return html_to_text(node["text"]) if node["format"] == "html" else node["text"]


def expected_correct(question) -> list[int]:
    """Moodle's rule: with "=" choices only the full-credit ones are right; without, every positive weight."""
    choices = question["choices"]
    if any(c["isCorrect"] for c in choices):
        return [i for i, c in enumerate(choices) if c["isCorrect"] and (c["weight"] is None or c["weight"] >= 100)]
    return [i for i, c in enumerate(choices) if (c["weight"] or 0) > 0]


def expected_feedback(question) -> list[str]:
    lines = [plain(question["globalFeedback"])] if question.get("globalFeedback") else []
    if question["type"] == "TF":
        # The grammar names the two feedbacks by position; Moodle shows the first for a wrong response, the second
        # for a right one, so for a true statement the first is what a learner answering "false" reads.
        first, second = plain(question["trueFeedback"]).strip(), plain(question["falseFeedback"]).strip()
        when_true, when_false = (second, first) if question["isTrue"] else (first, second)
        lines += [f"{label}: {text}" for label, text in (("True", when_true), ("False", when_false)) if text]
    elif question["type"] in ("MC", "Short"):
        lines += [f"{plain(c['text'])}: {plain(c['feedback'])}" for c in question["choices"]
                  if c["feedback"] and plain(c["feedback"]).strip()]
    return lines


def check_against_tree(question, item):
    kind = question["type"]
    if kind in UNSUPPORTED:
        assert item.data is None and codes(item) == {"question.kind_unsupported"}
        return
    assert not item.errors, item.errors.errors
    data = item.data
    assert norm(data.stem) == norm(plain(question["stem"]))
    assert data.title == (question["title"] or "")
    assert data.knowledge_points == (question["tags"] or [])
    expected = "\n".join(expected_feedback(question))
    assert [norm(line) for line in data.analysis.splitlines()] == [norm(line) for line in expected.splitlines()]
    if kind == "MC":
        correct = expected_correct(question)
        assert data.options == [plain(c["text"]) for c in question["choices"]]
        single = any(c["isCorrect"] for c in question["choices"]) and len(correct) == 1
        assert data.qtype == (T.SINGLE_CHOICE if single else T.MULTIPLE_CHOICE)
        assert data.answer == (correct[0] if single else correct)
    elif kind == "Short":
        accepted = [plain(c["text"]) for c in question["choices"]
                    if c["isCorrect"] and (c["weight"] is None or c["weight"] >= 100)]
        assert (data.qtype, data.answer) == (T.FILL_BLANK, [accepted])
    elif kind == "TF":
        assert (data.qtype, data.answer) == (T.TRUE_FALSE, question["isTrue"])
    elif kind == "Essay":
        assert (data.qtype, data.answer) == (T.SHORT_ANSWER, "")
    elif kind == "Matching":
        assert data.qtype == T.MATCHING
        assert data.options == [plain(p["subquestion"]) for p in question["matchPairs"]]
        assert data.answer == [p["subanswer"] for p in question["matchPairs"]]
    else:
        pytest.fail(f"fixture kind {kind} not covered")


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.gift")))
def test_every_fixture_reads_as_its_reference_tree(name):
    tree = [q for q in json.loads((FIXTURES / f"{name}.json").read_text()) if q["type"] != "Category"]
    data = (FIXTURES / f"{name}.gift").read_bytes()
    if not tree:
        with pytest.raises(FormatError) as refused:
            gift.parse(data)
        assert refused.value.code == "question.file_empty"
        return
    with translation.override("en"):
        items = gift.parse(data)
    assert len(items) == len(tree)
    for question, item in zip(tree, items):
        check_against_tree(question, item)


def test_the_fixtures_cover_every_kind_gift_has():
    kinds = {q["type"] for p in FIXTURES.glob("*.json") for q in json.loads(p.read_text())}
    assert kinds == {"MC", "Short", "TF", "Essay", "Matching", "Description", "Numerical", "Category"}


ROUND_TRIP = [
    QuestionData(T.SINGLE_CHOICE, **SAMPLES[T.SINGLE_CHOICE], analysis="先建立工件坐标系。", difficulty="basic",
                 knowledge_points=["对刀", "坐标系"], title="对刀 1"),
    QuestionData(T.MULTIPLE_CHOICE, **SAMPLES[T.MULTIPLE_CHOICE], difficulty="intermediate"),
    QuestionData(T.MULTIPLE_CHOICE, "只有一个正确选项的多选题", ["甲", "乙", "丙"], [1]),
    QuestionData(T.TRUE_FALSE, **SAMPLES[T.TRUE_FALSE], analysis="第一行\n第二行"),
    QuestionData(T.TRUE_FALSE, "错误的说法。", [], False, difficulty="advanced"),
    QuestionData(T.FILL_BLANK, **SAMPLES[T.FILL_BLANK], knowledge_points=["坐标系"]),
    QuestionData(T.FILL_BLANK, "没有空位标记，答案在题干之后：", [], [["TRUE", "%50%", "#1", "a=b"]]),
    QuestionData(T.SHORT_ANSWER, **SAMPLES[T.SHORT_ANSWER], analysis="评分要点：步骤完整。"),
    QuestionData(T.SHORT_ANSWER, "没有参考答案的简答题", [], ""),
    QuestionData(T.MATCHING, **SAMPLES[T.MATCHING], knowledge_points=["含]的知识点", "[tag:x]"]),
    QuestionData(T.MATCHING, "右侧含特殊字符", ["x<1", "[c]"], ["y<2 &amp; z", "[plain]q"]),
    QuestionData(T.SHORT_ANSWER, "解析以参考答案开头、没有参考答案", [], "", analysis="参考答案：见教材第三章。"),
    QuestionData(T.SHORT_ANSWER, "解析与参考答案都有标记", [], "先对刀", analysis="参考答案：见教材\n第二行"),
    QuestionData(T.SINGLE_CHOICE, "Escapes ~ = # { } : \\ and <b>HTML</b> & more\non two lines",
                 ["[html] not a marker", "%100% not a weight", "a -> b", "{x}"], 2, title="a::b {c}",
                 analysis="#### not a separator"),
]


@pytest.mark.parametrize("question", ROUND_TRIP, ids=lambda q: f"{q.qtype}-{q.stem[:6]}")
def test_every_type_gift_can_express_reads_back_as_written(question):
    question = normalised(question)
    items = gift.parse(gift.serialize([question]))
    assert [(i.data, i.errors.errors) for i in items] == [(question, [])]


def test_a_file_of_many_questions_reads_back_in_order():
    questions = [normalised(q) for q in ROUND_TRIP]
    items = formats.parse("gift", formats.serialize("gift", questions))
    assert [i.data for i in items] == questions


@pytest.mark.parametrize("question", [
    QuestionData(T.ORDERING, **SAMPLES[T.ORDERING]),
    QuestionData(T.FILL_BLANK, "___与___", [], [["甲"], ["乙"]]),
    QuestionData(T.FILL_BLANK, "题干", [], [["a->b"]]),
    QuestionData(T.MATCHING, "题干", ["a->b", "c"], ["1", "2"]),
])
def test_what_gift_cannot_express_is_refused_not_dropped(question):
    with pytest.raises(FormatError) as refused:
        gift.serialize([QuestionData(T.TRUE_FALSE, "可以导出", [], True), question])
    assert refused.value.code == "question.export_unsupported"


def test_the_export_names_the_type_it_cannot_express():
    with translation.override("zh-hans"), pytest.raises(FormatError) as refused:
        gift.serialize([QuestionData(T.ORDERING, **SAMPLES[T.ORDERING])])
    assert "排序" in str(refused.value.message)


def test_answers_in_the_middle_of_the_stem_become_a_blank():
    items = gift.parse("::t::Two plus two equals {=four =4}.\n\nMoodle writes {~a =b ~c} here.".encode())
    assert (items[0].data.qtype, items[0].data.stem, items[0].data.answer) == (
        T.FILL_BLANK, "Two plus two equals ___.", [["four", "4"]])
    assert (items[1].data.stem, items[1].data.answer) == ("Moodle writes ___ here.", 1)


def test_true_and_false_are_read_in_upper_case_only_as_moodle_does():
    items = gift.parse("甲{TRUE}\n\n乙{F#错了#对了}\n\n丙{true}".encode())
    assert [(i.data.qtype, i.data.answer) for i in items] == [
        (T.TRUE_FALSE, True), (T.TRUE_FALSE, False), (T.FILL_BLANK, [["true"]])]


def test_partial_credit_answers_are_not_accepted_answers():
    item, = gift.parse("Best animal?{=Frog =%50%Cat =%0%* ~%100%Dog}".encode())
    assert (item.data.qtype, item.data.options, item.data.answer) == (T.SINGLE_CHOICE, ["Frog", "Cat", "*", "Dog"], 0)
    item, = gift.parse("Best animal?{=Frog =%50%Cat =%100%Toad}".encode())
    assert item.data.answer == [["Frog", "Toad"]]


def test_an_essay_reference_answer_comes_back_from_the_general_feedback():
    item, = gift.parse("Explain.{####Key points.\\n参考答案：Because.}".encode())
    assert (item.data.qtype, item.data.answer, item.data.analysis) == (T.SHORT_ANSWER, "Because.", "Key points.")


def test_category_and_tags_become_knowledge_points_and_difficulty():
    text = """$CATEGORY: $course$/top/数控编程/对刀

// [id:7] [tag:试切法] [tag:difficulty:intermediate]
试切法先车端面。{T}

另一题。{F}

$CATEGORY: $course$/top

无分类。{T}
"""
    items = gift.parse(text.encode())
    assert [(i.data.knowledge_points, i.data.difficulty) for i in items] == [
        (["对刀", "试切法"], "intermediate"), (["对刀"], ""), ([], "")]


def test_a_broken_item_is_reported_with_its_number_and_line_and_the_others_still_read():
    text = ("// heading\n\n第一题 {T}\n\n第二题 {=甲 ~乙\n\n第三题 {~甲 ~乙}\n\n第四题 {#3:1}\n\n第五题 {T}\n\n"
            "第六题{T}\n// [tag:difficulty:hard]")
    with translation.override("zh-hans"):
        items = gift.parse(text.encode())
    assert [i.location for i in items] == ["第 1 题（第 3 行）", "第 2 题（第 5 行）", "第 3 题（第 7 行）",
                                           "第 4 题（第 9 行）", "第 5 题（第 11 行）", "第 6 题（第 13 行）"]
    assert [codes(i) for i in items] == [set(), {"question.syntax_invalid"}, {"question.answer_invalid"},
                                         {"question.kind_unsupported"}, set(), {"question.difficulty_invalid"}]
    # Content that breaks a rule keeps what was read (for the report); what could not be read as a question has none.
    assert items[1].data is None and items[3].data is None
    assert (items[2].data.qtype, items[2].data.options) == (T.MULTIPLE_CHOICE, ["甲", "乙"])
    assert "不支持" in str(items[3].errors.errors[0][2])


@pytest.mark.parametrize("data", [b"", b"\n\n// only comments\n\n", b"$CATEGORY: top/a\n"])
def test_a_file_without_questions_is_refused(data):
    with pytest.raises(FormatError) as refused:
        formats.parse("gift", data)
    assert refused.value.code == "question.file_empty"


def test_binary_files_are_refused_and_gb18030_text_is_read():
    with pytest.raises(FormatError) as refused:
        gift.parse(b"PK\x03\x04\x00\x00binary")
    assert refused.value.code == "question.file_unreadable"
    item, = gift.parse("数控车床的 Z 轴与主轴平行。{T}".encode("gb18030"))
    assert item.data.stem == "数控车床的 Z 轴与主轴平行。"


def test_files_over_the_limits_are_refused(monkeypatch):
    monkeypatch.setattr(formats, "MAX_ITEMS", 3)
    with pytest.raises(FormatError) as refused:
        gift.parse("\n\n".join(["题 {T}"] * 4).encode())
    assert refused.value.code == "question.too_many_items"
    assert len(gift.parse("\n\n".join(["题 {T}"] * 3).encode())) == 3
    monkeypatch.setattr(formats, "MAX_FILE_BYTES", 10)
    with pytest.raises(FormatError) as refused:
        gift.parse("题 {T}\n\n题 {F}".encode())
    assert refused.value.code == "question.file_too_large"
