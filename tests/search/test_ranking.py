"""Relevance from where the query words occur (backends/ranking.py): the score of the masks the database returns.

That the databases compute the masks right is proven by the relevance tests, which run on SQLite and PostgreSQL."""

from reslib.search import query
from reslib.search.backends.base import Query
from reslib.search.backends.ranking import MAX_NEEDLES, padded, substring_ranking, title_norm, word_ranking


def masks(ranking, title: str, tags: str = "", other: str = "") -> tuple[int, int, int, int]:
    """What the database computes from the stored field groups (sql.SqlBackend._rank_columns)."""
    def mask(text: str) -> int:
        text = text.replace(" ", "") if ranking.joined else text
        return sum(1 << i for i, needle in enumerate(ranking.needles) if needle in text)

    return mask(title), title.count(" ") - 1, mask(tags), mask(other)


def test_title_beats_tags_beats_other_beats_description_only():
    ranking = word_ranking(query.parse("数控"))
    score = ranking.scorer()
    in_title = score(masks(ranking, padded("数控 设备")))
    in_tags = score(masks(ranking, padded("机械 制图"), padded("数控")))
    in_other = score(masks(ranking, padded("机械 制图"), "", padded("数控 技术")))
    description_only = score(masks(ranking, padded("机械 制图"), padded("制图"), padded("机械")))
    assert in_title > in_tags > in_other > description_only == 1.0


def test_every_query_word_counts_and_shorter_titles_win():
    ranking = word_ranking(query.parse("汽车 维修"))
    score = ranking.scorer()
    both = score(masks(ranking, padded("汽车 维修 技术")))
    one = score(masks(ranking, padded("汽车 发动机 拆装")))
    assert both > one
    short = score(masks(ranking, padded("汽车 维修")))
    long = score(masks(ranking, padded("汽车 维修 技术 实训 指导 项目 综合 训练 第 三 讲 案例")))
    assert short > long
    assert title_norm(2) > title_norm(12)


def test_a_compound_matches_through_its_sub_words():
    ranking = word_ranking(query.parse("汽车维修"))
    score = ranking.scorer()
    assert score(masks(ranking, padded("汽车 维修"))) == score(masks(ranking, padded("汽车维修 入门"))) > 1.0
    assert score(masks(ranking, padded("汽车 入门"))) == 1.0  # only half the compound: not a title match


def test_words_match_whole_words_only():
    ranking = word_ranking(query.parse("数控"))
    assert ranking.scorer()(masks(ranking, padded("数控加工"))) == 1.0  # a longer word is not the word


def test_substring_ranking_looks_inside_words():
    ranking = substring_ranking(query.parse("车维修"))
    score = ranking.scorer()
    in_title = score(masks(ranking, padded("汽车 维修 技术")))
    in_tags = score(masks(ranking, padded("机械 制图"), padded("汽车 维修")))
    assert in_title > in_tags > 1.0


def test_masks_stay_within_64_bits_however_long_the_query():
    words = [f"词{i}" for i in range(70)]
    long_query = Query(text=" ".join(words), terms=tuple((w + "甲", f"{w} 甲{i}") for i, w in enumerate(words)),
                       words=tuple(words), substrings=tuple(words))
    ranking = word_ranking(long_query)
    assert len(ranking.needles) <= MAX_NEEDLES and ranking.terms
    assert max(mask for alternatives in ranking.terms for mask in alternatives) < 1 << 63
    assert len(substring_ranking(long_query).needles) <= MAX_NEEDLES
