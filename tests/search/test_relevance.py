"""Known queries return the expected documents first, on SQLite and PostgreSQL alike, and only what the user may see."""

import pytest

from reslib.search import services
from reslib.search.backends.base import Visibility

ANON = Visibility.anonymous()
SIGNED_IN = Visibility(access=frozenset({"public", "registered"}))
MEMBER_OF_2 = Visibility(access=frozenset({"public", "registered"}), library_ids=frozenset({2}))
OPERATOR = Visibility.all()


def ids(result):
    return [h.id for h in result.hits]


def test_shukong_finds_numerical_control_machining_first(corpus):
    result = services.search("数控", visibility=ANON)
    found = ids(result)
    assert set(found[:2]) == {"resource:1", "resource:6"} or set(found[:2]) == {"resource:1", "resource:2"} \
        or found[0] in {"resource:1", "resource:6"}
    assert {"resource:1", "resource:2", "resource:6", "resource:3"} <= set(found)
    # Title matches rank above a mention in the description only.
    assert found.index("resource:1") < found.index("resource:3")
    assert found.index("resource:6") < found.index("resource:3")


def test_shukong_jiagong_ranks_exact_titles_first(corpus):
    found = ids(services.search("数控加工", visibility=ANON))
    assert found[0] == "resource:1"
    assert "resource:2" in found[:3]


@pytest.mark.parametrize("query", ["汽车 维修", "汽车维修"])
def test_car_repair_with_or_without_space(corpus, query):
    found = ids(services.search(query, visibility=ANON))
    assert found[0] == "resource:4"
    assert set(found) == {"resource:4", "resource:5"}


def test_two_character_word_matches(corpus):
    assert ids(services.search("护理", visibility=ANON)) == ["resource:100"]
    assert ids(services.search("会计", visibility=ANON)) == ["resource:101"]


def test_english_and_numbers(corpus):
    assert ids(services.search("python", visibility=ANON)) == ["resource:106"]
    assert ids(services.search("PYTHON 编程", visibility=ANON)) == ["resource:106"]
    assert ids(services.search("5G", visibility=ANON)) == ["resource:107"]
    assert "resource:108" in ids(services.search("1+X证书", visibility=ANON))


def test_pinyin_initials(corpus):
    assert ids(services.search("sksb", visibility=ANON))[0] == "resource:6"


def test_substring_fallback(corpus):
    result = services.search("车维修", visibility=ANON)  # not a word boundary: trigram path
    assert result.substring and "resource:4" in ids(result)
    result = services.search("拆", visibility=ANON)  # one character: bounded scan
    assert result.substring and ids(result) == ["resource:5"]


@pytest.mark.parametrize("text", ["。", "!?"])
def test_punctuation_alone_is_looked_for_as_text_not_taken_for_everything(corpus, text):
    result = services.search(text, visibility=ANON, filters={"resource_type": ["video"]})
    assert result.total == 0 and result.substring


def test_query_never_matches_what_the_user_cannot_see(corpus):
    assert "resource:7" not in ids(services.search("数控编程", visibility=ANON))
    assert "resource:7" in ids(services.search("数控编程", visibility=SIGNED_IN))
    for vis in (ANON, SIGNED_IN):
        assert ids(services.search("秘籍", visibility=vis)) == []
        assert ids(services.search("成员专属", visibility=vis)) == []  # substring path too
        assert all(h.id != "resource:8" for h in services.search("数控", visibility=vis, limit=100).hits)
    assert ids(services.search("秘籍", visibility=MEMBER_OF_2)) == ["resource:8"]
    assert ids(services.search("秘籍", visibility=OPERATOR)) == ["resource:8"]


def test_facet_counts_respect_visibility(corpus):
    anon = services.search("数控", visibility=ANON, facets=["resource_type", "library", "institution"])
    member = services.search("数控", visibility=MEMBER_OF_2, facets=["resource_type", "library", "institution"])
    assert "simulation" not in dict(anon.facets["resource_type"])
    assert "2" not in dict(anon.facets["library"])
    assert "12" not in dict(anon.facets["institution"])
    assert dict(member.facets["resource_type"])["simulation"] == 1
    assert dict(member.facets["library"])["2"] == 1
    assert member.total == anon.total + 2  # the registered and the members-only document


