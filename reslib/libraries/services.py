"""Every change to a resource-library project happens here: inside a transaction, with an audit entry."""

import calendar
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from reslib.accounts.models import RoleGrant, User
from reslib.core import audit
from reslib.core.errors import FieldErrors, NotFound, PermissionDenied, ValidationFailed
from reslib.notifications import services as notifications
from reslib.orgs.models import Major, Organization, Region

from . import policies
from .lifecycle import LIFECYCLE
from .models import MAX_HOSTS, MAX_SERVED_MAJORS, Library, LibraryHost, LibraryParticipant, TeamMember


@dataclass
class LibraryApplication:
    """What an applicant states about a library project (the application form / the API body)."""

    name: str
    level: str
    province: str
    core_major: int | None
    hosts: list[int]
    build_start: datetime.date | None
    description: str = ""
    served_majors: list[int] = field(default_factory=list)
    participants: list[int] = field(default_factory=list)
    build_end: datetime.date | None = None


AUDITED_FIELDS = ["name", "description", "level", "province", "core_major", "build_start", "build_end", "status"]


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_build_end(province: Region, start: datetime.date) -> datetime.date:
    months = province.build_period_months or settings.RESLIB_DEFAULT_BUILD_PERIOD_MONTHS
    return add_months(start, months)


def _library_snapshot(library: Library) -> dict:
    data = audit.snapshot(library, AUDITED_FIELDS)
    data["hosts"] = list(library.hosts.order_by("position").values_list("organization_id", flat=True))
    data["participants"] = sorted(library.participants.values_list("organization_id", flat=True))
    data["served_majors"] = sorted(library.served_majors.values_list("pk", flat=True))
    return data


def _validate(application: LibraryApplication, *, applicant) -> tuple[Region, Major, list, list, list]:
    """Check every rule of an application and return the looked-up objects; raise all broken rules at once."""
    errors = FieldErrors()
    name = (application.name or "").strip()
    if not name:
        errors.add("name", "library.name_required", _("Please enter the library's name."))
    elif len(name) > 128:
        errors.add("name", "library.name_too_long", _("The name may have at most 128 characters."))
    if application.level not in Library.Level.values:
        errors.add("level", "library.level_invalid", _("Choose a level: national, provincial or school."))

    province = Region.objects.filter(code=application.province, level=Region.Level.PROVINCE).first()
    if province is None:
        errors.add("province", "library.province_invalid", _("Choose a province."))

    core = Major.objects.filter(pk=application.core_major, is_active=True).first() if application.core_major else None
    if core is None:
        errors.add("core_major", "library.core_major_required", _("Choose the core major from the catalogue."))

    served_ids = list(application.served_majors)
    served = list(Major.objects.filter(pk__in=served_ids, is_active=True))
    if len(set(served_ids)) != len(served_ids):
        errors.add("served_majors", "library.served_major_duplicate", _("A served major is listed twice."))
    if len(set(served_ids)) > MAX_SERVED_MAJORS:
        errors.add("served_majors", "library.too_many_served_majors",
                   _("A library serves at most %(max)d majors besides its core major.") % {"max": MAX_SERVED_MAJORS})
    if len(served) != len(set(served_ids)):
        errors.add("served_majors", "library.served_major_unknown", _("A served major is not in the catalogue."))
    if core is not None and core.pk in served_ids:
        errors.add("served_majors", "library.served_major_is_core",
                   _("The core major cannot also be a served major."))

    host_ids = list(application.hosts)
    hosts_by_id = Organization.objects.in_bulk(host_ids)
    if not host_ids:
        errors.add("hosts", "library.host_required", _("Name at least one host institution."))
    if len(host_ids) > MAX_HOSTS:
        errors.add("hosts", "library.too_many_hosts",
                   _("A library has at most %(max)d host institutions.") % {"max": MAX_HOSTS})
    if len(set(host_ids)) != len(host_ids):
        errors.add("hosts", "library.host_duplicate", _("A host institution is listed twice."))
    if len(hosts_by_id) != len(set(host_ids)):
        errors.add("hosts", "library.host_unknown", _("A host institution does not exist."))
    if host_ids and applicant.organization_id not in host_ids:
        errors.add("hosts", "library.applicant_not_host",
                   _("The applicant's own institution must be one of the host institutions."))

    participant_ids = list(application.participants)
    participants_by_id = Organization.objects.in_bulk(participant_ids)
    if len(set(participant_ids)) != len(participant_ids):
        errors.add("participants", "library.participant_duplicate", _("A participating institution is listed twice."))
    if len(participants_by_id) != len(set(participant_ids)):
        errors.add("participants", "library.participant_unknown", _("A participating institution does not exist."))
    if set(participant_ids) & set(host_ids):
        errors.add("participants", "library.host_is_participant",
                   _("An institution cannot be both a host and a participant."))

    if application.build_start is None:
        errors.add("build_start", "library.build_start_required", _("Enter the start date of the build period."))
    elif application.build_end is not None and application.build_end <= application.build_start:
        errors.add("build_end", "library.build_end_before_start",
                   _("The build period must end after it starts."))

    errors.raise_if_any()
    return province, core, served, [hosts_by_id[i] for i in host_ids], [participants_by_id[i] for i in participant_ids]


