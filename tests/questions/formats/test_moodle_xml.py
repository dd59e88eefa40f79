"""Moodle XML import and export. The sample file is written the way Moodle's own export (question/format/xml) and
the qtype_ordering plugin write questions."""

import pytest
from django.utils import translation

from reslib.questions import formats
from reslib.questions.formats import FormatError, html_to_text, moodle_xml
from reslib.questions.interchange import QuestionData, normalised
from reslib.questions.models import QuestionType as T
from tests.questions.factories import SAMPLES

SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<!-- question: 0  -->
  <question type="category">
    <category><text>$course$/top/数控车床/对刀</text></category>
    <info format="moodle_auto_format"><text></text></info>
  </question>
  <question type="multichoice">
    <name><text>Q1</text></name>
    <questiontext format="html">
      <text><![CDATA[<p>Which is <b>right</b> &amp; why?</p><p>Second&nbsp;paragraph</p>]]></text>
    </questiontext>
    <generalfeedback format="html"><text>&lt;p&gt;Because.&lt;/p&gt;</text></generalfeedback>
    <defaultgrade>1.0000000</defaultgrade>
    <penalty>0.3333333</penalty>
    <hidden>0</hidden>
    <single>true</single>
    <shuffleanswers>true</shuffleanswers>
    <answernumbering>abc</answernumbering>
    <answer fraction="0" format="html"><text>&lt;p&gt;wrong &amp;lt;tag&amp;gt;&lt;/p&gt;</text>
      <feedback format="html"><text>No.</text></feedback></answer>
    <answer fraction="50" format="html"><text>half</text></answer>
    <answer fraction="99.9999900" format="html"><text>right</text></answer>
    <tags><tag><text>试切法</text></tag><tag><text>difficulty:advanced</text></tag></tags>
  </question>
  <question type="multichoice">
    <name><text>Pick the two</text></name>
    <questiontext format="moodle_auto_format"><text>Pick
