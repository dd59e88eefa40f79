"""GET /api/v1/search and /api/v1/search/suggest: shape, visibility for anonymous/token/session callers, facets,
filters, cursor pages and errors."""

import pytest

from reslib.accounts import services as account_services
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/search"


@pytest.fixture
def catalogue(publisher, second_college):
    return {
        "lathe": publisher(title="数控车床对刀操作微课", resource_type="micro_lesson", keywords=["数控", "对刀"]),
        "mill": publisher(title="数控铣床编程实例", resource_type="video", audience=["employee"]),
        "link": publisher(title="数控机床国家标准汇编", resource_type="external_link",
                          external_url="https://std.example.org/cnc"),
        "drawing": publisher(title="机械制图基础", resource_type="text", major=factories.major("460101").pk,
                             contributing_org=second_college.pk, copyright_holder_org=second_college.pk),
        "registered": publisher(title="数控注册用户讲义", access="registered"),
        "members": publisher(title="数控内部实训秘籍", resource_type="simulation", access="members"),
    }


def titles(body):
    return {item["title"] for item in body["items"]}


def test_shape(client, catalogue, building):
    response = client.get(URL, {"q": "对刀"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"items", "facets", "next_cursor", "did_you_mean", "total", "approximate"}
    [item] = body["items"]
    lathe = catalogue["lathe"]
    assert item["id"] == lathe.pk and item["title"] == "数控车床对刀操作微课"
    assert item["url"] == f"/resources/{lathe.pk}/"
    assert item["resource_type"] == "micro_lesson" and item["resource_type_label"] == "微课"
    assert item["library"] == {"id": building.pk, "name": building.name}
    assert item["major"] == "460103" and item["external_url"] is None
    assert "<mark>对刀</mark>" in item["highlights"]["title"]
    assert set(body["facets"]) == {"type", "major", "library", "institution", "audience", "licence", "price"}
    assert body["facets"]["type"] == [{"value": "micro_lesson", "label": "微课", "count": 1, "selected": False}]
    assert body["next_cursor"] is None and body["total"] == 1


def test_external_links_give_their_address(client, catalogue):
    [item] = client.get(URL, {"q": "国家标准"}).json()["items"]
    assert item["resource_type"] == "external_link" and item["external_url"] == "https://std.example.org/cnc"


def test_visibility_anonymous_token_and_member(client, catalogue, outsider, lead):
    body = client.get(URL, {"q": "数控"}).json()
    assert titles(body) == {"数控车床对刀操作微课", "数控铣床编程实例", "数控机床国家标准汇编"}
    assert "simulation" not in {v["value"] for v in body["facets"]["type"]}
    assert body["total"] == 3

    _token, raw = account_services.create_api_token(outsider, name="script")
    body = client.get(URL, {"q": "数控"}, HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert "数控注册用户讲义" in titles(body) and "数控内部实训秘籍" not in titles(body)

    client.force_login(lead)
    body = client.get(URL, {"q": "数控"}).json()
    assert "数控内部实训秘籍" in titles(body)
    assert {"value": "simulation", "label": "虚拟仿真", "count": 1, "selected": False} in body["facets"]["type"]


def test_a_wrong_token_is_refused_not_anonymous(client, catalogue):
    response = client.get(URL, {"q": "数控"}, HTTP_AUTHORIZATION="Bearer rl_wrong")
    assert response.status_code == 401


def test_filters_repeat_or_comma_separate(client, catalogue, second_college):
    body = client.get(URL, {"q": "数控", "type": ["video", "micro_lesson"]}).json()
    assert titles(body) == {"数控车床对刀操作微课", "数控铣床编程实例"}
    assert titles(client.get(URL, {"q": "数控", "type": "video,micro_lesson"}).json()) == titles(body)
    selected = {v["value"] for v in body["facets"]["type"] if v["selected"]}
    assert selected == {"video", "micro_lesson"}
    assert titles(client.get(URL, {"audience": "employee"}).json()) == {"数控铣床编程实例"}
    assert titles(client.get(URL, {"institution": second_college.pk}).json()) == {"机械制图基础"}
    assert titles(client.get(URL, {"major": "460101"}).json()) == {"机械制图基础"}
    assert client.get(URL, {"price": "paid"}).json()["items"] == []


def test_cursor_pages(client, publisher):
    made = {publisher(title=f"数控加工第{i}讲").pk for i in range(5)}
    seen, params = [], {"q": "数控加工", "limit": 2}
    while True:
        body = client.get(URL, params).json()
        seen += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        params = {**params, "cursor": body["next_cursor"]}
    assert sorted(seen) == sorted(made)


def test_errors(client, catalogue):
    response = client.get(URL, {"q": "数控", "cursor": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "search.cursor_invalid"
    response = client.get(URL, {"sort": "loudest"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "search.sort_invalid"
    assert client.get(URL, {"limit": 1000}).status_code == 422
    # A cursor of one query does not page another.
    cursor = client.get(URL, {"q": "数控", "limit": 1}).json()["next_cursor"]
    assert client.get(URL, {"q": "机械", "cursor": cursor}).status_code == 400


def test_placeholder_sorts_are_accepted(client, catalogue):
    for sort in ("newest", "popular", "rating"):
        assert client.get(URL, {"q": "数控", "sort": sort}).status_code == 200


def test_suggest(client, catalogue):
    response = client.get(URL + "/suggest", {"q": "数控"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert isinstance(items, list) and items
    assert not any("秘籍" in text for text in items)
    assert client.get(URL + "/suggest", {"q": ""}).json() == {"items": []}


def test_openapi_documents_the_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/search" in schema["paths"] and "/api/v1/search/suggest" in schema["paths"]
