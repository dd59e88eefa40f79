"""Accounts API: password → token (throttled), the caller's profile, creating, using and revoking tokens."""

import pytest
from django.test import Client

from reslib.accounts.models import ApiToken, RoleGrant
from reslib.core.models import AuditEntry
from reslib.libraries.models import TeamMember

from .. import factories

API = "/api/v1"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["fields"], dict)
    return body["error"]


def post(client, url, data, **kwargs):
    return client.post(url, data, content_type="application/json", **kwargs)


# --- POST /auth/token ------------------------------------------------------------------------------------------


def test_password_exchange_returns_a_working_token(lead):
    client = Client(REMOTE_ADDR="198.51.100.4")
    response = post(client, f"{API}/auth/token",
                    {"username": "lead", "password": factories.PASSWORD, "name": "备份脚本"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "备份脚本" and body["token"].startswith("rl_") and body["id"]
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == lead and token.token_hash != body["token"]  # only the hash is stored
    me = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["username"] == "lead"
    entry = AuditEntry.objects.get(action="token.create", target_id=str(token.pk))
    assert entry.actor == lead and entry.client_address == "198.51.100.4"


def test_password_exchange_without_name_uses_a_default_name(client, lead):
    response = post(client, f"{API}/auth/token", {"username": "lead", "password": factories.PASSWORD})
    assert response.status_code == 201 and response.json()["name"] == "API"


def test_wrong_credentials_are_401(client, lead):
    before = ApiToken.objects.count()
    assert_error(post(client, f"{API}/auth/token", {"username": "lead", "password": "wrong-password"}),
                 401, "auth.invalid_credentials")
    assert_error(post(client, f"{API}/auth/token", {"username": "ghost", "password": "whatever-123"}),
                 401, "auth.invalid_credentials")
    assert ApiToken.objects.count() == before


def test_inactive_user_gets_no_token(client, lead):
    type(lead).objects.filter(pk=lead.pk).update(is_active=False)
    assert_error(post(client, f"{API}/auth/token", {"username": "lead", "password": factories.PASSWORD}),
                 401, "auth.invalid_credentials")


def test_missing_password_is_a_validation_error(client, db):
    error = assert_error(post(client, f"{API}/auth/token", {"username": "lead"}), 422, "validation.invalid")
    assert "password" in error["fields"]


def test_repeated_failures_lock_the_token_endpoint(lead, settings):
    settings.AXES_FAILURE_LIMIT = 5
    client = Client(REMOTE_ADDR="192.0.2.50")
    codes = [post(client, f"{API}/auth/token", {"username": "lead", "password": f"wrong-{i}"}).status_code
             for i in range(6)]
    # django-axes (AXES_FAILURE_LIMIT = 5): the fifth failure locks the username + address pair.
    assert codes == [401, 401, 401, 401, 429, 429]
    # Now even the right password is refused until the cool-off ends.
    assert_error(post(client, f"{API}/auth/token", {"username": "lead", "password": factories.PASSWORD}),
                 429, "auth.locked_out")
    assert not ApiToken.objects.filter(user=lead).exists()


# --- GET /me ---------------------------------------------------------------------------------------------------


def test_me_lists_organisation_platform_and_library_roles(client, lead, library, province_admin):
    client.force_login(lead)
    body = client.get(f"{API}/me").json()
    assert body["username"] == "lead" and body["real_name"] == "王建国"
    assert body["organization"] == {"id": lead.organization.pk, "name": lead.organization.name,
                                    "type": lead.organization.type}
    assert body["platform_roles"] == []
    assert body["library_roles"] == [
        {"library": {"id": library.pk, "name": library.name, "status": "draft"}, "role": "lead",
         "role_label": str(TeamMember.Role.LEAD.label)}
    ]
    client.force_login(province_admin)
    roles = client.get(f"{API}/me").json()["platform_roles"]
    assert [(r["role"], r["province"]["code"]) for r in roles] == [(RoleGrant.Role.PROVINCE_ADMIN, "320000")]
    assert "password" not in body


def test_me_is_refused_without_credentials(client, db):
    assert_error(client.get(f"{API}/me"), 401, "auth.required")


# --- /me/tokens ------------------------------------------------------------------------------------------------


def test_create_list_use_and_revoke_a_token(client, lead):
    client.force_login(lead)
    created = post(client, f"{API}/me/tokens", {"name": "数据同步"})
    assert created.status_code == 201
    token = created.json()
    listed = client.get(f"{API}/me/tokens").json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == token["id"] and listed["items"][0]["is_active"] is True
    assert "token" not in listed["items"][0] and "token_hash" not in listed["items"][0]

    script = Client()
    auth = {"Authorization": f"Bearer {token['token']}"}
    assert script.get(f"{API}/me", headers=auth).status_code == 200

    response = client.delete(f"{API}/me/tokens/{token['id']}")
    assert response.status_code == 204
    assert_error(script.get(f"{API}/me", headers=auth), 401, "auth.required")
    assert client.get(f"{API}/me/tokens").json()["items"][0]["is_active"] is False
    assert AuditEntry.objects.filter(action="token.revoke", target_id=str(token["id"])).count() == 1


def test_a_token_can_revoke_itself(lead):
    client = Client()
    raw = post(client, f"{API}/auth/token", {"username": "lead", "password": factories.PASSWORD}).json()
    auth = {"Authorization": f"Bearer {raw['token']}"}
    assert client.delete(f"{API}/me/tokens/{raw['id']}", headers=auth).status_code == 204
    assert_error(client.get(f"{API}/me", headers=auth), 401, "auth.required")


def test_token_name_is_required(client, lead):
    client.force_login(lead)
    error = assert_error(post(client, f"{API}/me/tokens", {"name": "  "}), 400, "token.name_required")
    assert error["fields"]["name"][0]["code"] == "token.name_required"
    assert not ApiToken.objects.filter(user=lead).exists()


def test_other_users_tokens_are_invisible_and_cannot_be_revoked(client, lead, outsider):
    client.force_login(outsider)
    theirs = post(client, f"{API}/me/tokens", {"name": "outsider"}).json()
    client.force_login(lead)
    assert client.get(f"{API}/me/tokens").json()["count"] == 0
    assert_error(client.delete(f"{API}/me/tokens/{theirs['id']}"), 404, "token.not_found")
    assert ApiToken.objects.get(pk=theirs["id"]).is_active


def test_token_endpoints_need_a_login(client, lead):
    assert_error(client.get(f"{API}/me/tokens"), 401, "auth.required")
    assert_error(post(client, f"{API}/me/tokens", {"name": "x"}), 401, "auth.required")
    assert not ApiToken.objects.exists()
