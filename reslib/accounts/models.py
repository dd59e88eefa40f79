import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reslib.orgs.models import Organization, Region

phone_validator = RegexValidator(r"^(\+?86)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$", _("Enter a valid phone number."))


class User(AbstractUser):
    class LearnerCategory(models.TextChoices):
        STUDENT = "student", _("Student in school")
        TEACHER = "teacher", _("Teacher")
        SOCIAL_LEARNER = "social_learner", _("Social learner")
        EMPLOYEE = "employee", _("Enterprise employee")

    real_name = models.CharField(_("real name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    learner_category = models.CharField(
        _("learner category"), max_length=20, choices=LearnerCategory.choices, blank=True
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.real_name or self.username

    @property
    def display_name(self) -> str:
        return self.real_name or self.username


class RoleGrant(models.Model):
    """A platform-wide role: platform operator, province administrator (one province), organisation administrator."""

    class Role(models.TextChoices):
        OPERATOR = "operator", _("Platform operator")
        PROVINCE_ADMIN = "province_admin", _("Province administrator")
        ORG_ADMIN = "org_admin", _("Organisation administrator")

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    province = models.ForeignKey(
        Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.CheckConstraint(
                name="role_grant_scope_matches_role",
                condition=(
                    Q(role="operator", province__isnull=True, organization__isnull=True)
                    | Q(role="province_admin", province__isnull=False, organization__isnull=True)
                    | Q(role="org_admin", province__isnull=True, organization__isnull=False)
                ),
            ),
            models.UniqueConstraint(fields=["user", "role"], condition=Q(role="operator"),
                                    name="role_grant_unique_operator"),
            models.UniqueConstraint(fields=["user", "province"], condition=Q(role="province_admin"),
                                    name="role_grant_unique_province"),
            models.UniqueConstraint(fields=["user", "organization"], condition=Q(role="org_admin"),
                                    name="role_grant_unique_org"),
        ]

    def __str__(self):
        scope = self.province or self.organization or ""
        return f"{self.user} · {self.get_role_display()} {scope}".strip()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the user sees the token once, when it is created."""

    PREFIX = "rl_"

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(_("token starts with"), max_length=12)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @classmethod
    def authenticate(cls, raw: str):
        token = (
            cls.objects.select_related("user")
            .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user
