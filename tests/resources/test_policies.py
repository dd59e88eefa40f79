import pytest
from django.contrib.auth.models import AnonymousUser

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import policies, services

from .. import factories


@pytest.fixture
def building(lead):
    return factories.library(lead, status=Library.Status.BUILDING)


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role="reviewer")
    return user


def published(building, lead, reviewer, **overrides):
    overrides.setdefault("resource_type", "external_link")
    overrides.setdefault("external_url", "https://example.org/")
    resource = factories.resource(building, lead, **overrides)
    version = services.submit_version(resource.latest_version, by=lead, commitment_accepted=True)
    services.decide_version(version, "publish", by=reviewer)
    resource.refresh_from_db()
    return resource


def test_drafts_are_seen_only_by_the_team_and_operators(building, lead, reviewer, outsider, operator):
    draft = factories.resource(building, lead)
    assert policies.can_view(lead, draft) and policies.can_view(reviewer, draft) and policies.can_view(operator, draft)
    assert not policies.can_view(outsider, draft)
    assert not policies.can_view(AnonymousUser(), draft)


def test_access_levels(building, lead, reviewer, outsider):
    public = published(building, lead, reviewer, access="public", title="公开")
    registered = published(building, lead, reviewer, access="registered", title="注册可见")
    members = published(building, lead, reviewer, access="members", title="成员可见")
    anonymous_sees = set(policies.visible_resources(AnonymousUser()))
    outsider_sees = set(policies.visible_resources(outsider))
    assert anonymous_sees == {public}
    assert outsider_sees == {public, registered}
    assert members in set(policies.visible_resources(reviewer))


def test_library_that_lost_public_status_hides_its_resources(building, lead, reviewer, outsider):
    resource = published(building, lead, reviewer)
    Library.objects.filter(pk=building.pk).update(status=Library.Status.NOT_APPROVED)
    assert not policies.can_view(outsider, resource)


def test_downloads(building, lead, reviewer, outsider):
    blob = factories.blob()
    resource = factories.resource(building, lead, resource_type="text")
    services.attach_file(resource.latest_version, blob, role="main", original_name="a.pdf", by=lead)
    assert not policies.can_download(outsider, resource, resource.latest_version)
    assert policies.can_download(lead, resource, resource.latest_version)
    link = published(building, lead, reviewer)
    assert not policies.can_download(outsider, link)  # an external link has nothing to download
