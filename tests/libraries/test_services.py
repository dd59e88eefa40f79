import datetime

import pytest
from django.core import mail
from django.db import transaction
from django.test import TestCase

from reslib.accounts.models import RoleGrant
from reslib.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry
from reslib.libraries import services
from reslib.libraries.lifecycle import LIFECYCLE
from reslib.libraries.models import Library, LibraryHost, LibraryParticipant, TeamMember
from reslib.notifications.models import Notification
from reslib.orgs.models import Region

from .. import factories

S = Library.Status


def error_codes(exc_info) -> dict:
    return {field: [e["code"] for e in errs] for field, errs in exc_info.value.fields.items()}


# --- filing an application -------------------------------------------------------------------------------------


def test_create_library_makes_applicant_lead_and_writes_audit(lead, second_college, enterprise):
    lib = factories.library(lead, hosts=[lead.organization, second_college], participants=[enterprise])
    assert lib.status == S.DRAFT
    assert [h.organization for h in lib.hosts.order_by("position")] == [lead.organization, second_college]
    assert TeamMember.objects.get(library=lib, role="lead").user == lead
    entry = AuditEntry.objects.get(action="library.create", target_id=str(lib.pk))
    assert entry.actor == lead and entry.after["hosts"] == [lead.organization.pk, second_college.pk]


def test_build_end_defaults_to_one_year(lead):
    lib = factories.library(lead, start=datetime.date(2026, 2, 28))
    assert lib.build_end == datetime.date(2027, 2, 28)


def test_build_end_follows_the_province_setting(lead):
    Region.objects.filter(code="320000").update(build_period_months=18)
    lib = factories.library(lead, start=datetime.date(2026, 8, 31))
    assert lib.build_end == datetime.date(2028, 2, 29)


def test_add_months_clamps_to_month_end():
    assert services.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert services.add_months(datetime.date(2026, 11, 15), 14) == datetime.date(2028, 1, 15)


@pytest.fixture
def orgs(db):
    return [factories.organization() for _ in range(4)]


def test_fourth_host_refused(lead, orgs):
    with pytest.raises(ValidationFailed) as exc:
        services.create_library(factories.application(hosts=[lead.organization, *orgs[:3]]), by=lead)
    assert exc.value.code == "library.too_many_hosts"
    assert not Library.objects.exists() and not LibraryHost.objects.exists()


def test_served_major_rules(lead):
    cases = {
        ("510202", "510202"): "library.served_major_duplicate",
        ("510201",): "library.served_major_is_core",
        ("510202", "510203", "510204", "510205", "510206", "510207"): "library.too_many_served_majors",
    }
    for served, code in cases.items():
        with pytest.raises(ValidationFailed) as exc:
            services.create_library(factories.application(hosts=[lead.organization], served=served), by=lead)
        assert code in error_codes(exc)["served_majors"], served
    assert not Library.objects.exists()


def test_five_served_majors_allowed(lead):
    lib = factories.library(lead, served=("510202", "510203", "510204", "510205", "510206"))
    assert lib.served_majors.count() == 5


def test_host_cannot_be_participant(lead, second_college):
    with pytest.raises(ValidationFailed) as exc:
        services.create_library(
            factories.application(hosts=[lead.organization, second_college], participants=[second_college]), by=lead
        )
    assert error_codes(exc)["participants"] == ["library.host_is_participant"]
    assert not LibraryParticipant.objects.exists()


def test_every_broken_rule_is_reported_at_once(lead, orgs):
    app = factories.application(hosts=[lead.organization, orgs[0], orgs[0]], served=("510201",),
                                start=datetime.date(2026, 9, 1), end=datetime.date(2026, 8, 1), name="")
    with pytest.raises(ValidationFailed) as exc:
        services.create_library(app, by=lead)
    codes = error_codes(exc)
    assert codes["name"] == ["library.name_required"]
    assert codes["hosts"] == ["library.host_duplicate"]
    assert codes["served_majors"] == ["library.served_major_is_core"]
    assert codes["build_end"] == ["library.build_end_before_start"]


def test_applicant_institution_must_host(lead, second_college):
    with pytest.raises(ValidationFailed) as exc:
        services.create_library(factories.application(hosts=[second_college]), by=lead)
    assert exc.value.code == "library.applicant_not_host"


