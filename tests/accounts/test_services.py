import pytest

from reslib.accounts import roles, services
from reslib.accounts.models import ApiToken, RoleGrant, User
from reslib.core.errors import NotFound, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry

from .. import factories


@pytest.mark.django_db
def test_learner_registers_with_a_strong_password():
    user = services.register_learner(username="xuesheng01", password="kaoshi-biye-2026", real_name="李晓明",
                                     learner_category="student", phone="13912345678")
    assert user.check_password("kaoshi-biye-2026") and user.organization is None
    assert AuditEntry.objects.filter(action="account.register", actor=user).exists()


@pytest.mark.django_db
def test_registration_reports_every_problem_and_creates_nothing():
    factories.user("taken")
    with pytest.raises(ValidationFailed) as exc:
        services.register_learner(username="TAKEN", password="123", phone="12345", learner_category="alien")
    fields = exc.value.fields
    assert fields["username"][0]["code"] == "account.username_taken"
    assert {e["code"] for e in fields["password"]} == {"account.password_weak"}
    assert fields["phone"][0]["code"] == "account.phone_invalid"
    assert fields["learner_category"][0]["code"] == "account.category_invalid"
    assert User.objects.count() == 1


def test_token_is_shown_once_and_stored_hashed(lead):
    token, raw = services.create_api_token(lead, name="同步脚本")
    assert raw.startswith("rl_") and token.hint == raw[:8]
    assert raw not in token.token_hash and ApiToken.authenticate(raw) == lead


def test_revoked_token_no_longer_authenticates(lead):
    token, raw = services.create_api_token(lead, name="临时")
    services.revoke_api_token(lead, token.pk)
    assert ApiToken.authenticate(raw) is None
    assert AuditEntry.objects.filter(action="token.revoke", target_id=str(token.pk)).exists()


def test_user_cannot_revoke_someone_elses_token(lead, builder):
    token, raw = services.create_api_token(lead, name="mine")
    with pytest.raises(NotFound):
        services.revoke_api_token(builder, token.pk)
    assert ApiToken.authenticate(raw) == lead


def test_token_of_inactive_user_refused(lead):
    _token, raw = services.create_api_token(lead, name="x")
    User.objects.filter(pk=lead.pk).update(is_active=False)
    assert ApiToken.authenticate(raw) is None


def test_token_needs_a_name(lead):
    with pytest.raises(ValidationFailed) as exc:
        services.create_api_token(lead, name=" ")
    assert exc.value.code == "token.name_required"


def test_only_operators_grant_roles(operator, lead, province_admin):
    grant = services.grant_role(by=operator, user=lead, role=RoleGrant.Role.PROVINCE_ADMIN,
                                province=factories.province("330000"))
    assert roles.is_province_admin(lead, "330000") and grant.province_id == "330000"
    with pytest.raises(PermissionDenied):
        services.grant_role(by=province_admin, user=lead, role=RoleGrant.Role.OPERATOR)
    assert not roles.is_operator(lead)
