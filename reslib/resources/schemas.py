"""Request and response schemas of the resources API."""

import datetime
import decimal

from ninja import Field, Schema

from reslib.orgs.schemas import MajorRef


class OrganizationRef(Schema):
    id: int
    name: str


class AuthorIn(Schema):
    name: str
    institution: str = ""
    user_id: int | None = None


class ResourceIn(Schema):
    """Mirrors resources.services.ResourceMetadata. The service checks every rule at once and answers all broken
    rules with stable codes (e.g. resource.major_not_in_library) under `fields`."""

    title: str = ""
    resource_type: str = Field("", description="text, slides, image, audio, video, animation, simulation, "
                                                "micro_lesson, case, questions, course_package, training_package, "
                                                "software, external_link")
    major: int | None = Field(None, description="id of the library's core major or one of its served majors")
    originality: str = Field("", description="original / adapted / quoted")
    licence: str = Field("", description="all_rights_reserved, cc_by, cc_by_sa, cc_by_nd, cc_by_nc, cc_by_nc_sa, "
                                         "cc_by_nc_nd, other")
    contributing_org: int | None = Field(None, description="a host or participating institution of the library")
    description: str = ""
    keywords: list[str] = []
    knowledge_points: list[int] = []
    audience: list[str] = Field([], description="student / social_learner / employee")
    language: str = "zh-hans"
    difficulty: str = ""
    certificate: str = ""
    access: str = Field("public", description="public / registered / members")
    price_mode: str = Field("free", description="free / paid")
    # Any number parses (NaN and Infinity too): the service's one price rule answers resource.price_invalid.
    price: decimal.Decimal | None = Field(None, allow_inf_nan=True, description="yuan; only for paid resources")
    external_url: str = ""
    copyright_holder_org: int | None = None
    copyright_holder_person: str = ""
    source: str = ""
    licence_text: str = ""
    authors: list[AuthorIn] = Field([], description="in credit order (署名)")


class AuthorOut(Schema):
    position: int
    name: str
    institution: str
    user_id: int | None


class KnowledgePointRef(Schema):
    id: int
    name: str
    kind: str


class FileOut(Schema):
    id: int
    role: str
    original_name: str
    size: int
    sha256: str
    mime_type: str
    kind: str
    scan_status: str = Field(description="not_scanned, clean, infected or error (the scan failed): only clean and "
                                         "infected mean clamd scanned the file")
    scan_reason: str = Field(description="why the file was not scanned (not_scanned, error); empty once scanned")
    download_url: str | None = Field(description="null when the caller may not have the file's content (paid, "
                                                 "downloads switched off, members only)")
    stream_url: str | None = Field(description="null like download_url: streaming is downloading")


class FindingOut(Schema):
    level: str
    code: str
    message: str
    file: str = ""


class VersionOut(Schema):
    number: int
    state: str
    state_label: str
    changelog: str
    created_by: str
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    published_at: datetime.datetime | None


class RightsOut(Schema):
    copyright_holder_org: OrganizationRef | None
    copyright_holder_person: str
    authors: list[AuthorOut]
    originality: str
    originality_label: str
    source: str
    licence: str
    licence_label: str
    licence_text: str
    licence_url: str
    contributing_org: OrganizationRef
    platform_guarantee: bool = Field(..., description="false for external links: not covered by the platform's "
                                                      "rights guarantee")


class ResourceOut(Schema):
    id: int
    library_id: int
    title: str
    resource_type: str
    type_label: str
    is_external: bool
    label: str = Field(..., description="外部链接 for external links, else empty")
    major: MajorRef
    version: int
    state: str
    state_label: str
    published: bool
    access: str
    price_mode: str
    downloads_allowed: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ResourceDetailOut(ResourceOut):
    description: str
    keywords: list[str]
    knowledge_points: list[KnowledgePointRef]
    audience: list[str]
    language: str
    difficulty: str
    certificate: str
    price: decimal.Decimal | None
    external_url: str
    rights: RightsOut
    files: list[FileOut]
    check_findings: list[FindingOut] = Field(..., description="machine checks; shown to the library team only")
    published_version: int | None
    latest_version: int | None = Field(None, description="shown to the library team only")
    versions: list[VersionOut]
    url: str


class NewVersionIn(Schema):
    changelog: str = ""


class AttachIn(Schema):
    upload_id: str = Field(..., description="id (or Location URL) of a completed tus upload of the caller")
    role: str = Field("main", description="main / attachment")


class SubmitIn(Schema):
    commitment_accepted: bool = Field(False, description="the uploader accepts the rights and content-safety "
                                                         "commitment (GET /resources/commitment shows the text)")


class DecisionIn(Schema):
    action: str = Field(..., description="withdraw (team) / publish / return / reject (reviewers)")
    reason: str = ""


class DownloadsIn(Schema):
    allowed: bool


class CommitmentOut(Schema):
    text: str
    language: str


class KnowledgePointIn(Schema):
    name: str = ""
    kind: str = "knowledge"
    parent: int | None = None


class KnowledgePointOut(Schema):
    id: int
    name: str
    kind: str
    parent: int | None = Field(None, alias="parent_id")
    position: int


class KnowledgePointList(Schema):
    items: list[KnowledgePointOut]
    count: int
