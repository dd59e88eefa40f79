"""Question bank API: each type written, stable error codes with nothing saved, refusals (401/403/404), review,
re-review of changes, answers only for the team, filters, import and export."""

import json

import pytest
from django.test import Client

from reslib.questions import services
from reslib.questions.models import QuestionContent, QuestionType
from reslib.resources.models import KnowledgePoint, Resource, ResourceVersion
from reslib.review.models import ReviewRequest

from .bank_support import (  # noqa: F401 - fixtures
    SHORT,
    _isolated,
    approve,
    author,
    building,
    client_for,
    create,
    learner,
    other_member,
    points,
    publish,
    reviewer_a,
    reviewer_b,
)
from .factories import SAMPLES
from .test_services import GIFT

pytestmark = pytest.mark.django_db

API = "/api/v1"
VS = ResourceVersion.State


def body(library, qtype="single_choice", **overrides) -> dict:
    lead_host = library.hosts.order_by("position").first().organization
    data = {**SAMPLES[qtype], "qtype": qtype, "licence": "cc_by", "contributing_org": lead_host.pk,
            "copyright_holder_org": lead_host.pk, "authors": [{"name": "王建国", "institution": lead_host.name}]}
    data.update(overrides)
    return data


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


def field_codes(response) -> dict:
    return {name: {e["code"] for e in errors} for name, errors in response.json()["error"]["fields"].items()}


@pytest.mark.parametrize("qtype", list(QuestionType.values))
def test_each_type_is_written_through_the_api(building, author, points, qtype):
    response = post(client_for(author), f"{API}/libraries/{building.pk}/questions",
                    body(building, qtype, difficulty="intermediate", knowledge_points=["对刀", points["coords"].pk]))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["qtype"] == qtype and data["stem"] == SAMPLES[qtype]["stem"] and data["state"] == "draft"
    assert data["answers_shown"] is True and data["answer"] == SAMPLES[qtype]["answer"]
    assert {p["name"] for p in data["knowledge_points"]} == {"对刀", "坐标系"}
    assert data["rights"]["authors"][0]["name"] == "王建国" and data["difficulty"] == "intermediate"
    assert data["url"].endswith(f"/questions/{data['id']}/")
    assert Resource.objects.get(pk=data["id"]).latest_version.question.qtype == qtype


def test_bad_input_answers_codes_per_field_and_saves_nothing(building, author):
    client = client_for(author)
    response = post(client, f"{API}/libraries/{building.pk}/questions",
                    body(building, options=["只有一个"], knowledge_points=["没有的点"], licence="",
                         difficulty="hard"))
    assert response.status_code == 400
    assert field_codes(response) == {"options": {"question.options_invalid"},
                                     "knowledge_points": {"question.knowledge_point_unknown"},
                                     "difficulty": {"question.difficulty_invalid"},
                                     "licence": {"resource.licence_invalid"}}
    response = post(client, f"{API}/libraries/{building.pk}/questions", {**body(building), "qtype": "essay"})
    assert field_codes(response) == {"qtype": {"question.type_invalid"}}
    response = post(client, f"{API}/libraries/{building.pk}/questions",
                    body(building, knowledge_points=[2**70]))
    assert response.status_code == 422 and "knowledge_points.0" in response.json()["error"]["fields"]
    response = client.post(f"{API}/libraries/{building.pk}/questions", "[]", content_type="application/json")
    assert response.json()["error"]["code"] == "request.not_an_object"
    assert not Resource.objects.exists() and not QuestionContent.objects.exists()


def test_who_may_not_write_is_refused(client, building, learner, other_member, reviewer_a):
    url = f"{API}/libraries/{building.pk}/questions"
    assert post(client, url, body(building)).status_code == 401
    for user in (learner, other_member, reviewer_a):
        response = post(client_for(user), url, body(building))
        assert response.status_code == 403 and response.json()["error"]["code"] == "question.create_denied"
    assert not Resource.objects.exists()


def test_answers_are_for_the_team_only(client, building, author, reviewer_a, reviewer_b, learner, other_member):
    resource = create(building, author, **SHORT).version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    url = f"{API}/questions/{resource.pk}"
    for caller in (client, client_for(learner), client_for(other_member)):
        data = caller.get(url).json()
        assert data["stem"] == SHORT["stem"] and data["answers_shown"] is False
        assert data["answer"] is None and data["analysis"] is None
        assert "端面" not in json.dumps(data, ensure_ascii=False)
    for user in (learner, other_member):
        response = client_for(user).get(f"{url}/answer")
        assert response.status_code == 403 and response.json()["error"]["code"] == "question.answers_denied"
    assert client.get(f"{url}/answer").status_code == 401
    answer = client_for(reviewer_a).get(f"{url}/answer").json()
    assert answer["answer"] == SHORT["answer"] and answer["analysis"] == SHORT["analysis"]
    assert client_for(reviewer_a).get(url).json()["answer"] == SHORT["answer"]


