"""A learner answers a paper of several types in a real browser (phone width and desktop), submits and sees the score.

Drives Debian's Chromium with Playwright like tests/libraries/test_browser.py: skipped without Chromium, a failure
with RESLIB_REQUIRE_BROWSER=1. Screenshots go to test-artifacts/ for a person to look at.
"""

import pytest

from reslib.libraries.models import Library, TeamMember
from reslib.libraries.services import add_team_member
from reslib.questions import papers
from reslib.questions.models import Attempt, QuestionType

from .. import factories
from ..libraries.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _log_in, playwright_sync  # noqa: F401
from .factories import published_question

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHOTS = ARTIFACTS
T = QuestionType
TYPES = [T.SINGLE_CHOICE, T.MULTIPLE_CHOICE, T.TRUE_FALSE, T.FILL_BLANK, T.MATCHING, T.ORDERING, T.SHORT_ANSWER]


def _paper():
    lead = factories.user("lead", org=factories.organization("江苏信息职业技术学院"), real_name="王建国")
    library = factories.library(lead, status=Library.Status.BUILDING)
    composer = factories.user("composer", org=lead.organization)
    add_team_member(library, by=lead, user=composer, role=TeamMember.Role.BUILDER)
    paper = papers.create_paper(library, papers.PaperData(
        title="数控车床编程单元测验", instructions="请独立完成，共 7 题。", time_limit_minutes=30, max_attempts=1),
        by=composer)
    for qtype in TYPES:
        question = published_question(library, lead, qtype)
        papers.add_question(paper, question.version.resource_id, 5 if qtype == T.SHORT_ANSWER else 2, by=composer)
    factories.user("learner", real_name="张同学")
    return papers.open_paper(paper, by=composer)


def _answer(page):
    """Right answers for every objective question, through the controls a learner uses."""
    questions = page.locator("fieldset.q")
    by_type = {questions.nth(i).get_attribute("data-qtype"): questions.nth(i) for i in range(questions.count())}
    by_type["single_choice"].get_by_label("工件原点").check()
    for text in ("切削速度", "进给量", "背吃刀量"):
        by_type["multiple_choice"].get_by_label(text).check()
    by_type["true_false"].locator("input[value=true]").check()
    by_type["fill_blank"].locator("input.blank").fill("右手")
    matching = by_type["matching"]
    for prompt, match in (("G01", "直线插补"), ("G02", "顺时针圆弧插补"), ("M03", "主轴正转")):
        matching.get_by_label(prompt, exact=True).select_option(match)
    ordering = by_type["ordering"]
    right = ["装夹工件", "对刀", "运行程序", "测量"]
    for target, text in enumerate(right):
        # move the item up with the arrow buttons until it stands at `target`
        while True:
            texts = ordering.locator(".order-text").all_inner_texts()
            at = texts.index(text)
            if at == target:
                break
            ordering.locator("[data-order-item]").nth(at).locator("[data-move=up]").click()
    assert ordering.locator(".order-text").all_inner_texts() == right
    by_type["short_answer"].locator("textarea").fill("先试切端面，再试切外圆，测量后输入刀补。")


@pytest.mark.parametrize("viewport, name", [({"width": 390, "height": 844}, "phone"),
                                            ({"width": 1366, "height": 900}, "desktop")])
