"""Orgs API: regions (GB/T 2260), the majors catalogue, institutions."""

from typing import Literal

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.pagination import paginate

from reslib.core.api import COMMON_ERRORS, LOGGED_IN, ErrorOut, Paginated, Status, current_user

from . import policies, services
from .models import Major, Organization, Region
from .schemas import MajorOut, OrganizationDetailOut, OrganizationIn, OrganizationOut, RegionOut

router = Router(tags=["orgs"])

# Query filters as inline enums (the models' choices classes share names like "Level", which would collide in the
# OpenAPI components).
RegionLevel = Literal[tuple(Region.Level.values)]
MajorLevel = Literal[tuple(Major.Level.values)]
OrganizationType = Literal[tuple(Organization.Type.values)]


@router.get("/regions", response=list[RegionOut], summary="Provinces and cities by GB/T 2260 code")
@paginate(Paginated)
def list_regions(request, level: RegionLevel | None = None, parent: str | None = None):
    qs = Region.objects.order_by("code")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent_id=parent)
    return qs


@router.get("/majors", response=list[MajorOut], summary="The majors catalogue (专业目录)")
@paginate(Paginated)
def list_majors(request, q: str = "", level: MajorLevel | None = None, category: str = ""):
    """`q` matches the start of the code or part of the name; `category` is the 专业大类 code (e.g. 51)."""
    qs = Major.objects.filter(is_active=True).order_by("code")
    q = q.strip()
    if q:
        qs = qs.filter(Q(code__startswith=q) | Q(name__icontains=q))
    if level:
        qs = qs.filter(level=level)
    if category:
        qs = qs.filter(category_code=category.strip())
    return qs


def _organizations():
    return Organization.objects.select_related("province", "city")


@router.get("/organizations", response=list[OrganizationOut], summary="Institutions")
@paginate(Paginated)
def list_organizations(request, q: str = "", province: str = "", type: OrganizationType | None = None):
    """`q` matches part of the name or the start of the credit code."""
    qs = _organizations().order_by("name", "pk")
    q = q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__startswith=q.upper()))
    if province:
        qs = qs.filter(province_id=province)
    if type:
        qs = qs.filter(type=type)
    return qs


def _detail(request, org: Organization) -> OrganizationDetailOut:
    out = OrganizationDetailOut.from_orm(org)
    if not policies.can_see_contact_details(request.user, org):
        out.contact_name = out.contact_phone = out.contact_email = None
    return out


@router.get("/organizations/{org_id}", response={200: OrganizationDetailOut, 404: ErrorOut},
            summary="One institution")
def get_organization(request, org_id: int):
    return _detail(request, get_object_or_404(_organizations(), pk=org_id))


@router.post("/organizations", auth=LOGGED_IN, response={201: OrganizationDetailOut, **COMMON_ERRORS},
             summary="Register an institution (operators; province administrators in their province)")
def create_organization(request, payload: OrganizationIn):
    org = services.create_organization(services.OrganizationData(**payload.dict()), by=current_user(request))
    return Status(201, _detail(request, _organizations().get(pk=org.pk)))
