"""Request and response schemas of the organisations, regions and majors API."""

import datetime

from ninja import Field, Schema


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None = Field(None, alias="parent_id")


class RegionRef(Schema):
    code: str
    name: str


class MajorOut(Schema):
    id: int
    code: str
    name: str
    level: str
    level_label: str
    category_code: str
    category_name: str
    class_code: str
    class_name: str

    @staticmethod
    def resolve_level_label(obj) -> str:
        return str(obj.get_level_display())


class MajorRef(Schema):
    id: int
    code: str
    name: str


class OrganizationOut(Schema):
    id: int
    name: str
    type: str
    type_label: str
    credit_code: str
    province: RegionRef
    city: RegionRef | None

    @staticmethod
    def resolve_type_label(obj) -> str:
        return str(obj.get_type_display())


class OrganizationDetailOut(OrganizationOut):
    """The contact person, phone and e-mail are null unless the caller works with the institution (orgs.policies.
    can_see_contact_details: operators, its province's administrators, its administrators, the teams of the
    libraries it takes part in)."""

    address: str
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    created_at: datetime.datetime


class OrganizationIn(Schema):
    """Mirrors orgs.services.OrganizationData; the service checks every rule and answers with stable codes."""

    name: str = ""
    type: str = ""
    credit_code: str = Field("", description="统一社会信用代码 (18 characters, GB 32100 check character)")
    province: str = Field("", description="GB/T 2260 code of the province, e.g. 320000")
    city: str = Field("", description="GB/T 2260 code of the city, e.g. 320100")
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
