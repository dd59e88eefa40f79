"""Resources (资源): a stable identity, reviewed versions carrying metadata and rights, content-addressed files.

A Resource is the identity a URL points at. Everything a reviewer must check — descriptive metadata, rights,
files — lives on a ResourceVersion, so that every publication and every update goes through review: editing a
published resource makes a new draft version while the published one stays visible.
Files are stored once per content hash (Blob) and referenced by versions (VersionFile), so a new version that
keeps its files copies nothing, and duplicates are found by sha256.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reslib.core.models import TimeStampedModel
from reslib.libraries.models import Library
from reslib.orgs.models import Major, Organization

from .scanning import scan_reason


class KnowledgePoint(models.Model):
    """A node of a library's knowledge and skill tree (知识点 / 技能点), maintained by its builders."""

    class Kind(models.TextChoices):
        KNOWLEDGE = "knowledge", _("Knowledge point")
        SKILL = "skill", _("Skill point")

    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="knowledge_points")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.KNOWLEDGE)
    name = models.CharField(_("name"), max_length=128)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["library", "parent_id", "position", "id"]
        verbose_name = _("knowledge point")
        verbose_name_plural = _("knowledge points")
        constraints = [
            models.UniqueConstraint(fields=["library", "parent", "name"], condition=Q(parent__isnull=False),
                                    name="knowledge_point_unique_name"),
            models.UniqueConstraint(fields=["library", "name"], condition=Q(parent__isnull=True),
                                    name="knowledge_point_unique_root_name"),
        ]

    def __str__(self):
        return self.name