the two</text></questiontext>
    <single>false</single>
    <answer fraction="50"><text>a</text></answer>
    <answer fraction="-100"><text>b</text></answer>
    <answer fraction="50"><text>c</text></answer>
  </question>
  <question type="truefalse">
    <name><text>tf</text></name>
    <questiontext format="plain_text"><text>The sun rises in the west.</text></questiontext>
    <answer fraction="0" format="moodle_auto_format"><text>true</text>
      <feedback format="moodle_auto_format"><text>It rises in the east.</text></feedback></answer>
    <answer fraction="100" format="moodle_auto_format"><text>false</text>
      <feedback format="moodle_auto_format"><text>Right.</text></feedback></answer>
  </question>
  <question type="shortanswer">
    <name><text>sa</text></name>
    <questiontext format="html"><text>&lt;p&gt;_____ is the largest continent.&lt;/p&gt;</text></questiontext>
    <usecase>0</usecase>
    <answer fraction="100" format="moodle_auto_format"><text>Asia</text></answer>
    <answer fraction="100" format="moodle_auto_format"><text>a&lt;b</text></answer>
    <answer fraction="50" format="moodle_auto_format"><text>Eurasia</text></answer>
  </question>
  <question type="essay">
    <name><text>essay</text></name>
    <questiontext format="html"><text>&lt;p&gt;Explain.&lt;/p&gt;</text></questiontext>
    <responseformat>editor</responseformat>
    <graderinfo format="html"><text>&lt;p&gt;Key points.&lt;/p&gt;</text></graderinfo>
  </question>
  <question type="matching">
    <name><text>m</text></name>
    <questiontext format="html"><text>Match.</text></questiontext>
    <subquestion format="html"><text>Canada</text><answer><text>Ottawa</text></answer></subquestion>
    <subquestion format="html"><text>Italy</text><answer><text>Rome</text></answer></subquestion>
    <subquestion format="html"><text></text><answer><text>Paris</text></answer></subquestion>
  </question>
  <question type="ordering">
    <name><text>o</text></name>
    <questiontext format="html"><text>Order.</text></questiontext>
    <layouttype>VERTICAL</layouttype>
    <answer fraction="2.0000000" format="html"><text>Object</text></answer>
    <answer fraction="1.0000000" format="html"><text>Modular</text></answer>
    <answer fraction="3.0000000" format="html"><text>Oriented</text></answer>
  </question>
  <question type="multianswer">
    <name><text>cloze</text></name>
    <questiontext format="html"><text><![CDATA[<p>{1:SHORTANSWER:=Asia~%100%Asien~%50%Eurasia}
      and {:SA:=a\\}b#fb}</p>]]></text></questiontext>
  </question>
  <question type="multianswer">
    <name><text>cloze choices</text></name>
    <questiontext format="html"><text>{1:MULTICHOICE:=a~b} and {1:SA:=c}</text></questiontext>
  </question>
  <question type="numerical">
    <name><text>n</text></name>
    <questiontext format="html"><text>2+2?</text></questiontext>
    <answer fraction="100"><text>4</text><tolerance>0</tolerance></answer>
  </question>
  <question type="category">
    <category><text>$course$/top</text></category>
  </question>
  <question type="description">
    <name><text>d</text></name>
    <questiontext format="html"><text>Read this.</text></questiontext>
  </question>
</quiz>
"""


def codes(item):
    return {code for _field, code, _message in item.errors.errors}


@pytest.fixture
def items():
    with translation.override("en"):
        return moodle_xml.parse(SAMPLE.encode())


def test_each_moodle_type_maps_to_its_resLib_type(items):
    data = [i.data for i in items]
    lines = [n for n, text in enumerate(SAMPLE.splitlines(), 1) if "<question type=" in text and "category" not in text]
    assert [i.location for i in items] == [f"Question {i} (line {n})" for i, n in enumerate(lines, 1)]
    assert all(d.knowledge_points[:1] == ["对刀"] for d in data[:8])
    assert all(not i.errors for i in items[:8]), [i.errors.errors for i in items]
    single = data[0]
    assert (single.qtype, single.stem, single.options, single.answer) == (
        T.SINGLE_CHOICE, "Which is right & why?\n\nSecond paragraph", ["wrong <tag>", "half", "right"], 2)
    assert (single.title, single.analysis) == ("Q1", "Because.\nwrong <tag>: No.")
    assert (single.knowledge_points, single.difficulty) == (["对刀", "试切法"], "advanced")
    assert (data[1].qtype, data[1].stem, data[1].answer, data[1].title) == (
        T.MULTIPLE_CHOICE, "Pick\nthe two", [0, 2], "Pick the two")
    assert (data[2].qtype, data[2].answer, data[2].analysis) == (
        T.TRUE_FALSE, False, "True: It rises in the east.\nFalse: Right.")
    assert (data[3].qtype, data[3].stem, data[3].answer) == (
        T.FILL_BLANK, "_____ is the largest continent.", [["Asia", "a<b"]])
    assert (data[4].qtype, data[4].stem, data[4].answer) == (T.SHORT_ANSWER, "Explain.", "Key points.")
    assert (data[5].qtype, data[5].options, data[5].answer) == (T.MATCHING, ["Canada", "Italy"], ["Ottawa", "Rome"])
    assert (data[6].qtype, data[6].options) == (T.ORDERING, ["Modular", "Object", "Oriented"])
    assert (data[7].qtype, data[7].stem, data[7].answer) == (T.FILL_BLANK, "___ and ___", [["Asia", "Asien"], ["a}b"]])


def test_kinds_without_a_resLib_type_are_reported_not_dropped(items):
    assert len(items) == 11
    for item in items[8:]:
        assert item.data is None and codes(item) == {"question.kind_unsupported"}
    assert "MULTICHOICE" in str(items[8].errors.errors[0][2])
    assert "numerical" in str(items[9].errors.errors[0][2])


ROUND_TRIP = [
    QuestionData(T.SINGLE_CHOICE, **SAMPLES[T.SINGLE_CHOICE], analysis="先建立工件坐标系。", difficulty="basic",
                 knowledge_points=["对刀", "坐标系"], title="对刀 1"),
    QuestionData(T.MULTIPLE_CHOICE, **SAMPLES[T.MULTIPLE_CHOICE], difficulty="intermediate"),
    QuestionData(T.MULTIPLE_CHOICE, "只有一个正确选项的多选题", ["甲", "乙", "丙"], [1]),
    QuestionData(T.MULTIPLE_CHOICE, "七个正确选项", [str(i) for i in range(10)], [0, 1, 2, 3, 4, 5, 6]),
    QuestionData(T.TRUE_FALSE, **SAMPLES[T.TRUE_FALSE], analysis="第一行\n第二行"),
    QuestionData(T.TRUE_FALSE, "错误的说法。", [], False, difficulty="advanced"),
    QuestionData(T.FILL_BLANK, **SAMPLES[T.FILL_BLANK], knowledge_points=["坐标系"]),
    QuestionData(T.FILL_BLANK, "没有空位标记，答案在题干之后：", [], [["a<b", "&amp;"]]),
    QuestionData(T.FILL_BLANK, "___与___，第三空___", [], [["甲", "a}b~c#d/e\"f\\g"], ["乙"], ["丙", "丁"]]),
    QuestionData(T.SHORT_ANSWER, **SAMPLES[T.SHORT_ANSWER], analysis="评分要点：步骤完整。"),
    QuestionData(T.SHORT_ANSWER, "没有参考答案的简答题", [], ""),
    QuestionData(T.MATCHING, **SAMPLES[T.MATCHING]),
    QuestionData(T.ORDERING, **SAMPLES[T.ORDERING], difficulty="basic"),
    QuestionData(T.SINGLE_CHOICE, "<p>Tags & entities &lt; stay text</p>\n\n  indented line\x0b",
                 ["<b>x</b>", "]]> y"], 0, title="a title"),
]


@pytest.mark.parametrize("question", ROUND_TRIP, ids=lambda q: f"{q.qtype}-{q.stem[:6]}")
def test_every_type_reads_back_as_written(question):
    question = normalised(question)
    items = moodle_xml.parse(moodle_xml.serialize([question]))
    expected = normalised(QuestionData(**{**question.__dict__, "stem": question.stem.replace("\x0b", "")}))
    assert [(i.data, i.errors.errors) for i in items] == [(expected, [])]


def test_a_file_of_many_questions_reads_back_in_order():
    questions = [normalised(q) for q in ROUND_TRIP[:-1]]
    items = formats.parse("moodle_xml", formats.serialize("moodle_xml", questions))
    assert [i.data for i in items] == questions


def test_the_export_uses_moodle_forms():
    xml = moodle_xml.serialize([normalised(QuestionData(T.ORDERING, **SAMPLES[T.ORDERING])),
                                normalised(QuestionData(T.MULTIPLE_CHOICE, **SAMPLES[T.MULTIPLE_CHOICE]))]).decode()
    assert '<question type="ordering">' in xml and "<gradingtype>ALL_OR_NOTHING</gradingtype>" in xml
    assert 'fraction="4.0000000"' in xml
    assert 'fraction="33.3333333"' in xml and 'fraction="-100.0000000"' in xml


def test_a_broken_question_is_reported_with_its_number_and_the_others_still_read():
    xml = """<quiz>
<question type="truefalse"><name><text>x</text></name><questiontext><text>No answers</text></questiontext></question>
<question type="multichoice"><questiontext format="plain_text"><text>None correct</text></questiontext>
  <answer fraction="0"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>
<question type="multichoice"><questiontext format="plain_text"><text>Weight</text></questiontext>
  <answer fraction="x"><text>a</text></answer></question>
<question type="essay"><questiontext format="plain_text"><text>Fine</text></questiontext></question>
</quiz>"""
    with translation.override("zh-hans"):
        items = moodle_xml.parse(xml.encode())
    assert [i.location for i in items] == ["第 1 题（第 2 行）", "第 2 题（第 3 行）", "第 3 题（第 5 行）",
                                           "第 4 题（第 7 行）"]
    assert [codes(i) for i in items] == [{"question.syntax_invalid"}, {"question.answer_invalid"},
                                         {"question.syntax_invalid"}, set()]
    assert items[1].data.options == ["a", "b"] and items[0].data is None


@pytest.mark.parametrize("data, code", [
    (b"<quiz></quiz>", "question.file_empty"),
    (b"<quiz><question type='category'><category><text>top/a</text></category></question></quiz>",
     "question.file_empty"),
    (b"<assessment/>", "question.file_unreadable"),
    (b"<quiz><question>", "question.xml_invalid"),
    (b"not xml at all", "question.xml_invalid"),
])
def test_files_that_are_not_moodle_questions_are_refused(data, code):
    with pytest.raises(FormatError) as refused:
        moodle_xml.parse(data)
    assert refused.value.code == code


def test_files_over_the_limits_are_refused(monkeypatch):
    question = "<question type='essay'><questiontext><text>q</text></questiontext></question>"
    monkeypatch.setattr(formats, "MAX_ITEMS", 2)
    with pytest.raises(FormatError) as refused:
        moodle_xml.parse(f"<quiz>{question * 3}</quiz>".encode())
    assert refused.value.code == "question.too_many_items"
    monkeypatch.setattr(formats, "MAX_FILE_BYTES", 20)
    with pytest.raises(FormatError) as refused:
        moodle_xml.parse(f"<quiz>{question}</quiz>".encode())
    assert refused.value.code == "question.file_too_large"


def test_html_becomes_plain_text_without_running_or_decoding_anything_twice():
    html = ("<script>alert(1)</script><style>p{color:red}</style><p>a &amp;lt; b&nbsp;c</p>"
            "<ul><li>x</li><li>y</li></ul><!-- hidden --><pre>\n  code()\n    more</pre>")
    assert html_to_text(html) == "a &lt; b c\n\nx\ny\n\n  code()\n    more"
