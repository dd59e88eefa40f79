from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reslib.core.models import TimeStampedModel
from reslib.orgs.models import Major, Organization, Region

MAX_HOSTS = 3
MAX_SERVED_MAJORS = 5


class Library(TimeStampedModel):
    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        SCHOOL = "school", _("School")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        # 已立项: a project approved by the province; "Approved" elsewhere (a review request) is 已通过.
        APPROVED = "approved", pgettext_lazy("library status", "Approved")
        NOT_APPROVED = "not_approved", _("Not approved")
        BUILDING = "building", _("Under construction")
        AWAITING_ACCEPTANCE = "awaiting_acceptance", _("Awaiting acceptance")
        ACCEPTED = "accepted", _("Accepted")
        ACCEPTANCE_FAILED = "acceptance_failed", _("Failed acceptance")
        RECTIFYING = "rectifying", _("Rectifying")
        RECOMMENDED_NATIONAL = "recommended_national", _("Recommended for national level")

    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    province = models.ForeignKey(
        Region, verbose_name=_("province"), on_delete=models.PROTECT, related_name="libraries",
        limit_choices_to={"level": Region.Level.PROVINCE},
    )
    core_major = models.ForeignKey(
        Major, verbose_name=_("core major"), on_delete=models.PROTECT, related_name="core_of_libraries"
    )
    served_majors = models.ManyToManyField(
        Major, verbose_name=_("served majors"), blank=True, related_name="served_by_libraries"
    )
    build_start = models.DateField(_("build period start"))
    build_end = models.DateField(_("build period end"))
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("applicant"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("resource library")
        verbose_name_plural = _("resource libraries")
        constraints = [
            models.CheckConstraint(name="library_build_end_after_start", condition=Q(build_end__gt=models.F("build_start"))),
        ]

    def __str__(self):
        return self.name

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    def build_progress_percent(self, today=None) -> int:
        today = today or timezone.localdate()
        total = (self.build_end - self.build_start).days
        elapsed = (today - self.build_start).days
        return max(0, min(100, round(100 * elapsed / total))) if total > 0 else 100


PUBLIC_STATUSES = frozenset(
    {
        Library.Status.APPROVED,
        Library.Status.BUILDING,
        Library.Status.AWAITING_ACCEPTANCE,
        Library.Status.ACCEPTED,
        Library.Status.ACCEPTANCE_FAILED,
        Library.Status.RECTIFYING,
        Library.Status.RECOMMENDED_NATIONAL,
    }
)


class LibraryHost(models.Model):
    """A host institution (主持单位); position 1 is the lead host (第一主持单位), responsible for content review."""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="hosts")
    organization = models.ForeignKey(Organization, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="hosted_libraries")
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ["library", "position"]
        verbose_name = _("host institution")
        verbose_name_plural = _("host institutions")
        constraints = [
            models.UniqueConstraint(fields=["library", "organization"], name="library_host_unique_org"),
            models.UniqueConstraint(fields=["library", "position"], name="library_host_unique_position"),
            models.CheckConstraint(name="library_host_position_range",
                                   condition=Q(position__gte=1, position__lte=MAX_HOSTS)),
        ]

    def __str__(self):
        return f"{self.library} · {self.position}. {self.organization}"


class LibraryParticipant(models.Model):
    """A participating institution (参建单位): school, university, industry body, enterprise, research institute…"""

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="participants")
    organization = models.ForeignKey(Organization, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="participated_libraries")

    class Meta:
        ordering = ["library", "organization__name"]
        verbose_name = _("participating institution")
        verbose_name_plural = _("participating institutions")
        constraints = [
            models.UniqueConstraint(fields=["library", "organization"], name="library_participant_unique_org"),
        ]

    def __str__(self):
        return f"{self.library} · {self.organization}"


class TeamMember(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Project lead")
        BUILDER = "builder", _("Builder")
        REVIEWER = "reviewer", _("Reviewer")
        OPERATIONS = "operations", _("Operations")

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="library_roles")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("invited by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        ordering = ["library", "role", "created_at"]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["library", "user", "role"], name="team_member_unique_role"),
            models.UniqueConstraint(fields=["library"], condition=Q(role="lead"), name="team_one_lead"),
        ]

    def __str__(self):
        return f"{self.library} · {self.user} · {self.get_role_display()}"
