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

from . import policies, queries, services
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


@router.get("/{library_id}/members", response={200: list[MemberOut], 404: ErrorOut}, summary="The library's team")
@paginate(Paginated)
def list_members(request, library_id: int):
    library = _visible(request, library_id)
    return (
        TeamMember.objects.filter(library=library)
        .select_related("user__organization")
        .order_by("created_at", "pk")
    )


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
    return Status(201, TeamMember.objects.select_related("user__organization").get(pk=member.pk))


@router.delete("/{library_id}/members/{member_id}", auth=LOGGED_IN, response={204: None, **COMMON_ERRORS},
               summary="Remove a team member (project lead)")
def remove_member(request, library_id: int, member_id: int):
    library = _visible(request, library_id)
    services.remove_team_member(library, member_id, by=current_user(request))
    return Status(204, None)


@router.get("/{library_id}/history", response={200: list[HistoryEntryOut], 404: ErrorOut},
            summary="The library's audit entries, newest first")
@paginate(Paginated)
def history(request, library_id: int):
    library = _visible(request, library_id)
    return AuditEntry.objects.filter(target_type=Library._meta.label_lower, target_id=str(library.pk)).order_by(
        "-created_at", "-id"
    )
