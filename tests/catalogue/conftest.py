"""Fixtures for the catalogue tests: a building library with a reviewer, and publishing through the real services
followed by the real indexing task (run synchronously: the database task queue does not run inside a test)."""

import pytest

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import indexing, services
from reslib.resources.models import ResourceVersion
from tests import factories


@pytest.fixture(autouse=True)
def isolated_file_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING, name="智能制造专业教学资源库", core="460103",
                             served=("460101", "460301"))


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role="reviewer")
    return user


def publish(library, lead, reviewer, **metadata):
    """Create a resource through the services, publish it and index it; returns the resource."""
    metadata.setdefault("description", "")  # the factory's defaults would make every resource match 数控/对刀
    metadata.setdefault("keywords", [])
    if metadata.get("resource_type") == "external_link":
        metadata.setdefault("external_url", "https://example.org/course")
    resource = factories.resource(library, lead, **metadata)
    version = resource.latest_version
    # Straight into review: the submission path (commitment, machine pre-review) is tested by resources/review.
    ResourceVersion.objects.filter(pk=version.pk).update(state=ResourceVersion.State.IN_REVIEW)
    services.decide_version(version, "publish", by=reviewer)
    assert indexing.reindex_resource(resource.pk) == "indexed"
    resource.refresh_from_db()
    return resource


@pytest.fixture
def publisher(building, lead, reviewer):
    def make(**metadata):
        return publish(building, lead, reviewer, **metadata)

    return make
