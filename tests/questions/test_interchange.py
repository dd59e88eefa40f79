"""What makes one question's content acceptable, whatever it came from (form, API, import)."""

import pytest

from reslib.questions.interchange import QuestionData, normalised, problems
from reslib.questions.models import QuestionType as T


def codes(data):
    return {(f, c) for f, c, _m in problems(data).errors}


@pytest.mark.parametrize("data", [
    QuestionData(T.SINGLE_CHOICE, "题干", ["甲", "乙"], 0),
    QuestionData(T.MULTIPLE_CHOICE, "题干", ["甲", "乙", "丙"], [2, 0]),
    QuestionData(T.TRUE_FALSE, "题干", [], False),
    QuestionData(T.FILL_BLANK, "___与___", [], [["甲"], ["乙", "丙"]]),
    QuestionData(T.FILL_BLANK, "没有空位标记的填空", [], [["甲"]]),
    QuestionData(T.SHORT_ANSWER, "题干", [], ""),
    QuestionData(T.MATCHING, "题干", ["甲", "乙"], ["一", "二"]),
    QuestionData(T.ORDERING, "题干", ["一", "二", "三"], None),
])
def test_valid_questions_have_no_problems(data):
    assert not problems(data)


@pytest.mark.parametrize("data, expected", [
    (QuestionData("essay", "题干"), ("qtype", "question.type_invalid")),
    (QuestionData(T.TRUE_FALSE, "  ", [], True), ("stem", "question.stem_required")),
    (QuestionData(T.SINGLE_CHOICE, "题干", ["甲"], 0), ("options", "question.options_invalid")),
    (QuestionData(T.SINGLE_CHOICE, "题干", ["甲", " "], 0), ("options", "question.options_invalid")),
    (QuestionData(T.SINGLE_CHOICE, "题干", ["甲", "乙"], 2), ("answer", "question.answer_invalid")),
    (QuestionData(T.SINGLE_CHOICE, "题干", ["甲", "乙"], True), ("answer", "question.answer_invalid")),
    (QuestionData(T.MULTIPLE_CHOICE, "题干", ["甲", "乙"], []), ("answer", "question.answer_invalid")),
    (QuestionData(T.MULTIPLE_CHOICE, "题干", ["甲", "乙"], [0, 0]), ("answer", "question.answer_invalid")),
    (QuestionData(T.TRUE_FALSE, "题干", [], "对"), ("answer", "question.answer_invalid")),
    (QuestionData(T.TRUE_FALSE, "题干", ["对", "错"], True), ("options", "question.options_unexpected")),
    (QuestionData(T.FILL_BLANK, "___与___", [], [["甲"]]), ("answer", "question.answer_invalid")),
    (QuestionData(T.FILL_BLANK, "___", [], [[]]), ("answer", "question.answer_invalid")),
    (QuestionData(T.MATCHING, "题干", ["甲", "乙"], ["一"]), ("answer", "question.answer_invalid")),
    (QuestionData(T.ORDERING, "题干", ["一"], None), ("options", "question.options_invalid")),
    (QuestionData(T.TRUE_FALSE, "题干", [], True, difficulty="hard"), ("difficulty", "question.difficulty_invalid")),
])
def test_each_broken_rule_is_named_with_its_field_and_code(data, expected):
    assert expected in codes(data)


def test_all_problems_are_reported_at_once():
    data = QuestionData(T.SINGLE_CHOICE, "", ["甲", "乙"], 5, difficulty="x")
    assert {f for f, _c in codes(data)} == {"stem", "answer", "difficulty"}


def test_normalised_trims_and_sorts():
    data = normalised(QuestionData(T.MULTIPLE_CHOICE, " 题干 ", [" 甲", "乙 ", "丙"], [2, 0],
                                   knowledge_points=[" 对刀 ", ""]))
    assert (data.stem, data.options, data.answer, data.knowledge_points) == ("题干", ["甲", "乙", "丙"], [0, 2], ["对刀"])
