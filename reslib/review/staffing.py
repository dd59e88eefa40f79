"""Warnings that a review level has nobody to decide it, in words the library lead can act on. Who is eligible is
decided by the policies the decisions use (policies.understaffed_levels, policies.eligible_reviewers); shared by the
levels settings page, the workbench, the review page and the API."""

from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from reslib.libraries.models import LibraryHost

from . import policies, services
from .models import DECIDABLE_STATES, ReviewLevel, ReviewRequest

K = ReviewLevel.Kind


@dataclass(frozen=True)
class StaffingWarning:
    code: str
    level: ReviewLevel
    message: str


def _join(parts: list[str], *, sentences: bool = False) -> str:
    chinese = get_language().startswith("zh")
    if sentences:
        return ("" if chinese else " ").join(parts)
    return ("、" if chinese else ", ").join(parts)


def _remedy(level: ReviewLevel, institution: str) -> str:
    if level.group_mode == ReviewLevel.GroupMode.EXPLICIT:
        return _("Name more reviewers for this level on the review levels page: the library's reviewers or lead, "
                 "or platform operators.")
    if level.kind == K.PLATFORM:
        return _("Platform spot checks need another platform operator; or switch this level off on the review "
                 "levels page.")
    return _("Add a reviewer from %(institution)s to the library's team, or name reviewers for this level on the "
             "review levels page.") % {"institution": institution}


def _lead_host_name(library_id: int) -> str:
    host = LibraryHost.objects.filter(library_id=library_id, position=1).select_related("organization").first()
    return host.organization.name if host else ""


def level_warnings(library) -> list[StaffingWarning]:
    """The enabled levels of the library that can leave a request with nobody to decide it."""
    gaps = policies.understaffed_levels(library, services.levels_for(library))
    if not gaps:
        return []
    institution = _lead_host_name(library.pk)
    warnings = []
    for level, why, group in gaps:
        name = level.get_kind_display()
        if why == policies.NOBODY:
            code, problem = "review.level_has_no_reviewer", _(
                "Nobody can decide the level “%(level)s”, so requests stop there.") % {"level": name}
        else:
            code, problem = "review.level_reviewers_shared", _(
                "Everyone who can decide the level “%(level)s” (%(names)s) can also decide an earlier level, and "
                "nobody decides two levels of one request: once they have decided the earlier level, nobody is "
                "left for this one.") % {"level": name, "names": _join([u.display_name for u in group])}
        warnings.append(StaffingWarning(code, level, _join([problem, _remedy(level, institution)], sentences=True)))
    return warnings


def request_warnings(request: ReviewRequest) -> list[StaffingWarning]:
    """A warning when nobody may decide the open request at its current level."""
    level = request.level
    if request.state not in DECIDABLE_STATES or level is None or policies.eligible_reviewers(request):
        return []
    institution = (request.contributing_org.name if level.kind == K.CONTRIBUTOR
                   else _lead_host_name(request.library_id))
    problem = _("Nobody may decide this request at the level “%(level)s”: everyone in its reviewer group "
                "authored, uploaded or submitted it, or decided an earlier level.") % {
        "level": level.get_kind_display()}
    return [StaffingWarning("review.request_has_no_reviewer", level,
                            _join([problem, _remedy(level, institution)], sentences=True))]
