"""Web pages of the resource libraries: who sees what, the application form's errors, the lifecycle, the team."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reslib.accounts.models import RoleGrant
from reslib.core.models import AuditEntry
from reslib.libraries.models import Library, TeamMember
from reslib.orgs.models import Organization

from .. import factories
from .conftest import USERNAMES

pytestmark = pytest.mark.django_db

S = Library.Status


def detail_url(library):
    return reverse("libraries:detail", args=[library.pk])


def edit_url(library):
    return reverse("libraries:edit", args=[library.pk])


def transition_url(library, action):
    return reverse("libraries:transition", args=[library.pk, action])


def page(response) -> str:
    return response.content.decode()


def audit_actions(library) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_type="libraries.library", target_id=str(library.pk))
        .order_by("created_at", "id").values_list("action", flat=True)
    )


def form_data(*, hosts, participants=(), served=("510202", "510203"), core="510201", **overrides):
    data = {
        "name": "软件技术专业教学资源库",
        "description": "面向软件技术专业的共建共享资源库。",
        "level": "provincial",
        "province": "320000",
        "core_major": str(factories.major(core).pk),
        "served_majors": [str(factories.major(c).pk) for c in served],
        "participants": [str(o.pk) for o in participants],
        "build_start": "2026-09-01",
        "build_end": "",
    }
    for i, org in enumerate(hosts, start=1):
        data[f"host_{i}"] = str(org.pk)
    data.update(overrides)
    return data


# --- list -------------------------------------------------------------------------------------------------------

def test_list_shows_public_libraries_to_anyone_and_hides_drafts(client, lead, second_college):
    public = factories.library(lead, name="软件技术专业教学资源库", status=S.BUILDING, hosts=[lead.organization])
    draft = factories.library(lead, name="大数据技术专业教学资源库", hosts=[lead.organization])
    response = client.get(reverse("libraries:list"))
    assert response.status_code == 200
    html = page(response)
    assert public.name in html and "建设中" in html and lead.organization.name in html
    assert draft.name not in html
    # The lead sees their own draft.
    client.force_login(lead)
    assert draft.name in page(client.get(reverse("libraries:list")))


def test_list_filters(client, lead, operator):
    factories.library(lead, name="软件技术专业教学资源库", core="510203", served=("510201",), level="national")
    lib_b = factories.library(lead, name="机电一体化技术专业教学资源库", core="460301", served=("460103",))
    factories.library(factories.user("zj_lead", org=factories.organization(province="330000")),
                      name="浙江数控技术专业教学资源库", core="460103", served=(), province="330000")
    Library.objects.filter(pk=lib_b.pk).update(status=S.SUBMITTED)
    client.force_login(operator)
    url = reverse("libraries:list")

    def names(**params):
        html = page(client.get(url, params))
        return {name for name in ["软件技术专业教学资源库", "机电一体化技术专业教学资源库", "浙江数控技术专业教学资源库"]
                if name in html}

    assert names() == {"软件技术专业教学资源库", "机电一体化技术专业教学资源库", "浙江数控技术专业教学资源库"}
    assert names(province="330000") == {"浙江数控技术专业教学资源库"}
    assert names(level="national") == {"软件技术专业教学资源库"}
    assert names(status="submitted") == {"机电一体化技术专业教学资源库"}
    assert names(q="机电") == {"机电一体化技术专业教学资源库"}
    # Major matches the core major or a served major.
    major_460103 = factories.major("460103").pk
    assert names(major=major_460103) == {"机电一体化技术专业教学资源库", "浙江数控技术专业教学资源库"}
    assert names(major=factories.major("510201").pk) == {"软件技术专业教学资源库"}


def test_list_paginates(client, operator, lead):
    for i in range(23):
        factories.library(lead, name=f"资源库{i:02d}")
    client.force_login(operator)
    first = page(client.get(reverse("libraries:list")))
    assert "资源库22" in first and "资源库02" not in first
    second = page(client.get(reverse("libraries:list"), {"page": 2}))
    assert "资源库02" in second and "资源库22" not in second


def test_list_runs_a_fixed_number_of_queries(client, operator, lead, second_college, enterprise,
                                             django_assert_max_num_queries):
    client.force_login(operator)
    factories.library(lead, name="资源库A", hosts=[lead.organization, second_college], participants=[enterprise])
    factories.library(lead, name="资源库B", hosts=[second_college, lead.organization])
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("libraries:list")).status_code == 200
    for i in range(13):
        factories.library(lead, name=f"资源库{i:02d}", hosts=[lead.organization, second_college],
                          participants=[enterprise])
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("libraries:list"))
    assert page(response).count("南京工业职业技术大学") >= 2
    assert len(few) <= 12


# --- detail -----------------------------------------------------------------------------------------------------

def test_detail_shows_everything_to_the_lead(client, library, lead, builder, enterprise):
    from reslib.libraries import services

    services.add_team_member(library, by=lead, user=builder, role=TeamMember.Role.BUILDER)
    client.force_login(lead)
    response = client.get(detail_url(library))
    assert response.status_code == 200
    html = page(response)
    assert library.name in html
    assert "草稿" in html and "省级" in html and "江苏省" in html
    assert "510201 计算机应用技术" in html and "510202 计算机网络技术" in html
    # Hosts in order, the first marked as the lead host.
    assert html.index("江苏信息职业技术学院") < html.index("南京工业职业技术大学")
    assert "第一主持单位" in html
    assert enterprise.name in html
    # Team grouped by role, lifecycle history, progress bar, actions.
    assert "项目负责人" in html and "建设者" in html and "王建国" in html
    assert "生命周期记录" in html and "创建申报" in html
    assert 'class="progress-bar"' in html
    assert "提交申报" in html
    assert edit_url(library) in html


def test_public_library_is_visible_to_anonymous_without_actions(client, lead):
    library = factories.library(lead, status=S.BUILDING)
    response = client.get(detail_url(library))
    assert response.status_code == 200
    html = page(response)
    assert library.name in html
    assert "申请验收" not in html
    assert edit_url(library) not in html


@pytest.mark.parametrize("who", ["anonymous", "outsider", "other_province_admin", "province_admin", "builder"])
def test_draft_is_hidden_from_everyone_but_its_team(client, library, request, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    assert client.get(detail_url(library)).status_code == 404
    if who != "anonymous":
        assert client.get(edit_url(library)).status_code == 404
        assert client.post(transition_url(library, "submit")).status_code == 404


def test_detail_of_submitted_library_is_hidden_from_another_province(client, library, other_province_admin):
    Library.objects.filter(pk=library.pk).update(status=S.SUBMITTED)
    client.force_login(other_province_admin)
    assert client.get(detail_url(library)).status_code == 404
    assert client.post(transition_url(library, "approve"), {"reason": "同意"}).status_code == 404
    library.refresh_from_db()
    assert library.status == S.SUBMITTED


# --- application form -------------------------------------------------------------------------------------------

def test_create_form_preselects_the_users_organisation(client, lead):
    client.force_login(lead)
    response = client.get(reverse("libraries:create"))
    assert response.status_code == 200
    html = page(response)
    assert "第一主持单位" in html and "第二主持单位" in html and "第三主持单位" in html
    assert response.context["form"]["host_1"].value() == lead.organization.pk
    assert f'<option value="{lead.organization.pk}" selected>' in html


def test_create_needs_login_and_an_organisation(client):
    response = client.get(reverse("libraries:create"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(factories.user("learner"))
    response = client.get(reverse("libraries:create"))
    assert response.status_code == 403
    assert "只有隶属于某个单位的用户才能申报资源库" in page(response)
    response = client.post(reverse("libraries:create"), {"name": "x"})
    assert response.status_code == 403
    assert not Library.objects.exists()


def test_create_saves_a_draft_with_ordered_hosts(client, lead, second_college, enterprise):
    client.force_login(lead)
    response = client.post(reverse("libraries:create"),
                           form_data(hosts=[second_college, lead.organization], participants=[enterprise]))
    assert response.status_code == 302
    library = Library.objects.get()
    assert response["Location"] == detail_url(library)
    assert library.status == S.DRAFT
    assert [h.organization for h in library.hosts.order_by("position")] == [second_college, lead.organization]
    assert list(library.participants.values_list("organization", flat=True)) == [enterprise.pk]
    assert library.build_end == datetime.date(2027, 9, 1)
    assert TeamMember.objects.get(library=library).user == lead
    assert audit_actions(library) == ["library.create"]


def _assert_error_beside(response, field, message):
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in str(e) for e in form.errors.get(field, [])), form.errors
    # The message is rendered inside the field's own block, not only at the top of the page.
    html = page(response)
    start = html.index(f" field-{field}\"")
    end = html.find('<div class="field', start)
    assert message in html[start:end if end != -1 else None]


@pytest.mark.parametrize(
    "case, field, message",
    [
        ("fourth_host", "host_1", "资源库最多有 3 个主持单位"),
        ("duplicate_host", "host_1", "主持单位不能重复"),
        ("served_is_core", "served_majors", "核心专业不能同时作为服务专业"),
        ("six_served", "served_majors", "除核心专业外，资源库最多服务 5 个专业"),
        ("host_is_participant", "participants", "同一单位不能既是主持单位又是参建单位"),
    ],
)
def test_create_shows_chinese_errors_beside_fields_and_saves_nothing(client, lead, second_college, enterprise,
                                                                      case, field, message):
    client.force_login(lead)
    third = factories.organization("无锡职业技术学院")
    fourth = factories.organization("常州信息职业技术学院")
    if case == "fourth_host":
        data = form_data(hosts=[lead.organization, second_college, third])
        data["host_4"] = str(fourth.pk)  # a crafted fourth host: the page only offers three selects
    elif case == "duplicate_host":
        data = form_data(hosts=[lead.organization, lead.organization])
    elif case == "served_is_core":
        data = form_data(hosts=[lead.organization], served=("510201", "510202"))
    elif case == "six_served":
        data = form_data(hosts=[lead.organization],
                         served=("510202", "510203", "510204", "510205", "510206", "510207"))
    else:
        data = form_data(hosts=[lead.organization, second_college], participants=[enterprise, second_college])
    response = client.post(reverse("libraries:create"), data)
    _assert_error_beside(response, field, message)
    assert "请更正下列错误，本次内容尚未保存。" in page(response)
    # The user's input is kept.
    assert response.context["form"]["name"].value() == "软件技术专业教学资源库"
    assert 'value="软件技术专业教学资源库"' in page(response)
    assert not Library.objects.exists()
    assert not TeamMember.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="library.").exists()


def test_create_reports_every_broken_rule_at_once(client, lead, second_college):
    client.force_login(lead)
    data = form_data(hosts=[second_college], served=("510201",), participants=[second_college],
                     build_end="2026-01-01")
    response = client.post(reverse("libraries:create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "申报人所在单位必须是主持单位之一。" in errors["host_1"]
    assert "核心专业不能同时作为服务专业。" in errors["served_majors"]
    assert "同一单位不能既是主持单位又是参建单位。" in errors["participants"]
    assert "建设期结束日期必须晚于开始日期。" in errors["build_end"]
    assert not Library.objects.exists()


def test_create_form_requires_fields_in_chinese(client, lead):
    client.force_login(lead)
    response = client.post(reverse("libraries:create"), {"name": "", "build_start": "not a date"})
    assert response.status_code == 400
    html = page(response)
    assert "这个字段是必填项。" in html
    assert not Library.objects.exists()


def test_edit_changes_the_application_and_keeps_errors_beside_fields(client, library, lead, second_college,
                                                                     enterprise):
    client.force_login(lead)
    response = client.get(edit_url(library))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["host_1"].value() == lead.organization.pk and form["host_2"].value() == second_college.pk
    # An error: nothing changes.
    bad = form_data(hosts=[lead.organization, second_college], participants=[second_college], name="新名称")
    response = client.post(edit_url(library), bad)
    assert response.status_code == 400
    assert "同一单位不能既是主持单位又是参建单位。" in response.context["form"].errors["participants"]
    library.refresh_from_db()
    assert library.name == "计算机应用技术专业教学资源库"
    # A good edit.
    good = form_data(hosts=[lead.organization], participants=[enterprise, second_college], name="新名称")
    response = client.post(edit_url(library), good)
    assert response.status_code == 302
    library.refresh_from_db()
    assert library.name == "新名称"
    assert library.hosts.count() == 1 and library.participants.count() == 2
    assert audit_actions(library) == ["library.create", "library.update"]


def test_edit_is_refused_once_submitted(client, library, lead, province_admin):
    Library.objects.filter(pk=library.pk).update(status=S.SUBMITTED)
    client.force_login(lead)
    response = client.get(edit_url(library))
    assert response.status_code == 403
    assert "只有项目负责人可以修改申报材料" in page(response)
    client.force_login(province_admin)
    response = client.post(edit_url(library), form_data(hosts=[library.created_by.organization], name="改名"))
    assert response.status_code == 403
    library.refresh_from_db()
    assert library.name != "改名"


# --- lifecycle --------------------------------------------------------------------------------------------------

def test_happy_path_create_submit_approve_build(client, lead, province_admin, second_college, enterprise):
    client.force_login(lead)
    response = client.post(reverse("libraries:create"),
                           form_data(hosts=[lead.organization, second_college], participants=[enterprise]))
    library = Library.objects.get()
    assert response.status_code == 302

    response = client.post(transition_url(library, "submit"), {"reason": ""}, follow=True)
    assert response.status_code == 200
    library.refresh_from_db()
    assert library.status == S.SUBMITTED and library.submitted_at is not None
    assert "已完成：提交申报" in page(response)

    client.force_login(province_admin)
    workbench = page(client.get(reverse("libraries:workbench")))
    assert library.name in workbench
    detail = page(client.get(detail_url(library)))
    assert "批准立项" in detail and "不予立项" in detail
    response = client.post(transition_url(library, "approve"), {"reason": "材料齐全，同意立项。"})
    assert response.status_code == 302
    library.refresh_from_db()
    assert library.status == S.APPROVED

    client.force_login(lead)
    response = client.post(transition_url(library, "start_building"), {"reason": ""})
    assert response.status_code == 302
    library.refresh_from_db()
    assert library.status == S.BUILDING

    assert audit_actions(library) == ["library.create", "library.submit", "library.approve", "library.start_building"]
    approve = AuditEntry.objects.get(target_id=str(library.pk), action="library.approve")
    assert approve.actor == province_admin and approve.reason == "材料齐全，同意立项。"
    assert approve.before == {"status": "submitted"} and approve.after == {"status": "approved"}

    # The history on the page, newest first, with before → after labels and the reason.
    html = page(client.get(detail_url(library)))
    history = html[html.index("生命周期记录"):]
    assert history.index("开始建设") < history.index("批准立项") < history.index("提交申报") < history.index("创建申报")
    assert "已立项" in history and "建设中" in history and "材料齐全，同意立项。" in history


def test_transition_needs_a_reason_in_chinese(client, library, province_admin):
    Library.objects.filter(pk=library.pk).update(status=S.SUBMITTED)
    client.force_login(province_admin)
    response = client.post(transition_url(library, "approve"), {"reason": "  "})
    assert response.status_code == 400
    html = page(response)
    assert "请填写理由。" in html
    assert 'id="action-approve" open' in html
    library.refresh_from_db()
    assert library.status == S.SUBMITTED
    assert not AuditEntry.objects.filter(action="library.approve").exists()


def test_transition_by_the_wrong_role_is_refused_with_403(client, library, lead, outsider):
    Library.objects.filter(pk=library.pk).update(status=S.SUBMITTED)
    client.force_login(lead)
    response = client.post(transition_url(library, "approve"), {"reason": "我批准我自己"})
    assert response.status_code == 403
    assert "只有资源库所在省份的管理员可以执行此操作。" in page(response)
    library.refresh_from_db()
    assert library.status == S.SUBMITTED
    # A user of another organisation on a public library.
    Library.objects.filter(pk=library.pk).update(status=S.APPROVED)
    client.force_login(outsider)
    response = client.post(transition_url(library, "start_building"))
    assert response.status_code == 403
    assert "只有项目负责人可以执行此操作。" in page(response)
    library.refresh_from_db()
    assert library.status == S.APPROVED


def test_illegal_transition_is_shown_not_a_500(client, library, lead):
    client.force_login(lead)
    response = client.post(transition_url(library, "start_building"))
    assert response.status_code == 409
    html = page(response)
    refusal = html[html.index('id="action-refusal"'):]
    refusal = refusal[:refusal.index("</div></div>")]
    assert "草稿" in refusal and "建设中" in refusal  # names the current and the requested state
    response = client.post(transition_url(library, "no_such_action"))
    assert response.status_code == 400
    library.refresh_from_db()
    assert library.status == S.DRAFT


def test_transition_with_htmx_returns_fragment_or_redirect(client, library, lead, province_admin):
    client.force_login(lead)
    response = client.post(transition_url(library, "submit"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(library)
    client.force_login(province_admin)
    response = client.post(transition_url(library, "decline"), {"reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = page(response)
    assert html.lstrip().startswith("<details") and "请填写理由。" in html and "<html" not in html


def test_anonymous_transition_goes_to_login(client, library):
    response = client.post(transition_url(library, "submit"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- team -------------------------------------------------------------------------------------------------------

def test_lead_invites_and_removes_team_members(client, library, lead, builder, second_college, outsider):
    colleague = factories.user("colleague", org=second_college)
    client.force_login(lead)
    url = reverse("libraries:team_add", args=[library.pk])
    response = client.post(url, {"username": "colleague", "role": "reviewer"})
    assert response.status_code == 302
    member = TeamMember.objects.get(library=library, user=colleague)
    assert member.role == "reviewer"

    # Errors beside the fields, in Chinese.
    response = client.post(url, {"username": "outsider", "role": "builder"})
    assert response.status_code == 400
    assert "团队成员必须属于主持单位或参建单位。" in response.context["team_form"].errors["username"]
    response = client.post(url, {"username": "nobody", "role": "builder"})
    assert "没有使用此用户名的用户。" in response.context["team_form"].errors["username"]
    response = client.post(url, {"username": "colleague", "role": "reviewer"})
    assert "该用户已担任此角色。" in page(response)
    response = client.post(url, {"username": "builder", "role": "lead"})
    assert response.status_code == 400 and response.context["team_form"].errors["role"]
    assert not TeamMember.objects.filter(user=outsider).exists()

    # htmx gets the team fragment only.
    response = client.post(url, {"username": "builder", "role": "builder"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = page(response)
    assert html.lstrip().startswith('<section class="card" id="team"') and "用户builder" in html

    remove = reverse("libraries:team_remove", args=[library.pk, member.pk])
    assert client.post(remove).status_code == 302
    assert not TeamMember.objects.filter(pk=member.pk).exists()
    lead_member = TeamMember.objects.get(library=library, role="lead")
    response = client.post(reverse("libraries:team_remove", args=[library.pk, lead_member.pk]))
    assert response.status_code == 400 and "不能将项目负责人移出团队。" in page(response)
    assert audit_actions(library).count("library.team_add") == 2
    assert "library.team_remove" in audit_actions(library)


def test_team_management_is_refused_to_others(client, library, lead, builder, second_college):
    from reslib.libraries import services

    services.add_team_member(library, by=lead, user=builder, role="builder")
    client.force_login(builder)  # a member, but not the lead
    html = page(client.get(detail_url(library)))
    assert "邀请团队成员" not in html
    response = client.post(reverse("libraries:team_add", args=[library.pk]), {"username": "lead", "role": "reviewer"})
    assert response.status_code == 403
    member = TeamMember.objects.get(user=builder)
    response = client.post(reverse("libraries:team_remove", args=[library.pk, member.pk]))
    assert response.status_code == 403
    assert TeamMember.objects.filter(pk=member.pk).exists()


# --- workbench --------------------------------------------------------------------------------------------------

def test_workbench_lists_pending_applications_of_the_province(client, lead, province_admin, other_province_admin,
                                                               operator):
    pending = factories.library(lead, name="待审批资源库", status=S.SUBMITTED)
    factories.library(lead, name="建设中资源库", status=S.BUILDING)
    factories.library(lead, name="草稿资源库")
    zj_lead = factories.user("zj_lead", org=factories.organization(province="330000"))
    factories.library(zj_lead, name="浙江待审批资源库", province="330000", status=S.SUBMITTED)

    client.force_login(province_admin)
    response = client.get(reverse("libraries:workbench"))
    assert response.status_code == 200
    html = page(response)
    assert "待审批资源库" in html and detail_url(pending) in html
    assert "浙江待审批资源库" not in html and "草稿资源库" not in html
    assert "江苏省" in html
    assert f'{reverse("libraries:list")}?status=building&amp;province=320000' in html
    counts = {row["status"]: row["count"] for row in response.context["by_status"]}
    assert counts[S.SUBMITTED] == 1 and counts[S.BUILDING] == 1 and counts[S.DRAFT] == 0

    client.force_login(other_province_admin)
    html = page(client.get(reverse("libraries:workbench")))
    assert "浙江待审批资源库" in html and "待审批资源库</a>" not in html.replace("浙江待审批资源库</a>", "")

    client.force_login(operator)
    html = page(client.get(reverse("libraries:workbench")))
    assert "待审批资源库" in html and "浙江待审批资源库" in html


def test_workbench_is_refused_to_others(client, lead, outsider):
    response = client.get(reverse("libraries:workbench"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (lead, outsider, factories.user("org_admin", org=lead.organization, role=RoleGrant.Role.ORG_ADMIN)):
        client.force_login(user)
        response = client.get(reverse("libraries:workbench"))
        assert response.status_code == 403
        assert "工作台仅供省级管理员和平台运营人员使用。" in page(response)


# --- language ---------------------------------------------------------------------------------------------------

def test_english_is_selectable(client, lead):
    library = factories.library(lead, status=S.BUILDING)
    client.cookies["django_language"] = "en"
    html = page(client.get(detail_url(library)))
    assert "Lifecycle history" in html and "Under construction" in html and "Lead host" in html
    client.cookies.pop("django_language")
    assert "生命周期记录" in page(client.get(detail_url(library)))


def test_organisation_types_of_participants_are_shown(client, library, lead):
    client.force_login(lead)
    html = page(client.get(detail_url(library)))
    assert str(Organization.Type.ENTERPRISE.label) in html


@pytest.mark.parametrize("who", ["anonymous", "learner", "member", "province_admin", "operator"])
def test_detail_names_people_by_the_rule_of_can_see_people(client, published, audience, who):
    library, people = published
    user, insider = audience[who]
    if user is not None:
        client.force_login(user)
    html = page(client.get(detail_url(library)))
    team = html[html.index('id="team"'):html.index('id="history-title"')]
    history = html[html.index('id="history-title"'):]
    # The team as published: real names and institutions, for everyone.
    assert "王建国" in team and "李晓梅" in team and "南京工业职业技术大学" in team
    if insider:
        assert "刘文华" in history  # who approved it
        assert "zhang_nameless · 审核员" in history
    else:
        assert "未填写姓名" in team
        assert "刘文华" not in history and "王建国" not in history
        assert "省级管理员" in history and "项目负责人 · 江苏信息职业技术学院" in history
        assert "审核员 · 南京工业职业技术大学" in history  # whom the team gained, by role and institution
        assert not any(name in html for name in USERNAMES)
