"""The question bank's services: writing each type, all errors at once with nothing saved, refusals, review and
re-review of changes, search of the stem (never of the answer), import and export."""

import pytest
from django.contrib.auth.models import AnonymousUser

from reslib.core.errors import PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.questions import formats, services
from reslib.questions.models import QuestionContent, QuestionType
from reslib.resources import policies as resource_policies
from reslib.resources.models import Resource, ResourceVersion
from reslib.review.models import ReviewRequest
from reslib.search import services as search

from .bank_support import (  # noqa: F401 - fixtures
    SHORT,
    _isolated,
    approve,
    attribution,
    author,
    building,
    create,
    learner,
    other_member,
    points,
    publish,
    reviewer_a,
    reviewer_b,
    sample,
    submit,
)
from .factories import SAMPLES

pytestmark = pytest.mark.django_db

VS = ResourceVersion.State


def codes(exc) -> set[str]:
    return {code for _f, code, _m in exc.value.errors}


@pytest.mark.parametrize("qtype", list(QuestionType.values))
def test_each_type_is_written_as_a_draft_question(building, author, qtype):
    content = create(building, author, qtype, difficulty="basic")
    version = content.version
    assert version.resource_type == ResourceVersion.Type.QUESTION and version.state == VS.DRAFT
    assert version.number == 1 and version.resource.latest_version_id == version.pk
    assert version.difficulty == "basic" and content.library_id == building.pk and content.qtype == qtype
    assert content.stem == SAMPLES[qtype]["stem"]
    assert version.title == SAMPLES[qtype]["stem"][:60]
    assert SAMPLES[qtype]["stem"] in version.description
    assert version.authors.get().name == "王建国" and version.licence == "cc_by"
    assert AuditEntry.objects.filter(action="question.create", target_id=str(version.resource_id)).exists()


def test_the_description_carries_stem_and_choices_but_never_the_answer(building, author):
    choice = create(building, author).version
    assert choice.description.splitlines() == ["数控车床对刀时首先应确定哪个坐标原点？", "A. 机床原点", "B. 工件原点",
                                               "C. 刀具原点"]
    short = create(building, author, **SHORT).version
    assert "端面" not in short.description and "游标卡尺" not in short.description
    matching = create(building, author, QuestionType.MATCHING).version
    assert "直线插补" not in matching.description
    blank = create(building, author, QuestionType.FILL_BLANK).version
    assert "右手" not in blank.description.replace("___", "")


def test_every_problem_is_reported_at_once_and_nothing_is_saved(building, author):
    before = (Resource.objects.count(), ResourceVersion.objects.count(), QuestionContent.objects.count())
    data = sample(answer=7, knowledge_points=["不存在的知识点"])
    with pytest.raises(ValidationFailed) as exc:
        services.create_question(building, data, by=author, attribution=attribution(building, licence=""))
    assert codes(exc) == {"question.answer_invalid", "question.knowledge_point_unknown", "resource.licence_invalid"}
    assert "不存在的知识点" in exc.value.messages_for("knowledge_points")[0]
    with pytest.raises(ValidationFailed) as exc:
        services.create_question(building, sample(stem="  "), by=author, attribution=attribution(building))
    assert codes(exc) == {"question.stem_required"}
    assert (Resource.objects.count(), ResourceVersion.objects.count(), QuestionContent.objects.count()) == before


def test_knowledge_points_are_named_or_given_by_id_and_never_created(building, author, points):
    content = create(building, author, knowledge_points=["对刀", points["coords"].pk])
    assert set(content.version.knowledge_points.all()) == {points["tool"], points["coords"]}
    with pytest.raises(ValidationFailed) as exc:
        create(building, author, knowledge_points=["螺纹加工"])
    assert codes(exc) == {"question.knowledge_point_unknown"}
    assert not building.knowledge_points.filter(name="螺纹加工").exists()


def test_rights_follow_the_resource_rules(building, author):
    with pytest.raises(ValidationFailed) as exc:
        services.create_question(building, sample(), by=author, attribution=attribution(
            building, copyright_holder_org=None, originality="adapted", authors=[]))
    assert codes(exc) == {"resource.copyright_holder_required", "resource.source_required", "resource.author_required"}


@pytest.mark.parametrize("who", ["learner", "other_member", "reviewer_a"])
def test_only_the_lead_and_builders_write_questions(request, building, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied) as exc:
        create(building, user)
    assert exc.value.code == "question.create_denied"
    assert not Resource.objects.exists()


