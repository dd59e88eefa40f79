"""Resource web pages: who sees what, downloads, editor-only actions, form errors in Chinese, knowledge points."""

import decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reslib.libraries.models import Library
from reslib.libraries.services import add_team_member
from reslib.resources import policies, services
from reslib.resources.models import (
    Blob,
    DerivedFile,
    KnowledgePoint,
    Resource,
    ResourceVersion,
    Upload,
    VersionFile,
)

from .. import factories

pytestmark = pytest.mark.django_db

VS = ResourceVersion.State


def make_pdf(label: str = "讲义") -> bytes:
    """A small valid PDF (one blank page); `label` goes into the metadata so contents differ."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": label})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = make_pdf()


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.RESLIB_X_ACCEL_PREFIX = ""


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


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text_resource(library, lead, *, content=PDF, **overrides):
    overrides.setdefault("resource_type", "text")
    resource = factories.resource(library, lead, **overrides)
    blob = factories.blob(content, name="讲义.pdf")
    services.attach_file(resource.latest_version, blob, role="main", original_name="讲义.pdf", by=lead)
    resource.refresh_from_db()
    return resource


def publish(resource, lead, reviewer):
    version = services.submit_version(resource.latest_version, by=lead, commitment_accepted=True)
    services.decide_version(version, "publish", by=reviewer)
    resource.refresh_from_db()
    return resource


def detail_url(resource):
    return reverse("resources:detail", args=[resource.pk])


def page(response) -> str:
    return response.content.decode()


def main_file(resource, version=None):
    version = version or resource.published_version or resource.latest_version
    return version.files.get(role=VersionFile.Role.MAIN)


def download_url(resource, f):
    return reverse("resources:download", args=[resource.pk, f.pk])


# --- visibility -------------------------------------------------------------------------------------------------


def test_list_shows_published_to_the_public_and_drafts_to_the_team(building, lead, reviewer, outsider):
    published = publish(text_resource(building, lead, title="已发布的讲义"), lead, reviewer)
    factories.resource(building, lead, title="尚在草稿的微课")
    factories.resource(building, lead, title="行业网站链接", resource_type="external_link",
                       external_url="https://www.icve.com.cn/")
    url = reverse("resources:list", args=[building.pk])

    for user in (None, outsider):
        response = client_for(user).get(url)
        body = page(response)
        assert "已发布的讲义" in body and "尚在草稿的微课" not in body and "行业网站链接" not in body
        assert (response.context["counted_total"], response.context["external_total"]) == (1, 0)
        assert [row["resource"].pk for row in response.context["rows"]] == [published.pk]
    response = client_for(lead).get(url)
    team = page(response)
    assert "已发布的讲义" in team and "尚在草稿的微课" in team and "行业网站链接" in team
    assert "外部链接" in team
    # Counted total excludes the external link: two counted, one link listed apart.
    assert "<strong>2</strong>" in team
    assert (response.context["counted_total"], response.context["external_total"]) == (2, 1)


def test_totals_judge_a_resource_by_the_version_readers_see(building, lead, reviewer):
    """A published external link whose new draft is a text is still a link for the totals (as in its row), so it is
    counted exactly once: as a link, never also as a resource."""
    link = publish(factories.resource(building, lead, title="行业网站链接", resource_type="external_link",
                                      external_url="https://www.icve.com.cn/"), lead, reviewer)
    draft = services.start_new_version(link, by=lead, changelog="改为讲义")
    services.update_metadata(draft, factories.resource_metadata(building, title="行业讲义", resource_type="text"),
                             by=lead)
    response = client_for(lead).get(reverse("resources:list", args=[building.pk]))
    assert (response.context["counted_total"], response.context["external_total"]) == (0, 1)
    assert response.context["rows"][0]["version"].is_external


def test_operators_see_the_list_as_the_team_does(building, lead, reviewer, outsider, operator):
    resource = publish(text_resource(building, lead, title="已发布的讲义"), lead, reviewer)
    services.start_new_version(resource, by=lead, changelog="更新")
    url = reverse("resources:list", args=[building.pk])
    assert "version 2 in progress" not in page(client_for(outsider).get(url, HTTP_ACCEPT_LANGUAGE="en"))
    response = client_for(operator).get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["is_team"] and response.context["rows"][0]["has_newer"]
    assert "version 2 in progress" in page(response)


def test_list_filters_by_type_major_and_knowledge_point(building, lead):
    point = services.add_knowledge_point(building, by=lead, name="对刀操作")
    factories.resource(building, lead, title="对刀微课", knowledge_points=[point.pk])
    factories.resource(building, lead, title="编程讲义", resource_type="text")
    url = reverse("resources:list", args=[building.pk])
    client = client_for(lead)
    assert "编程讲义" not in page(client.get(url, {"point": point.pk}))
    assert "对刀微课" in page(client.get(url, {"point": point.pk}))
    body = page(client.get(url, {"type": "text"}))
    assert "编程讲义" in body and "对刀微课" not in body
    other_major = building.served_majors.first()
    assert "对刀微课" not in page(client.get(url, {"major": other_major.pk}))
    body = page(client.get(url, {"major": building.core_major_id}))
    assert "对刀微课" in body and "编程讲义" in body
    body = page(client.get(url, {"q": "对刀"}))
    assert "对刀微课" in body and "编程讲义" not in body


def test_list_queries_do_not_grow_with_rows(building, lead):
    url = reverse("resources:list", args=[building.pk])
    client = client_for(lead)
    factories.resource(building, lead)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(6):
        factories.resource(building, lead, title=f"资源{i}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_list_of_invisible_library_is_404(lead, outsider):
    draft_library = factories.library(lead)
    assert client_for(outsider).get(reverse("resources:list", args=[draft_library.pk])).status_code == 404


def test_draft_is_404_for_outsiders_and_the_public(building, lead, member_builder, outsider):
    draft = factories.resource(building, lead, title="内部草稿")
    assert client_for(None).get(detail_url(draft)).status_code == 404
    assert client_for(outsider).get(detail_url(draft)).status_code == 404
    for user in (lead, member_builder):
        response = client_for(user).get(detail_url(draft))
        assert response.status_code == 200 and "内部草稿" in page(response)


def test_members_only_and_registered_access(building, lead, reviewer, outsider):
    members = publish(text_resource(building, lead, title="成员资源", access="members"), lead, reviewer)
    registered = publish(text_resource(building, lead, title="注册资源", access="registered", content=make_pdf("2")),
                         lead, reviewer)
    assert client_for(None).get(detail_url(members)).status_code == 404
    assert client_for(outsider).get(detail_url(members)).status_code == 404
    assert client_for(reviewer).get(detail_url(members)).status_code == 200
    assert client_for(None).get(detail_url(registered)).status_code == 403  # asked to log in
    assert client_for(outsider).get(detail_url(registered)).status_code == 200


def test_anonymous_visitor_of_a_registered_users_resource_is_asked_to_log_in(building, lead, reviewer, outsider):
    registered = publish(text_resource(building, lead, title="注册讲义", access="registered"), lead, reviewer)
    draft = text_resource(building, lead, title="未发布讲义", access="registered")
    response = client_for(None).get(detail_url(registered))
    body = page(response)
    assert response.status_code == 403
    assert f'href="/accounts/login/?next=%2Fresources%2F{registered.pk}%2F"' in body
    assert "此资源仅向注册用户开放，请登录后查看。" in body and "注册讲义" not in body
    # Logging in is no way into what only the team sees: that stays a 404 like a missing resource.
    assert client_for(None).get(detail_url(draft)).status_code == 404
    login = Client().post(reverse("accounts:login") + f"?next={detail_url(registered)}",
                          {"username": outsider.username, "password": factories.PASSWORD})
    assert login.status_code == 302 and login["Location"] == detail_url(registered)


def test_public_page_shows_rights_versions_and_qr_but_no_team_actions(building, lead, reviewer):
    resource = publish(text_resource(building, lead, title="公开讲义", originality="adapted",
                                     source="《数控加工》教材第三章", licence="cc_by_nc_sa"), lead, reviewer)
    body = page(client_for(None).get(detail_url(resource)))
    assert "公开讲义" in body and "《数控加工》教材第三章" in body
    assert "https://creativecommons.org/licenses/by-nc-sa/4.0/" in body
    assert "王建国" in body  # 署名
    assert "<svg" in body  # QR code
    assert reverse("review:submit", args=[resource.pk]) not in body
    assert reverse("resources:downloads", args=[resource.pk]) not in body


def test_external_link_page_is_labelled_and_warned(building, lead, reviewer):
    link = factories.resource(building, lead, title="国家智慧教育平台课程", resource_type="external_link",
                              external_url="https://www.smartedu.cn/x")
    publish(link, lead, reviewer)
    body = page(client_for(None).get(detail_url(link)))
    assert "外部链接" in body and "https://www.smartedu.cn/x" in body
    assert "不在本平台" in body or "权利保障" in body


# --- downloads --------------------------------------------------------------------------------------------------


def test_public_download_of_published_file(building, lead, reviewer):
    resource = publish(text_resource(building, lead), lead, reviewer)
    response = client_for(None).get(download_url(resource, main_file(resource)))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    stream = client_for(None).get(reverse("resources:stream", args=[resource.pk, main_file(resource).pk]),
                                  HTTP_RANGE="bytes=0-3")
    assert stream.status_code == 206 and b"".join(stream.streaming_content) == PDF[:4]


def test_download_refused_when_switched_off_but_team_keeps_it(building, lead, reviewer, outsider):
    resource = publish(text_resource(building, lead), lead, reviewer)
    services.set_downloads_allowed(resource, False, by=lead)
    url = download_url(resource, main_file(resource))
    assert client_for(None).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(lead).get(url).status_code == 200
    # Streaming hands out the same bytes: refused alike.
    assert client_for(None).get(reverse("resources:stream", args=[resource.pk, main_file(resource).pk])
                                ).status_code == 403


def test_paid_resource_is_not_downloadable_by_the_public(building, lead, reviewer, outsider):
    resource = publish(text_resource(building, lead, price_mode="paid", price=decimal.Decimal("19.90")),
                       lead, reviewer)
    assert client_for(outsider).get(download_url(resource, main_file(resource))).status_code == 403
    assert client_for(lead).get(download_url(resource, main_file(resource))).status_code == 200


# --- every file route of a paid resource or one with downloads off -----------------------------------------------

SUBTITLE = "1\n00:00:01,000 --> 00:00:02,000\n对刀\n".encode()
CONTENT_ROUTES = ("download", "stream", "web_video", "pdf_preview", "subtitles")


@pytest.fixture
def participant_teacher(enterprise):
    """Works at a participating institution of the library but is not in its team."""
    return factories.user("participant_teacher", org=enterprise)


def withheld_resource(kind, library, lead, reviewer):
    """A published PDF with a subtitle attachment and finished derived files, either paid or with downloads off."""
    paid = {"price_mode": "paid", "price": decimal.Decimal("19.90")} if kind == "paid" else {}
    resource = text_resource(library, lead, **paid)
    services.attach_file(resource.latest_version, factories.blob(SUBTITLE, name="字幕.srt"), role="attachment",
                         original_name="字幕.srt", by=lead)
    resource = publish(resource, lead, reviewer)
    if kind == "downloads_off":
        resource = services.set_downloads_allowed(resource, False, by=lead)
    main = main_file(resource)
    for derived_kind in DerivedFile.Kind.values:  # the original's bytes stand in for every rendition
        DerivedFile.objects.update_or_create(blob=main.blob, kind=derived_kind, defaults={
            "state": DerivedFile.State.DONE, "storage_name": main.blob.storage_name,
            "mime_type": "application/pdf", "size": main.blob.size})
    return resource


def file_routes(resource) -> dict:
    main = main_file(resource)
    subtitle = resource.published_version.files.get(role=VersionFile.Role.ATTACHMENT)
    derived = {kind: reverse("resources:derived", args=[resource.pk, main.pk, kind])
               for kind in DerivedFile.Kind.values}
    return {"download": reverse("resources:download", args=[resource.pk, main.pk]),
            "stream": reverse("resources:stream", args=[resource.pk, main.pk]),
            "subtitles": reverse("resources:subtitles", args=[resource.pk, subtitle.pk]), **derived}


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("kind", ["paid", "downloads_off"])
def test_withheld_files_go_to_the_team_only_on_every_route(kind, building, lead, member_builder, reviewer,
                                                          outsider, participant_teacher):
    resource = withheld_resource(kind, building, lead, reviewer)
    routes = file_routes(resource)
    refused = {"anonymous": None, "registered non-member": outsider, "participant's teacher": participant_teacher}
    team = {"reviewer (member)": reviewer, "builder (staff)": member_builder, "lead (staff)": lead}
    for who, user in refused.items():
        client = client_for(user)
        assert client.get(detail_url(resource)).status_code == 200, who  # the page itself stays public
        for route in CONTENT_ROUTES:
            response = client.get(routes[route], HTTP_RANGE="bytes=0-3")
            assert response.status_code == 403, (who, route)
            assert b"%PDF" not in content(response) and "对刀".encode() not in content(response), (who, route)
        for preview in policies.PREVIEW_KINDS:  # a poster or thumbnail tells what it is, not its content
            assert client.get(routes[preview]).status_code == 200, (who, preview)
    for who, user in team.items():
        client = client_for(user)
        for route in CONTENT_ROUTES + tuple(policies.PREVIEW_KINDS):
            response = client.get(routes[route])
            assert response.status_code == 200, (who, route)
            assert content(response).startswith(b"WEBVTT" if route == "subtitles" else b"%PDF"), (who, route)


@pytest.mark.parametrize("kind", ["paid", "downloads_off"])
def test_withheld_files_are_not_handed_to_nginx_for_the_public(kind, building, lead, reviewer, settings):
    settings.RESLIB_X_ACCEL_PREFIX = "/_protected"
    resource = withheld_resource(kind, building, lead, reviewer)
    routes = file_routes(resource)
    for route in ("download", "stream", "web_video", "pdf_preview"):
        refused = client_for(None).get(routes[route])
        assert refused.status_code == 403 and "X-Accel-Redirect" not in refused, route
        handed = client_for(lead).get(routes[route])
        assert handed.status_code == 200, route
        assert handed["X-Accel-Redirect"] == f"/_protected/{main_file(resource).blob.storage_name}", route


def test_withheld_files_are_not_streamed_from_object_storage(s3_storage, building, lead, reviewer, outsider):
    resource = withheld_resource("paid", building, lead, reviewer)
    stream = file_routes(resource)["stream"]
    assert s3_storage["client"].head_object(Bucket=s3_storage["bucket"], Key=main_file(resource).blob.storage_name)
    for user in (None, outsider):
        response = client_for(user).get(stream, HTTP_RANGE="bytes=0-3")
        assert response.status_code == 403 and b"%PDF" not in content(response)
    response = client_for(lead).get(stream, HTTP_RANGE="bytes=0-3")
    assert response.status_code == 206 and content(response) == PDF[:4]


@pytest.mark.parametrize("kind", ["paid", "downloads_off"])
def test_page_offers_no_player_or_download_that_would_be_refused(kind, building, lead, reviewer, outsider):
    resource = withheld_resource(kind, building, lead, reviewer)
    routes = file_routes(resource)
    withheld = [routes[route] for route in CONTENT_ROUTES]
    for user in (None, outsider):
        body = page(client_for(user).get(detail_url(resource)))
        assert not [url for url in withheld if url in body], user
        assert "<iframe" not in body and "您不能在线查看或下载此资源。" in body
        assert routes["poster"] in body  # the preview picture is shown instead
        reason = "付费资源暂不提供下载。" if kind == "paid" else "资源库已关闭此资源的下载。"
        assert reason in body
    body = page(client_for(lead).get(detail_url(resource)))
    assert routes["download"] in body and routes["stream"] in body and "<iframe" in body
    assert "您不能在线查看或下载此资源。" not in body


def test_office_document_shows_its_pdf_preview_to_the_public(building, lead, reviewer):
    resource = publish(text_resource(building, lead), lead, reviewer)
    main = main_file(resource)
    Blob.objects.filter(pk=main.blob_id).update(kind="office")
    DerivedFile.objects.update_or_create(blob=main.blob, kind=DerivedFile.Kind.PDF_PREVIEW, defaults={
        "state": DerivedFile.State.DONE, "storage_name": main.blob.storage_name, "mime_type": "application/pdf",
        "size": main.blob.size})
    body = page(client_for(None).get(detail_url(resource)))
    preview = reverse("resources:derived", args=[resource.pk, main.pk, DerivedFile.Kind.PDF_PREVIEW])
    assert "<iframe" in body and preview in body
    assert "预览已转换为 PDF，版式可能与原文档略有差异。" in body


def test_files_of_unpublished_versions_are_hidden_from_the_public(building, lead, reviewer, outsider):
    resource = publish(text_resource(building, lead), lead, reviewer)
    draft = services.start_new_version(resource, by=lead, changelog="更新讲义")
    new_blob = factories.blob(make_pdf("v2"), name="讲义v2.pdf")
    new_file = services.attach_file(draft, new_blob, role="attachment", original_name="讲义v2.pdf", by=lead)
    url = download_url(resource, new_file)
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(reverse("resources:stream", args=[resource.pk, new_file.pk])).status_code == 404
    assert client_for(lead).get(url).status_code == 200
    # A file id of another resource is not reachable through this one.
    other = text_resource(building, lead, content=make_pdf("other"))
    assert client_for(lead).get(download_url(resource, main_file(other))).status_code == 404


# --- editor-only actions ----------------------------------------------------------------------------------------


def test_editor_only_actions_are_refused_to_others(building, lead, reviewer, outsider):
    resource = publish(text_resource(building, lead), lead, reviewer)
    for user in (outsider, reviewer):
        client = client_for(user)
        assert client.post(reverse("resources:downloads", args=[resource.pk]), {"allowed": "0"}).status_code == 403
        assert client.post(reverse("resources:new_version", args=[resource.pk]), {}).status_code == 403
        assert client.post(reverse("review:submit", args=[resource.pk]), {"commitment": "on"}).status_code == 403
        assert client.get(reverse("resources:edit", args=[resource.pk])).status_code == 403
    assert client_for(outsider).post(reverse("review:withdraw", args=[resource.pk])).status_code == 403
    resource.refresh_from_db()
    assert resource.downloads_allowed and resource.versions.count() == 1


def test_anonymous_actions_go_to_login(building, lead, reviewer):
    resource = publish(text_resource(building, lead), lead, reviewer)
    response = client_for(None).post(reverse("resources:downloads", args=[resource.pk]), {"allowed": "0"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_draft_actions_of_an_invisible_resource_are_404(building, lead, outsider):
    draft = factories.resource(building, lead)
    assert client_for(outsider).post(reverse("review:submit", args=[draft.pk]), {}).status_code == 404


def test_submit_needs_the_commitment_then_goes_to_review(building, lead, reviewer):
    # Submitting now opens a review request (reslib.review); decisions are taken on the review pages
    # (tests/review/test_views.py), no longer with a form on the resource page.
    resource = text_resource(building, lead)
    client = client_for(lead)
    body = page(client.get(detail_url(resource)))
    assert str(services.RIGHTS_COMMITMENT) in body
    response = client.post(reverse("review:submit", args=[resource.pk]), {})
    assert response.status_code == 400
    assert "您必须接受权利与内容安全承诺。" in page(response)
    resource.refresh_from_db()
    assert resource.latest_version.state == VS.DRAFT
    assert client.post(reverse("review:submit", args=[resource.pk]), {"commitment": "on"}).status_code == 302
    resource.refresh_from_db()
    assert resource.latest_version.state == VS.IN_REVIEW
    reviewer_page = page(client_for(reviewer).get(detail_url(resource)))
    assert "审核记录" in reviewer_page and 'name="action" value="publish"' not in reviewer_page


def test_withdraw_and_downloads_toggle_by_the_team(building, lead, member_builder):
    resource = text_resource(building, lead)
    client = client_for(lead)
    assert client.post(reverse("review:submit", args=[resource.pk]), {"commitment": "on"}).status_code == 302
    assert client.post(reverse("review:withdraw", args=[resource.pk])).status_code == 302
    resource.refresh_from_db()
    assert resource.latest_version.state == VS.DRAFT
    client = client_for(member_builder)
    assert client.post(reverse("resources:downloads", args=[resource.pk]), {"allowed": "0"}).status_code == 302
    resource.refresh_from_db()
    assert resource.downloads_allowed is False


def test_new_version_keeps_the_published_one(building, lead, reviewer):
    resource = publish(text_resource(building, lead, title="第一版"), lead, reviewer)
    response = client_for(lead).post(reverse("resources:new_version", args=[resource.pk]), {"changelog": "补充习题"})
    assert response.status_code == 302 and response["Location"] == reverse("resources:edit", args=[resource.pk])
    resource.refresh_from_db()
    assert resource.latest_version.number == 2 and resource.published_version.number == 1
    assert "第一版" in page(client_for(None).get(detail_url(resource)))
    team_page = page(client_for(lead).get(detail_url(resource)))
    assert "补充习题" in team_page


# --- files --------------------------------------------------------------------------------------------------------


def test_small_file_upload_and_remove(building, lead):
    resource = factories.resource(building, lead, resource_type="text")
    client = client_for(lead)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("教案.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("resources:upload", args=[resource.pk]), {"file": upload, "role": "main"})
    assert response.status_code == 302
    f = resource.latest_version.files.get()
    assert f.original_name == "教案.pdf" and f.role == "main"
    assert client.post(reverse("resources:remove_file", args=[resource.pk, f.pk])).status_code == 302
    assert not resource.latest_version.files.exists()
    missing = client.post(reverse("resources:upload", args=[resource.pk]), {"role": "main"})
    assert missing.status_code == 400 and "field-error" in page(missing)


def test_attach_upload_only_own_completed_upload(building, lead, member_builder, settings):
    import datetime

    from django.utils import timezone

    resource = factories.resource(building, lead, resource_type="text")
    blob = factories.blob(PDF, name="a.pdf")
    theirs = Upload.objects.create(user=member_builder, length=len(PDF), offset=len(PDF), temp_path="/nonexistent",
                                   expires_at=timezone.now() + datetime.timedelta(hours=1),
                                   completed_at=timezone.now(), blob=blob,
                                   metadata={"filename": "a.pdf"})
    unfinished = Upload.objects.create(user=lead, length=10, offset=3, temp_path="/nonexistent",
                                       expires_at=timezone.now(), metadata={"filename": "b.pdf"})
    url = reverse("resources:attach_upload", args=[resource.pk])
    client = client_for(lead)
    refused = client.post(url, {"upload_id": str(theirs.pk), "role": "main"})
    assert refused.status_code == 400 and not resource.latest_version.files.exists()
    assert client.post(url, {"upload_id": str(unfinished.pk)}).status_code == 400
    mine = client_for(member_builder).post(url, {"upload_id": f"/api/v1/uploads/{theirs.pk}", "role": "main"})
    assert mine.status_code == 302
    assert resource.latest_version.files.get().original_name == "a.pdf"


# --- create form ------------------------------------------------------------------------------------------------


def form_data(library, **overrides):
    lead_host = library.hosts.order_by("position").first().organization
    data = {
        "title": "数控车床对刀操作微课", "resource_type": "video", "external_url": "", "description": "演示对刀。",
        "keywords": "数控，对刀 车床", "major": str(library.core_major_id), "audience": ["student"],
        "language": "zh-hans", "difficulty": "basic", "certificate": "", "access": "public", "price_mode": "free",
        "price": "", "copyright_holder_org": str(lead_host.pk), "copyright_holder_person": "",
        "originality": "original", "source": "", "licence": "cc_by", "licence_text": "",
        "contributing_org": str(lead_host.pk),
        "author_name": ["王建国", "李明"], "author_institution": [lead_host.name, ""],
    }
    data.update(overrides)
    return data


def test_create_form_starts_with_the_users_own_institution(building, lead, second_college):
    url = reverse("resources:create", args=[building.pk])
    response = client_for(lead).get(url)
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["contributing_org"] == initial["copyright_holder_org"] == lead.organization_id
    second_builder = factories.user("second_builder", org=second_college)
    add_team_member(building, by=lead, user=second_builder, role="builder")
    initial = client_for(second_builder).get(url).context["form"].initial
    assert initial["contributing_org"] == initial["copyright_holder_org"] == second_college.pk


def test_only_a_draft_can_be_edited(building, lead, reviewer):
    resource = publish(text_resource(building, lead), lead, reviewer)
    url = reverse("resources:edit", args=[resource.pk])
    assert client_for(lead).get(url).status_code == 409
    assert client_for(lead).post(url, form_data(building, title="改过的标题")).status_code == 409
    resource.refresh_from_db()
    assert resource.latest_version.title != "改过的标题"


def test_create_form_saves_a_draft_with_authors_in_order(building, lead):
    url = reverse("resources:create", args=[building.pk])
    assert client_for(lead).get(url).status_code == 200
    response = client_for(lead).post(url, form_data(building))
    assert response.status_code == 302
    resource = Resource.objects.get()
    version = resource.latest_version
    assert [a.name for a in version.authors.order_by("position")] == ["王建国", "李明"]
    assert version.keywords == ["数控", "对刀", "车床"] and version.state == VS.DRAFT


def test_create_form_errors_in_chinese_beside_fields_and_nothing_saved(building, lead, outside_college):
    response = client_for(lead).post(reverse("resources:create", args=[building.pk]), form_data(
        building, title="", resource_type="video", external_url="https://example.com/", originality="adapted",
        source="", contributing_org="", price_mode="paid", price="", author_name=["", ""], description="保留的描述",
    ))
    assert response.status_code == 400
    body = page(response)
    assert not Resource.objects.exists()
    form = response.context["form"]
    assert set(form.errors) >= {"title", "external_url", "source", "contributing_org", "price", "authors"}
    assert "请输入标题。" in form.errors["title"]
    assert "必须注明来源" in " ".join(form.errors["source"])
    assert "保留的描述" in body  # input kept
    assert 'class="field-error"' in body


@pytest.mark.parametrize("price", ["123456789", "99999999.99", "1000000", "-5", "19.999", "1e400"])
def test_price_out_of_range_is_shown_beside_the_field_and_the_list_still_renders(building, lead, price):
    response = client_for(lead).post(reverse("resources:create", args=[building.pk]),
                                     form_data(building, price_mode="paid", price=price, title="天价讲义"))
    assert response.status_code == 400
    assert response.context["form"].errors["price"] == ["价格须为 0.01 至 999999.99 元之间的金额，最多两位小数。"]
    assert 'class="field-error"' in page(response) and "天价讲义" in page(response)
    assert not Resource.objects.exists()
    kept = factories.resource(building, lead, title="原价讲义", price_mode="paid", price=decimal.Decimal("9.90"))
    edit = client_for(lead).post(reverse("resources:edit", args=[kept.pk]),
                                 form_data(building, price_mode="paid", price=price, title="天价讲义"))
    assert edit.status_code == 400 and "price" in edit.context["form"].errors
    for user in (None, lead):
        listed = client_for(user).get(reverse("resources:list", args=[building.pk]))
        assert listed.status_code == 200
    assert "原价讲义" in page(client_for(lead).get(reverse("resources:list", args=[building.pk])))
    assert ResourceVersion.objects.get().price == decimal.Decimal("9.90")


def test_create_form_refused_outside_building_and_to_outsiders(lead, outsider, building):
    draft_library = factories.library(lead, name="未立项资源库")
    assert client_for(lead).get(reverse("resources:create", args=[draft_library.pk])).status_code == 403
    assert client_for(outsider).get(reverse("resources:create", args=[building.pk])).status_code == 403
    assert client_for(outsider).post(reverse("resources:create", args=[building.pk]),
                                     form_data(building)).status_code == 403
    assert not Resource.objects.exists()


def test_edit_form_changes_the_draft_only(building, lead, reviewer):
    resource = factories.resource(building, lead, title="旧标题")
    url = reverse("resources:edit", args=[resource.pk])
    assert "旧标题" in page(client_for(lead).get(url))
    assert client_for(lead).post(url, form_data(building, title="新标题")).status_code == 302
    resource.refresh_from_db()
    assert resource.latest_version.title == "新标题"


# --- knowledge points ---------------------------------------------------------------------------------------------


def test_knowledge_point_page(building, lead, outsider):
    url = reverse("resources:knowledge_points", args=[building.pk])
    client = client_for(lead)
    assert client.post(url, {"name": "数控编程", "kind": "knowledge"}).status_code == 302
    root = KnowledgePoint.objects.get(name="数控编程")
    assert client.post(url, {"name": "G代码", "kind": "skill", "parent": root.pk}).status_code == 302
    duplicate = client.post(url, {"name": "数控编程", "kind": "knowledge"})
    assert duplicate.status_code == 400 and "已存在" in page(duplicate)
    body = page(client_for(None).get(url))
    assert "G代码" in body and "<form" not in body.split('id="main"')[1].split("</main>")[0].replace(
        'class="lang-switch"', "")
    assert client_for(outsider).post(url, {"name": "外人的点"}).status_code == 403
    child = KnowledgePoint.objects.get(name="G代码")
    remove = reverse("resources:knowledge_point_remove", args=[building.pk, child.pk])
    assert client_for(outsider).post(remove).status_code == 403
    assert client.post(remove).status_code == 302
    assert not KnowledgePoint.objects.filter(pk=child.pk).exists()