class Resource(TimeStampedModel):
    library = models.ForeignKey(Library, verbose_name=_("library"), on_delete=models.PROTECT, related_name="resources")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploader"), on_delete=models.PROTECT,
                                   related_name="+")
    # The version the public sees; null until the first approval. Set only by services.publish_version.
    published_version = models.OneToOneField("ResourceVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                             related_name="+")
    latest_version = models.OneToOneField("ResourceVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    downloads_allowed = models.BooleanField(_("downloads allowed"), default=True)

    # Platform moderation (限制 / 阻断传播) and the library's own withdrawal (下架). Set only by reslib.review.moderation.
    class Moderation(models.TextChoices):
        NORMAL = "normal", _("Normal")
        RESTRICTED = "restricted", _("Restricted")
        BLOCKED = "blocked", _("Blocked")

    class ReasonCategory(models.TextChoices):
        ILLEGAL = "illegal", _("Illegal or non-compliant")
        INFRINGEMENT = "infringement", _("Infringement")
        CONTENT_ERROR = "content_error", _("Content error")
        VULGAR = "vulgar", _("Vulgar or harmful")
        SECURITY = "security", _("Security risk")
        OTHER = "other", _("Other")

    moderation_state = models.CharField(_("moderation"), max_length=16, choices=Moderation.choices,
                                        default=Moderation.NORMAL, db_index=True)
    moderation_reason_category = models.CharField(_("moderation reason category"), max_length=16,
                                                  choices=ReasonCategory.choices, blank=True)
    moderation_reason = models.TextField(_("moderation reason"), blank=True)
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("moderated by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("withdrawal reason"), blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("withdrawn by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self):
        version = self.published_version or self.latest_version
        return version.title if version else f"#{self.pk}"

    @property
    def is_blocked(self) -> bool:
        return self.moderation_state == self.Moderation.BLOCKED

    @property
    def is_restricted(self) -> bool:
        return self.moderation_state == self.Moderation.RESTRICTED

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class ResourceVersion(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        SLIDES = "slides", _("Presentation")
        IMAGE = "image", _("Graphic / image")
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")
        ANIMATION = "animation", _("Animation")
        SIMULATION = "simulation", _("Virtual simulation")
        MICRO_LESSON = "micro_lesson", _("Micro-lesson")
        CASE = "case", _("Case")
        QUESTIONS = "questions", _("Questions / test paper")
        # One structured question of the library's question bank (reslib.questions); made only by its services.
        QUESTION = "question", _("Question bank item")
        COURSE_PACKAGE = "course_package", _("Course package")
        TRAINING_PACKAGE = "training_package", _("Training package")
        SOFTWARE = "software", _("Teaching software")
        EXTERNAL_LINK = "external_link", _("External link")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        PUBLISHED = "published", _("Published")
        SUPERSEDED = "superseded", _("Superseded")
        REJECTED = "rejected", _("Rejected")

    class Access(models.TextChoices):
        PUBLIC = "public", _("Everyone")
        REGISTERED = "registered", _("Registered users")
        MEMBERS = "members", _("Library members")

    class PriceMode(models.TextChoices):
        FREE = "free", _("Free (public welfare)")
        PAID = "paid", _("Paid")

    class Originality(models.TextChoices):
        ORIGINAL = "original", _("Original")
        ADAPTED = "adapted", _("Adapted")
        QUOTED = "quoted", _("Quoted")

    class Licence(models.TextChoices):
        ALL_RIGHTS_RESERVED = "all_rights_reserved", _("All rights reserved")
        CC_BY = "cc_by", "CC BY 4.0"
        CC_BY_SA = "cc_by_sa", "CC BY-SA 4.0"
        CC_BY_ND = "cc_by_nd", "CC BY-ND 4.0"
        CC_BY_NC = "cc_by_nc", "CC BY-NC 4.0"
        CC_BY_NC_SA = "cc_by_nc_sa", "CC BY-NC-SA 4.0"
        CC_BY_NC_ND = "cc_by_nc_nd", "CC BY-NC-ND 4.0"
        OTHER = "other", _("Other")

    class Difficulty(models.TextChoices):
        BASIC = "basic", _("Basic")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    class Audience(models.TextChoices):
        STUDENT = "student", _("Students in school")
        SOCIAL_LEARNER = "social_learner", _("Social learners")
        EMPLOYEE = "employee", _("Enterprise employees")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True)
    changelog = models.TextField(_("change log"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author of this version"),
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    # Descriptive metadata (资源属性)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    resource_type = models.CharField(_("resource type"), max_length=20, choices=Type.choices)
    major = models.ForeignKey(Major, verbose_name=_("major"), on_delete=models.PROTECT, related_name="+")
    knowledge_points = models.ManyToManyField(KnowledgePoint, verbose_name=_("knowledge and skill points"),
                                              blank=True, related_name="versions")
    audience = models.JSONField(_("audience"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=16, default="zh-hans")
    difficulty = models.CharField(_("difficulty"), max_length=16, choices=Difficulty.choices, blank=True)
    certificate = models.CharField(_("1+X certificate"), max_length=128, blank=True)
    access = models.CharField(_("access"), max_length=16, choices=Access.choices, default=Access.PUBLIC)
    price_mode = models.CharField(_("price"), max_length=8, choices=PriceMode.choices, default=PriceMode.FREE)
    price = models.DecimalField(_("price (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True)
    external_url = models.URLField(_("external link"), max_length=1000, blank=True)

    # Rights (著作权)
    copyright_holder_org = models.ForeignKey(Organization, verbose_name=_("copyright holder (institution)"),
                                             null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    copyright_holder_person = models.CharField(_("copyright holder (person)"), max_length=128, blank=True)
    originality = models.CharField(_("originality"), max_length=16, choices=Originality.choices)
    source = models.CharField(_("source"), max_length=500, blank=True)
    licence = models.CharField(_("licence"), max_length=24, choices=Licence.choices)
    licence_text = models.TextField(_("licence text"), blank=True)
    contributing_org = models.ForeignKey(Organization, verbose_name=_("contributing institution"),
                                         on_delete=models.PROTECT, related_name="+")

    # Machine checks of this version's files against the library's technical specification (recomputed by
    # services whenever files or the profile change): [{"level": "error"|"warning", "code", "message", "file"}].
    check_findings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["resource", "-number"]
        verbose_name = _("resource version")
        verbose_name_plural = _("resource versions")
        constraints = [
            models.UniqueConstraint(fields=["resource", "number"], name="resource_version_unique_number"),
            models.CheckConstraint(
                name="resource_version_one_copyright_holder",
                condition=(Q(copyright_holder_org__isnull=False, copyright_holder_person="")
                           | Q(copyright_holder_org__isnull=True) & ~Q(copyright_holder_person="")),
            ),
            models.CheckConstraint(name="resource_version_paid_has_price",
                                   condition=Q(price_mode="free") | Q(price__gt=0)),
        ]

    def __str__(self):
        return f"{self.title} v{self.number}"

    @property
    def is_external(self) -> bool:
        return self.resource_type == self.Type.EXTERNAL_LINK

    @property
    def has_blocking_findings(self) -> bool:
        return any(f.get("level") == "error" for f in self.check_findings)

    @property
    def licence_url(self) -> str:
        """The Creative Commons deed of the licence (in Chinese); empty for the other licences."""
        return CC_DEED_URLS.get(self.licence, "")


CC_DEED_URLS = {
    ResourceVersion.Licence.CC_BY: "https://creativecommons.org/licenses/by/4.0/deed.zh-hans",
    ResourceVersion.Licence.CC_BY_SA: "https://creativecommons.org/licenses/by-sa/4.0/deed.zh-hans",
    ResourceVersion.Licence.CC_BY_ND: "https://creativecommons.org/licenses/by-nd/4.0/deed.zh-hans",
    ResourceVersion.Licence.CC_BY_NC: "https://creativecommons.org/licenses/by-nc/4.0/deed.zh-hans",
    ResourceVersion.Licence.CC_BY_NC_SA: "https://creativecommons.org/licenses/by-nc-sa/4.0/deed.zh-hans",
    ResourceVersion.Licence.CC_BY_NC_ND: "https://creativecommons.org/licenses/by-nc-nd/4.0/deed.zh-hans",
}


class VersionAuthor(models.Model):
    """An author credited on a version (署名), in credit order: a platform user or a free name with institution."""

    version = models.ForeignKey(ResourceVersion, on_delete=models.CASCADE, related_name="authors")
    position = models.PositiveSmallIntegerField(_("position"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    name = models.CharField(_("name"), max_length=64)
    institution = models.CharField(_("institution"), max_length=128, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "position"], name="version_author_unique_position")]

    def __str__(self):
        return self.name


class RightsCommitment(models.Model):
    """The uploader's rights and content-safety commitment, kept per submission with the exact text shown."""

    version = models.ForeignKey(ResourceVersion, on_delete=models.CASCADE, related_name="commitments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    language = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Blob(models.Model):
    """Stored bytes, once per sha256, with what inspection learnt of them."""

    class ScanStatus(models.TextChoices):
        NOT_SCANNED = "not_scanned", _("Not scanned")
        CLEAN = "clean", _("Clean")
        INFECTED = "infected", _("Infected")
        ERROR = "error", _("Scan failed")

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    storage_name = models.CharField(max_length=255, unique=True)
    mime_type = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=16, blank=True)  # video, audio, image, pdf, office, text, archive, other
    probe = models.JSONField(default=dict, blank=True)
    scan_status = models.CharField(max_length=16, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED)
    scan_detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.sha256[:12]

    @property
    def scan_reason(self) -> str:
        """Why the file was not scanned for viruses (not scanned or scan failed), readable; "" once clamd scanned it."""
        return scan_reason(self.scan_status, self.scan_detail)


class VersionFile(models.Model):
    class Role(models.TextChoices):
        MAIN = "main", _("Main file")
        ATTACHMENT = "attachment", _("Attachment")

    version = models.ForeignKey(ResourceVersion, on_delete=models.CASCADE, related_name="files")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="version_files")
    role = models.CharField(max_length=16, choices=Role.choices)
    original_name = models.CharField(_("file name"), max_length=255)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["version", "role", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version"], condition=Q(role="main"), name="version_one_main_file"),
        ]

    def __str__(self):
        return self.original_name


class DerivedFile(models.Model):
    """A file made from a blob by a background task: poster, thumbnail, web rendition, PDF preview."""

    class Kind(models.TextChoices):
        POSTER = "poster", _("Poster")
        THUMBNAIL = "thumbnail", _("Thumbnail")
        WEB_VIDEO = "web_video", _("Web video")
        PDF_PREVIEW = "pdf_preview", _("PDF preview")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        UNAVAILABLE = "unavailable", _("Preview unavailable")

    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="derived")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    storage_name = models.CharField(max_length=255, blank=True)
    mime_type = models.CharField(max_length=128, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blob", "kind"], name="derived_file_unique_kind")]


class Upload(models.Model):
    """A resumable upload in progress (tus 1.0.0). Bytes go to a temporary file until the upload is complete."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    temp_path = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    @property
    def filename(self) -> str:
        return self.metadata.get("filename", "")


class SpecProfile(models.Model):
    """A library's technical specification profile (技术规范); rules default to common practice."""

    library = models.OneToOneField(Library, on_delete=models.CASCADE, related_name="spec_profile")
    rules = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