def test_user_without_institution_cannot_apply(db):
    learner = factories.user("learner")
    with pytest.raises(PermissionDenied):
        services.create_library(factories.application(hosts=[factories.organization()]), by=learner)


def test_update_replaces_hosts_and_majors_and_audits_before_after(library, lead, enterprise):
    app = factories.application(hosts=[lead.organization], participants=[enterprise], served=("510205",))
    services.update_library(library, app, by=lead)
    assert list(library.hosts.values_list("organization", flat=True)) == [lead.organization.pk]
    entry = AuditEntry.objects.get(action="library.update")
    assert len(entry.before["hosts"]) == 2 and entry.after["hosts"] == [lead.organization.pk]


def test_invalid_update_leaves_library_untouched(library, lead, orgs):
    hosts_before = list(library.hosts.values_list("organization", flat=True))
    with pytest.raises(ValidationFailed):
        services.update_library(library, factories.application(hosts=[lead.organization, *orgs]), by=lead)
    assert list(library.hosts.values_list("organization", flat=True)) == hosts_before
    assert not AuditEntry.objects.filter(action="library.update").exists()


def test_only_lead_edits_and_only_before_filing(library, lead, builder, province_admin):
    app = factories.application(hosts=[lead.organization])
    with pytest.raises(PermissionDenied):
        services.update_library(library, app, by=builder)
    services.transition_library(library, "submit", by=lead)
    library.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.update_library(library, app, by=lead)


# --- lifecycle -----------------------------------------------------------------------------------------------------


def test_whole_lifecycle_by_the_right_roles(library, lead, province_admin):
    steps = [
        ("submit", lead, S.SUBMITTED), ("approve", province_admin, S.APPROVED),
        ("start_building", lead, S.BUILDING), ("request_acceptance", lead, S.AWAITING_ACCEPTANCE),
        ("fail_acceptance", province_admin, S.ACCEPTANCE_FAILED), ("start_rectification", lead, S.RECTIFYING),
        ("request_acceptance", lead, S.AWAITING_ACCEPTANCE), ("accept", province_admin, S.ACCEPTED),
        ("recommend_national", province_admin, S.RECOMMENDED_NATIONAL),
    ]
    for action, actor, expected in steps:
        library = services.transition_library(library, action, by=actor, reason=f"理由：{action}")
        assert library.status == expected
    entries = AuditEntry.objects.filter(target_id=str(library.pk), action__in=[f"library.{a}" for a, _, _ in steps])
    assert entries.count() == len(steps)
    last = entries.first()
    assert last.before == {"status": "accepted"} and last.after == {"status": "recommended_national"}
    assert last.reason == "理由：recommend_national"


def test_decline_withdraw_and_revise(library, lead, province_admin):
    services.transition_library(library, "submit", by=lead)
    services.transition_library(library, "withdraw", by=lead, reason="补充材料")
    services.transition_library(library, "submit", by=lead)
    library = services.transition_library(library, "decline", by=province_admin, reason="建设基础不足")
    assert library.status == S.NOT_APPROVED
    library = services.transition_library(library, "revise", by=lead)
    assert library.status == S.DRAFT


def test_every_transition_in_the_table_is_reachable_and_guarded(library, lead, province_admin, builder):
    for transition in LIFECYCLE.transitions:
        for source in transition.source:
            Library.objects.filter(pk=library.pk).update(status=source)
            wrong_actor = province_admin if transition.actor == "lead" else lead
            with pytest.raises(PermissionDenied) as exc:
                services.transition_library(library, transition.action, by=wrong_actor, reason="x")
            assert exc.value.code == "library.transition_denied"
            with pytest.raises(PermissionDenied):
                services.transition_library(library, transition.action, by=builder, reason="x")
            right_actor = lead if transition.actor == "lead" else province_admin
            assert services.transition_library(library, transition.action, by=right_actor,
                                               reason="x").status == transition.target


def test_illegal_transition_names_current_and_requested_state(library, province_admin):
    with pytest.raises(IllegalTransition) as exc:
        services.transition_library(library, "approve", by=province_admin, reason="同意")
    assert exc.value.code == "state.illegal_transition"
    assert exc.value.as_dict()["current_state"] == "draft"
    assert exc.value.as_dict()["requested_state"] == "approved"
    library.refresh_from_db()
    assert library.status == S.DRAFT


