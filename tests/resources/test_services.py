import decimal

import pytest

from reslib.core.errors import IllegalTransition, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import services
from reslib.resources.models import Resource, ResourceVersion, RightsCommitment, VersionFile

from .. import factories

VS = ResourceVersion.State


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role="reviewer")
    return user


def codes(exc_info):
    return {f: [e["code"] for e in errs] for f, errs in exc_info.value.fields.items()}


def test_create_resource_makes_first_draft_with_rights(building, lead):
    resource = factories.resource(building, lead)
    version = resource.latest_version
    assert (version.number, version.state, resource.published_version) == (1, VS.DRAFT, None)
    assert [a.name for a in version.authors.all()] == ["王建国"]
    assert version.copyright_holder_org == lead.organization
    assert AuditEntry.objects.filter(action="resource.create", target_id=str(resource.pk)).exists()


def test_library_not_yet_approved_takes_no_resources(lead):
    draft_library = factories.library(lead)
    with pytest.raises(PermissionDenied):
        factories.resource(draft_library, lead)


def test_outsider_and_reviewer_cannot_create(building, outsider, reviewer):
    for user in (outsider, reviewer):
        with pytest.raises(PermissionDenied):
            factories.resource(building, user)


def test_metadata_rules_all_reported_and_nothing_saved(building, lead, outside_college):
    bad = factories.resource_metadata(
        building, title="", major=factories.major("460103").pk, originality="adapted", source="",
        licence="other", licence_text="", contributing_org=outside_college.pk, copyright_holder_org=None,
        copyright_holder_person="", price_mode="paid", price=None, authors=[], resource_type="video",
        external_url="https://example.com/x",
    )
    with pytest.raises(ValidationFailed) as exc:
        services.create_resource(building, bad, by=lead)
    assert codes(exc) == {
        "title": ["resource.title_required"],
        "major": ["resource.major_not_in_library"],
        "price": ["resource.price_required"],
        "external_url": ["resource.external_url_only_for_links"],
        "copyright_holder_org": ["resource.copyright_holder_required"],
        "source": ["resource.source_required"],
        "licence_text": ["resource.licence_text_required"],
        "contributing_org": ["resource.contributor_not_in_library"],
        "authors": ["resource.author_required"],
    }
    assert not Resource.objects.exists() and not ResourceVersion.objects.exists()


def test_copyright_holder_is_an_institution_or_a_person_not_both(building, lead):
    with pytest.raises(ValidationFailed) as exc:
        factories.resource(building, lead, copyright_holder_person="张三")
    assert exc.value.code == "resource.copyright_holder_both"
    resource = factories.resource(building, lead, copyright_holder_org=None, copyright_holder_person="张三")
    assert resource.latest_version.copyright_holder_person == "张三"


def test_external_link_keeps_only_its_url_and_is_not_counted(building, lead):
    link = factories.resource(building, lead, resource_type="external_link", external_url="https://www.icve.com.cn/x")
    factories.resource(building, lead)
    assert link.latest_version.is_external
    counted = services.countable(Resource.objects.all())
    assert counted.count() == 1 and not counted.filter(pk=link.pk).exists()
    blob = factories.blob()
    with pytest.raises(ValidationFailed) as exc:
        services.attach_file(link.latest_version, blob, role="main", original_name="a.pdf", by=lead)
    assert exc.value.code == "resource.external_has_no_files"


def test_paid_resource_needs_a_price(building, lead):
    resource = factories.resource(building, lead, price_mode="paid", price=decimal.Decimal("9.90"))
    assert resource.latest_version.price == decimal.Decimal("9.90")
    for price in (None, decimal.Decimal("0")):
        with pytest.raises(ValidationFailed) as exc:
            factories.resource(building, lead, price_mode="paid", price=price)
        assert exc.value.code == "resource.price_required" and list(exc.value.fields) == ["price"]
    assert Resource.objects.count() == 1


@pytest.mark.parametrize("price", ["123456789", "1000000", "99999999.99", "-5", "19.999", "0.001", "NaN", "sNaN",
                                   "Infinity", "-Infinity", "1E+400"])
def test_price_out_of_range_is_a_field_error_and_nothing_is_saved(building, lead, price):
    with pytest.raises(ValidationFailed) as exc:
        factories.resource(building, lead, price_mode="paid", price=decimal.Decimal(price))
    assert exc.value.code == "resource.price_invalid" and codes(exc) == {"price": ["resource.price_invalid"]}
    assert "999999.99" in exc.value.messages()[0]
    assert not Resource.objects.exists() and not AuditEntry.objects.filter(action="resource.create").exists()
    draft = factories.resource(building, lead, price_mode="paid", price=decimal.Decimal("9.90"))
    with pytest.raises(ValidationFailed) as exc:
        services.update_metadata(draft.latest_version, factories.resource_metadata(
            building, title="改价", price_mode="paid", price=decimal.Decimal(price)), by=lead)
    assert codes(exc) == {"price": ["resource.price_invalid"]}
    draft.latest_version.refresh_from_db()
    assert draft.latest_version.title != "改价" and draft.latest_version.price == decimal.Decimal("9.90")


@pytest.mark.parametrize("price", ["0.01", "19.9", "19.900", "999999.99"])
def test_prices_within_the_cap_are_kept(building, lead, price):
    resource = factories.resource(building, lead, price_mode="paid", price=decimal.Decimal(price))
    version = ResourceVersion.objects.get(pk=resource.latest_version_id)
    assert version.price == decimal.Decimal(price)


