"""Resource-library API: list and file applications, update them, move them along the lifecycle, manage the team.

Every lookup goes through policies.visible_libraries(user): a library the caller may not see answers 404, exactly
like one that does not exist.
"""

from typing import Literal

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from ninja import Router
from ninja.pagination import paginate

from reslib.accounts.models import User
from reslib.core.api import COMMON_ERRORS, LOGGED_IN, ErrorOut, Paginated, Status, as_list, current_user
from reslib.core.errors import NotFound, PermissionDenied, ValidationFailed
from reslib.core.models import AuditEntry

from . import people, policies, queries, services
from .models import Library, LibraryParticipant, TeamMember
from .schemas import (
    ActionList,
    HistoryEntryOut,
    LibraryDetailOut,
    LibraryIn,
    LibraryOut,
    MemberIn,
    MemberOut,
    TransitionIn,
)

router = Router(tags=["libraries"])

# Query filters as inline enums (the models' choices classes share names like "Level", which would collide in the
# OpenAPI components).
LevelFilter = Literal[tuple(Library.Level.values)]
StatusFilter = Literal[tuple(Library.Status.values)]

WRITE_ERRORS = {**COMMON_ERRORS, 409: ErrorOut}


def _detailed(user):
    participants = LibraryParticipant.objects.select_related("organization").order_by("organization__name", "pk")
    return queries.listed(user).prefetch_related("served_majors", Prefetch("participants", queryset=participants))


def _visible(request, library_id: int, *, detailed: bool = False) -> Library:
    """The library if the caller may see it; otherwise 404, without telling whether it exists."""
    qs = _detailed(request.user) if detailed else policies.visible_libraries(request.user)
    library = qs.filter(pk=library_id).first()
    if library is None:
        raise NotFound(_("No such resource library."), code="library.not_found")
    return library


def _application(payload: LibraryIn) -> services.LibraryApplication:
    return services.LibraryApplication(**payload.dict())


@router.get("", response=list[LibraryOut], summary="Resource libraries the caller may see")
@paginate(Paginated)
def list_libraries(request, province: str = "", level: LevelFilter | None = None,
                   status: StatusFilter | None = None, major: int | None = None, q: str = ""):
    """`major` (id) matches the core or a served major; `q` matches part of the name."""
    return queries.filtered(queries.listed(request.user), q=q, province=province, level=level, status=status,
                            major=major)


@router.post("", auth=LOGGED_IN, response={201: LibraryDetailOut, **COMMON_ERRORS},
             summary="File a library application (草稿); the caller becomes its project lead")
def create_library(request, payload: LibraryIn):
    user = current_user(request)
    library = services.create_library(_application(payload), by=user)
    return Status(201, _visible(request, library.pk, detailed=True))


@router.get("/{library_id}", response={200: LibraryDetailOut, 404: ErrorOut}, summary="One resource library")
def get_library(request, library_id: int):
    return _visible(request, library_id, detailed=True)


@router.put("/{library_id}", auth=LOGGED_IN, response={200: LibraryDetailOut, **COMMON_ERRORS},
            summary="Change the application (project lead, while a draft or not approved)")
def update_library(request, library_id: int, payload: LibraryIn):
    library = _visible(request, library_id)
    services.update_library(library, _application(payload), by=current_user(request))
    return _visible(request, library_id, detailed=True)


@router.get("/{library_id}/actions", response={200: ActionList, 404: ErrorOut},
            summary="Lifecycle transitions the caller may perform now")
def list_actions(request, library_id: int):
    library = _visible(request, library_id)
    return as_list(
        {
            "action": t.action,
            "label": str(t.label),
            "target": t.target.value,
            "target_label": str(t.target.label),
            "reason_required": t.reason_required,
        }
        for t in services.available_actions(library, request.user)
    )


@router.post("/{library_id}/transitions", auth=LOGGED_IN, response={200: LibraryDetailOut, **WRITE_ERRORS},
             summary="Move the library along its lifecycle")
