"""Shared builders and fixtures for the moderation and pre-review tests (import the fixtures into a test module)."""

import io

import pytest
from django.test import Client

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import services
from reslib.resources.models import DerivedFile

from .. import factories


def make_pdf(label: str = "讲义") -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": label})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_text(text: str) -> bytes:
    """A one-page PDF whose page shows `text` (ASCII) in Helvetica, so pypdf extracts it."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@pytest.fixture
def isolated_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.RESLIB_X_ACCEL_PREFIX = ""
    return tmp_path


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


@pytest.fixture
def member_builder(building, lead, builder):
    add_team_member(building, by=lead, user=builder, role="builder")
    return builder


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role="reviewer")
    return user


@pytest.fixture
def other_library(outsider, outside_college):
    """A second library (another province, another lead) for platform-wide checks."""
    return factories.library(outsider, hosts=[outside_college], status=Library.Status.BUILDING, province="330000",
                             name="机电一体化技术专业教学资源库")


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def file_resource(library, by, *, content: bytes | None = None, name: str = "讲义.pdf", **overrides):
    overrides.setdefault("resource_type", "text")
    resource = factories.resource(library, by, **overrides)
    blob = factories.blob(content if content is not None else make_pdf(overrides.get("title", "讲义")), name=name)
    services.attach_file(resource.latest_version, blob, role="main", original_name=name, by=by)
    resource.refresh_from_db()
    return resource


def attach(resource, by, content: bytes, name: str, role: str = "attachment"):
    blob = factories.blob(content, name=name)
    return services.attach_file(resource.latest_version, blob, role=role, original_name=name, by=by)


def publish(resource, by, reviewer):
    version = services.submit_version(resource.latest_version, by=by, commitment_accepted=True)
    services.decide_version(version, "publish", by=reviewer)
    resource.refresh_from_db()
    return resource


def done_derived(version_file, kind=DerivedFile.Kind.THUMBNAIL):
    """A finished derived file (the blob's own bytes stand in for the rendition)."""
    return DerivedFile.objects.create(blob=version_file.blob, kind=kind, state=DerivedFile.State.DONE,
                                      storage_name=version_file.blob.storage_name,
                                      mime_type="application/pdf", size=version_file.blob.size)