def test_ordering_items_are_mixed_for_learners(client, building, author, reviewer_a, reviewer_b):
    resource = create(building, author, QuestionType.ORDERING).version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    shown = client.get(f"{API}/questions/{resource.pk}").json()["options"]
    assert sorted(shown) == sorted(SAMPLES["ordering"]["options"]) and shown != SAMPLES["ordering"]["options"]
    assert client_for(author).get(f"{API}/questions/{resource.pk}").json()["options"] == SAMPLES["ordering"]["options"]


def test_drafts_are_hidden_and_others_cannot_change_them(client, building, author, learner, other_member):
    resource = create(building, author).version.resource
    for caller in (client, client_for(learner), client_for(other_member)):
        response = caller.get(f"{API}/questions/{resource.pk}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "question.not_found"
    assert patch(client_for(learner), f"{API}/questions/{resource.pk}", {"stem": "x"}).status_code == 404


def test_submit_review_and_a_reviewed_change_while_the_old_version_stays(client, building, author, reviewer_a,
                                                                        reviewer_b, learner, other_member,
                                                                        django_capture_on_commit_callbacks):
    resource = create(building, author).version.resource
    url = f"{API}/questions/{resource.pk}"
    writer = client_for(author)
    response = post(writer, f"{url}/submit", {})
    assert response.status_code == 400 and response.json()["error"]["code"] == "resource.commitment_required"
    with django_capture_on_commit_callbacks(execute=True):
        response = post(writer, f"{url}/submit", {"commitment_accepted": True})
    assert response.status_code == 200 and response.json()["state"] == "in_review"
    assert patch(writer, url, {"stem": "改"}).json()["error"]["code"] == "question.in_review"
    approve(ReviewRequest.objects.get(resource=resource), reviewer_a, reviewer_b)
    assert client.get(url).json()["state"] == "published"

    for user in (learner, other_member):
        response = patch(client_for(user), url, {"stem": "别人改的题干"})
        assert response.status_code == 403 and response.json()["error"]["code"] == "question.edit_denied"
    response = patch(writer, url, {"stem": "数控车床对刀时应先确定哪个原点？", "changelog": "题干更简洁"})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2 and response.json()["state"] == "draft"
    assert response.json()["has_newer_version"] is True
    public = client.get(url).json()
    assert public["stem"] == SAMPLES["single_choice"]["stem"] and public["version"] == 1
    response = patch(writer, url, {"answer": 9})
    assert field_codes(response) == {"answer": {"question.answer_invalid"}}
    assert Resource.objects.get(pk=resource.pk).latest_version.question.answer == 1


def test_list_filters_and_visibility(client, building, author, reviewer_a, reviewer_b, points):
    published = create(building, author, QuestionType.TRUE_FALSE, difficulty="basic").version.resource
    publish(published, author, [reviewer_a, reviewer_b])
    create(building, author, knowledge_points=["对刀"])
    create(building, author, **SHORT)
    url = f"{API}/libraries/{building.pk}/questions"
    assert [i["id"] for i in client.get(url).json()["items"]] == [published.pk]
    team = client_for(author)
    assert team.get(url).json()["count"] == 3
    assert {i["qtype"] for i in team.get(url, {"qtype": "short_answer"}).json()["items"]} == {"short_answer"}
    assert team.get(url, {"state": "published"}).json()["count"] == 1
    assert team.get(url, {"difficulty": "basic"}).json()["count"] == 1
    assert team.get(url, {"knowledge_point": points["tool"].pk}).json()["count"] == 1
    assert [i["title"] for i in team.get(url, {"q": "试切法"}).json()["items"]] == [SHORT["stem"]]
    assert team.get(url, {"q": "端面"}).json()["count"] == 0  # the answer is not searched


def test_search_api_finds_the_stem_never_the_answer(client, building, author, reviewer_a, reviewer_b):
    resource = create(building, author, **SHORT).version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    items = client.get(f"{API}/search", {"q": "对刀"}).json()["items"]
    assert [i["id"] for i in items] == [resource.pk] and items[0]["resource_type"] == "question"
    for word in ("端面", "游标卡尺"):
        assert client.get(f"{API}/search", {"q": word}).json()["items"] == []
        assert client_for(author).get(f"{API}/search", {"q": word}).json()["items"] == []


def test_export_is_refused_to_learners_and_others(client, building, learner, other_member):
    url = f"{API}/libraries/{building.pk}/questions/export"
    assert client.get(url, {"format": "gift"}).status_code == 401
    for user in (learner, other_member):
        response = client_for(user).get(url, {"format": "gift"})
        assert response.status_code == 403 and response.json()["error"]["code"] == "question.export_denied"


def test_import_is_refused_to_learners_and_checks_the_format(building, author, learner):
    url = f"{API}/libraries/{building.pk}/questions/import"
    response = client_for(learner).post(url, {"format": "gift", "file": _file(b"x")})
    assert response.status_code == 403 and response.json()["error"]["code"] == "question.import_denied"
    response = client_for(author).post(url, {"format": "docx", "file": _file(b"x")})
    assert response.status_code == 400 and field_codes(response) == {"file": {"question.format_unknown"}}


def _file(content: bytes, name="题目.gift"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_a_file_larger_than_django_keeps_in_memory_imports_and_strangers_never_send_one(building, author, learner):
    """Files over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB) are spooled to disk when read: importers may send them (up to
    the formats' 50 MiB), anybody else is refused before a byte of the body is read."""
    padding = "// 说明：本文件由教务系统导出。\n" * 120_000  # GIFT comments, about 4 MiB
    big = (padding + "G00 指令用于快速定位。{TRUE}\n\n数控机床的坐标系采用右手直角坐标系。{T}\n").encode()
    assert len(big) > 3 * 1024 * 1024
    lead_host = building.hosts.order_by("position").first().organization
    url = f"{API}/libraries/{building.pk}/questions/import"
    form = {"format": "gift", "licence": "cc_by", "contributing_org": lead_host.pk,
            "copyright_holder_org": lead_host.pk, "authors": ["王建国"]}
    for client, status, error in [(client_for(learner), 403, "question.import_denied"),
                                  (client_for(), 401, "auth.required"),
                                  (Client(HTTP_AUTHORIZATION="Bearer rl_not-a-token"), 401, "auth.required")]:
        response = client.post(url, {**form, "file": _file(big)})
        assert (response.status_code, response.json()["error"]["code"]) == (status, error)
        assert not response.wsgi_request._read_started
    response = client_for(author).post(url, {**form, "file": _file(big)})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2 and QuestionContent.objects.count() == 2


def test_import_report_and_export_through_the_api(building, author, reviewer_a):
    lead_host = building.hosts.order_by("position").first().organization
    response = client_for(author).post(f"{API}/libraries/{building.pk}/questions/import", {
        "format": "gift", "file": _file(GIFT.encode()), "licence": "cc_by", "contributing_org": lead_host.pk,
        "copyright_holder_org": lead_host.pk, "authors": ["王建国", "李华"]})
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["created"] >= 2 and report["failed"] >= 1
    good = [i for i in report["items"] if i["ok"]]
    bad = [i for i in report["items"] if not i["ok"]]
    assert all(i["question_id"] for i in good) and all(i["errors"] and i["location"] for i in bad)
    assert QuestionContent.objects.count() == report["created"]
    version = Resource.objects.get(pk=good[0]["question_id"]).latest_version
    assert [a.name for a in version.authors.all()] == ["王建国", "李华"]
    exported = client_for(reviewer_a).get(f"{API}/libraries/{building.pk}/questions/export", {"format": "gift"})
    assert exported.status_code == 200 and exported["Content-Disposition"].endswith('.gift"')
    assert len(services.formats.parse("gift", exported.content)) == report["created"]


def test_the_excel_template_imports_back(building, author):
    for name in ("数控编程基础", "机床坐标系", "对刀", "数控加工工艺"):  # the example rows' knowledge points
        KnowledgePoint.objects.create(library=building, name=name)
    template = client_for(author).get(f"{API}/libraries/{building.pk}/questions/template")
    assert template.status_code == 200
    lead_host = building.hosts.order_by("position").first().organization
    response = client_for(author).post(f"{API}/libraries/{building.pk}/questions/import", {
        "format": "xlsx", "file": _file(template.content, "模板.xlsx"), "licence": "cc_by",
        "contributing_org": lead_host.pk, "copyright_holder_org": lead_host.pk, "authors": ["王建国"]})
    report = response.json()
    assert response.status_code == 200 and report["failed"] == 0, report
    assert {Resource.objects.get(pk=i["question_id"]).latest_version.question.qtype for i in report["items"]} == set(
        QuestionType.values)


def test_a_patch_keeps_points_of_a_shared_name_and_a_title_made_from_the_stem_follows_it(building, author, points):
    """Two points may share a name under different parents; the title nobody typed is the stem's beginning."""
    second = KnowledgePoint.objects.create(library=building, parent=points["coords"], name="对刀", position=0)
    resource = create(building, author, knowledge_points=[second.pk]).version.resource
    url = f"{API}/questions/{resource.pk}"
    response = patch(client_for(author), url, {"difficulty": "advanced"})
    assert response.status_code == 200, response.content
    version = Resource.objects.get(pk=resource.pk).latest_version
    assert list(version.knowledge_points.all()) == [second]
    assert patch(client_for(author), url, {"stem": "数控车床回参考点的目的是什么？"}).status_code == 200
    version = Resource.objects.get(pk=resource.pk).latest_version
    assert version.title == "数控车床回参考点的目的是什么？"
    assert patch(client_for(author), url, {"title": "回参考点"}).status_code == 200
    assert patch(client_for(author), url, {"stem": "回参考点的作用？"}).status_code == 200
    assert Resource.objects.get(pk=resource.pk).latest_version.title == "回参考点"  # the author's own title stays
