"""The search page: results from the real engine, highlights, facets, filters, sorting, keyset pages, zero results,
autocomplete, and visibility (an outsider never sees members-only or draft hits, nor their facet counts)."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from reslib.catalogue import searching, views
from reslib.catalogue.searching import SearchRequest, run_search
from tests import factories

pytestmark = pytest.mark.django_db


def page(client, **params):
    response = client.get(reverse("catalogue:search"), params)
    assert response.status_code == 200
    return response.content.decode()


def results(html: str) -> str:
    return html.split('<section class="results"', 1)[1]


def hit_ids(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<h3 class="hit-title"><a href="/resources/(\d+)/"', html)}


def ids(catalogue, *keys) -> set[int]:
    return {catalogue[key].pk for key in keys}


def facet_counts(html: str, title: str) -> dict[str, int]:
    """{label: count} of one facet section of the page."""
    section = html.split(f'<h2 class="facet-title">{title}</h2>', 1)
    if len(section) == 1:
        return {}
    section = section[1].split("</section>", 1)[0]
    return {label: int(count) for label, count in re.findall(
        r'<span class="facet-label">([^<]+)</span><span class="facet-count">(\d+)</span>', section)}


@pytest.fixture
def catalogue(publisher, building, lead, second_college):
    """Published resources of several types, one registered-only, one members-only, plus a draft."""
    served = factories.major("460101").pk
    made = {
        "lathe": publisher(title="数控车床对刀操作微课", resource_type="micro_lesson", keywords=["数控", "对刀"],
                           description="演示数控车床试切法对刀的完整步骤。"),
        "mill": publisher(title="数控铣床编程实例", resource_type="video", keywords=["数控编程"],
                          description="数控铣床宏程序编程。", audience=["employee"]),
        "drawing": publisher(title="机械制图基础", resource_type="text", major=served, keywords=["制图"],
                             description="三视图与剖视图。", contributing_org=second_college.pk,
                             copyright_holder_org=second_college.pk),
        "link": publisher(title="数控机床国家标准汇编", resource_type="external_link",
                          external_url="https://std.example.org/cnc", keywords=["标准"]),
        "registered": publisher(title="数控注册用户讲义", resource_type="text", access="registered"),
        "members": publisher(title="数控内部实训秘籍", resource_type="simulation", access="members"),
    }
    made["draft"] = factories.resource(building, lead, title="数控草稿资源")
    return made


def test_results_have_escaped_highlights_and_link_to_resources(client, catalogue):
    html = page(client, q="对刀")
    lathe = catalogue["lathe"]
    assert reverse("resources:detail", args=[lathe.pk]) in html
    assert "<mark>对刀</mark>" in html
    assert "数控铣床编程实例" not in results(html)


def test_highlights_never_let_markup_through(publisher):
    evil = publisher(title="数控<script>alert(1)</script>讲义", description='数控 <img src=x onerror="alert(2)">')
    from django.test import Client

    html = Client().get(reverse("catalogue:search"), {"q": "数控"}).content.decode()
    assert reverse("resources:detail", args=[evil.pk]) in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("raw, expected", [
    ("<mark>数控</mark>技术", "<mark>数控</mark>技术"),
    ("a <b>bold</b> <mark>x", "a &lt;b&gt;bold&lt;/b&gt; <mark>x</mark>"),
    ("</mark>x<mark><mark>y</mark>", "x<mark>y</mark>"),
    ("AT&T &amp; &lt;ok&gt; &#39;", "AT&amp;T &amp; &lt;ok&gt; &#39;"),
    ('<mark onclick="x">a</mark>', '&lt;mark onclick=&quot;x&quot;&gt;a'),
])
def test_safe_highlight_lets_only_balanced_marks_through(raw, expected):
    assert str(searching.safe_highlight(raw)) == expected


def test_external_links_carry_a_badge(client, catalogue):
    html = results(page(client, q="国家标准"))
    assert "badge-external" in html and "外部链接" in html


def test_outsider_never_sees_members_only_or_draft_hits_nor_their_counts(client, catalogue, outsider, lead):
    html = page(client, q="数控")
    assert hit_ids(html) == ids(catalogue, "lathe", "mill", "link")
    assert "实训秘籍" not in html and "草稿资源" not in html and "注册用户讲义" not in html
    types = facet_counts(html, "资源类型")
    assert "虚拟仿真" not in types  # the members-only simulation is not even counted
    assert sum(types.values()) == 3  # lathe, mill, link

    client.force_login(outsider)
    html = page(client, q="数控")
    assert hit_ids(html) == ids(catalogue, "lathe", "mill", "link", "registered")  # registered users see more
    assert "实训秘籍" not in html and "草稿资源" not in html
    assert "虚拟仿真" not in facet_counts(html, "资源类型")

    client.force_login(lead)  # a member of the library sees its members-only resource
    html = page(client, q="数控")
    assert hit_ids(html) == ids(catalogue, "lathe", "mill", "link", "registered", "members")
    assert facet_counts(html, "资源类型").get("虚拟仿真") == 1
    assert catalogue["draft"].pk not in hit_ids(html)  # drafts are never in the index


def test_facets_count_and_filter(client, catalogue, building, second_college):
    html = page(client, q="数控")
    assert facet_counts(html, "资源类型") == {"微课": 1, "视频": 1, "外部链接": 1}
    assert facet_counts(html, "专业") == {"数控技术": 3}
    assert facet_counts(html, "资源库") == {building.name: 3}
    assert facet_counts(html, "受众")["在校学生"] == 2
    assert facet_counts(html, "费用") == {"公益（免费）": 3}  # the factory's resources are all free

    html = page(client, q="数控", type="video")
    body = results(html)
    assert hit_ids(body) == ids(catalogue, "mill")
    # Disjunctive: the type facet still offers the other types to add, with their counts.
    assert facet_counts(html, "资源类型") == {"微课": 1, "视频": 1, "外部链接": 1}
    # The active filter is shown and removable.
    assert 'class="chip"' in body and "视频" in body
    remove = re.search(r'<a class="chip" href="([^"]+)"', body).group(1)
    assert "type=" not in remove and "q=" in remove

    html = page(client, q="数控", type=["video", "micro_lesson"])
    assert hit_ids(html) == ids(catalogue, "mill", "lathe")

    html = page(client, institution=second_college.pk)
    assert hit_ids(html) == ids(catalogue, "drawing")


def test_empty_query_browses_everything_visible(client, catalogue):
    html = page(client)
    assert hit_ids(html) == ids(catalogue, "lathe", "mill", "drawing", "link")


def test_sort_newest_and_statistics_placeholders(client, catalogue):
    html = page(client, sort="newest")
    body = results(html)
    order = [int(pk) for pk in re.findall(r'<h3 class="hit-title"><a href="/resources/(\d+)/"', body)]
    assert order.index(catalogue["link"].pk) < order.index(catalogue["lathe"].pk)  # newest first
    assert "统计功能上线后可用" in html
    assert 'aria-disabled="true"' in html and "最多使用" in html and "评分最高" in html
    # A hand-made URL asking for a placeholder sort says so and falls back to relevance.
    html = page(client, q="数控", sort="popular")
    assert "统计功能上线后可用" in html and "已按相关度排序" in html


def test_keyset_pages_cover_everything_once(client, publisher, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_PAGE_SIZE", 2)
    made = [publisher(title=f"数控加工第{i}讲") for i in range(5)]
    seen, params, pages = [], {"q": "数控加工"}, 0
    while True:
        html = page(client, **params)
        body = results(html)
        ids = [int(pk) for pk in re.findall(r'<h3 class="hit-title"><a href="/resources/(\d+)/"', body)]
        seen += ids
        pages += 1
        match = re.search(r'<a href="([^"]+)" rel="next">', body)
        if not match:
            break
        assert "下一页" in body
        params = {k: v[0] for k, v in parse_qs(urlparse(match.group(1).replace("&amp;", "&")).query).items()}
        assert params["q"] == "数控加工" and params["cursor"]
    assert pages == 3
    assert sorted(seen) == sorted(r.pk for r in made) and len(seen) == len(set(seen))


def test_a_foreign_cursor_starts_over_with_a_notice(client, catalogue):
    html = page(client, q="数控", cursor="bm90LWEtY3Vyc29y")
    assert "链接已过期" in html
    assert hit_ids(html) == ids(catalogue, "lathe", "mill", "link")


def test_zero_results_page_helps(client, catalogue):
    html = page(client, q="数控车传")  # nothing matches this misspelling
    body = results(html)
    assert "没有找到" in body
    assert "数控车传" in body
    # Related majors share characters with the query and link to the major pages.
    assert reverse("catalogue:major", args=["460103"]) in body
    assert "拼音首字母" in body  # tips
    html = page(client, q="数控", type="audio")
    assert "清除筛选后重新搜索" in results(html)


def test_zero_results_did_you_mean(client, catalogue, monkeypatch):
    from reslib.search.backends.base import SearchResult

    real = searching.search_services.search

    def fake(query, **kwargs):
        result = real(query, **kwargs)
        if query == "shukong" and not result.hits:
            return SearchResult(hits=[], facets=result.facets, did_you_mean="数控")
        return result

    monkeypatch.setattr(searching.search_services, "search", fake)
    body = results(page(client, q="shukong"))
    assert "您是不是要找" in body and "?q=%E6%95%B0%E6%8E%A7" in body


def test_zero_results_did_you_mean_from_the_engine(client, publisher):
    publisher(title="汽车维修技术实训", keywords=["汽车维修"])
    body = results(page(client, q="汽车维秀"))  # a same-sounding typo
    assert "没有找到" in body and "您是不是要找" in body
    assert "?q=%E6%B1%BD%E8%BD%A6%E7%BB%B4%E4%BF%AE" in body  # 汽车维修


def test_related_majors_rank_by_shared_characters():
    names = [m.name for m in searching.related_majors("汽车维修")]
    assert set(names[:2]) == {"新能源汽车技术", "汽车制造与试验技术"}  # share the word 汽车
    assert [m.code for m in searching.related_majors("数控车床")][:1] == ["460103"]
    assert searching.related_majors("hello") == []


def test_suggest_endpoint_returns_visible_completions(client, catalogue):
    response = client.get(reverse("catalogue:suggest"), {"q": "数控"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="listbox"' in html and "/search/?q=" in html
    assert "秘籍" not in html
    assert client.get(reverse("catalogue:suggest"), {"q": ""}).content.decode().strip() == ""


def test_search_box_has_debounced_autocomplete(client):
    html = page(client)
    assert 'hx-get="/search/suggest/"' in html and "delay:250ms" in html


def test_search_page_query_count_is_bounded(client, publisher, django_assert_max_num_queries, outsider):
    for i in range(12):
        publisher(title=f"数控加工第{i}讲", resource_type="video" if i % 2 else "text")
    client.force_login(outsider)
    with django_assert_max_num_queries(25):
        page(client, q="数控", type="video")


def test_run_search_for_anonymous_hides_members_only(catalogue):
    outcome = run_search(AnonymousUser(), SearchRequest(q="秘籍"))
    assert outcome.hits == [] and outcome.total == 0
