from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from reslib.core.models import TimeStampedModel

from .validators import validate_credit_code


class Region(models.Model):
    """An administrative division by its GB/T 2260 code: provinces (xx0000) and prefecture-level cities (xxxx00)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")

    code = models.CharField(_("code"), max_length=6, primary_key=True, validators=[RegexValidator(r"^\d{6}$")])
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    build_period_months = models.PositiveSmallIntegerField(
        _("build period (months)"),
        null=True,
        blank=True,
        help_text=_("Default build period of libraries in this province; empty means the platform default."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name


class Organization(TimeStampedModel):
    class Type(models.TextChoices):
        SECONDARY_VOCATIONAL = "secondary_vocational", _("Secondary vocational school")
        HIGHER_VOCATIONAL = "higher_vocational", _("Higher vocational college")
        VOCATIONAL_UNDERGRADUATE = "vocational_undergraduate", _("Vocational undergraduate university")
        UNIVERSITY = "university", _("Regular undergraduate university")
        INDUSTRY_BODY = "industry_body", _("Industry organisation")
        ENTERPRISE = "enterprise", _("Enterprise")
        RESEARCH_INSTITUTE = "research_institute", _("Research institute")
        EDUCATION_AUTHORITY = "education_authority", _("Education administration")
        SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=128, unique=True)
    type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    province = models.ForeignKey(
        Region,
        verbose_name=_("province"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.PROVINCE},
    )
    city = models.ForeignKey(
        Region,
        verbose_name=_("city"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.CITY},
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name


class Major(models.Model):
    """A row of the vocational-education majors catalogue (职业教育专业目录)."""

    class Level(models.TextChoices):
        SECONDARY = "secondary", _("Secondary vocational")
        HIGHER = "higher", _("Higher vocational (associate)")
        UNDERGRADUATE = "undergraduate", _("Vocational undergraduate")

    code = models.CharField(_("code"), max_length=6, unique=True, validators=[RegexValidator(r"^\d{6}$")])
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    category_code = models.CharField(_("category code"), max_length=2)
    category_name = models.CharField(_("category (专业大类)"), max_length=64)
    class_code = models.CharField(_("class code"), max_length=4)
    class_name = models.CharField(_("class (专业类)"), max_length=64)
    is_active = models.BooleanField(_("in the current catalogue"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("major")
        verbose_name_plural = _("majors")

    def __str__(self):
        return f"{self.code} {self.name}"
