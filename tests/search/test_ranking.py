"""Relevance from where the query words occur (backends/ranking.py)."""

from reslib.search import query
from reslib.search.backends.ranking import padded, substring_scorer, title_norm, word_scorer


def test_title_beats_tags_beats_other_beats_description_only():
    score = word_scorer(query.parse("数控"))
    in_title = score(padded("数控 设备"), "", "")
    in_tags = score(padded("机械 制图"), padded("数控"), "")
    in_other = score(padded("机械 制图"), "", padded("数控 技术"))
    description_only = score(padded("机械 制图"), padded("制图"), padded("机械"))
    assert in_title > in_tags > in_other > description_only == 1.0


def test_every_query_word_counts_and_shorter_titles_win():
    score = word_scorer(query.parse("汽车 维修"))
    both = score(padded("汽车 维修 技术"), "", "")
    one = score(padded("汽车 发动机 拆装"), "", "")
    assert both > one
    short = score(padded("汽车 维修"), "", "")
    long = score(padded("汽车 维修 技术 实训 指导 项目 综合 训练 第 三 讲 案例"), "", "")
    assert short > long
    assert title_norm(padded("汽车 维修")) > title_norm(padded("a b c d e f g h i j k l"))


def test_a_compound_matches_through_its_sub_words():
    score = word_scorer(query.parse("汽车维修"))
    assert score(padded("汽车 维修"), "", "") == score(padded("汽车维修 入门"), "", "") > 1.0
    assert score(padded("汽车 入门"), "", "") == 1.0  # only half the compound: not a title match


def test_words_match_whole_words_only():
    score = word_scorer(query.parse("数控"))
    assert score(padded("数控加工"), "", "") == 1.0  # a longer word is not the word


def test_substring_scorer_looks_inside_words():
    score = substring_scorer(query.parse("车维修"))
    assert score(padded("汽车 维修 技术"), "", "") > score(padded("机械 制图"), padded("汽车 维修"), "") > 1.0
