"""Password rules: a password of spaces only is refused wherever a password is set, in Chinese beside the field."""

import pytest
from django.contrib.auth.password_validation import password_validators_help_texts
from django.urls import reverse
from django.utils import translation

from reslib.accounts.models import User

from .test_views import GOOD, field_errors

pytestmark = pytest.mark.django_db

BLANK_PASSWORDS = [" " * 12, "\t" * 12, "\u3000" * 12]  # spaces, tabs, full-width spaces


@pytest.mark.parametrize("password", BLANK_PASSWORDS)
def test_register_refuses_a_password_of_spaces_beside_the_field(client, password):
    response = client.post(reverse("accounts:register"), {**GOOD, "password": password, "password_again": password})
    assert response.status_code == 200
    assert field_errors(response.content.decode(), "password") == ["密码不能只由空格组成。"]
    assert not User.objects.filter(username=GOOD["username"]).exists()


def test_register_message_follows_the_language(client):
    client.cookies["django_language"] = "en"
    response = client.post(reverse("accounts:register"), {**GOOD, "password": " " * 12, "password_again": " " * 12})
    assert field_errors(response.content.decode(), "password") == ["The password cannot consist of spaces only."]


def test_a_password_with_spaces_inside_is_still_fine(client):
    response = client.post(reverse("accounts:register"), {**GOOD, "password": " 秋实 2026 learn ",
                                                          "password_again": " 秋实 2026 learn "})
    assert response.status_code == 302
    assert User.objects.get(username=GOOD["username"]).check_password(" 秋实 2026 learn ")


def test_too_short_password_is_refused_in_chinese(client):
    response = client.post(reverse("accounts:register"), {**GOOD, "password": "Qiu-2026", "password_again": "Qiu-2026"})
    assert field_errors(response.content.decode(), "password") == ["密码太短：至少需要 10 个字符。"]
    assert not User.objects.filter(username=GOOD["username"]).exists()


def test_every_password_rule_reads_in_chinese():
    with translation.override("zh-hans"):
        texts = password_validators_help_texts()
    assert len(texts) == 5 and "你的密码不能只由空格组成。" in texts
    assert all(not any("a" <= ch.lower() <= "z" for ch in text) for text in texts), texts


@pytest.fixture
def staff(db):
    return User.objects.create_user("staff", password="old-password-2026", is_staff=True)


def test_password_change_refuses_spaces_and_keeps_the_old_password(client, staff):
    client.force_login(staff)
    url = reverse("admin:password_change")
    response = client.post(url, {"old_password": "old-password-2026", "new_password1": " " * 12,
                                 "new_password2": " " * 12})
    assert response.status_code == 200 and "密码不能只由空格组成。" in response.content.decode()
    staff.refresh_from_db()
    assert staff.check_password("old-password-2026") and not staff.check_password(" " * 12)

    response = client.post(url, {"old_password": "old-password-2026", "new_password1": "Qiushi-2026-change",
                                 "new_password2": "Qiushi-2026-change"})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("Qiushi-2026-change")


def test_operator_cannot_set_a_password_of_spaces_for_someone_else(client, lead):
    root = User.objects.create_superuser("root", "root@example.com", "root-password-2026")
    client.force_login(root)
    response = client.post(reverse("admin:auth_user_password_change", args=[lead.pk]),
                           {"password1": " " * 12, "password2": " " * 12, "usable_password": "true"})
    assert response.status_code == 200 and "密码不能只由空格组成。" in response.content.decode()
    lead.refresh_from_db()
    assert not lead.check_password(" " * 12)
