"""The papers' pages in Chinese: list, settings, composing by hand and by rules, answering every type through the
form, the learner's result, grading and results — with refusals and bounded queries."""

import pytest
from django.test import Client
from django.urls import reverse

from reslib.questions import papers
from reslib.questions.models import Attempt, AttemptAnswer, Paper

from .paper_support import (  # noqa: F401 (fixtures)
    T,
    _isolated,
    bank,
    building,
    composer,
    learner,
    learner2,
    open_paper_with,
    ordering_response,
    paper_with,
)

pytestmark = pytest.mark.django_db


def client_for(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    if user is not None:
        client.force_login(user)
    return client


def test_the_list_shows_learners_open_papers_and_composers_everything(building, composer, bank, learner):
    draft = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    draft.title = "草稿试卷"
    draft.save()
    opened = open_paper_with(building, composer, [bank[T.TRUE_FALSE]])
    url = reverse("questions:paper_list", args=[building.pk])
    page = client_for(learner).get(url).content.decode()
    assert opened.title in page and "草稿试卷" not in page and "新建试卷" not in page
    page = client_for(composer).get(url).content.decode()
    assert "草稿试卷" in page and "新建试卷" in page


def test_a_paper_is_created_with_errors_beside_the_fields(building, composer, learner):
    url = reverse("questions:paper_create", args=[building.pk])
    response = client_for(composer).post(url, {"title": "", "max_attempts": 0})
    assert response.status_code == 400
    assert "field-error" in response.content.decode() and not Paper.objects.exists()
    response = client_for(composer).post(url, {"title": "单元测验", "max_attempts": 2, "time_limit_minutes": 20,
                                               "show_answers": "on"})
    paper = Paper.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("questions:paper_compose",
                                                                           args=[paper.pk])
    assert (paper.max_attempts, paper.time_limit_minutes, paper.show_answers) == (2, 20, True)
    response = client_for(learner).post(url, {"title": "学生的试卷", "max_attempts": 1})
    assert response.status_code == 403 and Paper.objects.count() == 1


def test_composing_by_hand_and_by_rules_on_the_page(building, composer, bank, learner):
    paper = paper_with(building, composer, [])
    url = reverse("questions:paper_compose", args=[paper.pk])
    assert client_for(learner).get(url).status_code == 404  # a learner does not see a draft
    page = client_for(composer).get(url, {"qtype": "short_answer"}).content.decode()
    assert bank[T.SHORT_ANSWER].stem in page and bank[T.SINGLE_CHOICE].stem not in page
    response = client_for(composer).post(reverse("questions:paper_item_add", args=[paper.pk]),
                                         {"question": bank[T.SHORT_ANSWER].version.resource_id, "score": "8"})
    assert response.status_code == 302 and paper.items.get().score == 8
    rules = {"rules-TOTAL_FORMS": "2", "rules-INITIAL_FORMS": "0",
             "rules-0-qtype": "single_choice", "rules-0-count": "1", "rules-0-score": "2",
             "rules-1-qtype": "true_false", "rules-1-count": "3", "rules-1-score": "1"}
    response = client_for(composer).post(reverse("questions:paper_compose_rules", args=[paper.pk]), rules)
    assert response.status_code == 400
    assert "规则 2" in response.content.decode()
    assert [i.question.qtype for i in paper.items.all()] == [T.SHORT_ANSWER]  # nothing changed
    rules["rules-1-count"] = "1"
    response = client_for(composer).post(reverse("questions:paper_compose_rules", args=[paper.pk]), rules)
    assert response.status_code == 302
    assert [i.question.qtype for i in paper.items.order_by("position")] == [T.SINGLE_CHOICE, T.TRUE_FALSE]
    response = client_for(learner).post(reverse("questions:paper_compose_rules", args=[paper.pk]), rules)
    assert response.status_code == 404


def _answer_post(paper, attempt):
    """The form a learner fills in rightly; ordering ranks go to the slots the attempt shows (q<item>_<slot>)."""
    items = {i.question.qtype: i.pk for i in paper.items.select_related("question")}
    ordering = paper.items.get(pk=items[T.ORDERING])
    ranks = {slot: rank for rank, slot in enumerate(ordering_response(papers.presented(ordering, attempt)["options"]),
                                                    start=1)}
    return items, {
        f"q{items[T.SINGLE_CHOICE]}": "1",
        f"q{items[T.MULTIPLE_CHOICE]}": ["0", "1", "2"],
        f"q{items[T.TRUE_FALSE]}": "true",
        f"q{items[T.FILL_BLANK]}_0": "右手",
        f"q{items[T.SHORT_ANSWER]}": "先试切端面，再试切外圆。",
        f"q{items[T.MATCHING]}_0": "直线插补", f"q{items[T.MATCHING]}_1": "顺时针圆弧插补",
        f"q{items[T.MATCHING]}_2": "主轴正转",
        **{f"q{items[T.ORDERING]}_{slot}": str(rank) for slot, rank in ranks.items()},
    }


def test_a_learner_answers_every_type_through_the_form(building, composer, bank, learner, learner2,
                                                       django_assert_max_num_queries):
    paper = open_paper_with(building, composer, [bank[t] for t in T.values], time_limit_minutes=30)
    client = client_for(learner)
    response = client.post(reverse("questions:paper_start", args=[paper.pk]))
    attempt = Attempt.objects.get()
    assert response["Location"] == reverse("questions:attempt", args=[attempt.pk])
    with django_assert_max_num_queries(12):
        page = client.get(response["Location"]).content.decode()
    for control in ('type="radio"', 'type="checkbox"', 'class="blank"', "<textarea", "<select", 'type="number"',
                    "data-remaining=", "paper_answer.js"):
        assert control in page
    assert "<script>" not in page  # the CSP forbids inline scripts
    assert client_for(learner2).get(response["Location"]).status_code == 404
    items, data = _answer_post(paper, attempt)
    last = next(key for key, value in data.items() if key.startswith(f"q{items[T.ORDERING]}_") and value == "4")
    bad = {**data, last: "1"}  # two items numbered 1
    response = client.post(reverse("questions:attempt_save", args=[attempt.pk]), {**bad, "action": "save"})
    assert response.status_code == 400 and "每个序号只用一次" in response.content.decode()
    response = client.post(reverse("questions:attempt_save", args=[attempt.pk]), {**data, "action": "save"})
    assert response.status_code == 302
    assert AttemptAnswer.objects.get(item_id=items[T.ORDERING]).response == [0, 1, 2, 3]
    page = client.get(reverse("questions:attempt", args=[attempt.pk])).content.decode()
    assert 'value="右手"' in page and "checked" in page
    response = client.post(reverse("questions:attempt_save", args=[attempt.pk]), {**data, "action": "submit"})
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.SUBMITTED
    page = client.get(response["Location"]).content.decode()
    assert "等待教师" in page and "参考答案" in page
    scores = dict(attempt.answers.values_list("item_id", "score"))
    assert all(scores[items[t]] == 2 for t in T.values if t != T.SHORT_ANSWER)


def test_grading_and_results_pages(building, composer, bank, learner, learner2):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.SHORT_ANSWER]], score="5")
    attempt, _ = papers.start_attempt(paper, by=learner)
    papers.save_answers(attempt, {paper.items.order_by("position").last().pk: "先试切端面"}, by=learner)
    papers.submit_attempt(attempt, by=learner)
    grading = reverse("questions:paper_grading", args=[paper.pk])
    results = reverse("questions:paper_results", args=[paper.pk])
    xlsx = reverse("questions:paper_results_xlsx", args=[paper.pk])
    for url in (grading, results, xlsx):
        assert client_for(learner).get(url).status_code == 403
    page = client_for(composer).get(grading).content.decode()
    assert "先试切端面" in page
    answer = papers.pending_answers(paper).get()
    response = client_for(composer).post(grading, {"answer": answer.pk, "score": "9"})
    assert response.status_code == 400 and "0 到 5.0" in response.content.decode()
    response = client_for(composer).post(grading, {"answer": answer.pk, "score": "4", "comment": "不完整"})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.state == Attempt.State.GRADED and attempt.score == 4
    page = client_for(composer).get(results).content.decode()
    assert "数据不足" in page and learner.display_name in page
    response = client_for(composer).get(xlsx)
    assert response.status_code == 200 and response["Content-Disposition"].endswith('results.xlsx"')
    page = client_for(learner).get(reverse("questions:attempt", args=[attempt.pk])).content.decode()
    assert 'id="attempt-score">4<' in page and "不完整" in page
    assert client_for(learner2).get(reverse("questions:attempt", args=[attempt.pk])).status_code == 404