def test_province_admin_of_another_province_cannot_approve(library, lead, other_province_admin):
    services.transition_library(library, "submit", by=lead)
    with pytest.raises(PermissionDenied):
        services.transition_library(library, "approve", by=other_province_admin, reason="同意")


def test_decisions_need_a_reason(library, lead, province_admin):
    services.transition_library(library, "submit", by=lead)
    with pytest.raises(ValidationFailed) as exc:
        services.transition_library(library, "decline", by=province_admin, reason="  ")
    assert exc.value.code == "library.reason_required"
    library.refresh_from_db()
    assert library.status == S.SUBMITTED


def test_unknown_action(library, lead):
    with pytest.raises(ValidationFailed) as exc:
        services.transition_library(library, "teleport", by=lead)
    assert exc.value.code == "state.unknown_action"


def test_available_actions_depend_on_role(library, lead, province_admin, operator):
    assert [t.action for t in services.available_actions(library, lead)] == ["submit"]
    assert services.available_actions(library, province_admin) == []
    library = services.transition_library(library, "submit", by=lead)
    assert {t.action for t in services.available_actions(library, province_admin)} == {"approve", "decline"}
    assert services.available_actions(library, operator) == []


# --- team ----------------------------------------------------------------------------------------------------------


def test_lead_invites_members_of_host_or_participant_institutions(library, lead, enterprise):
    engineer = factories.user("engineer", org=enterprise)
    member = services.add_team_member(library, by=lead, user=engineer, role="builder")
    assert member.invited_by == lead
    assert AuditEntry.objects.filter(action="library.team_add", after__username="engineer").exists()


def test_member_from_an_unrelated_institution_refused(library, lead, outsider):
    with pytest.raises(ValidationFailed) as exc:
        services.add_team_member(library, by=lead, user=outsider, role="builder")
    assert exc.value.code == "library.member_not_in_institutions"
    assert not TeamMember.objects.filter(user=outsider).exists()


def test_team_rules(library, lead, builder):
    services.add_team_member(library, by=lead, user=builder, role="reviewer")
    with pytest.raises(ValidationFailed) as exc:
        services.add_team_member(library, by=lead, user=builder, role="reviewer")
    assert exc.value.code == "library.member_exists"
    with pytest.raises(ValidationFailed) as exc:
        services.add_team_member(library, by=lead, user=builder, role="lead")
    assert exc.value.code == "library.team_role_invalid"
    with pytest.raises(PermissionDenied):
        services.add_team_member(library, by=builder, user=builder, role="builder")


def test_remove_member_but_never_the_lead(library, lead, builder):
    member = services.add_team_member(library, by=lead, user=builder, role="builder")
    with pytest.raises(PermissionDenied):
        services.remove_team_member(library, member.pk, by=builder)
    services.remove_team_member(library, member.pk, by=lead)
    assert not TeamMember.objects.filter(pk=member.pk).exists()
    lead_member = TeamMember.objects.get(library=library, role="lead")
    with pytest.raises(ValidationFailed) as exc:
        services.remove_team_member(library, lead_member.pk, by=lead)
    assert exc.value.code == "library.lead_not_removable"
    with pytest.raises(NotFound):
        services.remove_team_member(library, 999999, by=lead)


# --- notifications of lifecycle steps and team invitations --------------------------------------------------------


@pytest.fixture
def people(lead, builder, province_admin, other_province_admin, operator, college, second_college, enterprise):
    """Everyone who could conceivably be told, each with an e-mail address."""
    everyone = {
        "lead": lead, "builder": builder, "province": province_admin, "zj_province": other_province_admin,
        "operator": operator,
        "province2": factories.user("province2", role=RoleGrant.Role.PROVINCE_ADMIN, province="320000"),
        "retired_province": factories.user("retired", role=RoleGrant.Role.PROVINCE_ADMIN, province="320000",
                                           is_active=False),
        "host_admin": factories.user("host_admin", role=RoleGrant.Role.ORG_ADMIN, administered_org=college),
        "host2_admin": factories.user("host2_admin", role=RoleGrant.Role.ORG_ADMIN, administered_org=second_college),
        "participant_admin": factories.user("participant_admin", role=RoleGrant.Role.ORG_ADMIN,
                                            administered_org=enterprise),
    }
    for name, user in everyone.items():
        user.email = f"{name}@example.edu.cn"
        user.save(update_fields=["email"])
    return everyone


