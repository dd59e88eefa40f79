"""Accounts: learner self-registration, personal API tokens, platform roles."""

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reslib.core import audit
from reslib.core.errors import FieldErrors, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed

from . import roles
from .models import ApiToken, RoleGrant, User, hash_token, phone_validator


def register_learner(*, username: str, password: str, real_name: str = "", email: str = "", phone: str = "",
                     learner_category: str = User.LearnerCategory.SOCIAL_LEARNER) -> User:
    errors = FieldErrors()
    username = (username or "").strip()
    try:
        User.username_validator(username)
    except ValidationError:
        errors.add("username", "account.username_invalid",
                   _("Use letters, digits and @/./+/-/_ only, at most 150 characters."))
    if not username:
        errors.add("username", "account.username_required", _("Please choose a username."))
    elif User.objects.filter(username__iexact=username).exists():
        errors.add("username", "account.username_taken", _("This username is already taken."))
    if phone:
        try:
            phone_validator(phone)
        except ValidationError:
            errors.add("phone", "account.phone_invalid", _("Enter a valid phone number."))
    if learner_category not in User.LearnerCategory.values:
        errors.add("learner_category", "account.category_invalid", _("Choose a learner category."))
    try:
        validate_password(password, User(username=username, email=email, real_name=real_name))
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("password", "account.password_weak", message)
    errors.raise_if_any()
    with transaction.atomic():
        user = User(username=username, real_name=real_name.strip(), email=email.strip(), phone=phone.strip(),
                    learner_category=learner_category)
        user.set_password(password)
        user.save()
        audit.record(actor=user, action="account.register", target=user,
                     after={"username": username, "learner_category": learner_category})
    return user


def create_api_token(user: User, *, name: str) -> tuple[ApiToken, str]:
    """Create a personal token; the raw token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "token.name_required", _("Give the token a name, e.g. the script using it."))
    if len(name) > 64:
        raise ValidationFailed.single("name", "token.name_too_long", _("The name may have at most 64 characters."))
    raw = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, token_hash=hash_token(raw), hint=raw[:8])
        audit.record(actor=user, action="token.create", target=token, after={"name": name, "hint": token.hint})
    return token, raw


def revoke_api_token(user: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound(code="token.not_found")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record(actor=user, action="token.revoke", target=token, before={"active": True},
                         after={"active": False})
    return token


def issue_token_for_credentials(request, *, username: str, password: str, name: str) -> tuple[ApiToken, str]:
    """POST /auth/token: exchange a username and password for a new personal token (throttled like the login)."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise NotAuthenticated(_("Wrong username or password."), code="auth.invalid_credentials")
    return create_api_token(user, name=name or "API")


def grant_role(*, by, user: User, role: str, province=None, organization=None) -> RoleGrant:
    if not roles.is_operator(by):
        raise PermissionDenied(_("Only a platform operator can grant roles."), code="account.grant_denied")
    with transaction.atomic():
        grant, created = RoleGrant.objects.get_or_create(user=user, role=role, province=province,
                                                         organization=organization)
        if created:
            audit.record(actor=by, action="account.grant_role", target=user,
                         after={"role": role, "province": getattr(province, "pk", None),
                                "organization": getattr(organization, "pk", None)})
    roles.forget_roles(user)
    return grant