def test_others_cannot_change_or_submit(building, author, learner, other_member):
    resource = create(building, author).version.resource
    for user in (learner, other_member):
        with pytest.raises(PermissionDenied) as exc:
            services.update_question(resource, sample(stem="改过的题干"), by=user)
        assert exc.value.code == "question.edit_denied"
        with pytest.raises(PermissionDenied) as exc:
            services.submit_question(resource, by=user, commitment_accepted=True)
        assert exc.value.code == "question.edit_denied"


def test_submitting_opens_a_review_and_approval_publishes(building, author, reviewer_a, reviewer_b):
    resource = create(building, author).version.resource
    request = submit(resource, author)
    resource.refresh_from_db()
    assert resource.latest_version.state == VS.IN_REVIEW
    assert ReviewRequest.objects.get(pk=request.pk).state == ReviewRequest.State.PENDING
    approve(request, reviewer_a, reviewer_b)
    resource.refresh_from_db()
    assert request.state == ReviewRequest.State.APPROVED
    assert resource.published_version_id == resource.latest_version_id
    assert resource_policies.can_view(AnonymousUser(), resource)


def test_a_draft_is_changed_in_place_and_a_question_in_review_not_at_all(building, author):
    resource = create(building, author).version.resource
    content = services.update_question(resource, sample(QuestionType.TRUE_FALSE), by=author)
    assert content.version.number == 1 and content.qtype == QuestionType.TRUE_FALSE
    assert QuestionContent.objects.filter(version__resource=resource).count() == 1
    submit(resource, author)
    with pytest.raises(ValidationFailed) as exc:
        services.update_question(resource, sample(stem="又改了"), by=author)
    assert codes(exc) == {"question.in_review"}


def test_a_change_of_a_published_question_is_reviewed_while_the_old_version_stays(building, author, reviewer_a,
                                                                               reviewer_b):
    resource = create(building, author).version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    first = resource.published_version
    content = services.update_question(resource, sample(stem="数控车床对刀时应先确定哪个原点？"), by=author,
                                       changelog="题干更简洁")
    resource.refresh_from_db()
    assert content.version.number == 2 and content.version.state == VS.DRAFT
    assert resource.published_version_id == first.pk and first.question.stem == SAMPLES["single_choice"]["stem"]
    assert content.version.authors.get().name == "王建国"  # rights carried over
    publish(resource, author, [reviewer_a, reviewer_b])
    first.refresh_from_db()
    assert resource.published_version.question.stem == "数控车床对刀时应先确定哪个原点？"
    assert first.state == VS.SUPERSEDED


def found(query, user=None) -> list[str]:
    visibility = resource_policies.search_visibility(user or AnonymousUser())
    return [hit.id for hit in search.search(query, visibility=visibility).hits]


def test_search_finds_a_published_question_by_its_stem_and_never_by_its_answer(building, author, reviewer_a,
                                                                             reviewer_b, lead):
    resource = create(building, author, **SHORT).version.resource
    assert found("对刀", lead) == []  # a draft is not indexed
    publish(resource, author, [reviewer_a, reviewer_b])
    assert found("对刀") == [f"resource:{resource.pk}"]
    assert found("试切法") == [f"resource:{resource.pk}"]
    for answer_word in ("端面", "外圆", "刀具补偿", "游标卡尺"):
        assert found(answer_word) == [] and found(answer_word, lead) == []


def test_an_unknown_format_is_refused_as_a_whole(building, author):
    with pytest.raises(ValidationFailed) as exc:
        services.import_questions(building, by=author, fmt="docx", data=b"x", attribution=attribution(building))
    assert codes(exc) == {"question.format_unknown"}


def test_only_the_team_imports(building, learner):
    with pytest.raises(PermissionDenied) as exc:
        services.import_questions(building, by=learner, fmt="gift", data=b"", attribution=attribution(building))
    assert exc.value.code == "question.import_denied"


def test_export_is_refused_to_those_who_may_not_see_answers(building, author, learner, other_member):
    for user in (learner, other_member, AnonymousUser()):
        with pytest.raises(PermissionDenied) as exc:
            services.export_questions(user, building, "gift")
        assert exc.value.code == "question.export_denied"


GIFT = """// 数控车床题库
::对刀原点::数控车床对刀时首先应确定哪个坐标原点？{~机床原点 =工件原点 ~刀具原点}

::快速定位::G00 指令用于快速定位。{T}

这道题没有结束的花括号 {=对

::坐标系::数控机床的坐标系采用哪种直角坐标系？{=右手笛卡尔 ~左手}
"""


