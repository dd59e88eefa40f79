"""Resource-library API: visibility, applications with stable error codes, lifecycle transitions, team, history."""

import pytest
from django.test import Client

from reslib.accounts import services as account_services
from reslib.core.models import AuditEntry
from reslib.libraries.models import Library, LibraryHost, LibraryParticipant, TeamMember

from .. import factories
from .conftest import USERNAMES

API = "/api/v1"
S = Library.Status


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def field_codes(error: dict, field: str) -> list[str]:
    return [e["code"] for e in error["fields"].get(field, [])]


def as_user(user, address="127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=address)
    if user is not None:
        client.force_login(user)
    return client


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def body_for(hosts, participants=(), core="510201", served=("510202", "510203"), **extra) -> dict:
    data = {
        "name": "软件技术专业教学资源库", "description": "面向软件技术专业的共建共享资源库。", "level": "provincial",
        "province": "320000", "core_major": factories.major(core).pk,
        "served_majors": [factories.major(c).pk for c in served], "hosts": [o.pk for o in hosts],
        "participants": [o.pk for o in participants], "build_start": "2026-09-01",
    }
    data.update(extra)
    return data


def counts() -> tuple:
    return (Library.objects.count(), LibraryHost.objects.count(), LibraryParticipant.objects.count(),
            TeamMember.objects.count(), Library.served_majors.through.objects.count(), AuditEntry.objects.count())


# --- listing and visibility ----------------------------------------------------------------------------------


def test_list_shows_only_what_the_caller_may_see(lead, outsider, province_admin, other_province_admin, college):
    draft = factories.library(lead, name="草稿资源库")
    submitted = factories.library(lead, name="已申报资源库", status=S.SUBMITTED)
    building = factories.library(lead, name="建设中资源库", status=S.BUILDING)

    def ids(user):
        body = as_user(user).get(f"{API}/libraries").json()
        assert set(body) == {"items", "count"} and body["count"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    assert ids(None) == {building.pk}
    assert ids(outsider) == {building.pk}
    assert ids(other_province_admin) == {building.pk}
    assert ids(province_admin) == {building.pk, submitted.pk}
    assert ids(lead) == {building.pk, submitted.pk, draft.pk}


def test_list_filters(lead, college):
    software = factories.library(lead, name="软件技术资源库", core="510203", served=("510201",), status=S.BUILDING,
                                 level="school")
    network = factories.library(lead, name="网络技术资源库", core="510202", served=("510205",), status=S.APPROVED)
    client = as_user(None)

    def ids(**params):
        return [item["id"] for item in client.get(f"{API}/libraries", params).json()["items"]]

    assert set(ids(province="320000")) == {software.pk, network.pk}
    assert ids(province="330000") == []
    assert ids(level="school") == [software.pk]
    assert ids(status="approved") == [network.pk]
    assert ids(major=factories.major("510203").pk) == [software.pk]  # core major
    assert ids(major=factories.major("510205").pk) == [network.pk]  # served major
    assert ids(q="网络") == [network.pk]
    assert_error(client.get(f"{API}/libraries", {"status": "flying"}), 422, "validation.invalid")


def test_list_has_no_query_per_row(lead, second_college, django_assert_max_num_queries):
    for i in range(8):
        factories.library(lead, name=f"资源库{i}", hosts=[lead.organization, second_college], status=S.BUILDING)
    client = as_user(lead)
    client.get(f"{API}/libraries")  # warm the session
    with django_assert_max_num_queries(8):
        body = client.get(f"{API}/libraries").json()
    assert body["count"] == 8
    assert body["items"][0]["lead_host"]["id"] == lead.organization.pk
    assert body["items"][0]["status_label"] and body["items"][0]["core_major"]["code"] == "510201"


def test_detail_of_an_invisible_library_is_404_like_a_missing_one(library, outsider, other_province_admin):
    for user in (None, outsider, other_province_admin):
        client = as_user(user)
        missing = assert_error(client.get(f"{API}/libraries/999999"), 404, "library.not_found")
        hidden = assert_error(client.get(f"{API}/libraries/{library.pk}"), 404, "library.not_found")
        assert missing == hidden
        for suffix in ("actions", "members", "history"):
            assert_error(client.get(f"{API}/libraries/{library.pk}/{suffix}"), 404, "library.not_found")


def test_detail_describes_the_library(library, lead, second_college, enterprise):
    body = as_user(lead).get(f"{API}/libraries/{library.pk}").json()
    assert body["status"] == "draft" and body["province"]["code"] == "320000"
    assert [(h["position"], h["organization"]["id"]) for h in body["hosts"]] == [
        (1, lead.organization.pk), (2, second_college.pk)]
    assert body["lead_host"]["id"] == lead.organization.pk
    assert [p["id"] for p in body["participants"]] == [enterprise.pk]
    assert [m["code"] for m in body["served_majors"]] == ["510202", "510203"]
    assert body["build_start"] == "2026-09-01" and body["build_end"] == "2027-09-01"


# --- filing and changing an application --------------------------------------------------------------------


def test_lead_files_an_application(lead, second_college, enterprise):
    client = as_user(lead, address="203.0.113.30")
    response = post(client, f"{API}/libraries", body_for([lead.organization, second_college], [enterprise]))
    assert response.status_code == 201, response.content
    body = response.json()
    library = Library.objects.get(pk=body["id"])
    assert library.status == S.DRAFT and body["status"] == "draft"
    assert TeamMember.objects.get(library=library, role="lead").user == lead
    entry = AuditEntry.objects.get(action="library.create", target_id=str(library.pk))
    assert entry.actor == lead and entry.client_address == "203.0.113.30"


def test_user_without_institution_cannot_apply(college):
    learner = factories.user("learner")
    before = counts()
    assert_error(post(as_user(learner), f"{API}/libraries", body_for([college])), 403, "library.apply_denied")
    assert counts() == before


def test_anonymous_cannot_apply(college):
    assert_error(post(as_user(None), f"{API}/libraries", body_for([college])), 401, "auth.required")


@pytest.fixture
def many_orgs(db):
    return [factories.organization() for _ in range(4)]


@pytest.mark.parametrize(
    "case, field, code",
    [
        ("fourth_host", "hosts", "library.too_many_hosts"),
        ("duplicate_served", "served_majors", "library.served_major_duplicate"),
        ("sixth_served", "served_majors", "library.too_many_served_majors"),
        ("served_is_core", "served_majors", "library.served_major_is_core"),
        ("host_is_participant", "participants", "library.host_is_participant"),
        ("no_host", "hosts", "library.host_required"),
        ("end_before_start", "build_end", "library.build_end_before_start"),
        ("missing_name", "name", "library.name_required"),
    ],
)
def test_bad_applications_answer_stable_codes_and_save_nothing(lead, many_orgs, case, field, code):
    own = lead.organization
    bodies = {
        "fourth_host": body_for([own, *many_orgs[:3]]),
        "duplicate_served": body_for([own], served=("510202", "510202")),
        "sixth_served": body_for([own], served=("510202", "510203", "510204", "510205", "510206", "510207")),
        "served_is_core": body_for([own], core="510201", served=("510201", "510202")),
        "host_is_participant": body_for([own, many_orgs[0]], participants=[many_orgs[0]]),
        "no_host": body_for([]),
        "end_before_start": body_for([own], build_end="2026-08-01"),
        "missing_name": body_for([own], name="   "),
    }
    before = counts()
    error = assert_error(post(as_user(lead), f"{API}/libraries", bodies[case]), 400, code)
    assert code in field_codes(error, field)
    assert counts() == before


def test_several_broken_rules_are_reported_together(lead, many_orgs):
    body = body_for([lead.organization, *many_orgs[:3]], core="510201", served=("510201", "510201"))
    error = assert_error(post(as_user(lead), f"{API}/libraries", body), 400, "library.served_major_duplicate")
    assert "library.too_many_hosts" in field_codes(error, "hosts")
    assert {"library.served_major_duplicate", "library.served_major_is_core"} <= set(
        field_codes(error, "served_majors"))


def test_lead_updates_the_draft(library, lead, enterprise):
    client = as_user(lead)
    data = body_for([lead.organization], [enterprise], name="改名后的资源库", build_end="2028-06-30")
    response = client.put(f"{API}/libraries/{library.pk}", data, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "改名后的资源库" and response.json()["build_end"] == "2028-06-30"
    assert [h["organization"]["id"] for h in response.json()["hosts"]] == [lead.organization.pk]
    entry = AuditEntry.objects.get(action="library.update", target_id=str(library.pk))
    assert entry.before["name"] != entry.after["name"]


def test_bad_update_changes_nothing(library, lead, many_orgs):
    before = counts()
    snapshot = as_user(lead).get(f"{API}/libraries/{library.pk}").json()
    error = assert_error(
        as_user(lead).put(f"{API}/libraries/{library.pk}", body_for([lead.organization, *many_orgs[:3]]),
                          content_type="application/json"), 400, "library.too_many_hosts")
    assert field_codes(error, "hosts") == ["library.too_many_hosts"]
    assert counts() == before
    assert as_user(lead).get(f"{API}/libraries/{library.pk}").json() == snapshot


def test_only_the_lead_may_update(library, lead, builder, outsider):
    data = body_for([lead.organization], name="篡改")
    assert_error(as_user(builder).put(f"{API}/libraries/{library.pk}", data, content_type="application/json"),
                 404, "library.not_found")  # not on the team, not visible
    TeamMember.objects.create(library=library, user=builder, role="builder", invited_by=lead)
    assert_error(as_user(builder).put(f"{API}/libraries/{library.pk}", data, content_type="application/json"),
                 403, "library.edit_denied")
    assert_error(as_user(outsider).put(f"{API}/libraries/{library.pk}", data, content_type="application/json"),
                 404, "library.not_found")
    assert Library.objects.get(pk=library.pk).name == library.name


# --- the lifecycle ---------------------------------------------------------------------------------------------


def actions(client, library) -> list[str]:
    body = client.get(f"{API}/libraries/{library.pk}/actions").json()
    assert body["count"] == len(body["items"])
    return [a["action"] for a in body["items"]]


def test_actions_depend_on_state_and_role(library, lead, province_admin, outsider):
    assert actions(as_user(lead), library) == ["submit"]
    Library.objects.filter(pk=library.pk).update(status=S.SUBMITTED)
    assert actions(as_user(lead), library) == ["withdraw"]
    assert actions(as_user(province_admin), library) == ["approve", "decline"]
    Library.objects.filter(pk=library.pk).update(status=S.BUILDING)
    assert actions(as_user(outsider), library) == []
    assert actions(as_user(None), library) == []
    item = as_user(lead).get(f"{API}/libraries/{library.pk}/actions").json()["items"][0]
    assert item == {"action": "request_acceptance", "label": item["label"], "target": "awaiting_acceptance",
                    "target_label": item["target_label"], "reason_required": False}


def test_full_path_from_draft_to_building(library, lead, province_admin):
    lead_client, admin_client = as_user(lead), as_user(province_admin, address="198.51.100.77")
    url = f"{API}/libraries/{library.pk}/transitions"
    assert post(lead_client, url, {"action": "submit"}).json()["status"] == "submitted"
    error = assert_error(post(admin_client, url, {"action": "approve"}), 400, "library.reason_required")
    assert field_codes(error, "reason") == ["library.reason_required"]
    response = post(admin_client, url, {"action": "approve", "reason": "材料齐全，同意立项。"})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert post(lead_client, url, {"action": "start_building"}).json()["status"] == "building"
    entry = AuditEntry.objects.get(action="library.approve", target_id=str(library.pk))
    assert (entry.actor, entry.reason, entry.client_address) == (province_admin, "材料齐全，同意立项。", "198.51.100.77")
    assert (entry.before, entry.after) == ({"status": "submitted"}, {"status": "approved"})


def test_illegal_transition_is_409_naming_both_states(library, lead):
    before = AuditEntry.objects.count()
    error = assert_error(post(as_user(lead), f"{API}/libraries/{library.pk}/transitions",
                              {"action": "start_building"}), 409, "state.illegal_transition")
    assert (error["current_state"], error["requested_state"]) == ("draft", "building")
    assert Library.objects.get(pk=library.pk).status == S.DRAFT
    assert AuditEntry.objects.count() == before


def test_unknown_action_is_400(library, lead):
    error = assert_error(post(as_user(lead), f"{API}/libraries/{library.pk}/transitions", {"action": "explode"}),
                         400, "state.unknown_action")
    assert "action" in error["fields"]


def test_transition_by_the_wrong_role_is_403(lead, province_admin):
    library = factories.library(lead, status=S.SUBMITTED)
    url = f"{API}/libraries/{library.pk}/transitions"
    assert_error(post(as_user(lead), url, {"action": "approve", "reason": "自己批准"}), 403,
                 "library.transition_denied")
    assert_error(post(as_user(province_admin), url, {"action": "withdraw", "reason": "替人撤回"}), 403,
                 "library.transition_denied")
    assert Library.objects.get(pk=library.pk).status == S.SUBMITTED
    assert not AuditEntry.objects.filter(action__in=["library.approve", "library.withdraw"]).exists()


def test_other_province_is_refused(lead, other_province_admin, outsider):
    hidden = factories.library(lead, name="待审资源库", status=S.SUBMITTED)
    public = factories.library(lead, name="待验收资源库", status=S.AWAITING_ACCEPTANCE)
    client = as_user(other_province_admin)
    assert_error(post(client, f"{API}/libraries/{hidden.pk}/transitions", {"action": "approve", "reason": "越权"}),
                 404, "library.not_found")
    assert_error(post(client, f"{API}/libraries/{public.pk}/transitions", {"action": "accept", "reason": "越权"}),
                 403, "library.transition_denied")
    assert_error(post(as_user(outsider), f"{API}/libraries/{public.pk}/transitions",
                      {"action": "accept", "reason": "越权"}), 403, "library.transition_denied")
    assert Library.objects.get(pk=hidden.pk).status == S.SUBMITTED
    assert Library.objects.get(pk=public.pk).status == S.AWAITING_ACCEPTANCE


def test_transitions_with_a_bearer_token(library, lead):
    _token, raw = account_services.create_api_token(lead, name="ci")
    response = Client(enforce_csrf_checks=True).post(
        f"{API}/libraries/{library.pk}/transitions", {"action": "submit"}, content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200 and response.json()["status"] == "submitted"


# --- the team --------------------------------------------------------------------------------------------------


@pytest.fixture
def engineer(enterprise):
    return factories.user("engineer", org=enterprise)


def test_lead_invites_and_removes_members(library, lead, builder, engineer):
    client = as_user(lead, address="203.0.113.44")
    url = f"{API}/libraries/{library.pk}/members"
    response = post(client, url, {"user": "builder", "role": "builder"})
    assert response.status_code == 201, response.content
    member = response.json()
    assert member["user"]["username"] == "builder" and member["role"] == "builder"
    assert post(client, url, {"user": engineer.pk, "role": "reviewer"}).status_code == 201
    listed = client.get(url).json()
    assert listed["count"] == 3
    assert [m["role"] for m in listed["items"]] == ["lead", "builder", "reviewer"]
    entry = AuditEntry.objects.get(action="library.team_add", after__username="builder")
    assert entry.client_address == "203.0.113.44"

    assert client.delete(f"{url}/{member['id']}").status_code == 204
    assert not TeamMember.objects.filter(pk=member["id"]).exists()
    assert AuditEntry.objects.filter(action="library.team_remove", target_id=str(library.pk)).count() == 1


def test_member_must_belong_to_a_host_or_participant(library, lead, outsider):
    before = counts()
    error = assert_error(post(as_user(lead), f"{API}/libraries/{library.pk}/members",
                              {"user": "outsider", "role": "builder"}), 400, "library.member_not_in_institutions")
    assert field_codes(error, "user") == ["library.member_not_in_institutions"]
    assert counts() == before


def test_member_bad_inputs(library, lead, builder):
    url = f"{API}/libraries/{library.pk}/members"
    client = as_user(lead)
    assert field_codes(assert_error(post(client, url, {"user": "nobody", "role": "builder"}), 400,
                                    "library.member_user_unknown"), "user") == ["library.member_user_unknown"]
    assert_error(post(client, url, {"user": "builder", "role": "lead"}), 400, "library.team_role_invalid")
    assert post(client, url, {"user": "builder", "role": "builder"}).status_code == 201
    assert_error(post(client, url, {"user": "builder", "role": "builder"}), 400, "library.member_exists")
    lead_member = TeamMember.objects.get(library=library, role="lead")
    assert_error(client.delete(f"{url}/{lead_member.pk}"), 400, "library.lead_not_removable")
    assert_error(client.delete(f"{url}/999999"), 404, "library.member_not_found")


def test_only_the_lead_manages_the_team(library, lead, builder, engineer, outsider):
    TeamMember.objects.create(library=library, user=builder, role="builder", invited_by=lead)
    url = f"{API}/libraries/{library.pk}/members"
    before = counts()
    assert_error(post(as_user(builder), url, {"user": "engineer", "role": "builder"}), 403, "library.team_denied")
    assert_error(post(as_user(outsider), url, {"user": "engineer", "role": "builder"}), 404, "library.not_found")
    lead_member = TeamMember.objects.get(library=library, role="lead")
    assert_error(as_user(builder).delete(f"{url}/{lead_member.pk}"), 403, "library.team_denied")
    assert counts() == before


# --- history ---------------------------------------------------------------------------------------------------


def test_history_lists_the_librarys_audit_entries(lead, province_admin, outsider):
    library = factories.library(lead)
    url = f"{API}/libraries/{library.pk}/transitions"
    post(as_user(lead), url, {"action": "submit"})
    post(as_user(province_admin), url, {"action": "approve", "reason": "同意"})
    factories.library(lead, name="别的资源库")  # its entries must not show up

    history = as_user(lead).get(f"{API}/libraries/{library.pk}/history").json()
    assert [e["action"] for e in history["items"]] == ["library.approve", "library.submit", "library.create"]
    assert history["items"][0]["reason"] == "同意" and history["items"][0]["actor_username"] == "province"
    assert "client_address" not in history["items"][0]
    # Approved libraries are public: their history is visible to whoever can see them.
    assert as_user(outsider).get(f"{API}/libraries/{library.pk}/history").json()["count"] == 3
    assert as_user(None).get(f"{API}/libraries/{library.pk}/history", {"limit": 1}).json()["count"] == 3


# --- who sees the people behind the team and the history ------------------------------------------------------

AUDIENCE = ["anonymous", "learner", "member", "province_admin", "operator"]


@pytest.mark.parametrize("who", AUDIENCE)
def test_members_show_accounts_to_insiders_only(published, audience, who):
    library, people = published
    user, insider = audience[who]
    response = as_user(user).get(f"{API}/libraries/{library.pk}/members")
    assert response.status_code == 200
    items = response.json()["items"]
    # The team as published, for everyone: real name, institution, role; the public never get a username instead.
    assert [(m["name"], m["organization"]["name"], m["role"]) for m in items] == [
        ("王建国", "江苏信息职业技术学院", "lead"), ("李晓梅", "江苏信息职业技术学院", "builder"),
        ("zhang_nameless" if insider else "未填写姓名", "南京工业职业技术大学", "reviewer")]
    if insider:
        assert [m["user"]["username"] for m in items] == ["wang_jianguo", "li_xiaomei", "zhang_nameless"]
        assert [m["user"]["id"] for m in items] == [people[k].pk for k in ("lead", "builder", "nameless")]
    else:
        assert [m["user"] for m in items] == [None, None, None]
        assert not any(name in response.content.decode() for name in USERNAMES)


@pytest.mark.parametrize("who", AUDIENCE)
def test_history_names_the_actors_to_insiders_only(published, audience, who):
    library, people = published
    user, insider = audience[who]
    response = as_user(user).get(f"{API}/libraries/{library.pk}/history")
    assert response.status_code == 200
    items = response.json()["items"]
    entries = {}
    for entry in items:  # newest first: the reviewer's team_add
        entries.setdefault(entry["action"], entry)
    approve, team_add = entries["library.approve"], entries["library.team_add"]
    # What the actor is to the library, for everyone.
    assert approve["actor_role"] == "省级管理员" and approve["reason"] == "同意立项。"
    assert entries["library.submit"]["actor_role"] == "项目负责人 · 江苏信息职业技术学院"
    assert approve["before"] == {"status": "submitted"} and approve["after"] == {"status": "approved"}
    if insider:
        assert (approve["actor_username"], approve["actor_name"]) == ("liu_wenhua", "刘文华")
        assert team_add["after"]["username"] == "zhang_nameless" and team_add["after"]["user"] == people["nameless"].pk
    else:
        assert all(e["actor_username"] is None and e["actor_name"] is None for e in items)
        assert team_add["after"] == {"role": "reviewer"}
        body = response.content.decode()
        assert "刘文华" not in body and not any(name in body for name in USERNAMES)