def test_submit_needs_commitment_and_main_file(building, lead):
    resource = factories.resource(building, lead, resource_type="text")
    with pytest.raises(ValidationFailed) as exc:
        services.submit_version(resource.latest_version, by=lead, commitment_accepted=False)
    assert set(codes(exc)) == {"commitment", "file"}
    assert ResourceVersion.objects.get(pk=resource.latest_version.pk).state == VS.DRAFT
    assert not RightsCommitment.objects.exists()


def test_submit_records_the_exact_commitment_text(building, lead):
    link = factories.resource(building, lead, resource_type="external_link", external_url="https://example.org/")
    version = services.submit_version(link.latest_version, by=lead, commitment_accepted=True)
    assert version.state == VS.IN_REVIEW
    commitment = RightsCommitment.objects.get(version=version)
    assert commitment.text == str(services.RIGHTS_COMMITMENT) and commitment.user == lead


def test_publish_then_edit_makes_a_new_draft_while_old_stays_public(building, lead, reviewer, outsider):
    link = factories.resource(building, lead, resource_type="external_link", external_url="https://example.org/")
    v1 = services.submit_version(link.latest_version, by=lead, commitment_accepted=True)
    # Only the library's reviewers and lead (or operators) may decide; the review workflow (reslib.review) picks
    # which of them decides at which level.
    with pytest.raises(PermissionDenied):
        services.decide_version(v1, "publish", by=outsider)
    services.decide_version(v1, "publish", by=reviewer)
    link.refresh_from_db()
    assert link.published_version == v1
    v2 = services.start_new_version(link, by=lead, changelog="更新链接")
    assert (v2.number, v2.state, v2.changelog) == (2, VS.DRAFT, "更新链接")
    meta = factories.resource_metadata(building, resource_type="external_link", external_url="https://example.org/v2",
                                       title="新标题")
    services.update_metadata(v2, meta, by=lead)
    link.refresh_from_db()
    assert link.published_version.title == "数控车床对刀操作微课"
    with pytest.raises(ValidationFailed):
        services.start_new_version(link, by=lead)  # a version is already open
    services.submit_version(v2, by=lead, commitment_accepted=True)
    services.decide_version(v2, "publish", by=reviewer)
    link.refresh_from_db()
    assert link.published_version.title == "新标题"
    assert ResourceVersion.objects.get(pk=v1.pk).state == VS.SUPERSEDED


def test_published_version_cannot_be_edited(building, lead, reviewer):
    link = factories.resource(building, lead, resource_type="external_link", external_url="https://example.org/")
    v1 = services.submit_version(link.latest_version, by=lead, commitment_accepted=True)
    services.decide_version(v1, "publish", by=reviewer)
    with pytest.raises(ValidationFailed) as exc:
        services.update_metadata(v1, factories.resource_metadata(building), by=lead)
    assert exc.value.code == "resource.version_not_draft"


def test_return_needs_a_reason_and_illegal_decisions_are_named(building, lead, reviewer):
    link = factories.resource(building, lead, resource_type="external_link", external_url="https://example.org/")
    with pytest.raises(IllegalTransition):
        services.decide_version(link.latest_version, "publish", by=reviewer)
    version = services.submit_version(link.latest_version, by=lead, commitment_accepted=True)
    with pytest.raises(ValidationFailed):
        services.decide_version(version, "return", by=reviewer)
    version = services.decide_version(version, "return", by=reviewer, reason="请补充著作权证明")
    assert version.state == VS.DRAFT
    assert AuditEntry.objects.get(action="resource.return").reason == "请补充著作权证明"


def test_attach_and_replace_main_file(building, lead):
    resource = factories.resource(building, lead, resource_type="text")
    version = resource.latest_version
    first = factories.blob(b"%PDF-1.4\nfirst\n%%EOF\n")
    second = factories.blob(b"%PDF-1.4\nsecond\n%%EOF\n")
    services.attach_file(version, first, role="main", original_name="讲义.pdf", by=lead)
    services.attach_file(version, second, role="main", original_name="讲义-修订.pdf", by=lead)
    assert list(version.files.values_list("original_name", flat=True)) == ["讲义-修订.pdf"]
    file_id = version.files.get().pk
    services.remove_file(version, file_id, by=lead)
    assert not VersionFile.objects.filter(version=version).exists()


def test_downloads_switch(building, lead, builder):
    resource = factories.resource(building, lead)
    with pytest.raises(PermissionDenied):
        services.set_downloads_allowed(resource, False, by=builder)  # builder is not in the team yet
    resource = services.set_downloads_allowed(resource, False, by=lead)
    assert resource.downloads_allowed is False


def test_knowledge_point_tree(building, lead, outsider):
    root = services.add_knowledge_point(building, by=lead, name="数控编程")
    child = services.add_knowledge_point(building, by=lead, name="G代码", kind="skill", parent_id=root.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.add_knowledge_point(building, by=lead, name="G代码", parent_id=root.pk)
    assert exc.value.code == "knowledge.name_taken"
    with pytest.raises(PermissionDenied):
        services.add_knowledge_point(building, by=outsider, name="x")
    with pytest.raises(ValidationFailed):
        services.remove_knowledge_point(root, by=lead)
    services.remove_knowledge_point(child, by=lead)
    services.remove_knowledge_point(root, by=lead)
    assert not building.knowledge_points.exists()