def _write_application(library: Library, application: LibraryApplication, province, core, served, hosts,
                       participants) -> None:
    library.name = application.name.strip()
    library.description = application.description.strip()
    library.level = application.level
    library.province = province
    library.core_major = core
    library.build_start = application.build_start
    library.build_end = application.build_end or default_build_end(province, application.build_start)
    library.save()
    library.served_majors.set(served)
    library.hosts.all().delete()
    LibraryHost.objects.bulk_create(
        LibraryHost(library=library, organization=org, position=i) for i, org in enumerate(hosts, start=1)
    )
    library.participants.all().delete()
    LibraryParticipant.objects.bulk_create(LibraryParticipant(library=library, organization=org) for org in participants)


def create_library(application: LibraryApplication, *, by) -> Library:
    """File a new library application (草稿). The applicant becomes its project lead."""
    if not policies.can_apply(by):
        raise PermissionDenied(_("Only a user who belongs to an institution can apply for a library."),
                               code="library.apply_denied")
    with transaction.atomic():
        checked = _validate(application, applicant=by)
        library = Library(created_by=by, status=Library.Status.DRAFT)
        _write_application(library, application, *checked)
        TeamMember.objects.create(library=library, user=by, role=TeamMember.Role.LEAD, invited_by=by)
        audit.record(actor=by, action="library.create", target=library, after=_library_snapshot(library))
    return library


def update_library(library: Library, application: LibraryApplication, *, by) -> Library:
    if not policies.can_edit_application(by, library):
        raise PermissionDenied(_("Only the project lead can change the application, and only before it is filed."),
                               code="library.edit_denied")
    with transaction.atomic():
        library = Library.objects.select_for_update().get(pk=library.pk)
        if not policies.can_edit_application(by, library):
            raise PermissionDenied(code="library.edit_denied")
        before = _library_snapshot(library)
        checked = _validate(application, applicant=library.created_by)
        _write_application(library, application, *checked)
        audit.record(actor=by, action="library.update", target=library, before=before, after=_library_snapshot(library))
    return library


def available_actions(library: Library, user) -> list:
    """The lifecycle transitions this user may perform on this library now."""
    return [t for t in LIFECYCLE.actions_from(library.status) if policies.can_perform(user, library, t.actor)]


def transition_library(library: Library, action: str, *, by, reason: str = "") -> Library:
    """Move a library along its lifecycle; only the role named in the lifecycle table may do so."""
    reason = (reason or "").strip()
    with transaction.atomic():
        library = Library.objects.select_for_update().get(pk=library.pk)
        transition = LIFECYCLE.transition_for(action, Library.Status(library.status))
        if not policies.can_perform(by, library, transition.actor):
            raise PermissionDenied(
                _("Only the project lead can do this.") if transition.actor == "lead"
                else _("Only the administrator of the library's province can do this."),
                code="library.transition_denied",
            )
        if transition.reason_required and not reason:
            raise ValidationFailed.single("reason", "library.reason_required", _("Please give a reason."))
        before = library.status
        library.status = transition.target
        if transition.target == Library.Status.SUBMITTED:
            library.submitted_at = timezone.now()
        library.save(update_fields=["status", "submitted_at", "updated_at"])
        audit.record(actor=by, action=f"library.{action}", target=library, before={"status": before},
                     after={"status": library.status}, reason=reason)
        if action in LIFECYCLE_NOTICES:
            transaction.on_commit(lambda: _notify_lifecycle(library, action, by=by, reason=reason))
    return library


