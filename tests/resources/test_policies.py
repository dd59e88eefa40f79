import decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import policies, services

from .. import factories
from .test_views import make_pdf


@pytest.fixture
def building(lead):
    return factories.library(lead, status=Library.Status.BUILDING)


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role="reviewer")
    return user


def published(building, lead, reviewer, resource=None, **overrides):
    overrides.setdefault("resource_type", "external_link")
    overrides.setdefault("external_url", "https://example.org/")
    resource = resource or factories.resource(building, lead, **overrides)
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


@pytest.mark.parametrize("kind", ["paid", "downloads_off"])
def test_withheld_content_goes_to_the_team_and_previews_to_every_viewer(kind, building, lead, reviewer, outsider,
                                                                       operator):
    paid = {"price_mode": "paid", "price": decimal.Decimal("9.90")} if kind == "paid" else {}
    resource = factories.resource(building, lead, resource_type="text", **paid)
    services.attach_file(resource.latest_version, factories.blob(make_pdf()), role="main", original_name="a.pdf",
                         by=lead)
    resource = published(building, lead, reviewer, resource=resource)
    if kind == "downloads_off":
        resource = services.set_downloads_allowed(resource, False, by=lead)
    version = resource.published_version
    for user in (AnonymousUser(), outsider):
        assert not policies.can_download(user, resource, version)
        assert policies.can_preview(user, resource, version)
    for user in (reviewer, lead, operator):
        assert policies.can_download(user, resource, version)
        assert policies.can_preview(user, resource, version)


def test_only_who_may_create_resources_somewhere_may_upload(building, lead, reviewer, college, outsider, operator):
    builder = factories.user(org=college)
    add_team_member(building, by=lead, user=builder, role="builder")
    assert policies.can_upload(lead) and policies.can_upload(builder)
    assert not policies.can_upload(reviewer)  # in the team, but creates no resources
    assert not policies.can_upload(outsider) and not policies.can_upload(operator)
    assert not policies.can_upload(AnonymousUser())
    Library.objects.filter(pk=building.pk).update(status=Library.Status.SUBMITTED)  # not building (yet)
    assert not policies.can_upload(builder)