def test_import_reports_each_item_and_saves_only_the_good_ones(building, author):
    report = services.import_questions(building, by=author, fmt="gift", data=GIFT.encode(),
                                       attribution=attribution(building))
    assert [item.ok for item in report.items] == [True, True, False, True]
    assert (report.created, report.failed) == (3, 1)
    bad = report.items[2]
    assert "第 3 题" in bad.location and bad.question_id is None
    assert [code for _f, code, _m in bad.errors] == ["question.syntax_invalid"]
    assert QuestionContent.objects.count() == 3
    assert not any("没有结束" in c.stem for c in QuestionContent.objects.all())
    for item in report.items:
        if item.ok:
            version = Resource.objects.get(pk=item.question_id).latest_version
            assert version.state == VS.DRAFT and version.title == item.title and version.authors.exists()
    assert AuditEntry.objects.filter(action="question.import", after__created=3).exists()


def test_import_resolves_knowledge_points_by_name_and_never_creates_them(building, author, points):
    text = "// [tag:对刀]\n::a::G00 指令用于快速定位。{T}\n\n// [tag:螺纹加工]\n::b::G01 指令用于直线插补。{T}\n"
    report = services.import_questions(building, by=author, fmt="gift", data=text.encode(),
                                       attribution=attribution(building))
    assert [item.ok for item in report.items] == [True, False]
    version = Resource.objects.get(pk=report.items[0].question_id).latest_version
    assert list(version.knowledge_points.all()) == [points["tool"]]
    assert [code for _f, code, _m in report.items[1].errors] == ["question.knowledge_point_unknown"]
    assert not building.knowledge_points.filter(name="螺纹加工").exists()
    assert QuestionContent.objects.count() == 1


def test_wrong_rights_stop_the_whole_import(building, author):
    with pytest.raises(ValidationFailed) as exc:
        services.import_questions(building, by=author, fmt="gift", data=GIFT.encode(),
                                  attribution=attribution(building, licence=""))
    assert codes(exc) == {"resource.licence_invalid"}
    assert not QuestionContent.objects.exists()


def test_export_gives_the_team_every_question_with_answers(building, author, reviewer_a):
    create(building, author, **SHORT)
    create(building, author, QuestionType.TRUE_FALSE)
    data = services.export_questions(reviewer_a, building, "gift")
    items = [p.data for p in formats.parse("gift", data)]
    assert {i.stem for i in items} == {SHORT["stem"], SAMPLES["true_false"]["stem"]}
    assert any(i.answer is True for i in items)
    only = services.export_questions(reviewer_a, building, "gift", qtype="true_false")
    assert [p.data.qtype for p in formats.parse("gift", only)] == ["true_false"]


def test_the_resource_services_keep_questions_in_the_bank(building, author, reviewer_a, reviewer_b):
    from reslib.resources import services as resource_services
    from reslib.resources.forms import ResourceForm

    from .. import factories

    with pytest.raises(ValidationFailed) as exc:
        resource_services.create_resource(building, factories.resource_metadata(building, resource_type="question"),
                                          by=author)
    assert codes(exc) == {"resource.question_in_bank"}
    assert "question" not in dict(ResourceForm(library=building).fields["resource_type"].choices)
    version = create(building, author).version
    with pytest.raises(ValidationFailed) as exc:
        resource_services.update_metadata(version, factories.resource_metadata(building), by=author)
    assert codes(exc) == {"resource.question_in_bank"}
    with pytest.raises(ValidationFailed) as exc:
        resource_services.attach_file(version, factories.blob(), role="main", original_name="a.pdf", by=author)
    assert codes(exc) == {"resource.question_has_no_files"}
    resource = version.resource
    publish(resource, author, [reviewer_a, reviewer_b])
    with pytest.raises(ValidationFailed) as exc:
        resource_services.start_new_version(resource, by=author)
    assert codes(exc) == {"resource.question_in_bank"}
    assert resource.versions.count() == 1


def test_a_format_that_cannot_carry_a_type_refuses_the_export(building, author, reviewer_a):
    create(building, author, QuestionType.ORDERING)
    with pytest.raises(ValidationFailed) as exc:
        services.export_questions(reviewer_a, building, "gift")
    assert codes(exc) == {"question.export_unsupported"}
    assert services.export_questions(reviewer_a, building, "gift", qtype="true_false") is not None


def test_the_mixed_order_of_ordering_items_and_matches_is_keyed_with_the_sites_secret(settings):
    """The stored order is the answer; an order anyone could recompute from (position, text) would reveal it."""
    items = [f"第{i}步" for i in range(8)]
    order = services.learner_order(items)
    assert sorted(order) == list(range(8)) and order != list(range(8))
    assert services.learner_order(items) == order  # the same on every page
    settings.SECRET_KEY = "another-site-secret-" + "x" * 40
    assert services.learner_order(items) != order