def add_team_member(library: Library, *, by, user, role: str) -> TeamMember:
    if not policies.can_manage_team(by, library):
        raise PermissionDenied(_("Only the project lead can manage the team."), code="library.team_denied")
    errors = FieldErrors()
    if role not in TeamMember.Role.values or role == TeamMember.Role.LEAD:
        errors.add("role", "library.team_role_invalid", _("Choose builder, reviewer or operations."))
    institution_ids = set(library.hosts.values_list("organization_id", flat=True)) | set(
        library.participants.values_list("organization_id", flat=True)
    )
    if user.organization_id not in institution_ids:
        errors.add("user", "library.member_not_in_institutions",
                   _("A team member must belong to a host or participating institution."))
    if TeamMember.objects.filter(library=library, user=user, role=role).exists():
        errors.add("user", "library.member_exists", _("This person already has this role."))
    errors.raise_if_any()
    with transaction.atomic():
        member = TeamMember.objects.create(library=library, user=user, role=role, invited_by=by)
        audit.record(actor=by, action="library.team_add", target=library,
                     after={"user": user.pk, "username": user.username, "role": role})
        if user.pk != by.pk:
            transaction.on_commit(lambda: notifications.notify(
                [user], "team_added",
                format_lazy(_("You have joined the team of {library} as {role}"), library=library.name,
                            role=TeamMember.Role(role).label),
                format_lazy(_("{person} added you to the team. Open the library to start working in it."),
                            person=by.display_name),
                _library_url(library)))
    return member


def remove_team_member(library: Library, member_id: int, *, by) -> None:
    if not policies.can_manage_team(by, library):
        raise PermissionDenied(_("Only the project lead can manage the team."), code="library.team_denied")
    with transaction.atomic():
        member = TeamMember.objects.select_for_update().filter(library=library, pk=member_id).first()
        if member is None:
            raise NotFound(code="library.member_not_found")
        if member.role == TeamMember.Role.LEAD:
            raise ValidationFailed.single("member", "library.lead_not_removable",
                                          _("The project lead cannot be removed from the team."))
        member.delete()
        audit.record(actor=by, action="library.team_remove", target=library,
                     before={"user": member.user_id, "role": member.role})


# --- notifications ------------------------------------------------------------------------------------------------
# Who hears of a lifecycle step, sent after the commit; the person who took the step is never told of it.


def _library_url(library: Library) -> str:
    return reverse("libraries:detail", args=[library.pk])


def _active(users) -> list:
    return list(users.filter(is_active=True).distinct().order_by("pk"))


def _province_admins(library: Library) -> list:
    return _active(User.objects.filter(role_grants__role=RoleGrant.Role.PROVINCE_ADMIN,
                                       role_grants__province_id=library.province_id))


def _lead(library: Library) -> list:
    return _active(User.objects.filter(library_roles__library=library, library_roles__role=TeamMember.Role.LEAD))


def _host_admins(library: Library) -> list:
    """The administrators of the host institutions: they answer for the project at their institution."""
    return _active(User.objects.filter(
        role_grants__role=RoleGrant.Role.ORG_ADMIN,
        role_grants__organization_id__in=LibraryHost.objects.filter(library=library).values("organization_id")))


# action → (notification kind, title, who is told)
LIFECYCLE_NOTICES = {
    "submit": ("library_submitted", _("Library application to decide: {library}"), (_province_admins,)),
    "approve": ("library_approved", _("Library project approved: {library}"), (_lead, _host_admins)),
    "decline": ("library_declined", _("Library project not approved: {library}"), (_lead, _host_admins)),
    "accept": ("library_accepted", _("Library passed acceptance: {library}"), (_lead,)),
    "fail_acceptance": ("library_acceptance_failed", _("Library failed acceptance: {library}"), (_lead,)),
}


def _notify_lifecycle(library: Library, action: str, *, by, reason: str) -> None:
    kind, title, audiences = LIFECYCLE_NOTICES[action]
    users = [user for audience in audiences for user in audience(library) if user.pk != by.pk]
    if reason:
        body = format_lazy(_("Comment from {person}: {reason}"), person=by.display_name, reason=reason)
    else:
        body = format_lazy(_("Filed by {person}."), person=by.display_name)
    notifications.notify(users, kind, format_lazy(title, library=library.name), body, _library_url(library))