def test_filters_and_facets(corpus):
    result = services.search("", visibility=ANON, filters={"major": "500211"}, facets=["major", "resource_type"])
    assert set(ids(result)) == {"resource:4", "resource:5"}
    assert result.facets["major"] == [("500211", 2)]
    result = services.search("数控", visibility=ANON, filters={"resource_type": ["micro_lesson"]})
    assert ids(result) == ["resource:2"]
    result = services.search("", visibility=ANON, filters={"institution": [11, 20]}, limit=100)
    assert {"resource:4", "resource:5", "resource:100"} <= set(ids(result))
    with pytest.raises(services.SearchError):
        services.search("x", visibility=ANON, filters={"owner": "me"})


def test_highlights_are_escaped_and_marked(corpus):
    services.index([corpus["resource:4"].__class__(id="resource:50", title="<b>汽车</b>维修入门",
                                                   description="x" * 300 + "汽车维修" + "y" * 300)])
    hit = next(h for h in services.search("汽车维修", visibility=ANON).hits if h.id == "resource:50")
    assert hit.highlights["title"] == "&lt;b&gt;<mark>汽车</mark>&lt;/b&gt;<mark>维修</mark>入门"
    assert "<mark>汽车维修</mark>" in hit.highlights["description"]
    assert hit.highlights["description"].startswith("…") and len(hit.highlights["description"]) < 150


def test_keyset_pagination_walks_every_hit_once(corpus):
    for sort in ("relevance", "newest", "popular", "rating"):
        seen, cursor = [], None
        while True:
            result = services.search("", visibility=ANON, sort=sort, cursor=cursor, limit=4)
            seen += ids(result)
            cursor = result.next_cursor
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 18
    seen, cursor = [], None
    while True:
        result = services.search("数控", visibility=OPERATOR, cursor=cursor, limit=2)
        seen += ids(result)
        cursor = result.next_cursor
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == services.search("数控", visibility=OPERATOR).total
    with pytest.raises(services.InvalidCursor):
        services.search("数控", visibility=ANON, cursor="garbage!")
    first = services.search("数控", visibility=ANON, limit=1)
    with pytest.raises(services.InvalidCursor):
        services.search("汽车", visibility=ANON, cursor=first.next_cursor)


def test_sorts(corpus):
    assert ids(services.search("", visibility=ANON, sort="newest"))[0] == "resource:6"
    assert ids(services.search("", visibility=ANON, sort="popular"))[:2] == ["resource:2", "resource:1"]
    assert ids(services.search("", visibility=ANON, sort="rating"))[:2] == ["resource:1", "resource:4"]


def test_suggestions_and_did_you_mean(corpus):
    assert "数控加工" in services.suggest("数控", ANON)
    assert "数控加工" in services.suggest("shukong", ANON)
    assert "数控加工" in services.suggest("skjg", ANON)
    # Only public documents feed suggestions: members-only and registered-only words never leak.
    assert not any("秘籍" in s for s in services.suggest("成员", ANON) + services.suggest("秘", ANON))
    assert not any("讲义" in s for s in services.suggest("注册", ANON))
    result = services.search("书控加工", visibility=ANON)  # a homophone typo
    assert result.total == 0 and result.did_you_mean == "数控加工"


def test_remove_and_reindex_by_generation(corpus):
    assert services.remove(["resource:4", "resource:404"]) == 1
    assert ids(services.search("汽车维修", visibility=ANON)) == ["resource:5"]
    backend = services.get_backend()
    generation = backend.next_generation()
    services.index([corpus["resource:5"]], generation=generation)
    assert backend.remove_stale(generation) == len(corpus) - 2
    assert backend.count() == 1
    assert ids(services.search("数控", visibility=OPERATOR)) == []
    assert "数控加工" not in services.suggest("数控", ANON)


def test_counting_only_gives_the_same_totals_and_facets_without_hits(corpus):
    facets = ["resource_type", "institution", "audience"]
    full = services.search("数控", visibility=SIGNED_IN, facets=facets)
    counted = services.search("数控", visibility=SIGNED_IN, facets=facets, limit=0)
    assert counted.hits == [] and counted.next_cursor is None
    assert (counted.total, counted.facets) == (full.total, full.facets)
    assert full.total > 0 and full.facets["institution"]
