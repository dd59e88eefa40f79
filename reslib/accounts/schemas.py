"""Request and response schemas of the accounts API."""

import datetime

from ninja import Field, Schema


class TokenRequest(Schema):
    username: str
    password: str
    name: str = Field("", max_length=64, description="What the token is for, e.g. the script using it.")


class TokenCreateIn(Schema):
    name: str = ""


class TokenCreatedOut(Schema):
    """The raw token is shown once, here; only its hash is stored."""

    token: str
    id: int
    name: str
    hint: str
    created_at: datetime.datetime


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    is_active: bool


class OrganizationRef(Schema):
    id: int
    name: str
    type: str


class RegionRef(Schema):
    code: str
    name: str


class PlatformRoleOut(Schema):
    role: str
    role_label: str
    province: RegionRef | None
    organization: OrganizationRef | None

    @staticmethod
    def resolve_role_label(obj) -> str:
        return str(obj.get_role_display())


class LibraryRef(Schema):
    id: int
    name: str
    status: str


class LibraryRoleOut(Schema):
    library: LibraryRef
    role: str
    role_label: str

    @staticmethod
    def resolve_role_label(obj) -> str:
        return str(obj.get_role_display())


class MeOut(Schema):
    id: int
    username: str
    real_name: str
    display_name: str
    email: str
    phone: str
    learner_category: str
    organization: OrganizationRef | None
    platform_roles: list[PlatformRoleOut]
    library_roles: list[LibraryRoleOut]
