"""Who may see, download and change resources. Shared by pages, the API, file downloads and (later) search."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from reslib.accounts import roles
from reslib.libraries.models import PUBLIC_STATUSES, Library, TeamMember

from .models import Resource, ResourceVersion

EDITOR_ROLES = (TeamMember.Role.LEAD, TeamMember.Role.BUILDER)
# A library takes resources once approved, and keeps them up to date after acceptance.
BUILDING_STATUSES = PUBLIC_STATUSES


def _team_roles(user, library_id: int) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = user.__dict__.setdefault("_reslib_library_roles", {})
    if library_id not in cache:
        cache[library_id] = set(
            TeamMember.objects.filter(library_id=library_id, user=user).values_list("role", flat=True)
        )
    return cache[library_id]


def is_library_member(user, library_id: int) -> bool:
    return bool(_team_roles(user, library_id))


def visible_resources(user) -> QuerySet:
    """Published resources of public libraries as their access allows; everything of one's own libraries."""
    qs = Resource.objects.all()
    if roles.is_operator(user):
        return qs
    published = Q(published_version__isnull=False, library__status__in=PUBLIC_STATUSES)
    authenticated = getattr(user, "is_authenticated", False)
    allowed_access = [ResourceVersion.Access.PUBLIC]
    if authenticated:
        allowed_access.append(ResourceVersion.Access.REGISTERED)
    condition = published & Q(published_version__access__in=allowed_access)
    if authenticated:
        member_of = TeamMember.objects.filter(library=OuterRef("library"), user=user)
        qs = qs.annotate(_is_member=Exists(member_of))
        condition |= Q(_is_member=True)
    return qs.filter(condition)


def can_view(user, resource: Resource) -> bool:
    return visible_resources(user).filter(pk=resource.pk).exists()


def can_view_unpublished(user, resource: Resource) -> bool:
    """Drafts and versions in review are seen by the library's team (and operators), never by the public."""
    return roles.is_operator(user) or is_library_member(user, resource.library_id)


def can_create(user, library: Library) -> bool:
    return library.status in BUILDING_STATUSES and bool(_team_roles(user, library.pk) & set(EDITOR_ROLES))


def can_edit(user, resource: Resource) -> bool:
    return can_create(user, resource.library)


def can_publish(user, resource: Resource) -> bool:
    """Approval that publishes belongs to the lead host's reviewers (the review workflow builds on this)."""
    return TeamMember.Role.REVIEWER in _team_roles(user, resource.library_id) or roles.is_operator(user)


def can_download(user, resource: Resource, version: ResourceVersion | None = None) -> bool:
    version = version or resource.published_version
    if version is None or version.is_external:
        return False
    if version.pk != resource.published_version_id:
        return can_view_unpublished(user, resource)
    if not can_view(user, resource):
        return False
    if can_view_unpublished(user, resource):
        return True
    if not resource.downloads_allowed:
        return False
    # Paid resources are not handed out until payment exists (commerce issue); members have them anyway.
    return version.price_mode == ResourceVersion.PriceMode.FREE


def can_manage_knowledge_points(user, library: Library) -> bool:
    return can_create(user, library)
