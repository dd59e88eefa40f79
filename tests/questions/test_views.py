"""The question bank's pages: each type written through the form, Chinese errors beside the fields with nothing
saved, refusals, answers hidden from learners (also on the resource and review pages), the bank's filters and
counts, submission, import and export."""

import pytest
from django.urls import reverse

from reslib.questions.models import QuestionContent, QuestionType
from reslib.resources.models import Resource, ResourceVersion
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
    submit,
)
from .factories import SAMPLES
from .test_services import GIFT

pytestmark = pytest.mark.django_db

VS = ResourceVersion.State
TYPE_FIELDS = {
    "single_choice": {"option": ["机床原点", "工件原点", "刀具原点", ""], "correct": ["1"]},
    "multiple_choice": {"option": ["切削速度", "进给量", "背吃刀量", "刀具材料"], "correct": ["0", "1", "2"]},
    "true_false": {"true_false": "true"},
    "fill_blank": {"blank": ["右手 | 右手笛卡尔"]},
    "short_answer": {"reference_answer": "先试切端面，再试切外圆，测量后输入刀补。"},
    "matching": {"pair_left": ["G01", "G02", "M03"], "pair_right": ["直线插补", "顺时针圆弧插补", "主轴正转"]},
    "ordering": {"order_item": ["装夹工件", "对刀", "运行程序", "测量", ""]},
}


def form_data(library, qtype, **overrides) -> dict:
    lead_host = library.hosts.order_by("position").first().organization
    data = {"qtype": qtype, "stem": SAMPLES[qtype]["stem"], "analysis": "", "difficulty": "basic",
            "major": library.core_major_id, "access": "public", "originality": "original", "licence": "cc_by",
            "contributing_org": lead_host.pk, "copyright_holder_org": lead_host.pk,
            "author_name": ["王建国"], "author_institution": [lead_host.name], **TYPE_FIELDS[qtype]}
    data.update(overrides)
    return data


def field_errors(response, name) -> str:
    """The text of the error paragraphs rendered for a field."""
    html = response.content.decode()
    return " ".join(part.split("</p>")[0] for part in html.split(f'id="id_{name}_error')[1:])


