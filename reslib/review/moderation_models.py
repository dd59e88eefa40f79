"""Platform moderation data: the operator's sensitive-word list, the negative list (资源负面清单) and the version
counter that tells every process when to rebuild its matcher. Imported by reslib.review.models (same app)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = ["SensitiveWord", "NegativeListEntry", "ModerationListVersion", "EmergencyAction"]


class SensitiveWord(models.Model):
    class Category(models.TextChoices):
        POLITICS = "politics", _("Politics")
        PORNOGRAPHY = "pornography", _("Pornography")
        TERRORISM = "terrorism", _("Violence and terrorism")
        ILLEGAL = "illegal", _("Illegal activities")
        ADVERTISING = "advertising", _("Advertising")
        OTHER = "other", pgettext_lazy("sensitive word category", "Other")

    class Level(models.TextChoices):
        BLOCK = "block", _("Block")
        FLAG = "flag", _("Flag for review")

    word = models.CharField(_("word"), max_length=64)
    # The word as the matcher sees it (NFKC, lower case, no separators between Chinese characters): unique.
    normalised = models.CharField(max_length=64, unique=True)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.OTHER)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, default=Level.FLAG)
    active = models.BooleanField(_("active"), default=True, db_index=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("added by"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sensitive word")
        verbose_name_plural = _("sensitive words")

    def __str__(self):
        return self.word


class NegativeListEntry(models.Model):
    """An entry of the operator's negative list: a file hash, a keyword or a source domain that may not appear."""

    class Kind(models.TextChoices):
        FILE_HASH = "file_hash", _("File hash (SHA-256)")
        KEYWORD = "keyword", _("Keyword")
        SOURCE_DOMAIN = "source_domain", _("Source domain")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=255)
    note = models.CharField(_("note"), max_length=255, blank=True)
    active = models.BooleanField(_("active"), default=True, db_index=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("added by"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("negative list entry")
        verbose_name_plural = _("negative list entries")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="negative_list_unique_value")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"


class ModerationListVersion(models.Model):
    """A counter per list, bumped in the same transaction as every change to the list: each process compares it
    with the version its cached matcher was built from and rebuilds when they differ."""

    name = models.CharField(max_length=32, unique=True)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name} v{self.version}"


class EmergencyAction(models.Model):
    """One emergency block (keyword, file hash or uploader): the criteria, how many resources it blocked, by whom.
    Each blocked resource also has its own audit entry naming this action."""

    class Kind(models.TextChoices):
        KEYWORD = "keyword", _("Keyword")
        FILE_HASH = "file_hash", _("File hash (SHA-256)")
        UPLOADER = "uploader", _("Uploader")

    kind = models.CharField(_("criterion"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=255)
    reason_category = models.CharField(_("reason category"), max_length=16)
    reason = models.TextField(_("reason"))
    count = models.PositiveIntegerField(_("resources blocked"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("emergency action")
        verbose_name_plural = _("emergency actions")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value} ({self.count})"
