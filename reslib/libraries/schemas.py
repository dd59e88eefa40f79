"""Request and response schemas of the resource-library API."""

import datetime

from ninja import Field, Schema

from reslib.orgs.schemas import MajorRef, RegionRef


class OrganizationRef(Schema):
    id: int
    name: str
    type: str


class HostOut(Schema):
    position: int = Field(..., description="1 is the lead host (第一主持单位)")
    organization: OrganizationRef


class LibraryOut(Schema):
    id: int
    name: str
    level: str
    level_label: str
    status: str
    status_label: str
    province: RegionRef
    core_major: MajorRef
    lead_host: OrganizationRef | None
    build_start: datetime.date
    build_end: datetime.date

    @staticmethod
    def resolve_level_label(obj) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_lead_host(obj):
        hosts = list(obj.hosts.all())  # prefetched in position order
        return hosts[0].organization if hosts else None


class LibraryDetailOut(LibraryOut):
    description: str
    served_majors: list[MajorRef]
    hosts: list[HostOut]
    participants: list[OrganizationRef]
    build_progress_percent: int
    submitted_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_served_majors(obj):
        return sorted(obj.served_majors.all(), key=lambda m: m.code)

    @staticmethod
    def resolve_hosts(obj):
        return list(obj.hosts.all())

    @staticmethod
    def resolve_participants(obj):
        return [p.organization for p in obj.participants.all()]

    @staticmethod
    def resolve_build_progress_percent(obj) -> int:
        return obj.build_progress_percent()


class LibraryIn(Schema):
    """Mirrors libraries.services.LibraryApplication. Every rule is checked by the service, which answers all broken
    rules at once with stable codes (e.g. library.too_many_hosts) under `fields`."""

    name: str = ""
    description: str = ""
    level: str = Field("", description="national, provincial or school")
    province: str = Field("", description="GB/T 2260 province code, e.g. 320000")
    core_major: int | None = Field(None, description="id of the core major (see /majors)")
    served_majors: list[int] = Field(default_factory=list, max_length=50,
                                     description="ids of at most 5 served majors")
    hosts: list[int] = Field(default_factory=list, max_length=50,
                             description="organisation ids in order; the first is the lead host")
    participants: list[int] = Field(default_factory=list, max_length=500,
                                    description="organisation ids of participants")
    build_start: datetime.date | None = None
    build_end: datetime.date | None = Field(None, description="defaults to start + the province's build period")


class ActionOut(Schema):
    action: str
    label: str
    target: str
    target_label: str
    reason_required: bool


class ActionList(Schema):
    items: list[ActionOut]
    count: int


class TransitionIn(Schema):
    action: str
    reason: str = ""


class UserRef(Schema):
    id: int
    username: str
    display_name: str
    organization: OrganizationRef | None


class MemberOut(Schema):
    """A team member as published: real name, institution and role for everyone who may see the library; the
    account behind it (`user`) only for the library's insiders (libraries.policies.can_see_people)."""

    id: int
    name: str = Field(..., description="the real name (never the username)")
    organization: OrganizationRef | None
    role: str
    role_label: str
    created_at: datetime.datetime
    user: UserRef | None = Field(None, description="the account (id, username): null unless the caller is the "
                                                   "library's team, a host administrator, a province administrator "
                                                   "of its province or an operator")


class MemberIn(Schema):
    user: int | str = Field(..., description="user id or username")
    role: str = Field(..., description="builder, reviewer or operations")


class HistoryEntryOut(Schema):
    """An audit entry of the library (the client address is shown to operators only, in /audit). Who acted is named
    (`actor_username`, `actor_name`) to the library's insiders only (libraries.policies.can_see_people); everyone
    gets `actor_role`, what the actor is to the library, and `before` / `after` without the people in them."""

    id: int
    created_at: datetime.datetime
    actor_username: str | None
    actor_name: str | None
    actor_role: str = Field(..., description="team roles and institution, or the platform role; empty for the "
                                             "system")
    action: str
    before: dict | list | None
    after: dict | list | None
    reason: str
