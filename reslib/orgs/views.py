"""Institutions (机构) and the majors catalogue (专业目录)."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.contrib import messages

from reslib.accounts import roles
from reslib.core.errors import PermissionDenied as DomainPermissionDenied
from reslib.core.errors import ValidationFailed
from reslib.core.forms import add_service_errors
from reslib.libraries.models import LibraryHost
from reslib.libraries.policies import visible_libraries

from . import policies, services
from .forms import MajorFilterForm, OrganizationFilterForm, OrganizationForm, city_choices
from .models import Major, Organization, Region

ORG_PAGE_SIZE = 20
MAJOR_PAGE_SIZE = 100


def organization_list(request):
    form = OrganizationFilterForm(request.GET or None)
    orgs = Organization.objects.select_related("province", "city")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            orgs = orgs.filter(name__icontains=data["q"].strip())
        if data["province"]:
            orgs = orgs.filter(province_id=data["province"])
        if data["type"]:
            orgs = orgs.filter(type=data["type"])
    page_obj = Paginator(orgs.order_by("name", "pk"), ORG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orgs/organization_list.html", {
        "form": form, "page_obj": page_obj, "can_create": policies.can_register_organization(request.user),
    })


def organization_detail(request, pk: int):
    org = get_object_or_404(Organization.objects.select_related("province", "city"), pk=pk)
    visible = visible_libraries(request.user).select_related("province", "core_major").order_by("-created_at", "-id")
    hosted = list(visible.filter(hosts__organization=org).prefetch_related(
        Prefetch("hosts", queryset=LibraryHost.objects.filter(organization=org), to_attr="this_host")))
    participated = list(visible.filter(participants__organization=org))
    show_contact = policies.can_see_contact_details(request.user, org)
    return render(request, "orgs/organization_detail.html", {
        "org": org, "hosted": hosted, "participated": participated, "show_contact": show_contact,
    })


def organization_create(request):
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not policies.can_register_organization(user):
        raise PermissionDenied
    province_codes = None if roles.is_operator(user) else sorted(roles.administered_province_codes(user))
    form = OrganizationForm(request.POST or None, province_codes=province_codes)
    if request.method == "POST" and form.is_valid():
        data = services.OrganizationData(**{name: form.cleaned_data.get(name) or "" for name in services.ORG_FIELDS})
        try:
            org = services.create_organization(data, by=user)
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        except DomainPermissionDenied as exc:
            form.add_error("province", str(exc.message))
        else:
            messages.success(request, _("The institution “%(name)s” has been registered.") % {"name": org.name})
            return redirect("orgs:detail", pk=org.pk)
    return render(request, "orgs/organization_form.html", {"form": form})


def city_options(request):
    """htmx: the <option>s of the cities of one province, for the institution form."""
    province = request.GET.get("province", "")
    if not Region.objects.filter(code=province, level=Region.Level.PROVINCE).exists():
        province = ""
    return render(request, "orgs/_city_options.html", {"choices": city_choices(province)})


def major_list(request):
    form = MajorFilterForm(request.GET or None)
    majors = Major.objects.filter(is_active=True)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        q = data["q"].strip()
        if q:
            majors = majors.filter(Q(code__startswith=q) | Q(name__icontains=q) | Q(class_name__icontains=q)
                                   | Q(category_name__icontains=q))
        if data["level"]:
            majors = majors.filter(level=data["level"])
    majors = majors.order_by("category_code", "class_code", "code")
    page_obj = Paginator(majors, MAJOR_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orgs/major_list.html", {"form": form, "page_obj": page_obj})
