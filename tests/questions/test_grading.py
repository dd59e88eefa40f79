"""The automatic grading rules teachers explain to learners (reslib/questions/grading.py)."""

from fractions import Fraction

import pytest

from reslib.questions.grading import grade
from reslib.questions.models import QuestionType as T

CHOICES = ["机床原点", "工件原点", "刀具原点", "参考点"]


@pytest.mark.parametrize("response, share", [(1, 1), (0, 0), (True, 0), ("1", 0), (None, 0)])
def test_single_choice_only_the_right_index_scores(response, share):
    assert grade(T.SINGLE_CHOICE, CHOICES, 1, response) == share


@pytest.mark.parametrize("response, share", [
    ([0, 2], Fraction(1)), ([2, 0], Fraction(1)), ([0], Fraction(1, 2)), ([0, 1], Fraction(0)), ([], Fraction(0)),
    ([0, 1, 2], Fraction(0)), ("0,2", Fraction(0)), ([True], Fraction(0)),
])
def test_multiple_choice_all_half_or_nothing(response, share):
    assert grade(T.MULTIPLE_CHOICE, CHOICES, [0, 2], response) == share


def test_true_false_needs_a_boolean():
    assert grade(T.TRUE_FALSE, [], True, True) == 1
    assert grade(T.TRUE_FALSE, [], True, 1) == 0
    assert grade(T.TRUE_FALSE, [], False, False) == 1


def test_fill_blank_scores_each_blank_and_folds_width_case_and_spaces():
    answer = [["右手", "右手笛卡尔"], ["ABC"]]
    assert grade(T.FILL_BLANK, [], answer, ["右手笛卡尔", "ａｂｃ"]) == 1
    assert grade(T.FILL_BLANK, [], answer, [" 右手 ", "abd"]) == Fraction(1, 2)
    assert grade(T.FILL_BLANK, [], answer, ["左手"]) == 0
    assert grade(T.FILL_BLANK, [], answer, "右手") == 0


def test_matching_scores_each_pair():
    answer = ["直线插补", "顺时针圆弧插补", "主轴正转"]
    assert grade(T.MATCHING, ["G01", "G02", "M03"], answer, ["直线插补", "主轴正转", "主轴正转"]) == Fraction(2, 3)


def test_ordering_needs_the_exact_order():
    items = ["装夹", "对刀", "运行"]
    assert grade(T.ORDERING, items, None, [0, 1, 2]) == 1
    assert grade(T.ORDERING, items, None, [1, 0, 2]) == 0


def test_short_answers_are_left_to_a_teacher():
    assert grade(T.SHORT_ANSWER, [], "参考答案", "我的回答") is None
