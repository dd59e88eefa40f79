"""Login, logout, learner self-registration and the profile page with personal API tokens."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reslib.core.errors import NotFound, ValidationFailed
from reslib.core.forms import add_service_errors
from reslib.libraries.models import TeamMember

from . import services
from .forms import LoginForm, RegisterForm, TokenForm
from .models import ApiToken, RoleGrant


class ResLibLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class ResLibLogoutView(LogoutView):
    http_method_names = ["post", "options"]


def register(request):
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.register_learner(
                username=data["username"], password=data["password"], real_name=data["real_name"],
                email=data["email"], phone=data["phone"], learner_category=data["learner_category"],
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to ResLib, %(name)s! Your account is ready.") % {"name": user.display_name})
            return redirect("home")
    return render(request, "accounts/register.html", {"form": form})


def _tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def _render_tokens(request, *, form=None, new_token=None, status=200):
    context = {"tokens": _tokens_of(request.user), "token_form": form or TokenForm(), "new_token": new_token}
    if request.htmx:
        return render(request, "accounts/_tokens.html", context, status=status)
    return _render_profile(request, context, status=status)


def _render_profile(request, extra=None, status=200):
    user = request.user
    grants = RoleGrant.objects.filter(user=user).select_related("province", "organization").order_by("role")
    library_roles = (
        TeamMember.objects.filter(user=user)
        .select_related("library", "library__province")
        .order_by("library__name", "role")
    )
    context = {
        "profile_user": user,
        "organization": user.organization,
        "grants": grants,
        "library_roles": library_roles,
        "tokens": _tokens_of(user),
        "token_form": TokenForm(),
        "new_token": None,
    }
    context.update(extra or {})
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request):
    return _render_profile(request)


@login_required
@require_POST
def create_token(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _render_tokens(request, form=form, status=400)
    try:
        token, raw = services.create_api_token(request.user, name=form.cleaned_data["name"])
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return _render_tokens(request, form=form, status=400)
    # The raw token is shown in this one response and never again (only its hash is stored).
    return _render_tokens(request, new_token={"token": token, "raw": raw})


@login_required
@require_POST
def revoke_token(request, token_id: int):
    try:
        token = services.revoke_api_token(request.user, token_id)
    except NotFound:
        raise Http404 from None
    if request.htmx:
        return _render_tokens(request)
    messages.success(request, _("The token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect("accounts:profile")
