"""Published resources feed the search index after commit; drafts never do; visibility follows the resource policy."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import indexing, policies, services
from reslib.resources.models import ResourceVersion
from reslib.search import services as search
from tests import factories


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role="reviewer")
    return user


def publish(resource, *, by_lead, reviewer, django_capture_on_commit_callbacks, **changes):
    version = resource.latest_version
    ResourceVersion.objects.filter(pk=version.pk).update(state=ResourceVersion.State.IN_REVIEW, **changes)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.decide_version(version, "publish", by=reviewer)
    return callbacks


def found(query, user):
    return [h.id for h in search.search(query, visibility=policies.search_visibility(user)).hits]


def test_draft_is_never_indexed_and_publish_schedules_indexing(building, lead, reviewer,
                                                                django_capture_on_commit_callbacks):
    resource = factories.resource(building, lead, title="数控车床对刀操作微课")
    assert indexing.reindex_resource(resource.pk) == "removed"  # a draft: nothing to index
    assert found("对刀", lead) == []
    callbacks = publish(resource, by_lead=lead, reviewer=reviewer,
                        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert callbacks, "publishing must schedule re-indexing after commit"
    assert found("对刀", AnonymousUser()) == []  # not before the task ran
    assert indexing.reindex_resource(resource.pk) == "indexed"
    hits = search.search("对刀", visibility=policies.search_visibility(AnonymousUser())).hits
    assert [h.id for h in hits] == [f"resource:{resource.pk}"]
    assert hits[0].display["url"] == f"/resources/{resource.pk}/"
    assert "<mark>" in hits[0].highlights["title"]


def test_new_draft_version_does_not_change_the_index_until_published(building, lead, reviewer,
                                                                      django_capture_on_commit_callbacks):
    resource = factories.resource(building, lead, title="数控车床对刀操作微课")
    publish(resource, by_lead=lead, reviewer=reviewer,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    indexing.reindex_resource(resource.pk)
    draft = services.start_new_version(resource, by=lead)
    ResourceVersion.objects.filter(pk=draft.pk).update(title="汽车维修保养新版", description="新版说明", keywords=["保养"])
    indexing.reindex_resource(resource.pk)
    assert found("汽车维修", lead) == []  # the draft title is not searchable, even for the team
    assert found("对刀", AnonymousUser()) == [f"resource:{resource.pk}"]
    resource.refresh_from_db()
    publish(resource, by_lead=lead, reviewer=reviewer,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    indexing.reindex_resource(resource.pk)
    assert found("汽车维修", AnonymousUser()) == [f"resource:{resource.pk}"]
    assert found("对刀", AnonymousUser()) == []


def test_members_only_resource_is_found_by_members_and_operators_only(building, lead, reviewer, outsider, operator,
                                                                      django_capture_on_commit_callbacks):
    resource = factories.resource(building, lead, title="内部实训指导书", access="members")
    publish(resource, by_lead=lead, reviewer=reviewer,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    indexing.reindex_resource(resource.pk)
    assert found("实训", AnonymousUser()) == []
    assert found("实训", outsider) == []
    assert found("实训", lead) == [f"resource:{resource.pk}"]
    assert found("实训", operator) == [f"resource:{resource.pk}"]
    # Consistent with the page policy.
    assert not policies.can_view(outsider, resource) and policies.can_view(lead, resource)


def test_registered_resource_needs_sign_in(building, lead, reviewer, outsider, django_capture_on_commit_callbacks):
    resource = factories.resource(building, lead, title="注册用户教学案例", access="registered")
    publish(resource, by_lead=lead, reviewer=reviewer,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    indexing.reindex_resource(resource.pk)
    assert found("教学案例", AnonymousUser()) == []
    assert found("教学案例", outsider) == [f"resource:{resource.pk}"]


def test_library_leaving_public_status_drops_out_on_reindex(building, lead, reviewer,
                                                            django_capture_on_commit_callbacks):
    resource = factories.resource(building, lead)
    publish(resource, by_lead=lead, reviewer=reviewer,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    indexing.reindex_resource(resource.pk)
    assert found("对刀", AnonymousUser())
    Library.objects.filter(pk=building.pk).update(status=Library.Status.DRAFT)
    call_command("search_reindex", stdout=open("/dev/null", "w"))
    assert found("对刀", AnonymousUser()) == []


def test_reindex_command_rebuilds_with_progress(building, lead, reviewer, django_capture_on_commit_callbacks,
                                                capsys):
    resources = [factories.resource(building, lead, title=f"数控加工第{i}讲") for i in range(3)]
    for resource in resources:
        publish(resource, by_lead=lead, reviewer=reviewer,
                django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    search.index([search.SearchDocument(id="resource:999999", title="数控加工 幽灵文档")])  # stale
    call_command("search_reindex")
    out = capsys.readouterr().out
    assert "100.0%" in out and "3/3" in out
    assert sorted(found("数控加工", AnonymousUser())) == sorted(f"resource:{r.pk}" for r in resources)


def test_document_fields(building, lead, reviewer, django_capture_on_commit_callbacks):
    resource = factories.resource(building, lead, audience=["student", "employee"])
    publish(resource, by_lead=lead, reviewer=reviewer,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    resource = indexing._with_related(indexing.indexable_resources()).get(pk=resource.pk)
    doc = indexing.document_for(resource)
    assert doc.id == f"resource:{resource.pk}" and doc.library_id == building.pk
    assert doc.major == building.core_major.code and doc.attr_resource_type == "video"
    assert doc.resource_type == "视频" and doc.audience == ["student", "employee"]
    assert doc.authors == ["王建国"] and lead.organization.pk in doc.institution


def test_blocked_withdrawn_and_restricted_resources(building, lead, reviewer, outsider,
                                                     django_capture_on_commit_callbacks):
    from django.utils import timezone

    from reslib.resources.models import Resource

    resource = factories.resource(building, lead, title="数控车床对刀操作微课")
    publish(resource, by_lead=lead, reviewer=reviewer,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    indexing.reindex_resource(resource.pk)
    me = f"resource:{resource.pk}"
    Resource.objects.filter(pk=resource.pk).update(moderation_state=Resource.Moderation.RESTRICTED)
    indexing.reindex_resource(resource.pk)
    assert found("对刀", AnonymousUser()) == [] and found("对刀", outsider) == []
    assert found("对刀", lead) == [me]
    Resource.objects.filter(pk=resource.pk).update(moderation_state=Resource.Moderation.BLOCKED)
    assert indexing.reindex_resource(resource.pk) == "removed"
    assert found("对刀", lead) == []
    Resource.objects.filter(pk=resource.pk).update(moderation_state=Resource.Moderation.NORMAL,
                                                   withdrawn_at=timezone.now())
    assert indexing.reindex_resource(resource.pk) == "removed"
    Resource.objects.filter(pk=resource.pk).update(withdrawn_at=None)
    assert indexing.reindex_resource(resource.pk) == "indexed"
    assert found("对刀", AnonymousUser()) == [me]
