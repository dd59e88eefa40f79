"""Resources API: visibility (404), refused actions (403), stable error codes, nothing half-written."""

import datetime
import decimal
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reslib.core.models import AuditEntry
from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import services
from reslib.resources.models import (
    KnowledgePoint,
    Resource,
    ResourceVersion,
    RightsCommitment,
    Upload,
    VersionAuthor,
    VersionFile,
)

from .. import factories
from .test_views import make_pdf

pytestmark = pytest.mark.django_db

API = "/api/v1"
VS = ResourceVersion.State


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"


@pytest.fixture
def building(lead, second_college, enterprise):
    return factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise],
                             status=Library.Status.BUILDING)


@pytest.fixture
def reviewer(building, lead, college):
    user = factories.user("reviewer", org=college)
    add_team_member(building, by=lead, user=user, role="reviewer")
    return user


def as_user(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def send(client, method, url, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def field_codes(error) -> dict:
    return {f: [e["code"] for e in errs] for f, errs in error["fields"].items()}


def body_for(library, **overrides) -> dict:
    lead_host = library.hosts.order_by("position").first().organization
    data = {
        "title": "数控车床对刀操作微课", "resource_type": "video", "major": library.core_major_id,
        "originality": "original", "licence": "cc_by", "contributing_org": lead_host.pk,
        "copyright_holder_org": lead_host.pk, "keywords": ["数控"], "audience": ["student"],
        "authors": [{"name": "王建国", "institution": lead_host.name}, {"name": "李明"}],
    }
    data.update(overrides)
    return data


def counts():
    return (Resource.objects.count(), ResourceVersion.objects.count(), VersionAuthor.objects.count(),
            VersionFile.objects.count(), RightsCommitment.objects.count(), AuditEntry.objects.count())


def pdf_resource(library, lead, **overrides):
    overrides.setdefault("resource_type", "text")
    resource = factories.resource(library, lead, **overrides)
    blob = factories.blob(make_pdf(overrides.get("title", "pdf")), name="讲义.pdf")
    services.attach_file(resource.latest_version, blob, role="main", original_name="讲义.pdf", by=lead)
    resource.refresh_from_db()
    return resource


def publish(resource, lead, reviewer):
    services.submit_version(resource.latest_version, by=lead, commitment_accepted=True)
    services.decide_version(resource.latest_version, "publish", by=reviewer)
    resource.refresh_from_db()
    return resource


def completed_upload(user, blob, name="讲义.pdf"):
    now = timezone.now()
    return Upload.objects.create(user=user, length=blob.size, offset=blob.size, temp_path="/nonexistent",
                                 expires_at=now + datetime.timedelta(hours=1), completed_at=now, blob=blob,
                                 metadata={"filename": name})


# --- reading ------------------------------------------------------------------------------------------------------


def test_list_public_sees_published_team_sees_drafts(building, lead, reviewer, outsider):
    published = publish(pdf_resource(building, lead, title="已发布"), lead, reviewer)
    factories.resource(building, lead, title="草稿")
    link = factories.resource(building, lead, title="链接", resource_type="external_link",
                              external_url="https://www.icve.com.cn/")
    publish(link, lead, reviewer)
    url = f"{API}/libraries/{building.pk}/resources"
    public = as_user().get(url).json()
    assert public["count"] == 2 and {i["title"] for i in public["items"]} == {"已发布", "链接"}
    link_item = next(i for i in public["items"] if i["title"] == "链接")
    assert link_item["is_external"] and link_item["label"] == "外部链接"
    team = as_user(lead).get(url).json()
    assert team["count"] == 3
    assert as_user(lead).get(url, {"type": "external_link"}).json()["count"] == 1
    assert as_user(outsider).get(url).json()["count"] == 2
    published_item = next(i for i in public["items"] if i["title"] == "已发布")
    assert published_item["id"] == published.pk and published_item["published"] and published_item["version"] == 1


def test_list_filters_by_major_knowledge_point_and_title(building, lead):
    point = services.add_knowledge_point(building, by=lead, name="对刀操作")
    lesson = factories.resource(building, lead, title="对刀微课", knowledge_points=[point.pk])
    handout = factories.resource(building, lead, title="编程讲义", resource_type="text")
    url = f"{API}/libraries/{building.pk}/resources"
    client = as_user(lead)

    def ids(**params):
        return {item["id"] for item in client.get(url, params).json()["items"]}

    assert ids(knowledge_point=point.pk) == {lesson.pk}
    assert ids(major=building.core_major_id) == {lesson.pk, handout.pk}
    assert ids(major=building.served_majors.first().pk) == set()
    assert ids(q=" 讲义 ") == {handout.pk}
    assert ids(q="对刀", type="text") == set()


def test_file_urls_only_for_callers_who_may_have_the_content(building, lead, reviewer, outsider):
    resource = publish(pdf_resource(building, lead, title="付费讲义", price_mode="paid", price=decimal.Decimal("9.90")),
                       lead, reviewer)
    url = f"{API}/resources/{resource.pk}"
    for caller in (as_user(), as_user(outsider)):
        listed = caller.get(url).json()["files"][0]
        assert listed["download_url"] is None and listed["stream_url"] is None
        assert listed["original_name"]  # the file is still described
    listed = as_user(lead).get(url).json()["files"][0]
    assert listed["download_url"].endswith("/download") and listed["stream_url"].endswith("/stream")


def test_list_of_an_invisible_library_is_404(lead, outsider):
    draft = factories.library(lead)
    assert_error(as_user(outsider).get(f"{API}/libraries/{draft.pk}/resources"), 404, "library.not_found")


def test_get_resource_public_published_team_any_version(building, lead, reviewer, outsider):
    resource = publish(pdf_resource(building, lead, title="第一版"), lead, reviewer)
    services.start_new_version(resource, by=lead, changelog="改标题")
    meta = factories.resource_metadata(building, title="第二版", resource_type="text")
    services.update_metadata(Resource.objects.get(pk=resource.pk).latest_version, meta, by=lead)
    url = f"{API}/resources/{resource.pk}"
    public = as_user().get(url).json()
    assert public["title"] == "第一版" and public["version"] == 1 and public["latest_version"] is None
    assert public["check_findings"] == [] and [v["number"] for v in public["versions"]] == [1]
    assert public["rights"]["authors"][0]["name"] == "王建国" and public["rights"]["platform_guarantee"]
    assert public["files"][0]["download_url"].endswith("/download")
    team = as_user(lead).get(url).json()
    assert team["title"] == "第二版" and team["latest_version"] == 2
    assert as_user(lead).get(url, {"version": 1}).json()["title"] == "第一版"
    assert_error(as_user(outsider).get(url, {"version": 2}), 404, "resource.version_not_found")


def test_draft_is_404_for_outsiders(building, lead, outsider):
    draft = factories.resource(building, lead)
    assert_error(as_user(outsider).get(f"{API}/resources/{draft.pk}"), 404, "resource.not_found")
    assert_error(as_user().get(f"{API}/resources/{draft.pk}"), 404, "resource.not_found")
    assert_error(send(as_user(outsider), "put", f"{API}/resources/{draft.pk}/draft", body_for(building)),
                 404, "resource.not_found")


# --- creating and editing ----------------------------------------------------------------------------------------


def test_create_resource(building, lead):
    response = send(as_user(lead), "post", f"{API}/libraries/{building.pk}/resources", body_for(building))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "draft" and data["version"] == 1
    assert [a["name"] for a in data["rights"]["authors"]] == ["王建国", "李明"]


def test_create_errors_have_stable_codes_and_nothing_is_written(building, lead, outside_college):
    before = counts()
    response = send(as_user(lead), "post", f"{API}/libraries/{building.pk}/resources", body_for(
        building, title="", originality="quoted", contributing_org=outside_college.pk, authors=[],
        external_url="https://example.com/"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert field_codes(error) == {
        "title": ["resource.title_required"],
        "source": ["resource.source_required"],
        "contributing_org": ["resource.contributor_not_in_library"],
        "authors": ["resource.author_required"],
        "external_url": ["resource.external_url_only_for_links"],
    }
    assert counts() == before
    malformed = send(as_user(lead), "post", f"{API}/libraries/{building.pk}/resources", {"title": 5, "major": "x"})
    assert_error(malformed, 422, "validation.invalid")
    assert counts() == before


# Committed for real: the database checks the author's account only when the transaction commits.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_author_linked_to_a_missing_account_is_a_field_error(building, lead, outsider):
    url = f"{API}/libraries/{building.pk}/resources"
    before = counts()
    unknown = send(as_user(lead), "post", url, body_for(building, authors=[{"name": "王建国", "user_id": 987654}]))
    assert field_codes(assert_error(unknown, 400, "resource.author_unknown")) == {
        "authors": ["resource.author_unknown"]}
    huge = send(as_user(lead), "post", url, body_for(building, authors=[{"name": "王建国", "user_id": 2**63}]))
    assert field_codes(assert_error(huge, 422, "validation.invalid")) == {
        "authors.0.user_id": ["validation.less_than_equal"]}
    assert counts() == before
    known = send(as_user(lead), "post", url, body_for(building, authors=[{"name": "王建国", "user_id": outsider.pk}]))
    assert known.status_code == 201, known.content
    assert VersionAuthor.objects.get().user_id == outsider.pk

def post_raw(client, url, library, price_literal: str, method="post"):
    """A body whose price is written as given: JSON numbers beyond float range, NaN, digits by the thousand."""
    raw = json.dumps(body_for(library, price_mode="paid"))[:-1] + f', "price": {price_literal}}}'
    return getattr(client, method)(url, raw, content_type="application/json")


@pytest.mark.parametrize("price", ['"123456789"', "123456789", '"99999999.99"', "1000000", "19.999", '"-1"',
                                   '"NaN"', "NaN", '"Infinity"', "1e400", '"1e400"'])
def test_price_out_of_range_is_a_field_error_and_the_list_still_works(building, lead, price):
    kept = pdf_resource(building, lead, title="已有的付费讲义", price_mode="paid", price=decimal.Decimal("19.90"))
    before = counts()
    create = post_raw(as_user(lead), f"{API}/libraries/{building.pk}/resources", building, price)
    error = assert_error(create, 400, "resource.price_invalid")
    assert field_codes(error) == {"price": ["resource.price_invalid"]}
    assert "999999.99" in error["fields"]["price"][0]["message"]
    update = post_raw(as_user(lead), f"{API}/resources/{kept.pk}/draft", building, price, method="put")
    assert field_codes(assert_error(update, 400, "resource.price_invalid")) == {"price": ["resource.price_invalid"]}
    assert counts() == before
    listed = as_user(lead).get(f"{API}/libraries/{building.pk}/resources")
    assert listed.status_code == 200 and [r["title"] for r in listed.json()["items"]] == ["已有的付费讲义"]
    page = as_user(lead).get(reverse("resources:list", args=[building.pk]))
    assert page.status_code == 200 and "已有的付费讲义" in page.content.decode()
    assert as_user(lead).get(f"{API}/resources/{kept.pk}").json()["price"] == "19.90"


def test_a_number_too_long_to_read_is_a_malformed_body_not_a_crash(building, lead):
    before = counts()
    response = post_raw(as_user(lead), f"{API}/libraries/{building.pk}/resources", building, "9" * 5000)
    assert_error(response, 400, "request.malformed")
    assert counts() == before


def test_create_refused_to_outsiders_and_reviewers(building, outsider, reviewer):
    for user in (outsider, reviewer):
        response = send(as_user(user), "post", f"{API}/libraries/{building.pk}/resources", body_for(building))
        assert_error(response, 403, "resource.create_denied")
    assert_error(send(as_user(), "post", f"{API}/libraries/{building.pk}/resources", body_for(building)), 401,
                 "auth.required")
    assert not Resource.objects.exists()


def test_put_draft_and_refusals(building, lead, reviewer):
    resource = pdf_resource(building, lead)
    url = f"{API}/resources/{resource.pk}/draft"
    ok = send(as_user(lead), "put", url, body_for(building, title="改过的标题", resource_type="text"))
    assert ok.status_code == 200 and ok.json()["title"] == "改过的标题"
    assert_error(send(as_user(reviewer), "put", url, body_for(building)), 403, "resource.edit_denied")
    services.submit_version(resource.latest_version, by=lead, commitment_accepted=True)
    error = assert_error(send(as_user(lead), "put", url, body_for(building)), 400, "resource.version_not_draft")
    assert "version" in error["fields"]


def test_new_version_then_second_is_refused(building, lead, reviewer):
    resource = publish(pdf_resource(building, lead), lead, reviewer)
    url = f"{API}/resources/{resource.pk}/versions"
    response = send(as_user(lead), "post", url, {"changelog": "更新"})
    assert response.status_code == 201 and response.json()["version"] == 2
    assert response.json()["versions"][0]["changelog"] == "更新"
    assert_error(send(as_user(lead), "post", url, {"changelog": ""}), 400, "resource.version_open")
    assert_error(send(as_user(reviewer), "post", url, {}), 403, "resource.edit_denied")


# --- files --------------------------------------------------------------------------------------------------------


def test_attach_completed_upload_and_remove(building, lead, reviewer, builder):
    add_team_member(building, by=lead, user=builder, role="builder")
    resource = factories.resource(building, lead, resource_type="text")
    blob = factories.blob(make_pdf("upload"), name="x.pdf")
    mine = completed_upload(lead, blob)
    url = f"{API}/resources/{resource.pk}/files"
    response = send(as_user(lead), "post", url, {"upload_id": str(mine.pk), "role": "main"})
    assert response.status_code == 201, response.content
    file_id = response.json()["id"]
    assert response.json()["original_name"] == "讲义.pdf" and response.json()["sha256"] == blob.sha256
    # Another member cannot use my upload; incomplete uploads and junk ids are refused.
    other = send(as_user(builder), "post", url, {"upload_id": str(mine.pk), "role": "attachment"})
    assert field_codes(assert_error(other, 400, "resource.upload_unknown")) == {
        "upload_id": ["resource.upload_unknown"]}
    unfinished = Upload.objects.create(user=lead, length=10, offset=2, temp_path="/x", expires_at=timezone.now())
    assert_error(send(as_user(lead), "post", url, {"upload_id": str(unfinished.pk)}), 400,
                 "resource.upload_incomplete")
    assert_error(send(as_user(lead), "post", url, {"upload_id": "../../etc"}), 400, "resource.upload_unknown")
    assert_error(send(as_user(reviewer), "post", url, {"upload_id": str(mine.pk)}), 403, "resource.edit_denied")
    assert VersionFile.objects.count() == 1
    delete = as_user(lead).delete(f"{url}/{file_id}")
    assert delete.status_code == 204 and not VersionFile.objects.exists()
    assert_error(as_user(lead).delete(f"{url}/{file_id}"), 404, "resource.file_not_found")


def test_external_link_takes_no_file(building, lead):
    link = factories.resource(building, lead, resource_type="external_link", external_url="https://example.org/")
    upload = completed_upload(lead, factories.blob(make_pdf("l"), name="l.pdf"))
    before = counts()
    response = send(as_user(lead), "post", f"{API}/resources/{link.pk}/files", {"upload_id": str(upload.pk)})
    assert_error(response, 400, "resource.external_has_no_files")
    assert counts() == before


# --- submission and decisions --------------------------------------------------------------------------------------


def test_submit_needs_commitment_and_opens_a_review(building, lead, reviewer):
    # POST /resources/{id}/submit now belongs to the review API (reslib.review.api) and opens a review request;
    # decisions are POST /review/requests/{id}/decision (tests/review/test_api.py).
    resource = pdf_resource(building, lead)
    submit = f"{API}/resources/{resource.pk}/submit"
    before = counts()
    error = assert_error(send(as_user(lead), "post", submit, {"commitment_accepted": False}), 400,
                         "resource.commitment_required")
    assert "commitment" in error["fields"] and counts() == before
    assert_error(send(as_user(reviewer), "post", submit, {"commitment_accepted": True}), 403,
                 "resource.transition_denied")
    ok = send(as_user(lead), "post", submit, {"commitment_accepted": True})
    assert ok.status_code == 200 and ok.json()["state"] == "in_review"
    assert RightsCommitment.objects.get().text == str(services.RIGHTS_COMMITMENT)
    decision = f"{API}/resources/{resource.pk}/decision"
    assert send(as_user(reviewer), "post", decision, {"action": "publish"}).status_code == 404


def test_withdraw_by_the_team(building, lead):
    resource = pdf_resource(building, lead)
    assert send(as_user(lead), "post", f"{API}/resources/{resource.pk}/submit",
                {"commitment_accepted": True}).status_code == 200
    response = send(as_user(lead), "post", f"{API}/resources/{resource.pk}/withdraw", {"reason": "补充"})
    assert response.status_code == 200 and response.json()["state"] == "draft"


def test_downloads_switch(building, lead, reviewer, outsider):
    resource = publish(pdf_resource(building, lead), lead, reviewer)
    url = f"{API}/resources/{resource.pk}/downloads"
    assert_error(send(as_user(outsider), "put", url, {"allowed": False}), 403, "resource.edit_denied")
    assert send(as_user(lead), "put", url, {"allowed": False}).json()["downloads_allowed"] is False


def test_commitment_text(db):
    data = as_user().get(f"{API}/resources/commitment").json()
    assert data["text"].startswith("本人承诺")


# --- knowledge points ---------------------------------------------------------------------------------------------


def test_knowledge_points_api(building, lead, outsider):
    url = f"{API}/libraries/{building.pk}/knowledge-points"
    root = send(as_user(lead), "post", url, {"name": "数控编程"})
    assert root.status_code == 201
    child = send(as_user(lead), "post", url, {"name": "G代码", "kind": "skill", "parent": root.json()["id"]})
    assert child.status_code == 201 and child.json()["parent"] == root.json()["id"]
    listing = as_user().get(url).json()
    assert [p["name"] for p in listing["items"]] == ["数控编程", "G代码"] and listing["count"] == 2
    assert_error(send(as_user(lead), "post", url, {"name": "数控编程"}), 400, "knowledge.name_taken")
    assert_error(send(as_user(outsider), "post", url, {"name": "外人"}), 403, "resource.knowledge_denied")
    assert_error(as_user(lead).delete(f"{url}/{root.json()['id']}"), 400, "knowledge.in_use")
    assert_error(as_user(outsider).delete(f"{url}/{child.json()['id']}"), 403, "resource.knowledge_denied")
    assert as_user(lead).delete(f"{url}/{child.json()['id']}").status_code == 204
    assert_error(as_user(lead).delete(f"{url}/999999"), 404, "knowledge.not_found")
    assert KnowledgePoint.objects.count() == 1
