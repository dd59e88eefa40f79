from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import User


class LoginForm(AuthenticationForm):
    username = forms.CharField(label=_("Username"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username",
                                                             "autocapitalize": "none"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class RegisterForm(forms.Form):
    """Learner self-registration. The rules themselves live in services.register_learner."""

    username = forms.CharField(label=_("Username"), max_length=150,
                               help_text=_("Letters, digits and @/./+/-/_; used to log in."),
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}))
    real_name = forms.CharField(label=_("Real name"), max_length=64, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    learner_category = forms.ChoiceField(label=_("I am a"), choices=User.LearnerCategory.choices,
                                         initial=User.LearnerCategory.SOCIAL_LEARNER)
    email = forms.EmailField(label=_("E-mail"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               help_text=_("At least 10 characters; not only digits and not a common password."),
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(label=_("Password again"), strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        return data


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=64,
                           help_text=_("What the token is for, e.g. the script that uses it."),
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. nightly sync script")}))
