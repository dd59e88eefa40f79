"""Bounded work at any size: a search reads the newest COUNT_CAP visible matches, whatever a word's frequency.

COUNT_CAP (and PostgreSQL's id bucket) are shrunk so a few hundred documents exercise the windowed reading: a word
in every document, one in nine of ten, one in every third, one in every 15th, one only in the oldest documents and
one in a single document."""

import pytest
from django.db import connection

from reslib.search import services
from reslib.search.backends import postgres, sql
from reslib.search.backends.base import Visibility

from .conftest import make_doc

CAP = 12
ANON = Visibility.anonymous()


def _title(n: int) -> str:
    words = ["常见"]
    if n % 3 == 0:
        words.append("三分")
    if n % 10:
        words.append("多数")
    if n % 15 == 0:
        words.append("稀疏")
    if n < 40:
        words.append("早期")
    if n == 6:
        words.append("唯一")
    return " ".join(words) + f" 第{n}号"


@pytest.fixture(params=["fresh", "analysed"])
def documents(request, db, monkeypatch):
    """The same documents before and after the planner's statistics exist (PostgreSQL sizes its windows by them)."""
    monkeypatch.setattr(sql, "COUNT_CAP", CAP)
    monkeypatch.setattr(postgres, "COUNT_CAP", CAP)
    monkeypatch.setattr(postgres, "BUCKET", 10)
    monkeypatch.setattr(postgres.LexemeStatistics, "_cache", {})
    docs = [make_doc(n, _title(n), days=n, access="members" if n % 4 == 3 else "public") for n in range(300)]
    services.index(docs)
    if request.param == "analysed":
        if connection.vendor != "postgresql":
            pytest.skip("window sizes from planner statistics: PostgreSQL only")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_entry")
        frequencies, _rarest = postgres.LexemeStatistics.read("default")
        assert frequencies["常见"] > 0.5  # the windows are sized by it
    return docs


@pytest.mark.parametrize("word", ["常见", "稀疏", "早期", "唯一"])
def test_the_newest_visible_matches_are_read(documents, word):
    matching = [d for d in documents if word in d.title.split() and d.access == "public"]
    assert matching
    newest = sorted(matching, key=lambda d: d.created_at, reverse=True)[:CAP]
    result = services.search(word, visibility=ANON, sort="newest", facets=["major"], limit=100)
    assert [h.id for h in result.hits] == [d.id for d in newest]
    assert result.total == min(len(matching), CAP)
    assert result.approximate == (len(matching) > CAP)
    assert result.facets["major"] == [("460103", result.total)]


@pytest.mark.parametrize("words", [("三分", "多数"), ("常见", "稀疏"), ("早期", "常见")])
def test_a_common_word_tested_on_the_rows_still_finds_the_newest_matches(documents, words):
    # After ANALYZE on PostgreSQL the rarer word drives the index and the common one (多数: nine documents in ten) is
    # tested on the rows of the windows (三分, in every third document, needs several).
    matching = [d for d in documents if set(words) <= set(d.title.split()) and d.access == "public"]
    newest = sorted(matching, key=lambda d: d.created_at, reverse=True)[:CAP]
    result = services.search(" ".join(words), visibility=ANON, sort="newest", facets=["major"], limit=100)
    assert [h.id for h in result.hits] == [d.id for d in newest]
    assert result.total == min(len(matching), CAP)


def test_cursor_pages_walk_the_same_candidates(documents):
    seen, cursor = [], None
    while True:
        result = services.search("常见", visibility=ANON, cursor=cursor, limit=5)
        seen += [h.id for h in result.hits]
        cursor = result.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == CAP


def test_browsing_by_date_pages_past_the_cap(documents):
    seen, cursor = [], None
    while True:
        result = services.search("", visibility=ANON, sort="newest", cursor=cursor, limit=50)
        seen += [h.id for h in result.hits]
        cursor = result.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == sum(1 for n in range(300) if n % 4 != 3)
