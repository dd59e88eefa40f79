"""Login (with throttling), logout, learner self-registration, the profile page and personal API tokens."""

import re

import pytest
from django.urls import reverse

from reslib.accounts.models import ApiToken, User, hash_token
from reslib.accounts import services
from reslib.core.models import AuditEntry
from reslib.libraries.models import TeamMember
from tests import factories

pytestmark = pytest.mark.django_db

GOOD = {
    "username": "xiaoming", "real_name": "李小明", "learner_category": "student", "email": "xm@example.com",
    "phone": "13912345678", "password": "Qiushi-2026-learn", "password_again": "Qiushi-2026-learn",
}


def field_errors(html: str, field: str) -> list[str]:
    """The .field-error texts inside the .field block of one form field."""
    block = re.search(rf'<div class="field[^"]*field-{field}">(.*?)\n</div>', html, re.S)
    assert block, f"no field block for {field}"
    return re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', block.group(1), re.S)


# --- login / logout ---------------------------------------------------------------------------------------------


def test_login_page_is_chinese(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    html = response.content.decode()
    assert "登录 ResLib 资源库" in html and "用户名" in html and "密码" in html


def test_login_and_logout(client, lead):
    response = client.post(reverse("accounts:login"), {"username": "lead", "password": factories.PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("accounts:profile")).status_code == 200
    # Logging out needs a POST (a link cannot log anyone out).
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_wrong_password_shows_a_chinese_error(client, lead):
    response = client.post(reverse("accounts:login"), {"username": "lead", "password": "wrong-password"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_login_is_locked_after_five_failures(client, lead):
    url = reverse("accounts:login")
    for _ in range(4):
        assert client.post(url, {"username": "lead", "password": "wrong"}).status_code == 200
    response = client.post(url, {"username": "lead", "password": "wrong"})
    assert response.status_code == 429
    # Now even the right password is refused, with the Chinese lockout page.
    response = client.post(url, {"username": "lead", "password": factories.PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录失败次数过多" in html
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked.
    factories.user("teacher")
    response = client.post(url, {"username": "teacher", "password": factories.PASSWORD})
    assert response.status_code == 302


# --- registration -----------------------------------------------------------------------------------------------


def test_register_happy_path_logs_the_learner_in(client):
    response = client.post(reverse("accounts:register"), GOOD)
    assert response.status_code == 302
    user = User.objects.get(username="xiaoming")
    assert user.real_name == "李小明" and user.learner_category == "student"
    assert user.check_password(GOOD["password"])
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEntry.objects.filter(action="account.register", target_id=str(user.pk)).exists()
    assert "欢迎来到 ResLib 资源库" in client.get(response["Location"]).content.decode()


def test_register_weak_password_shows_chinese_error_beside_the_field(client):
    response = client.post(reverse("accounts:register"), {**GOOD, "password": "12345678", "password_again": "12345678"})
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), "password")
    assert errors and any("密码" in e for e in errors), errors
    assert not User.objects.filter(username="xiaoming").exists()


def test_register_taken_username_and_bad_phone(client, lead):
    response = client.post(reverse("accounts:register"), {**GOOD, "username": "LEAD", "phone": "12345"})
    html = response.content.decode()
    assert field_errors(html, "username") == ["该用户名已被占用。"]
    assert field_errors(html, "phone") == ["请输入有效的电话号码。"]
    assert User.objects.count() == 1


def test_register_password_mismatch(client):
    response = client.post(reverse("accounts:register"), {**GOOD, "password_again": "something-else-2026"})
    assert field_errors(response.content.decode(), "password_again") == ["两次输入的密码不一致。"]
    assert not User.objects.filter(username="xiaoming").exists()


def test_logged_in_user_is_sent_from_register_to_profile(client, lead):
    client.force_login(lead)
    response = client.get(reverse("accounts:register"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")


# --- profile ----------------------------------------------------------------------------------------------------


def test_profile_requires_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_profile_shows_data_organisation_and_roles(client, lead, library, province_admin):
    client.force_login(lead)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "王建国" in html and "江苏信息职业技术学院" in html
    assert library.name in html
    assert TeamMember.objects.filter(user=lead, library=library, role="lead").exists()

    client.force_login(province_admin)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "省级管理员" in html and "江苏省" in html


# --- API tokens -------------------------------------------------------------------------------------------------


def test_create_token_shows_the_raw_token_once(client, lead):
    client.force_login(lead)
    response = client.post(reverse("accounts:token_create"), {"name": "夜间同步"})
    assert response.status_code == 200
    html = response.content.decode()
    raw = re.search(r'id="new-token">(rl_[^<]+)<', html).group(1)
    token = ApiToken.objects.get(user=lead)
    assert token.token_hash == hash_token(raw) and token.name == "夜间同步"
    assert "不会再次显示" in html
    assert raw not in client.get(reverse("accounts:profile")).content.decode()


def test_create_token_with_htmx_returns_the_token_section(client, lead):
    client.force_login(lead)
    response = client.post(reverse("accounts:token_create"), {"name": "脚本"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="tokens">')
    assert "<html" not in html


def test_create_token_without_name_shows_error(client, lead):
    client.force_login(lead)
    response = client.post(reverse("accounts:token_create"), {"name": ""})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "name")
    assert not ApiToken.objects.exists()


def test_revoke_own_token(client, lead):
    token, _raw = services.create_api_token(lead, name="脚本")
    client.force_login(lead)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert not token.is_active
    assert AuditEntry.objects.filter(action="token.revoke", target_id=str(token.pk)).exists()


def test_cannot_revoke_another_users_token(client, lead, builder):
    token, _raw = services.create_api_token(lead, name="脚本")
    client.force_login(builder)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_token_actions_need_login_and_post(client, lead):
    token, _raw = services.create_api_token(lead, name="脚本")
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    client.force_login(lead)
    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405
    token.refresh_from_db()
    assert token.is_active
