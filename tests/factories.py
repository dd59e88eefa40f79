"""Small builders for test data; each returns saved objects with realistic Chinese values."""

import datetime
import itertools

from reslib.accounts.models import RoleGrant, User
from reslib.libraries import services as library_services
from reslib.orgs.models import Major, Organization, Region
from reslib.orgs.validators import credit_code_check_character

_serial = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def credit_code(division: str = "320100") -> str:
    body = f"52{division}MJ{next(_serial):07d}"[:17]
    return body + credit_code_check_character(body)


def organization(name: str | None = None, *, province: str = "320000", type=Organization.Type.HIGHER_VOCATIONAL):
    n = next(_serial)
    return Organization.objects.create(
        name=name or f"测试职业技术学院{n}", type=type, credit_code=credit_code(province[:2] + "0100"),
        province_id=province,
    )


def user(username: str | None = None, *, org=None, role: str | None = None, province: str | None = None,
         administered_org=None, **extra) -> User:
    username = username or f"user{next(_serial)}"
    u = User.objects.create_user(username=username, password=PASSWORD, organization=org,
                                 real_name=extra.pop("real_name", f"用户{username}"), **extra)
    if role == RoleGrant.Role.OPERATOR:
        RoleGrant.objects.create(user=u, role=role)
    elif role == RoleGrant.Role.PROVINCE_ADMIN:
        RoleGrant.objects.create(user=u, role=role, province_id=province or "320000")
    elif role == RoleGrant.Role.ORG_ADMIN:
        RoleGrant.objects.create(user=u, role=role, organization=administered_org or org)
    return u


def major(code: str) -> Major:
    return Major.objects.get(code=code)


def application(*, hosts, participants=(), core="510201", served=("510202", "510203"), province="320000",
                name="计算机应用技术专业教学资源库", start=datetime.date(2026, 9, 1), end=None, level="provincial",
                description="面向计算机应用技术专业的共建共享资源库。"):
    return library_services.LibraryApplication(
        name=name, level=level, province=province, core_major=major(core).pk,
        served_majors=[major(c).pk for c in served], hosts=[o.pk for o in hosts],
        participants=[o.pk for o in participants], build_start=start, build_end=end, description=description,
    )


def library(lead, *, hosts=None, participants=(), status=None, **kwargs):
    """A library filed by `lead`; with `status`, forced into that state (for tests of later transitions)."""
    lib = library_services.create_library(
        application(hosts=hosts or [lead.organization], participants=participants, **kwargs), by=lead
    )
    if status is not None:
        type(lib).objects.filter(pk=lib.pk).update(status=status)
        lib.refresh_from_db()
    return lib


def province(code: str = "320000") -> Region:
    return Region.objects.get(code=code)


def resource_metadata(library, **overrides):
    """Valid metadata for a resource of `library`: original work of the lead host, CC BY 4.0."""
    from reslib.resources.services import Author, ResourceMetadata

    lead_host = library.hosts.order_by("position").first().organization
    data = dict(
        title="数控车床对刀操作微课", resource_type="video", major=library.core_major_id, originality="original",
        licence="cc_by", contributing_org=lead_host.pk, copyright_holder_org=lead_host.pk,
        description="演示数控车床试切法对刀的完整步骤。", keywords=["数控", "对刀"], audience=["student"],
        authors=[Author(name="王建国", institution=lead_host.name)],
    )
    data.update(overrides)
    return ResourceMetadata(**data)


def resource(library, by, **overrides):
    from reslib.resources.models import ResourceVersion
    from reslib.resources.services import create_resource

    data = resource_metadata(library, **overrides)
    # Questions are created through the bank (their own services), which is what bank=True stands for.
    return create_resource(library, data, by=by, bank=data.resource_type == ResourceVersion.Type.QUESTION)


def blob(content: bytes = b"%PDF-1.4\n%test\n", *, name: str = "sample.pdf"):
    """Stored bytes through the real storage path (hashing, content-addressed name, inspection)."""
    from reslib.resources.storage import store_stream

    return store_stream(iter([content]), original_name=name)