def transition(request, library_id: int, payload: TransitionIn):
    """Illegal from the current state → 409 `state.illegal_transition` (with current_state / requested_state);
    the wrong role → 403 `library.transition_denied`."""
    library = _visible(request, library_id)
    services.transition_library(library, payload.action, by=current_user(request), reason=payload.reason)
    return _visible(request, library_id, detailed=True)


class _Rows:
    """A queryset whose page is turned into output rows in one go (bulk look-ups per page, not per row)."""

    def __init__(self, qs, rows):
        self.qs, self.rows = qs, rows

    def __len__(self):  # the paginator's count
        return self.qs.count()

    def __getitem__(self, item):
        return self.rows(list(self.qs[item]))


def _member_out(member: TeamMember, *, insider: bool) -> dict:
    user = member.user
    return {
        "id": member.pk, "name": people.member_name(user, insider=insider), "organization": user.organization,
        "role": member.role, "role_label": str(member.get_role_display()), "created_at": member.created_at,
        "user": user if insider else None,
    }


@router.get("/{library_id}/members", response={200: list[MemberOut], 404: ErrorOut}, summary="The library's team")
@paginate(Paginated)
def list_members(request, library_id: int):
    library = _visible(request, library_id)
    insider = policies.can_see_people(request.user, library)
    members = (
        TeamMember.objects.filter(library=library)
        .select_related("user__organization")
        .order_by("created_at", "pk")
    )
    return _Rows(members, lambda page: [_member_out(m, insider=insider) for m in page])


def _lookup_user(ref: int | str) -> User:
    qs = User.objects.select_related("organization").filter(is_active=True)
    user = qs.filter(pk=ref).first() if isinstance(ref, int) else qs.filter(username=ref.strip()).first()
    if user is None:
        raise ValidationFailed.single("user", "library.member_user_unknown", _("There is no such user."))
    return user


@router.post("/{library_id}/members", auth=LOGGED_IN, response={201: MemberOut, **COMMON_ERRORS},
             summary="Invite a team member with a role (project lead)")
def add_member(request, library_id: int, payload: MemberIn):
    user = current_user(request)
    library = _visible(request, library_id)
    if not policies.can_manage_team(user, library):
        raise PermissionDenied(_("Only the project lead can manage the team."), code="library.team_denied")
    member = services.add_team_member(library, by=user, user=_lookup_user(payload.user), role=payload.role)
    member = TeamMember.objects.select_related("user__organization").get(pk=member.pk)
    return Status(201, _member_out(member, insider=True))


@router.delete("/{library_id}/members/{member_id}", auth=LOGGED_IN, response={204: None, **COMMON_ERRORS},
               summary="Remove a team member (project lead)")
def remove_member(request, library_id: int, member_id: int):
    library = _visible(request, library_id)
    services.remove_team_member(library, member_id, by=current_user(request))
    return Status(204, None)


def _history_rows(library: Library, entries: list[AuditEntry], *, insider: bool) -> list[dict]:
    actor_roles = people.public_roles(library, [e.actor for e in entries])
    return [{
        "id": e.pk, "created_at": e.created_at,
        "actor_username": e.actor_username if insider else None,
        "actor_name": (e.actor.display_name if e.actor else e.actor_username) if insider else None,
        "actor_role": actor_roles.get(e.actor_id, ""), "action": e.action,
        "before": e.before if insider else people.without_people(e.before),
        "after": e.after if insider else people.without_people(e.after),
        "reason": e.reason,
    } for e in entries]


@router.get("/{library_id}/history", response={200: list[HistoryEntryOut], 404: ErrorOut},
            summary="The library's audit entries, newest first")
@paginate(Paginated)
def history(request, library_id: int):
    library = _visible(request, library_id)
    insider = policies.can_see_people(request.user, library)
    entries = (AuditEntry.objects.filter(target_type=Library._meta.label_lower, target_id=str(library.pk))
               .select_related("actor__organization").order_by("-created_at", "-id"))
    return _Rows(entries, lambda page: _history_rows(library, page, insider=insider))
