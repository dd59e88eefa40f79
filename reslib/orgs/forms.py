from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from .models import Major, Organization, Region


def province_choices(codes=None, *, blank_label=_("All provinces")):
    qs = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")
    if codes is not None:
        qs = qs.filter(code__in=codes)
    return [("", blank_label)] + [(r.code, r.name) for r in qs]


def city_choices(province_code):
    cities = Region.objects.filter(level=Region.Level.CITY, parent_id=province_code).order_by("code") \
        if province_code else Region.objects.none()
    return [("", _("— none —"))] + [(r.code, r.name) for r in cities]


class OrganizationFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=128,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search by name")}))
    province = forms.ChoiceField(label=_("Province"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False,
                             choices=[("", _("All types"))] + list(Organization.Type.choices))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = province_choices()


class OrganizationForm(forms.Form):
    """Registering an institution. The rules (credit-code check character, duplicates, scope) are in the service."""

    name = forms.CharField(label=_("Name"), max_length=128)
    type = forms.ChoiceField(label=_("Type of institution"),
                             choices=[("", _("— choose —"))] + list(Organization.Type.choices))
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=32,
                                  help_text=_("18 characters, as printed on the registration certificate."),
                                  widget=forms.TextInput(attrs={"autocapitalize": "characters",
                                                                "spellcheck": "false"}))
    province = forms.ChoiceField(label=_("Province"))
    city = forms.ChoiceField(label=_("City"), required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=64, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32, required=False,
                                    widget=forms.TextInput(attrs={"inputmode": "tel"}))
    contact_email = forms.CharField(label=_("Contact e-mail"), max_length=254, required=False,
                                    widget=forms.EmailInput())

    def __init__(self, *args, province_codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].choices = province_choices(province_codes, blank_label=_("— choose —"))
        self.fields["province"].widget.attrs.update({
            "hx-get": reverse_lazy("orgs:city_options"), "hx-target": "#id_city", "hx-trigger": "change",
            "hx-swap": "innerHTML",
        })
        province = self.data.get("province") if self.is_bound else self.initial.get("province")
        if not province and len(self.fields["province"].choices) == 2:
            province = self.fields["province"].choices[1][0]
            self.initial.setdefault("province", province)
        self.fields["city"].choices = city_choices(province)


class MajorFilterForm(forms.Form):
    q = forms.CharField(label=_("Code or name"), required=False, max_length=64,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. 510201 or 计算机")}))
    level = forms.ChoiceField(label=_("Level"), required=False,
                              choices=[("", _("All levels"))] + list(Major.Level.choices))