def test_a_learner_sees_the_paper_and_a_closed_one_refuses_new_attempts(building, composer, bank, learner):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    page = client_for(learner).get(reverse("questions:paper_detail", args=[paper.pk])).content.decode()
    assert "开始作答" in page and bank[T.SINGLE_CHOICE].stem not in page
    response = client_for(composer).post(reverse("questions:paper_close", args=[paper.pk]))
    assert response.status_code == 302
    response = client_for(learner).post(reverse("questions:paper_start", args=[paper.pk]), follow=True)
    assert "未开放作答" in response.content.decode() and not Attempt.objects.exists()
    response = client_for(learner).post(reverse("questions:paper_open", args=[paper.pk]))
    assert response.status_code == 403


def test_the_library_page_links_to_its_papers(building, learner):
    page = client_for(learner).get(reverse("libraries:detail", args=[building.pk])).content.decode()
    assert reverse("questions:paper_list", args=[building.pk]) in page and "试卷" in page


def test_the_answering_page_shows_a_blocked_question_as_withheld(building, composer, bank, learner):
    from reslib.resources.models import Resource

    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.SHORT_ANSWER]])
    client = client_for(learner)
    client.post(reverse("questions:paper_start", args=[paper.pk]))
    attempt = Attempt.objects.get()
    Resource.objects.filter(pk=bank[T.SHORT_ANSWER].version.resource_id).update(
        moderation_state=Resource.Moderation.BLOCKED)
    page = client.get(reverse("questions:attempt", args=[attempt.pk])).content.decode()
    assert "该题已被平台限制，不再显示。" in page and bank[T.SHORT_ANSWER].stem not in page
    assert "<textarea" not in page and bank[T.SINGLE_CHOICE].stem in page