@pytest.fixture
def outbox(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.RESLIB_SITE_URL = "https://reslib.example.edu.cn"
    return mail.outbox


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def mailed(outbox) -> set[str]:
    return {address.split("@")[0] for message in outbox for address in message.to}


def usernames(people, *names) -> set[str]:
    return {people[name].username for name in names}


def test_submitting_tells_the_province_administrators_only(library, people, outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.transition_library(library, "submit", by=people["lead"])
    assert told("library_submitted") == usernames(people, "province", "province2")
    assert Notification.objects.count() == 2
    notice = Notification.objects.get(user=people["province"])
    assert notice.title == "待审批的资源库申报：计算机应用技术专业教学资源库"
    assert notice.body == "申报人：王建国。" and notice.url == f"/libraries/{library.pk}/"
    assert mailed(outbox) == {"province", "province2"}
    assert f"https://reslib.example.edu.cn/libraries/{library.pk}/" in outbox[0].body


@pytest.mark.parametrize("action, kind, title", [
    ("approve", "library_approved", "资源库已立项：计算机应用技术专业教学资源库"),
    ("decline", "library_declined", "资源库未立项：计算机应用技术专业教学资源库"),
])
def test_the_province_decision_tells_the_lead_and_the_host_institutions(library, people, outbox, action, kind,
                                                                         title):
    services.transition_library(library, "submit", by=people["lead"])  # its notices are not run here
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.transition_library(library, action, by=people["province"], reason="建设基础扎实")
    assert told(kind) == usernames(people, "lead", "host_admin", "host2_admin")
    assert Notification.objects.count() == 3
    notice = Notification.objects.get(user=people["lead"])
    assert notice.title == title and notice.body == f"{people['province'].display_name}的意见：建设基础扎实"
    assert mailed(outbox) == {"lead", "host_admin", "host2_admin"}


@pytest.mark.parametrize("action, kind, title", [
    ("accept", "library_accepted", "资源库验收通过：计算机应用技术专业教学资源库"),
    ("fail_acceptance", "library_acceptance_failed", "资源库验收未通过：计算机应用技术专业教学资源库"),
])
def test_the_acceptance_result_tells_the_lead(library, people, outbox, action, kind, title):
    services.add_team_member(library, by=people["lead"], user=people["builder"], role="builder")
    Library.objects.filter(pk=library.pk).update(status=S.AWAITING_ACCEPTANCE)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.transition_library(library, action, by=people["province"], reason="指标达成情况见报告")
    assert told(kind) == {"lead"}
    assert Notification.objects.count() == 1
    assert Notification.objects.get().title == title
    assert mailed(outbox) == {"lead"}


def test_the_invited_member_is_told_with_a_link_to_the_library(library, people, outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.add_team_member(library, by=people["lead"], user=people["builder"], role="reviewer")
        services.add_team_member(library, by=people["lead"], user=people["lead"], role="builder")  # self: no notice
    notice = Notification.objects.get()
    assert notice.user == people["builder"] and notice.kind == "team_added"
    assert notice.title == "您已加入资源库“计算机应用技术专业教学资源库”的团队，角色：审核员"
    assert notice.url == f"/libraries/{library.pk}/"
    assert mailed(outbox) == {"builder"}
    assert f"https://reslib.example.edu.cn/libraries/{library.pk}/" in outbox[0].body


def test_steps_nobody_else_needs_to_hear_of_send_nothing(library, people, outbox):
    services.transition_library(library, "submit", by=people["lead"])
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        services.transition_library(library, "withdraw", by=people["lead"], reason="补充材料")
    assert callbacks == [] and not Notification.objects.exists() and outbox == []


def test_nothing_is_sent_when_the_step_is_rolled_back_or_refused(library, people, outbox):
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.transition_library(library, "submit", by=people["lead"])
            services.add_team_member(library, by=people["lead"], user=people["builder"], role="builder")
            raise RuntimeError("a later step of the same transaction fails")
        with pytest.raises(PermissionDenied):
            services.transition_library(library, "submit", by=people["province"])
        with pytest.raises(PermissionDenied):
            services.add_team_member(library, by=people["builder"], user=people["builder"], role="builder")
    assert callbacks == []
    assert not Notification.objects.exists() and outbox == []
    library.refresh_from_db()
    assert library.status == S.DRAFT and not TeamMember.objects.filter(user=people["builder"]).exists()
