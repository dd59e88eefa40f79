"""Papers API: composing, states, attempts, grading, results; stable error codes and refusals (401/403/404/409)."""

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from reslib.questions import papers
from reslib.questions.models import Attempt, Paper
from reslib.resources.models import Resource

from .paper_support import (  # noqa: F401 (fixtures)
    RIGHT,
    ordering_response,
    T,
    _isolated,
    bank,
    building,
    composer,
    learner,
    learner2,
    open_paper_with,
    paper_with,
    reviewer,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def send(client, method, url, data=None):
    return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")


def code(response) -> str:
    return response.json()["error"]["code"]


def test_a_builder_creates_and_composes_a_paper_by_hand(building, composer, bank):
    client = client_for(composer)
    response = send(client, "post", f"{API}/libraries/{building.pk}/papers",
                    {"title": "期中测验", "time_limit_minutes": 30, "max_attempts": 2})
    assert response.status_code == 201, response.content
    paper = response.json()
    assert (paper["state"], paper["can_manage"], paper["items"]) == ("draft", True, [])
    for qtype in (T.SINGLE_CHOICE, T.SHORT_ANSWER):
        response = send(client, "post", f"{API}/papers/{paper['id']}/items",
                        {"question_id": bank[qtype].version.resource_id, "score": 5})
        assert response.status_code == 201, response.content
    item = response.json()
    assert (item["qtype"], item["score"], item["answer"], item["available"]) == ("short_answer", "5.0",
                                                                                 bank[T.SHORT_ANSWER].answer, True)
    response = send(client, "put", f"{API}/papers/{paper['id']}/items/{item['id']}", {"score": "7.5"})
    assert response.json()["score"] == "7.5"
    detail = client.get(f"{API}/papers/{paper['id']}").json()
    ids = [i["id"] for i in detail["items"]]
    response = send(client, "put", f"{API}/papers/{paper['id']}/items/order", {"items": ids[::-1]})
    assert [i["id"] for i in response.json()["items"]] == ids[::-1]
    assert response.json()["total_score"] == "12.5"
    candidates = client.get(f"{API}/papers/{paper['id']}/candidates?qtype=true_false").json()
    assert candidates["count"] == 1 and candidates["items"][0]["question_id"] == bank[T.TRUE_FALSE].version.resource_id
    response = client.delete(f"{API}/papers/{paper['id']}/items/{ids[0]}")
    assert response.status_code == 204


def test_refusals_of_composition(building, composer, bank, learner, reviewer):
    response = send(client_for(), "post", f"{API}/libraries/{building.pk}/papers", {"title": "测验"})
    assert response.status_code == 401
    for user in (learner, reviewer):
        response = send(client_for(user), "post", f"{API}/libraries/{building.pk}/papers", {"title": "测验"})
        assert (response.status_code, code(response)) == (403, "paper.compose_denied")
    paper = paper_with(building, composer, [])
    response = send(client_for(learner), "post", f"{API}/papers/{paper.pk}/items",
                    {"question_id": bank[T.SINGLE_CHOICE].version.resource_id, "score": 2})
    assert (response.status_code, code(response)) == (404, "paper.not_found")  # a learner does not see drafts
    response = client_for(learner).get(f"{API}/papers/{paper.pk}/candidates")
    assert response.status_code == 404
    assert not Paper.objects.exclude(pk=paper.pk).exists() and not paper.items.exists()


def test_unpublished_or_blocked_questions_and_bad_numbers_are_refused(building, composer, bank):
    paper = paper_with(building, composer, [])
    client = client_for(composer)
    Resource.objects.filter(pk=bank[T.SINGLE_CHOICE].version.resource_id).update(
        moderation_state=Resource.Moderation.BLOCKED)
    response = send(client, "post", f"{API}/papers/{paper.pk}/items",
                    {"question_id": bank[T.SINGLE_CHOICE].version.resource_id, "score": 2})
    assert (response.status_code, code(response)) == (400, "paper.question_unavailable")
    response = send(client, "post", f"{API}/papers/{paper.pk}/items",
                    {"question_id": bank[T.TRUE_FALSE].version.resource_id, "score": "NaN"})
    assert (response.status_code, code(response)) == (400, "paper.score_invalid")
    response = send(client, "post", f"{API}/papers/{paper.pk}/items", {"question_id": 2**63, "score": 2})
    assert response.status_code == 422 and "question_id" in response.json()["error"]["fields"]
    assert not paper.items.exists()


def test_a_rule_shortfall_is_reported_with_counts_and_nothing_is_saved(building, composer, bank):
    paper = paper_with(building, composer, [bank[T.MATCHING]])
    response = send(client_for(composer), "post", f"{API}/papers/{paper.pk}/compose", {"rules": [
        {"qtype": "single_choice", "count": 1, "score": 2},
        {"qtype": "true_false", "count": 4, "score": 1},
    ]})
    assert (response.status_code, code(response)) == (400, "paper.rule_short")
    error = response.json()["error"]
    assert error["shortfalls"] == [{"rule": 1, "needed": 4, "available": 1}]
    assert error["fields"]["rules.1"][0]["code"] == "paper.rule_short"
    assert list(paper.items.values_list("question_id", flat=True)) == [bank[T.MATCHING].pk]
    response = send(client_for(composer), "post", f"{API}/papers/{paper.pk}/compose", {"rules": [
        {"qtype": "single_choice", "count": 1, "score": 2}, {"qtype": "true_false", "count": 1, "score": 1}]})
    assert response.status_code == 200
    assert [i["qtype"] for i in response.json()["items"]] == ["single_choice", "true_false"]
    assert response.json()["mode"] == "random"


def test_a_learner_answers_submits_and_sees_the_score(building, composer, bank, learner, learner2):
    paper = open_paper_with(building, composer, [bank[t] for t in (T.SINGLE_CHOICE, T.MULTIPLE_CHOICE,
                                                                    T.ORDERING, T.MATCHING)])
    listed = client_for(learner).get(f"{API}/libraries/{building.pk}/papers").json()
    assert [p["id"] for p in listed["items"]] == [paper.pk] and listed["count"] == 1
    assert client_for(learner).get(f"{API}/papers/{paper.pk}").json()["items"] == []  # no answers for learners
    client = client_for(learner)
    response = client.post(f"{API}/papers/{paper.pk}/attempts")
    assert response.status_code == 201, response.content
    attempt = response.json()
    assert client.post(f"{API}/papers/{paper.pk}/attempts").status_code == 200  # continued
    questions = {q["qtype"]: q for q in attempt["questions"]}
    assert all(q["answer"] is None and q["earned"] is None for q in questions.values())
    assert sorted(questions["matching"]["matches"]) == sorted(RIGHT[T.MATCHING])
    assert sorted(o["index"] for o in questions["ordering"]["options"]) == [0, 1, 2, 3]
    response = send(client, "put", f"{API}/attempts/{attempt['id']}/answers",
                    {"answers": [{"item": questions["single_choice"]["item"], "response": 9}]})
    assert (response.status_code, code(response)) == (400, "attempt.response_invalid")
    assert f"answers.{questions['single_choice']['item']}" in response.json()["error"]["fields"]
    answers = [{"item": q["item"], "response": ordering_response(q["options"]) if t == T.ORDERING else RIGHT[t]}
               for t, q in questions.items()]
    response = send(client, "put", f"{API}/attempts/{attempt['id']}/answers", {"answers": answers})
    assert response.status_code == 200
    assert client_for(learner2).get(f"{API}/attempts/{attempt['id']}").status_code == 404
    response = send(client_for(learner2), "put", f"{API}/attempts/{attempt['id']}/answers", {"answers": answers})
    assert (response.status_code, code(response)) == (404, "attempt.not_found")
    response = client.post(f"{API}/attempts/{attempt['id']}/submit")
    assert response.status_code == 200
    result = response.json()
    assert (result["state"], result["score"], result["total_score"], result["shows_answers"]) == (
        "graded", "8.0", "8.0", True)
    assert {q["qtype"]: q["earned"] for q in result["questions"]}["multiple_choice"] == "2.0"
    response = client.post(f"{API}/papers/{paper.pk}/attempts")
    assert (response.status_code, code(response)) == (409, "paper.attempts_exhausted")
    mine = client.get(f"{API}/papers/{paper.pk}/attempts").json()
    assert mine["count"] == 1 and mine["items"][0]["score"] == "8.0"
    assert client_for(learner2).get(f"{API}/papers/{paper.pk}/attempts").json()["count"] == 0


def test_a_closed_paper_refuses_attempts_and_learners_cannot_open_or_close(building, composer, bank, learner):
    paper = paper_with(building, composer, [bank[T.SINGLE_CHOICE]])
    paper.state = Paper.State.OPEN
    response = client_for(learner).post(f"{API}/papers/{paper.pk}/open")
    assert response.status_code == 404  # a draft is not visible to a learner
    assert client_for(composer).post(f"{API}/papers/{paper.pk}/open").json()["state"] == "open"
    response = client_for(learner).post(f"{API}/papers/{paper.pk}/close")
    assert (response.status_code, code(response)) == (403, "paper.manage_denied")
    response = client_for(composer).post(f"{API}/papers/{paper.pk}/open")
    assert (response.status_code, code(response)) == (409, "state.illegal_transition")
    assert client_for(composer).post(f"{API}/papers/{paper.pk}/close").json()["state"] == "closed"
    response = client_for(learner).post(f"{API}/papers/{paper.pk}/attempts")
    assert (response.status_code, code(response)) == (409, "paper.not_open")
    assert not Attempt.objects.exists()


def test_grading_and_results_are_for_teachers(building, composer, bank, learner, learner2):
    paper = open_paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.SHORT_ANSWER]], score="5")
    for user in (learner, learner2):
        attempt, _ = papers.start_attempt(paper, by=user)
        single, short = paper.items.order_by("position")
        papers.save_answers(attempt, {single.pk: 1, short.pk: "先试切端面"}, by=user)
        papers.submit_attempt(attempt, by=user)
    for url in (f"{API}/papers/{paper.pk}/grading", f"{API}/papers/{paper.pk}/results",
                f"{API}/papers/{paper.pk}/results.xlsx"):
        response = client_for(learner).get(url)
        assert response.status_code == 403 and code(response) in {"paper.grade_denied", "paper.results_denied"}
    client = client_for(composer)
    pending = client.get(f"{API}/papers/{paper.pk}/grading").json()
    assert pending["count"] == 2 and pending["items"][0]["reference_answer"] == bank[T.SHORT_ANSWER].answer
    first = pending["items"][0]["id"]
    response = send(client_for(learner), "post", f"{API}/papers/{paper.pk}/grading/{first}", {"score": 5})
    assert (response.status_code, code(response)) == (403, "paper.grade_denied")
    response = send(client, "post", f"{API}/papers/{paper.pk}/grading/{first}", {"score": 6})
    assert (response.status_code, code(response)) == (400, "paper.grade_invalid")
    response = send(client, "post", f"{API}/papers/{paper.pk}/grading/{first}", {"score": "4.5", "comment": "好"})
    assert response.json() == {"id": first, "score": "4.5", "attempt_state": "graded", "attempt_score": "9.5"}
    results = client.get(f"{API}/papers/{paper.pk}/results").json()
    assert results["enough_data"] is False and results["note"]
    assert results["items"][0]["difficulty"] is None
    second = client.get(f"{API}/papers/{paper.pk}/grading").json()["items"][0]["id"]
    send(client, "post", f"{API}/papers/{paper.pk}/grading/{second}", {"score": "1"})
    results = client.get(f"{API}/papers/{paper.pk}/results").json()
    assert results["enough_data"] is True and results["analysed"] == 2
    assert [i["difficulty"] for i in results["items"]] == ["1.00", "0.55"]
    assert [i["discrimination"] for i in results["items"]] == ["0.00", "0.70"]
    response = client.get(f"{API}/papers/{paper.pk}/results.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0].max_row == 3


def test_the_paper_list_costs_the_same_queries_for_one_paper_or_many(building, composer, bank):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client_for(composer).get(f"{API}/libraries/{building.pk}/papers")
        assert response.status_code == 200
        return len(captured)

    paper_with(building, composer, [bank[T.SINGLE_CHOICE], bank[T.TRUE_FALSE]])
    one = queries()
    for _ in range(5):
        paper_with(building, composer, [bank[T.MATCHING]])
    assert queries() == one
    listed = client_for(composer).get(f"{API}/libraries/{building.pk}/papers").json()["items"]
    assert sorted((p["item_count"], p["total_score"]) for p in listed)[-1] == (2, "4.0")
