"""The API frame: one error shape, authentication (token / session with CSRF), pagination, OpenAPI, docs, audit."""

import datetime
import json

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from reslib.accounts import services as account_services
from reslib.core.models import AuditEntry
from reslib.libraries.models import Library

from .. import factories

API = "/api/v1"


def bearer(user) -> dict:
    _token, raw = account_services.create_api_token(user, name="test")
    return {"Authorization": f"Bearer {raw}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


# --- OpenAPI and docs ----------------------------------------------------------------------------------------------


def test_openapi_document_is_valid_json_listing_the_paths(client, db):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = json.loads(response.content)
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "ResLib API"
    paths = set(doc["paths"])
    for path in [
        "/api/v1/auth/token", "/api/v1/me", "/api/v1/me/tokens", "/api/v1/me/tokens/{token_id}",
        "/api/v1/regions", "/api/v1/majors", "/api/v1/organizations", "/api/v1/organizations/{org_id}",
        "/api/v1/libraries", "/api/v1/libraries/{library_id}", "/api/v1/libraries/{library_id}/actions",
        "/api/v1/libraries/{library_id}/transitions", "/api/v1/libraries/{library_id}/members",
        "/api/v1/libraries/{library_id}/members/{member_id}", "/api/v1/libraries/{library_id}/history",
        "/api/v1/audit",
    ]:
        assert path in paths, path
    schemes = doc["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert "ErrorOut" in doc["components"]["schemas"]


def test_openapi_filters_document_each_models_own_choices(client, db):
    doc = client.get(f"{API}/openapi.json").json()

    def enum_of(path, name):
        param = next(p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name)
        return next(option["enum"] for option in param["schema"]["anyOf"] if "enum" in option)

    assert set(enum_of("/api/v1/libraries", "level")) == set(Library.Level.values)
    assert set(enum_of("/api/v1/majors", "level")) == {"secondary", "higher", "undergraduate"}
    assert set(enum_of("/api/v1/regions", "level")) == {"province", "city"}
    assert set(enum_of("/api/v1/libraries", "status")) == set(Library.Status.values)


def test_docs_page_loads_local_assets_only(client, db):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert "https://" not in html and "http://" not in html
    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/swagger-ui.css")


# --- the error shape -------------------------------------------------------------------------------------------


def test_unknown_api_path_is_json_404(client, db):
    assert_error(client.get(f"{API}/no/such/thing"), 404, "not_found")


def test_schema_errors_use_the_error_shape(client, lead):
    client.force_login(lead)
    error = assert_error(
        client.post(f"{API}/libraries", {"hosts": "not-a-list"}, content_type="application/json"),
        422, "validation.invalid",
    )
    assert "hosts" in error["fields"]
    assert_error(client.post(f"{API}/libraries", "{broken", content_type="application/json"),
                 400, "request.malformed")


def test_anonymous_on_a_logged_in_endpoint_is_401(client, db):
    assert_error(client.get(f"{API}/me"), 401, "auth.required")


def test_wrong_or_revoked_bearer_token_is_401_even_on_public_endpoints(client, lead):
    assert_error(client.get(f"{API}/regions", headers={"Authorization": "Bearer rl_wrong"}), 401, "auth.required")
    token, raw = account_services.create_api_token(lead, name="cli")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    account_services.revoke_api_token(lead, token.pk)
    assert_error(client.get(f"{API}/me", headers=headers), 401, "auth.required")


# --- session auth and CSRF -------------------------------------------------------------------------------------


def test_session_post_without_csrf_token_is_refused(lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    before = lead.api_tokens.count()
    assert_error(client.post(f"{API}/me/tokens", {"name": "x"}, content_type="application/json"),
                 403, "auth.csrf_failed")
    assert lead.api_tokens.count() == before
    # Reading needs no token.
    assert client.get(f"{API}/me").status_code == 200


def test_session_post_with_csrf_token_is_accepted(lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    client.get(f"{API}/docs")  # any page that renders {% csrf_token %} sets the cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(f"{API}/me/tokens", {"name": "browser"}, content_type="application/json",
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 201, response.content


def test_bearer_token_needs_no_csrf_token(lead):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"{API}/me/tokens", {"name": "script"}, content_type="application/json",
                           headers=bearer(lead))
    assert response.status_code == 201


# --- pagination --------------------------------------------------------------------------------------------------


def test_lists_share_one_paginated_shape(client, db):
    response = client.get(f"{API}/regions", {"limit": 5, "offset": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "count"}
    assert len(body["items"]) == 5 and body["count"] > 30
    first_page = client.get(f"{API}/regions", {"limit": 2}).json()["items"]
    assert body["items"][0] != first_page[0]


def test_limit_above_100_is_refused(client, db):
    error = assert_error(client.get(f"{API}/regions", {"limit": 101}), 422, "validation.invalid")
    assert "limit" in error["fields"]
    assert len(client.get(f"{API}/regions", {"limit": 100}).json()["items"]) <= 100


# --- the audit log ---------------------------------------------------------------------------------------------


def test_audit_log_is_for_operators_only(client, lead, operator, province_admin):
    assert_error(client.get(f"{API}/audit"), 401, "auth.required")
    client.force_login(lead)
    assert_error(client.get(f"{API}/audit"), 403, "permission.denied")
    client.force_login(province_admin)
    assert_error(client.get(f"{API}/audit"), 403, "permission.denied")
    client.force_login(operator)
    assert client.get(f"{API}/audit").status_code == 200


def test_audit_log_filters(client, operator, library, lead):
    factories.library(lead, name="第二个资源库")
    client.force_login(operator)
    body = client.get(f"{API}/audit", {"actor": "lead", "action": "library.create"}).json()
    assert body["count"] == 2
    assert {e["target_type"] for e in body["items"]} == {"libraries.library"}
    entry = body["items"][0]
    assert {"actor", "actor_username", "action", "target_id", "target_repr", "before", "after", "reason",
            "client_address", "created_at"} <= set(entry)
    assert client.get(f"{API}/audit", {"action": "library."}).json()["count"] == 2
    assert client.get(f"{API}/audit", {"actor": "nobody"}).json()["count"] == 0
    assert client.get(f"{API}/audit", {"target_type": "accounts.apitoken"}).json()["count"] == 0
    future = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    past = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    assert client.get(f"{API}/audit", {"since": future}).json()["count"] == 0
    assert client.get(f"{API}/audit", {"since": past, "until": future, "actor": "lead"}).json()["count"] >= 2
    assert_error(client.get(f"{API}/audit", {"since": "yesterday"}), 422, "validation.invalid")


def test_api_state_change_records_client_address(lead, province_admin, library):
    client = Client(REMOTE_ADDR="203.0.113.9")
    response = client.post(f"{API}/libraries/{library.pk}/transitions", {"action": "submit"},
                           content_type="application/json", headers=bearer(lead))
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.get(action="library.submit", target_id=str(library.pk))
    assert entry.client_address == "203.0.113.9" and entry.actor == lead
    assert Library.objects.get(pk=library.pk).status == Library.Status.SUBMITTED


# --- hostile input: every refusal is a 4xx in the error shape, never a 500 ------------------------------------------

BIG = 2**63  # one past the largest value of a 64-bit column (SQLite INTEGER, PostgreSQL bigint)


def test_integers_beyond_64_bits_are_field_errors_wherever_they_come(client, lead, library):
    headers = bearer(lead)
    for url, field, code in [
        (f"{API}/libraries?offset={BIG}", "offset", "validation.less_than_equal"),
        (f"{API}/libraries?major={BIG}", "major", "validation.less_than_equal"),
        (f"{API}/libraries?major={-BIG - 1}", "major", "validation.greater_than_equal"),
        (f"{API}/libraries/99999999999999999999", "library_id", "validation.less_than_equal"),
        (f"{API}/libraries/{library.pk}/resources?knowledge_point={BIG}", "knowledge_point",
         "validation.less_than_equal"),
    ]:
        error = assert_error(client.get(url, headers=headers), 422, "validation.invalid")
        assert [e["code"] for e in error["fields"][field]] == [code], url
    # In a body, each field is named as the client sent it.
    body = {"name": "超大编号资源库", "served_majors": [library.core_major_id, BIG], "hosts": [BIG]}
    error = assert_error(client.post(f"{API}/libraries", body, content_type="application/json", headers=headers),
                         422, "validation.invalid")
    assert set(error["fields"]) == {"served_majors.1", "hosts.0"}
    assert client.get(f"{API}/libraries?offset={BIG - 1}", headers=headers).json()["items"] == []


def test_bodies_must_be_json_objects_sent_as_json(client, db):
    url = f"{API}/auth/token"
    credentials = json.dumps({"username": "nobody", "password": "x", "name": "cli"})
    for body in ["[1, 2]", '"x"', "null", "42"]:
        assert_error(client.post(url, body, content_type="application/json"), 400, "request.not_an_object")
    for body in ["{broken", "[" * 100_000, b"\xff\xfe"]:
        assert_error(client.post(url, body, content_type="application/json"), 400, "request.malformed")
    for content_type in ["text/plain", "application/x-www-form-urlencoded", ""]:
        assert_error(client.post(url, credentials, content_type=content_type), 415,
                     "request.unsupported_media_type")
    # JSON it is, under either name: the credentials are just wrong.
    for content_type in ["application/json; charset=utf-8", "application/merge-patch+json"]:
        assert client.post(url, credentials, content_type=content_type).status_code == 401


def test_a_body_over_the_memory_limit_is_413(client, lead):
    body = json.dumps({"name": "x" * (5 * 1024 * 1024 // 2)})  # 2.5 MiB + a little (DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = client.post(f"{API}/me/tokens", body, content_type="application/json", headers=bearer(lead))
    assert_error(response, 413, "request.too_large")


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_answers_json_and_is_logged(client, db, monkeypatch, settings, caplog, debug):
    settings.DEBUG = debug

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(account_services, "issue_token_for_credentials", broken)
    client.raise_request_exception = False
    response = client.post(f"{API}/auth/token", {"username": "a", "password": "b", "name": "c"},
                           content_type="application/json")
    error = assert_error(response, 500, "server_error")
    assert "a bug" not in error["message"]
    logged = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    assert len(logged) == 1 and logged[0].exc_info[0] is RuntimeError
