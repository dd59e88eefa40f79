"""`reslib load_demo`: the demo data set, loaded through the services, only in debug mode, only once."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from reslib.accounts import roles
from reslib.accounts.models import User
from reslib.core.models import AuditEntry
from reslib.libraries import demo, policies
from reslib.libraries.models import Library, TeamMember
from reslib.orgs.models import Organization
from reslib.orgs.validators import validate_credit_code

COMPUTING = "计算机应用技术专业教学资源库"
CNC = "数控技术专业教学资源库"
MECHATRONICS = "机电一体化技术专业教学资源库"


@pytest.fixture
def demo_data(db, settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RESLIB_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def fresh(username: str) -> User:
    return User.objects.get(username=username)


def test_every_demo_account_exists_with_the_demo_password(demo_data):
    for username in ("operator", "province", "lead", "builder", "reviewer", "reviewer2", "teacher", "student"):
        user = fresh(username)
        assert user.is_active
        assert user.real_name and all("\u4e00" <= ch <= "\u9fff" for ch in user.real_name), user.real_name
        assert user.check_password("reslib-demo"), username
    assert "reslib-demo" in demo_data
    assert "operator" in demo_data


def test_demo_login_works_through_the_login_backends(demo_data, rf):
    from django.contrib.auth import authenticate

    request = rf.post("/accounts/login/")
    assert authenticate(request, username="lead", password="reslib-demo") == fresh("lead")
    assert authenticate(request, username="lead", password="wrong-password") is None


def test_each_demo_user_has_the_role_its_name_promises(demo_data):
    computing = Library.objects.get(name=COMPUTING)
    assert roles.is_operator(fresh("operator"))
    assert roles.is_province_admin(fresh("province"), "320000")
    assert not roles.is_operator(fresh("province"))
    assert policies.is_lead(fresh("lead"), computing)
    assert fresh("lead").organization == computing.hosts.get(position=1).organization
    assert TeamMember.objects.filter(library=computing, user__username="builder", role="builder").exists()
    for username in ("reviewer", "reviewer2"):
        reviewer = TeamMember.objects.get(library=computing, user__username=username, role="reviewer").user
        assert reviewer.organization == computing.hosts.get(position=1).organization
    assert fresh("teacher").learner_category == User.LearnerCategory.TEACHER
    assert fresh("teacher").organization.type == Organization.Type.HIGHER_VOCATIONAL
    assert fresh("student").learner_category == User.LearnerCategory.STUDENT
    for username in ("teacher", "student"):
        assert not roles.is_operator(fresh(username)) and not roles.is_province_admin(fresh(username))
        assert not TeamMember.objects.filter(user__username=username).exists()


def test_libraries_are_in_different_states(demo_data):
    states = dict(Library.objects.values_list("name", "status"))
    assert states == {
        COMPUTING: Library.Status.BUILDING,
        CNC: Library.Status.SUBMITTED,
        MECHATRONICS: Library.Status.ACCEPTED,
    }
    for library in Library.objects.all():
        assert library.province_id == "320000"
        assert 1 <= library.hosts.count() <= 3
        assert library.served_majors.count() <= 5
        assert library.core_major not in library.served_majors.all()


def test_the_submitted_library_waits_on_the_province_workbench_but_not_for_a_student(demo_data):
    cnc = Library.objects.get(name=CNC)
    assert policies.visible_libraries(fresh("province")).filter(pk=cnc.pk).exists()
    assert [t.action for t in demo_services_actions(cnc, fresh("province"))] == ["approve", "decline"]
    # Not yet approved: invisible to people outside its team, and the lead of another library cannot act on it.
    assert not policies.visible_libraries(fresh("student")).filter(pk=cnc.pk).exists()
    assert demo_services_actions(cnc, fresh("lead")) == []


def demo_services_actions(library, user):
    from reslib.libraries.services import available_actions

    return available_actions(library, user)


def test_state_changes_went_through_the_services_with_audit_entries(demo_data):
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"account.grant_role", "org.create", "library.create", "library.team_add", "library.submit",
            "library.approve", "library.start_building", "library.request_acceptance",
            "library.accept"} <= actions
    accepted = Library.objects.get(name=MECHATRONICS)
    entry = AuditEntry.objects.get(action="library.accept", target_id=str(accepted.pk))
    assert entry.actor.username == "province"
    assert entry.before == {"status": "awaiting_acceptance"} and entry.after == {"status": "accepted"}
    assert entry.reason


def test_every_institution_has_a_valid_credit_code_with_its_division(demo_data):
    orgs = list(Organization.objects.select_related("city"))
    assert len(orgs) >= 8
    types = {o.type for o in orgs}
    assert {Organization.Type.HIGHER_VOCATIONAL, Organization.Type.ENTERPRISE, Organization.Type.INDUSTRY_BODY,
            Organization.Type.RESEARCH_INSTITUTE} <= types
    for org in orgs:
        try:
            validate_credit_code(org.credit_code)
        except ValidationError as exc:  # pragma: no cover - the message names the culprit
            pytest.fail(f"{org.name}: {org.credit_code}: {exc.messages}")
        assert org.province_id == "320000"
        assert org.city is not None and org.city.parent_id == "320000"
        assert org.credit_code[2:8] == org.city_id, org.name
        assert org.credit_code[:2] == demo.REGISTRATION[org.type], org.name


def test_organization_code_part_follows_gb_11714():
    # The worked example of GB 11714: D2143569 has check character X (weights 3,7,9,10,5,8,4,2; letters A=10…).
    assert demo.organization_code("D2143569") == "D2143569X"
    assert demo.organization_code("46600821")[-1] in "0123456789X"
    for spec in demo.ORGANIZATIONS:
        validate_credit_code(spec.credit_code)


def test_refuses_in_production_mode(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="debug mode"):
        call_command("load_demo", stdout=io.StringIO())
    with pytest.raises(CommandError, match="debug mode"):
        call_command("load_demo", "--if-empty", stdout=io.StringIO())
    assert not User.objects.exists()
    assert not Organization.objects.exists()


def test_refuses_a_database_that_already_has_users(demo_data):
    users, audits = User.objects.count(), AuditEntry.objects.count()
    with pytest.raises(CommandError, match="already has users"):
        call_command("load_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("load_demo", "--if-empty", stdout=out)
    assert "not loaded" in out.getvalue()
    assert (User.objects.count(), AuditEntry.objects.count()) == (users, audits)


def test_refuses_when_any_other_user_exists(db, settings, operator):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="already has users"):
        call_command("load_demo", stdout=io.StringIO())
    assert not Library.objects.exists()


def test_demo_resources_went_through_review(demo_data):
    from reslib.resources.models import Resource
    from reslib.review.models import ReviewRequest

    published = Resource.objects.filter(published_version__isnull=False).exclude(
        published_version__resource_type="question")
    assert set(published.values_list("published_version__resource_type", flat=True)) == {
        "video", "text", "external_link"}
    video = published.get(published_version__resource_type="video")
    main = video.published_version.files.get(role="main")
    assert main.blob.kind == "video" and main.blob.probe["width"] == 1280
    assert not video.published_version.has_blocking_findings
    resources = ReviewRequest.objects.exclude(version__resource_type="question")
    assert resources.filter(state="approved").count() == 3
    assert resources.filter(state="pending").count() == 1
    assert Resource.objects.filter(latest_version__state="draft").exclude(
        latest_version__resource_type="question").count() == 1


def test_the_demo_paper_is_open_to_the_student_and_grades_objective_answers(demo_data):
    """The README's path: `student` opens the demo paper, answers, submits; objective questions are graded at once
    and the short answer waits for the teacher."""
    from django.test import Client

    from reslib.questions.models import AttemptAnswer, Paper, QuestionContent
    from reslib.review.models import ReviewRequest

    assert QuestionContent.objects.filter(version__state="published").values("qtype").distinct().count() == 7
    assert ReviewRequest.objects.filter(version__resource_type="question", state="approved").count() == 7
    paper = Paper.objects.get(title="计算机网络基础 单元测验")
    assert paper.state == "open" and paper.items.count() == 7

    student = Client()
    student.force_login(fresh("student"))
    started = student.post(f"/api/v1/papers/{paper.pk}/attempts", content_type="application/json")
    assert started.status_code in (200, 201), started.content
    attempt = started.json()
    first = paper.items.get(position=1)  # 192.168.1.10/24 → 192.168.1.0 (option 1)
    short = paper.items.get(question__qtype="short_answer")
    saved = student.put(f"/api/v1/attempts/{attempt['id']}/answers", {"answers": [
        {"item": first.pk, "response": 1}, {"item": short.pk, "response": "减少广播域，提高地址利用率。"}]},
        content_type="application/json")
    assert saved.status_code == 200, saved.content
    submitted = student.post(f"/api/v1/attempts/{attempt['id']}/submit", content_type="application/json").json()
    assert submitted["state"] == "submitted"  # the short answer awaits the teacher
    # graded at once, but per-question scores and answers wait: the student has a second attempt
    assert all(q["earned"] is None and q["answer"] is None for q in submitted["questions"])
    scores = dict(AttemptAnswer.objects.filter(attempt_id=attempt["id"]).values_list("item__position", "score"))
    assert scores[1] == 5 and scores[7] is None  # the short answer awaits the teacher


def test_the_demo_review_path_completes_with_its_two_reviewers(demo_data):
    """With the README's accounts: the builder submits, `reviewer` decides level 1 and, refused level 2 (nobody
    decides two levels of one version), leaves it to `reviewer2`, whose approval publishes."""
    from django.test import Client

    from reslib.resources.models import Resource
    from reslib.review import checklist, staffing
    from reslib.review import services as review_services
    from reslib.review.models import ReviewRequest
    from tests import factories

    computing = Library.objects.get(name=COMPUTING)
    assert staffing.level_warnings(computing) == []

    def api(username):
        token = Client().post("/api/v1/auth/token", {"username": username, "password": "reslib-demo", "name": "demo"},
                              content_type="application/json").json()["token"]
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(client, url, data):
        return client.post(f"/api/v1{url}", data, content_type="application/json")

    resource = factories.resource(computing, fresh("builder"), title="交换机基本配置实训（外部平台）",
                                  resource_type="external_link", external_url="https://www.example.com/switch-lab")
    assert post(api("builder"), f"/resources/{resource.pk}/submit", {"commitment_accepted": True}).status_code == 200
    request = ReviewRequest.objects.get(resource=resource)
    review_services.run_machine_prereview(request.pk)  # the background task, run here
    decision = {"decision": "approve", "checklist": {code: {"passed": True} for code in checklist.CODES}}
    reviewer, reviewer2 = api("reviewer"), api("reviewer2")

    body = post(reviewer, f"/review/requests/{request.pk}/decision", decision).json()
    assert (body["state"], body["level"], body["warnings"]) == ("pending", "lead_host", [])
    refused = post(reviewer, f"/review/requests/{request.pk}/decision", decision)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "review.already_decided"
    body = post(reviewer2, f"/review/requests/{request.pk}/decision", decision).json()
    assert body["state"] == "approved"
    resource = Resource.objects.get(pk=resource.pk)
    assert resource.published_version_id == request.version_id