@pytest.mark.parametrize("qtype", list(QuestionType.values))
def test_each_type_is_written_through_the_form(building, author, points, qtype):
    url = reverse("questions:create", args=[building.pk])
    response = client_for(author).post(url, form_data(building, qtype, knowledge_points=[points["tool"].pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    content = QuestionContent.objects.get()
    assert response["Location"] == reverse("questions:detail", args=[content.version.resource_id])
    assert (content.qtype, content.stem, content.options, content.answer) == (
        qtype, SAMPLES[qtype]["stem"], SAMPLES[qtype]["options"], SAMPLES[qtype]["answer"])
    assert list(content.version.knowledge_points.all()) == [points["tool"]]
    assert content.version.difficulty == "basic" and content.version.authors.get().name == "王建国"


def test_accepted_answers_holding_a_semicolon_survive_the_form(building, author):
    url = reverse("questions:create", args=[building.pk])
    data = form_data(building, "fill_blank", stem="螺纹标记___表示细牙螺纹。", blank=["M20×1.5；左旋 | M20×1.5-LH"])
    assert client_for(author).post(url, data).status_code == 302
    content = QuestionContent.objects.get()
    assert content.answer == [["M20×1.5；左旋", "M20×1.5-LH"]]
    edit = client_for(author).get(reverse("questions:edit", args=[content.version.resource_id])).content.decode()
    assert "M20×1.5；左旋 | M20×1.5-LH" in edit  # shown back as written, so saving again keeps it


def test_the_form_page_offers_every_type_part(building, author):
    response = client_for(author).get(reverse("questions:create", args=[building.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "题干" in html
    for part in ("single_choice multiple_choice", "true_false", "fill_blank", "short_answer", "matching", "ordering"):
        assert f'data-part="{part}"' in html
    assert "<script>" not in html


def test_errors_are_shown_in_chinese_beside_the_fields_and_nothing_is_saved(building, author):
    url = reverse("questions:create", args=[building.pk])
    response = client_for(author).post(url, form_data(building, "single_choice", stem="", correct=[], licence="",
                                                      author_name=[""]))
    assert response.status_code == 400
    assert "请输入题干" in field_errors(response, "stem")
    assert "正确选项" in field_errors(response, "answer")
    assert "许可" in field_errors(response, "licence")
    assert "作者" in response.content.decode()
    assert "未保存" in response.content.decode() or "没有保存" in response.content.decode()
    response = client_for(author).post(url, form_data(building, "matching", pair_right=["直线插补", "", ""]))
    assert response.status_code == 400 and field_errors(response, "answer")
    assert not Resource.objects.exists() and not QuestionContent.objects.exists()


def test_learners_and_other_libraries_are_refused(client, building, author, learner, other_member, reviewer_a):
    create_url = reverse("questions:create", args=[building.pk])
    assert client.get(create_url).status_code == 302  # to the login page
    resource = create(building, author).version.resource
    for user in (learner, other_member, reviewer_a):
        assert client_for(user).get(create_url).status_code == 403
        assert client_for(user).post(create_url, form_data(building, "true_false")).status_code == 403
        assert client_for(user).get(reverse("questions:import", args=[building.pk])).status_code == 403
    for user in (learner, other_member):
        assert client_for(user).get(reverse("questions:export", args=[building.pk]), {"format": "gift"}
                                    ).status_code == 403
        assert client_for(user).get(reverse("questions:edit", args=[resource.pk])).status_code == 404  # a draft
    assert QuestionContent.objects.count() == 1


def test_the_detail_page_shows_answers_to_the_team_only(client, building, author, reviewer_a, reviewer_b, learner,
                                                        other_member):
    resource = create(building, author, **SHORT).version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    url = reverse("questions:detail", args=[resource.pk])
    for caller in (client, client_for(learner), client_for(other_member)):
        html = caller.get(url).content.decode()
        assert SHORT["stem"] in html
        assert "端面" not in html and "游标卡尺" not in html and "解析" not in html
    html = client_for(reviewer_a).get(url).content.decode()
    assert "端面" in html and "游标卡尺" in html
    edit = client_for(learner).get(reverse("questions:edit", args=[resource.pk]))
    assert edit.status_code == 403


def test_choice_answers_are_marked_for_the_team_only(client, building, author, reviewer_a, reviewer_b):
    resource = create(building, author).version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    url = reverse("questions:detail", args=[resource.pk])
    public = client.get(url).content.decode()
    assert "工件原点" in public and 'class="q-correct"' not in public
    assert 'class="q-correct"' in client_for(author).get(url).content.decode()


def test_the_bank_lists_counts_and_filters(client, building, author, reviewer_a, reviewer_b, points):
    published = create(building, author, QuestionType.TRUE_FALSE).version.resource
    publish(published, author, [reviewer_a, reviewer_b])
    create(building, author, knowledge_points=["对刀"])
    create(building, author, **SHORT)
    url = reverse("questions:bank", args=[building.pk])
    team = client_for(author).get(url)
    html = team.content.decode()
    assert team.status_code == 200 and "题库" in html
    assert "判断题 1" in html and "简答题 1" in html and "单选题 1" in html
    assert team.context["total"] == 3
    assert [r["resource"].pk for r in client.get(url).context["rows"]] == [published.pk]
    filtered = client_for(author).get(url, {"qtype": "short_answer"}).context["rows"]
    assert [r["question"].qtype for r in filtered] == ["short_answer"]
    assert len(client_for(author).get(url, {"point": points["tool"].pk}).context["rows"]) == 1
    assert len(client_for(author).get(url, {"state": "draft"}).context["rows"]) == 2
    assert len(client_for(author).get(url, {"q": "试切法"}).context["rows"]) == 1
    assert client_for(author).get(url, {"q": "端面"}).context["rows"] == []


def test_submit_needs_the_commitment_then_opens_a_review(building, author, django_capture_on_commit_callbacks):
    resource = create(building, author).version.resource
    url = reverse("questions:submit", args=[resource.pk])
    response = client_for(author).post(url, {})
    assert response.status_code == 400 and "承诺" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(author).post(url, {"commitment": "on"})
    assert response.status_code == 302
    assert ReviewRequest.objects.get(resource=resource).version.state == VS.IN_REVIEW


def test_editing_a_published_question_keeps_the_old_one_visible(client, building, author, reviewer_a, reviewer_b):
    resource = create(building, author).version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    edit_url = reverse("questions:edit", args=[resource.pk])
    page = client_for(author).get(edit_url).content.decode()
    assert 'value="工件原点"' in page and "重新审核" in page
    response = client_for(author).post(edit_url, form_data(building, "single_choice", stem="对刀时先确定哪个原点？",
                                                           changelog="题干更简洁"))
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.latest_version.number == 2 and resource.latest_version.state == VS.DRAFT
    public = client.get(reverse("questions:detail", args=[resource.pk])).content.decode()
    assert SAMPLES["single_choice"]["stem"] in public and "对刀时先确定哪个原点？" not in public


def test_the_resource_and_review_pages_show_the_question_body(client, building, author, reviewer_a, reviewer_b,
                                                              learner):
    resource = create(building, author, **SHORT).version.resource
    request = submit(resource, author)
    review_page = client_for(reviewer_a).get(reverse("review:request", args=[request.pk])).content.decode()
    assert SHORT["stem"] in review_page and "端面" in review_page
    approve(request, reviewer_a, reviewer_b)
    page = reverse("resources:detail", args=[resource.pk])
    assert "端面" in client_for(author).get(page).content.decode()
    for caller in (client, client_for(learner)):
        html = caller.get(page).content.decode()
        assert SHORT["stem"] in html and "端面" not in html


def test_the_import_page_is_in_chinese(building, author):
    response = client_for(author).get(reverse("questions:import", args=[building.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "导入试题" in html and 'name="file"' in html
    response = client_for(author).post(reverse("questions:import", args=[building.pk]), {"format": "gift"})
    assert response.status_code == 400 and "请选择要导入的文件" in field_errors(response, "file")


def test_import_shows_the_report_per_item(building, author):
    from django.core.files.uploadedfile import SimpleUploadedFile

    lead_host = building.hosts.order_by("position").first().organization
    response = client_for(author).post(reverse("questions:import", args=[building.pk]), {
        "file": SimpleUploadedFile("题目.gift", GIFT.encode()), "format": "gift", "originality": "original",
        "licence": "cc_by", "contributing_org": lead_host.pk, "copyright_holder_org": lead_host.pk,
        "major": building.core_major_id, "access": "public", "author_name": ["王建国"], "author_institution": [""]})
    assert response.status_code == 200
    html = response.content.decode()
    report = response.context["report"]
    assert "导入报告" in html and "已创建为草稿" in html and "未导入" in html
    assert report.failed >= 1 and QuestionContent.objects.count() == report.created >= 2


def test_export_downloads_the_questions_with_answers(building, author, reviewer_a):
    create(building, author, **SHORT)
    page = client_for(reviewer_a).get(reverse("questions:export", args=[building.pk]))
    assert page.status_code == 200 and "导出试题" in page.content.decode()
    response = client_for(reviewer_a).get(reverse("questions:export", args=[building.pk]), {"format": "gift"})
    assert response.status_code == 200 and "端面".encode() in response.content


def test_the_bank_page_does_not_query_per_row(building, author):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("questions:bank", args=[building.pk])
    client = client_for(author)
    create(building, author)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for qtype in QuestionType.values:
        create(building, author, qtype)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).context["rows"]) == 8
    assert len(many) == len(few)


def test_the_excel_template_downloads_for_importers_only(building, author, learner):
    url = reverse("questions:template", args=[building.pk])
    response = client_for(author).get(url)
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert client_for(learner).get(url).status_code == 403
