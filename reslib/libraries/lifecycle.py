"""The library project lifecycle: 草稿 → 已申报 → 已立项 / 未立项 → 建设中 → 待验收 → 已验收 / 验收未通过 → 整改 → …"""

from django.utils.translation import gettext_lazy as _

from reslib.core.statemachine import StateMachine, Transition

from .models import Library

S = Library.Status
LEAD = "lead"
PROVINCE_ADMIN = "province_admin"

LIFECYCLE = StateMachine(
    [
        Transition("submit", (S.DRAFT,), S.SUBMITTED, _("Submit application"), LEAD),
        Transition("withdraw", (S.SUBMITTED,), S.DRAFT, _("Withdraw application"), LEAD, reason_required=True),
        Transition("approve", (S.SUBMITTED,), S.APPROVED, _("Approve project"), PROVINCE_ADMIN, reason_required=True),
        Transition("decline", (S.SUBMITTED,), S.NOT_APPROVED, _("Decline project"), PROVINCE_ADMIN, reason_required=True),
        Transition("revise", (S.NOT_APPROVED,), S.DRAFT, _("Revise and re-apply"), LEAD),
        Transition("start_building", (S.APPROVED,), S.BUILDING, _("Start building"), LEAD),
        Transition("request_acceptance", (S.BUILDING, S.RECTIFYING), S.AWAITING_ACCEPTANCE,
                   _("Request acceptance"), LEAD),
        Transition("accept", (S.AWAITING_ACCEPTANCE,), S.ACCEPTED, _("Pass acceptance"), PROVINCE_ADMIN, reason_required=True),
        Transition("fail_acceptance", (S.AWAITING_ACCEPTANCE,), S.ACCEPTANCE_FAILED, _("Fail acceptance"),
                   PROVINCE_ADMIN, reason_required=True),
        Transition("start_rectification", (S.ACCEPTANCE_FAILED,), S.RECTIFYING, _("Start rectification"), LEAD),
        Transition("recommend_national", (S.ACCEPTED,), S.RECOMMENDED_NATIONAL, _("Recommend for national level"),
                   PROVINCE_ADMIN, reason_required=True),
    ]
)

# States in which the applicant may still change the application itself (majors, hosts, build period).
EDITABLE_STATUSES = frozenset({S.DRAFT, S.NOT_APPROVED})
# States in which the team and the participants can still change.
TEAM_EDITABLE_STATUSES = frozenset(set(S) - {S.ACCEPTED, S.RECOMMENDED_NATIONAL, S.NOT_APPROVED})