def test_a_learner_answers_submits_and_sees_the_score(live_server, playwright_sync, monkeypatch,  # noqa: F811
                                                      viewport, name):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    paper = _paper()
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    violations = []

    with playwright_sync() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=name == "phone",
                                          has_touch=name == "phone")
            context.set_default_timeout(10_000)
            page = context.new_page()
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            detail = f"/papers/{paper.pk}/"
            _log_in(page, base, "learner", detail)
            assert "数控车床编程单元测验" in page.locator("h1").inner_text()
            page.screenshot(path=str(SHOTS / f"paper-detail-{name}.png"), full_page=True)
            page.click("#start-attempt")
            page.locator("#answer-form").wait_for()
            assert page.locator("fieldset.q").count() == 7
            page.wait_for_function("document.querySelector('[data-timer-value]').textContent !== '--:--'")
            timer = page.locator("[data-timer-value]")
            assert timer.inner_text().startswith(("29:", "30:"))  # paper_answer.js counts down
            page.screenshot(path=str(SHOTS / f"paper-answer-{name}-empty.png"), full_page=True)

            _answer(page)
            page.click("button[value=save]")
            page.locator(".alert-success").wait_for()
            assert page.locator("fieldset.q[data-qtype=fill_blank] input.blank").input_value() == "右手"
            page.screenshot(path=str(SHOTS / f"paper-answer-{name}.png"), full_page=True)

            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
            page.click("button[data-submit]")
            page.locator("#score-title").wait_for()
            assert dialogs and "确定交卷" in dialogs[0]
            attempt = Attempt.objects.get()
            assert attempt.state == Attempt.State.SUBMITTED
            assert "简答题等待教师评分" in page.locator("#attempt-score").inner_text()
            page.screenshot(path=str(SHOTS / f"paper-result-{name}-submitted.png"), full_page=True)

            answer = papers.pending_answers(paper).get()
            papers.grade_answer(answer, 4, comment="步骤基本正确，补充测量要点。", by=paper.created_by)
            page.reload()
            assert page.locator("#attempt-score").inner_text() == "16"  # 6 × 2 + 4
            assert "补充测量要点" in page.locator("main").inner_text()
            page.screenshot(path=str(SHOTS / f"paper-result-{name}.png"), full_page=True)

            # nothing overflows the phone's width
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0
        finally:
            browser.close()
    assert violations == []


def test_a_teacher_composes_by_rules_and_reads_the_results(live_server, playwright_sync, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    paper = _paper()
    from reslib.accounts.models import User

    attempt, _ = papers.start_attempt(paper, by=User.objects.get(username="learner"))
    papers.save_answers(attempt, {paper.items.order_by("position").first().pk: 1}, by=attempt.user)
    papers.close_paper(paper, by=paper.created_by)
    draft = papers.create_paper(paper.library, papers.PaperData(title="期末随机组卷"), by=paper.created_by)
    for i in range(3):
        published_question(paper.library, paper.created_by, T.TRUE_FALSE, stem=f"判断题 {i}：G00 用于快速定位。")
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    with playwright_sync() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for viewport, name in (({"width": 1366, "height": 900}, "desktop"), ({"width": 390, "height": 844},
                                                                                 "phone")):
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                context.set_default_timeout(10_000)
                page = context.new_page()
                page.on("dialog", lambda d: d.accept())
                compose = f"/papers/{draft.pk}/compose/"
                _log_in(page, base, "composer", compose)
                page.select_option("#id_rules-0-qtype", "single_choice")
                page.fill("#id_rules-0-count", "1")
                page.fill("#id_rules-0-score", "2")
                page.select_option("#id_rules-1-qtype", "true_false")
                page.fill("#id_rules-1-count", "9")
                page.fill("#id_rules-1-score", "1")
                page.click("#rules button[type=submit]")
                page.locator("#rules .field-error").first.wait_for()
                assert "规则 2" in page.locator("#rules").inner_text()
                page.screenshot(path=str(SHOTS / f"paper-compose-{name}-short.png"), full_page=True)
                page.fill("#id_rules-1-count", "3")
                page.click("#rules button[type=submit]")
                page.locator("#paper-items").wait_for()
                assert page.locator("#paper-items tbody tr").count() == 4
                page.screenshot(path=str(SHOTS / f"paper-compose-{name}.png"), full_page=True)
                page.goto(f"{base}/papers/{paper.pk}/results/")
                assert "数据不足" in page.locator("#not-enough-data").inner_text()
                page.screenshot(path=str(SHOTS / f"paper-results-{name}.png"), full_page=True)
                context.close()
        finally:
            browser.close()

