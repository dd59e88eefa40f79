"""Home, library catalogue, major and institution pages: visible published resources only, keyset pages, counts
by knowledge-point branch and type, and a bounded number of queries however many rows there are."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from reslib.catalogue import keyset, views
from reslib.libraries.models import Library
from reslib.resources import services as resource_services
from reslib.resources.models import Resource
from tests import factories

pytestmark = pytest.mark.django_db


def html_of(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def listed_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<h3 class="hit-title"><a href="/resources/(\d+)/"', html)]


def follow_pages(client, url) -> list[int]:
    seen, params = [], {}
    while True:
        html = html_of(client, url, **params)
        seen += listed_ids(html)
        match = re.search(r'<a href="\?([^"]+)" rel="next">', html)
        if not match:
            return seen
        params = dict(pair.split("=", 1) for pair in match.group(1).replace("&amp;", "&").split("&"))
        from urllib.parse import unquote

        params = {k: unquote(v) for k, v in params.items()}


@pytest.fixture
def points(building, lead):
    add = resource_services.add_knowledge_point
    chapter = add(building, by=lead, name="数控车削")
    section = add(building, by=lead, name="对刀", parent_id=chapter.pk)
    other = add(building, by=lead, name="数控铣削")
    return {"chapter": chapter, "section": section, "other": other}


# --- keyset -------------------------------------------------------------------------------------------------------


def test_keyset_cursor_round_trip_and_garbage():
    import datetime as dt

    stamp = dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)
    assert keyset.decode(keyset.encode(stamp, 42)) == (stamp, 42)
    for bad in ("", "!!!", "bm90LWEtY3Vyc29y", "MjAyNi0wMy0wMVQwODozMHw0Mg"):  # last: a naive timestamp
        assert keyset.decode(bad) is None


def test_keyset_handles_equal_timestamps(publisher):
    made = [publisher(title=f"数控加工第{i}讲") for i in range(5)]
    Resource.objects.filter(pk__in=[r.pk for r in made[1:4]]).update(created_at=made[0].created_at)
    seen, cursor = [], None
    while True:
        page = keyset.paginate(Resource.objects.all(), cursor, limit=2)
        seen += [r.pk for r in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(r.pk for r in made) and len(seen) == 5


# --- home ---------------------------------------------------------------------------------------------------------


def test_home_has_search_newest_resources_and_featured_libraries(client, publisher, building, lead, second_college):
    resource = publisher(title="数控车床对刀操作微课")
    publisher(title="成员专属讲义", access="members")
    factories.library(lead, name="草稿资源库", hosts=[lead.organization, second_college])
    html = html_of(client, reverse("home"))
    assert "职业教育专业教学资源库" in html
    assert 'action="/search/"' in html and 'hx-get="/search/suggest/"' in html
    assert reverse("resources:detail", args=[resource.pk]) in html
    assert "成员专属讲义" not in html
    assert building.name in html and "草稿资源库" not in html
    assert reverse("catalogue:library", args=[building.pk]) in html
    assert "1 个资源" in html  # the members-only one is not counted for the public


def test_home_orders_featured_libraries_by_status_then_recency(client, lead):
    building = factories.library(lead, name="建设中资源库", status=Library.Status.BUILDING)
    accepted = factories.library(lead, name="已验收资源库", status=Library.Status.ACCEPTED)
    newer = factories.library(lead, name="较新建设中资源库", status=Library.Status.BUILDING)
    html = html_of(client, reverse("home"))
    assert html.index(accepted.name) < html.index(newer.name) < html.index(building.name)


def test_home_query_count_is_bounded(client, publisher, lead, django_assert_max_num_queries):
    for n in range(8):
        factories.library(lead, name=f"资源库{n}", status=Library.Status.BUILDING)
    for n in range(10):
        publisher(title=f"资源{n}")
    with django_assert_max_num_queries(6):
        html_of(client, reverse("home"))


# --- library catalogue --------------------------------------------------------------------------------------------


def test_library_catalogue_counts_by_branch_and_type(client, publisher, building, lead, points):
    a = publisher(title="对刀微课", resource_type="micro_lesson", knowledge_points=[points["section"].pk])
    b = publisher(title="车削概述", resource_type="video",
                  knowledge_points=[points["chapter"].pk, points["section"].pk])  # counted once in the branch
    c = publisher(title="铣削实例", resource_type="video", knowledge_points=[points["other"].pk])
    publisher(title="成员专属", resource_type="video", access="members", knowledge_points=[points["chapter"].pk])
    factories.resource(building, lead, title="草稿", knowledge_points=[points["chapter"].pk])

    url = reverse("catalogue:library", args=[building.pk])
    html = html_of(client, url)
    counts = dict(re.findall(r'<span class="facet-label">(?:<span[^>]*>[^<]*</span> )?([^<]+)</span>'
                             r'<span class="facet-count">(\d+)</span>', html))
    assert counts["全部类型"] == "3" and counts["视频"] == "2" and counts["微课"] == "1"
    assert counts["数控车削"] == "2" and counts["对刀"] == "2" and counts["数控铣削"] == "1"
    assert sorted(listed_ids(html)) == sorted([a.pk, b.pk, c.pk])
    assert "成员专属" not in html and "草稿" not in html

    chapter = html_of(client, url, point=points["chapter"].pk)
    assert sorted(listed_ids(chapter)) == sorted([a.pk, b.pk])  # the whole branch
    videos = html_of(client, url, point=points["chapter"].pk, type="video")
    assert listed_ids(videos) == [b.pk]
    assert client.get(url, {"point": 999999}).status_code == 404
    assert client.get(url, {"type": "nonsense"}).status_code == 404

    client.force_login(lead)  # members see members-only published resources, never drafts
    html = html_of(client, url)
    assert "成员专属" in html and "草稿</a>" not in html


def test_library_catalogue_of_an_invisible_library_is_404(client, lead, outsider):
    draft = factories.library(lead, name="草稿资源库")
    url = reverse("catalogue:library", args=[draft.pk])
    assert client.get(url).status_code == 404
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(lead)
    assert client.get(url).status_code == 200


def test_library_catalogue_pages_by_keyset_with_bounded_queries(client, publisher, building, points, monkeypatch,
                                                                django_assert_max_num_queries):
    made = [publisher(title=f"资源{i}", knowledge_points=[points["section"].pk]) for i in range(25)]
    url = reverse("catalogue:library", args=[building.pk])
    with django_assert_max_num_queries(8):
        html = html_of(client, url)
    assert len(listed_ids(html)) == views.PAGE_SIZE and "下一页" in html
    assert sorted(follow_pages(client, url)) == sorted(r.pk for r in made)
    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    seen = follow_pages(client, url + f"?point={points['chapter'].pk}")
    assert sorted(seen) == sorted(r.pk for r in made) and len(seen) == len(set(seen))


# --- majors -------------------------------------------------------------------------------------------------------


def test_major_page_lists_libraries_and_newest_resources(client, publisher, building, lead, second_college):
    served_by = factories.library(lead, name="机械设计资源库", core="460101", served=("460103",),
                                  status=Library.Status.ACCEPTED)
    hidden = factories.library(lead, name="草稿数控资源库", core="460103", served=(),
                               hosts=[lead.organization, second_college])
    resource = publisher(title="数控车床对刀操作微课")
    other_major = publisher(title="机械制图基础", major=factories.major("460101").pk)
    html = html_of(client, reverse("catalogue:major", args=["460103"]))
    assert "数控技术" in html and "460103" in html
    assert building.name in html and served_by.name in html and hidden.name not in html
    assert "核心专业" in html and "服务专业" in html
    assert reverse("resources:detail", args=[resource.pk]) in html
    assert reverse("resources:detail", args=[other_major.pk]) not in html
    assert "/search/?major=460103" in html
    assert client.get(reverse("catalogue:major", args=["999999"])).status_code == 404


def test_major_page_query_count_is_bounded(client, publisher, lead, outsider, django_assert_max_num_queries):
    for n in range(5):
        factories.library(lead, name=f"数控资源库{n}", core="460103", served=(), status=Library.Status.BUILDING)
    made = [publisher(title=f"资源{i}") for i in range(25)]
    client.force_login(outsider)
    url = reverse("catalogue:major", args=["460103"])
    with django_assert_max_num_queries(10):
        html = html_of(client, url)
    assert "下一页" in html
    assert sorted(follow_pages(client, url)) == sorted(r.pk for r in made)


# --- institutions -------------------------------------------------------------------------------------------------


def test_institution_resources_page_and_section(client, publisher, college, second_college,
                                                django_assert_max_num_queries):
    mine = [publisher(title=f"本校资源{i}") for i in range(7)]
    theirs = publisher(title="兄弟院校资源", contributing_org=second_college.pk,
                       copyright_holder_org=second_college.pk)
    publisher(title="本校成员专属", access="members")

    detail = html_of(client, reverse("orgs:detail", args=[college.pk]))
    section_url = reverse("catalogue:organization_section", args=[college.pk])
    assert f'hx-get="{section_url}"' in detail  # the institution page loads the section

    with django_assert_max_num_queries(4):
        section = html_of(client, section_url)
    assert len(listed_ids(section)) == views.ORG_FRAGMENT_SIZE
    assert reverse("catalogue:organization", args=[college.pk]) in section
    assert "兄弟院校资源" not in section and "本校成员专属" not in section

    with django_assert_max_num_queries(5):
        full = html_of(client, reverse("catalogue:organization", args=[college.pk]))
    assert sorted(listed_ids(full)) == sorted(r.pk for r in mine)
    assert theirs.pk not in listed_ids(html_of(client, reverse("catalogue:organization", args=[college.pk])))
    assert client.get(reverse("catalogue:organization", args=[999999])).status_code == 404


def test_blocked_and_withdrawn_resources_leave_the_catalogue(client, publisher, building, lead):
    from django.utils import timezone

    blocked = publisher(title="被阻断的资源")
    withdrawn = publisher(title="已下架的资源")
    Resource.objects.filter(pk=blocked.pk).update(moderation_state=Resource.Moderation.BLOCKED)
    Resource.objects.filter(pk=withdrawn.pk).update(withdrawn_at=timezone.now())
    client.force_login(lead)  # even the lead, who may still open the blocked resource's page
    html = html_of(client, reverse("catalogue:library", args=[building.pk]))
    assert "被阻断的资源" not in html and "已下架的资源" not in html


def test_catalogue_lists_match_the_resource_policy(publisher, outsider):
    from reslib.catalogue.searching import published_resources
    from reslib.resources import policies

    public = publisher(title="公开")
    members = publisher(title="成员", access="members")
    for user in (AnonymousUser(), outsider):
        ids = set(published_resources(user).values_list("pk", flat=True))
        assert public.pk in ids and members.pk not in ids
        assert ids <= set(policies.visible_resources(user).values_list("pk", flat=True))


def test_catalogue_lists_leave_out_drafts_blocked_and_withdrawn(publisher, building, lead, operator):
    from django.utils import timezone

    from reslib.catalogue.searching import published_resources
    from reslib.resources import policies

    public = publisher(title="公开")
    members = publisher(title="成员", access="members")
    blocked = publisher(title="被阻断")
    withdrawn = publisher(title="已下架")
    draft = factories.resource(building, lead, title="草稿")
    Resource.objects.filter(pk=blocked.pk).update(moderation_state=Resource.Moderation.BLOCKED)
    Resource.objects.filter(pk=withdrawn.pk).update(withdrawn_at=timezone.now())
    for user in (operator, lead):
        # These users may open all five, so leaving three out is published_resources' own doing.
        assert set(policies.visible_resources(user).values_list("pk", flat=True)) >= {
            public.pk, members.pk, blocked.pk, withdrawn.pk, draft.pk}
        assert set(published_resources(user).values_list("pk", flat=True)) == {public.pk, members.pk}
