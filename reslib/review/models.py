"""Review (审核) as data: per-library review levels, a review request per submitted version, append-only decisions.

A submitted ResourceVersion gets one ReviewRequest. It first waits for the machine pre-review (待机审), then goes
through the library's enabled levels in order (建设单位自审 → 主持单位审核 → optional 平台抽审); the approval of the
last enabled level publishes the version. A returned request is closed; the corrected version starts a new request
linked to it (`previous`). Every decision — a person's or the machine's — is a ReviewDecision row that is never
changed or deleted (审必留痕).

The moderation helper's models (word lists, negative list, moderation actions) live in moderation_models.py and
are imported at the bottom so that Django registers them with this app.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reslib.libraries.models import Library
from reslib.orgs.models import Organization
from reslib.resources.models import Resource, ResourceVersion

DEFAULT_DUE_DAYS = 3


class ReviewLevel(models.Model):
    """One step of a library's review, in `position` order. Levels are never deleted, only switched off."""

    class Kind(models.TextChoices):
        CONTRIBUTOR = "contributor", _("Contributing institution's self-review")
        LEAD_HOST = "lead_host", _("Lead host review")
        PLATFORM = "platform", _("Platform spot check")

    class GroupMode(models.TextChoices):
        RULE = "rule", _("By rule")
        EXPLICIT = "explicit", _("Named reviewers")

    library = models.ForeignKey(Library, verbose_name=_("library"), on_delete=models.CASCADE,
                                related_name="review_levels")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("position"))
    enabled = models.BooleanField(_("enabled"), default=True)
    group_mode = models.CharField(_("reviewer group"), max_length=16, choices=GroupMode.choices,
                                  default=GroupMode.RULE)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("named reviewers"), blank=True,
                                     related_name="review_levels")
    due_days = models.PositiveSmallIntegerField(_("days to decide"), default=DEFAULT_DUE_DAYS)

    class Meta:
        ordering = ["library", "position"]
        verbose_name = _("review level")
        verbose_name_plural = _("review levels")
        constraints = [
            models.UniqueConstraint(fields=["library", "kind"], name="review_level_unique_kind"),
            models.UniqueConstraint(fields=["library", "position"], name="review_level_unique_position"),
        ]

    def __str__(self):
        return f"{self.library} · {self.get_kind_display()}"

    @property
    def rule_description(self):
        return RULE_DESCRIPTIONS[self.kind]


RULE_DESCRIPTIONS = {
    ReviewLevel.Kind.CONTRIBUTOR: _("The library's reviewers from the contributing institution, and the library lead."),
    ReviewLevel.Kind.LEAD_HOST: _("The library's reviewers from the lead host institution."),
    ReviewLevel.Kind.PLATFORM: _("Platform operators."),
}


class ReviewRequest(models.Model):
    class State(models.TextChoices):
        PENDING_MACHINE = "pending_machine", _("Awaiting machine pre-review")
        PENDING = "pending", _("Awaiting review")
        IN_REVIEW = "in_review", pgettext_lazy("review request state", "In review")
        APPROVED = "approved", pgettext_lazy("review request state", "Approved")
        RETURNED = "returned", _("Returned for changes")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    version = models.ForeignKey(ResourceVersion, verbose_name=_("version"), on_delete=models.CASCADE,
                                related_name="review_requests")
    # Denormalised from the version for the queue's filters and indexes (never change after creation).
    resource = models.ForeignKey(Resource, verbose_name=_("resource"), on_delete=models.CASCADE,
                                 related_name="review_requests")
    library = models.ForeignKey(Library, verbose_name=_("library"), on_delete=models.CASCADE,
                                related_name="review_requests")
    contributing_org = models.ForeignKey(Organization, verbose_name=_("contributing institution"),
                                         on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)

    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING_MACHINE)
    level = models.ForeignKey(ReviewLevel, verbose_name=_("current level"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="requests")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"),
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    # Who works on it at the current level: claimed by themselves or assigned by the lead / an operator.
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    previous = models.OneToOneField("self", verbose_name=_("previous request"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="next")
    machine_hits = models.JSONField(_("machine pre-review findings"), default=list, blank=True)
    machine_checked_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("review request")
        verbose_name_plural = _("review requests")
        constraints = [
            # Publication is blocked while a request is open: one open request per version.
            models.UniqueConstraint(fields=["version"], condition=Q(state__in=["pending_machine", "pending",
                                                                                "in_review"]),
                                    name="review_request_one_open_per_version"),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="review_req_state_due"),
            models.Index(fields=["library", "state", "submitted_at"], name="review_req_lib_state"),
            models.Index(fields=["level", "state"], name="review_req_level_state"),
            models.Index(fields=["due_at", "id"], name="review_req_due"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    @property
    def blocking_hits(self) -> list[dict]:
        return [h for h in self.machine_hits or [] if h.get("level") == "block"]


OPEN_STATES = (ReviewRequest.State.PENDING_MACHINE, ReviewRequest.State.PENDING, ReviewRequest.State.IN_REVIEW)
DECIDABLE_STATES = (ReviewRequest.State.PENDING, ReviewRequest.State.IN_REVIEW)


class ReviewDecisionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionDenied("Review decisions are kept for good.")

    def delete(self):
        raise PermissionDenied("Review decisions are kept for good.")


class ReviewDecision(models.Model):
    """One decision on a request at one level, by a reviewer or by the machine pre-review. Append-only."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", pgettext_lazy("review decision", "Approved")
        RETURN = "return", _("Returned for changes")
        REJECT = "reject", _("Rejected")
        MACHINE_PASS = "machine_pass", _("Machine pre-review passed")
        MACHINE_RETURN = "machine_return", _("Returned by the machine pre-review")

    request = models.ForeignKey(ReviewRequest, verbose_name=_("review request"), on_delete=models.CASCADE,
                                related_name="decisions")
    level = models.ForeignKey(ReviewLevel, verbose_name=_("level"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    level_name = models.CharField(_("level"), max_length=64, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    reviewer_name = models.CharField(_("reviewer"), max_length=150, blank=True)
    outcome = models.CharField(_("decision"), max_length=16, choices=Outcome.choices)
    # [{"item": code, "passed": bool, "comment": str}] in checklist order.
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = ReviewDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")

    def __str__(self):
        return f"{self.request_id} {self.outcome} {self.reviewer_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("Review decisions are kept for good.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Review decisions are kept for good.")

    @property
    def is_machine(self) -> bool:
        return self.reviewer_id is None

    @property
    def failed_items(self) -> list[dict]:
        not_scanned = self.not_scanned_items
        return [item for item in self.checklist or [] if not item.get("passed") and item not in not_scanned]

    @property
    def not_scanned_items(self) -> list[dict]:
        """The virus-scan item while files were not scanned: neither passed nor failed (unless a reviewer failed it)."""
        return [item for item in self.checklist or [] if item.get("status") == "not_scanned"
                and item.get("passed") is None]


# Django imports only an app's `models` module; this registers the moderation models with the review app.
from .moderation_models import *  # noqa: F401,F403,E402
