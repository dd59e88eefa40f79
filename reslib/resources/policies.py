"""Who may see, download and change resources. Shared by pages, the API, file routes and search."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from reslib.accounts import roles
from reslib.libraries.models import PUBLIC_STATUSES, Library, TeamMember
from reslib.libraries.policies import team_roles

from .models import DerivedFile, Resource, ResourceVersion

EDITOR_ROLES = (TeamMember.Role.LEAD, TeamMember.Role.BUILDER)
# A library takes resources once approved, and keeps them up to date after acceptance.
BUILDING_STATUSES = PUBLIC_STATUSES


def is_library_member(user, library_id: int) -> bool:
    return bool(team_roles(user, library_id))


def visible_resources(user) -> QuerySet:
    """Published resources of public libraries as their access allows; everything of one's own libraries.

    Moderation: a restricted resource is seen only by its library's team; a blocked one only by the library lead;
    a withdrawn one (下架 by the library) only by its team. Operators see everything."""
    qs = Resource.objects.all()
    if roles.is_operator(user):
        return qs
    published = _published_openly()
    authenticated = getattr(user, "is_authenticated", False)
    allowed_access = [ResourceVersion.Access.PUBLIC]
    if authenticated:
        allowed_access.append(ResourceVersion.Access.REGISTERED)
    condition = published & Q(published_version__access__in=allowed_access)
    if authenticated:
        member_of = TeamMember.objects.filter(library=OuterRef("library"), user=user)
        qs = qs.annotate(_is_member=Exists(member_of),
                         _is_lead=Exists(member_of.filter(role=TeamMember.Role.LEAD)))
        condition |= Q(_is_member=True) & ~Q(moderation_state=Resource.Moderation.BLOCKED)
        condition |= Q(_is_lead=True, moderation_state=Resource.Moderation.BLOCKED)
    return qs.filter(condition)


def _published_openly() -> Q:
    return Q(published_version__isnull=False, library__status__in=PUBLIC_STATUSES,
             moderation_state=Resource.Moderation.NORMAL, withdrawn_at__isnull=True)


def can_view(user, resource: Resource) -> bool:
    return visible_resources(user).filter(pk=resource.pk).exists()


def opens_on_login(resource_id: int) -> bool:
    """Does any logged-in user see this resource (published for registered users, 注册用户)? An anonymous visitor
    is then asked to log in rather than told it does not exist."""
    return Resource.objects.filter(
        _published_openly(), pk=resource_id, published_version__access=ResourceVersion.Access.REGISTERED).exists()


def _sees_unpublished(user, library_id: int) -> bool:
    """Drafts and versions in review are seen by the library's team (and operators), never by the public."""
    return roles.is_operator(user) or is_library_member(user, library_id)


def can_view_unpublished(user, resource: Resource) -> bool:
    return _sees_unpublished(user, resource.library_id)


def can_view_unpublished_in(user, library: Library) -> bool:
    """The same for a library's list: who sees its drafts there as the team does."""
    return _sees_unpublished(user, library.pk)


def visible_versions(user, resource: Resource) -> QuerySet:
    """The versions of a resource a user may list: every one for its team, the published and superseded ones for
    everybody else."""
    versions = resource.versions.all()
    if can_view_unpublished(user, resource):
        return versions
    return versions.filter(state__in=[ResourceVersion.State.PUBLISHED, ResourceVersion.State.SUPERSEDED])


def can_create(user, library: Library) -> bool:
    return library.status in BUILDING_STATUSES and bool(team_roles(user, library.pk) & set(EDITOR_ROLES))


def can_edit(user, resource: Resource) -> bool:
    return can_create(user, resource.library)


def can_upload(user) -> bool:
    """Resumable (tus) uploads exist only to become files of resources: whoever may create resources in at least one
    library (can_create somewhere) may start one; a learner with no library role may not fill the disk."""
    if not getattr(user, "is_authenticated", False):
        return False
    return TeamMember.objects.filter(user=user, role__in=EDITOR_ROLES, library__status__in=BUILDING_STATUSES).exists()


def can_publish(user, resource: Resource) -> bool:
    """Approval that publishes belongs to the lead host's reviewers (the review workflow builds on this).

    The review workflow (reslib.review) decides which of them reviews at which level — its groups are drawn from the
    library's reviewers and lead, or platform operators — and only then calls decide_version."""
    member_roles = team_roles(user, resource.library_id)
    return bool(member_roles & {TeamMember.Role.REVIEWER, TeamMember.Role.LEAD}) or roles.is_operator(user)


def files_served(user, resource: Resource) -> bool:
    """A blocked resource's files are served to nobody but operators (who must see them to decide on a restore);
    every file route (download, stream, derived files, subtitles) asks this besides can_download / can_preview."""
    return resource.moderation_state != Resource.Moderation.BLOCKED or roles.is_operator(user)


# Derived pictures that show what a resource is without handing out its content: a poster is one video frame, a
# thumbnail is at most derived.THUMBNAIL_WIDTH pixels wide (an image, or the first page of a document).
PREVIEW_KINDS = frozenset({DerivedFile.Kind.POSTER, DerivedFile.Kind.THUMBNAIL})


def can_download(user, resource: Resource, version: ResourceVersion | None = None) -> bool:
    """May the user obtain the content of this version's files — the one decision for every route that hands out a
    file's bytes or a full rendition of them, whether locally, through nginx (X-Accel-Redirect) or from S3:

    * download (as an attachment) and stream (inline, for the page's player and PDF frame): a streamed file reaches
      the browser whole and any client can save it, so streaming is downloading and the two never differ;
    * the web-video rendition and the PDF preview of an office document, which carry the full content too;
    * subtitle tracks, which are attachments of the version.

    The library's team (every role) and operators get the files of every version, published or not. Anyone else
    gets the published version's files only when they may see the resource, the library has not switched its
    downloads off, and it is free: a paid resource is not handed out until payment exists (commerce issue).
    Posters and thumbnails are decided by can_preview. A blocked resource's files go to operators only."""
    version = version or resource.published_version
    if version is None or version.is_external:
        return False
    if not files_served(user, resource):
        return False
    if version.pk != resource.published_version_id:
        return can_view_unpublished(user, resource)
    if not can_view(user, resource):
        return False
    if can_view_unpublished(user, resource):
        return True
    if not resource.downloads_allowed:
        return False
    return version.price_mode == ResourceVersion.PriceMode.FREE


def can_preview(user, resource: Resource, version: ResourceVersion) -> bool:
    """Posters and thumbnails (PREVIEW_KINDS) of a version's files: whoever may see the version gets them, also of a
    paid resource or one whose downloads are off — they tell a learner what the resource is, not its content."""
    if not files_served(user, resource):
        return False
    if version.pk != resource.published_version_id:
        return can_view_unpublished(user, resource)
    return can_view(user, resource)


def can_manage_knowledge_points(user, library: Library) -> bool:
    return can_create(user, library)


def search_visibility(user):
    """What a user may find in search, consistent with visible_resources (the index holds published resources only):
    anonymous → public; signed in → public + registered; plus every indexed resource of the libraries the user is a
    team member of; operators → everything."""
    from reslib.search.backends.base import ACCESS_LEVELS, Visibility

    if roles.is_operator(user):
        return Visibility(access=frozenset(ACCESS_LEVELS), everything=True)
    if not getattr(user, "is_authenticated", False):
        return Visibility(access=frozenset({ResourceVersion.Access.PUBLIC}))
    library_ids = frozenset(TeamMember.objects.filter(user=user).values_list("library_id", flat=True).distinct())
    return Visibility(access=frozenset({ResourceVersion.Access.PUBLIC, ResourceVersion.Access.REGISTERED}),
                      library_ids=library_ids)


def tombstone(resource_id: int) -> dict | None:
    """What the public may still learn of a published resource that was blocked or withdrawn (下架): its title, the
    reason category and the date — shown instead of a 404. None for anything else (drafts, never published, gone)."""
    resource = (
        Resource.objects.select_related("published_version", "library")
        .filter(pk=resource_id, published_version__isnull=False, library__status__in=PUBLIC_STATUSES)
        .filter(Q(moderation_state=Resource.Moderation.BLOCKED) | Q(withdrawn_at__isnull=False))
        .first()
    )
    if resource is None:
        return None
    blocked = resource.moderation_state == Resource.Moderation.BLOCKED
    return {
        "resource_id": resource.pk,
        "title": resource.published_version.title,
        "library": resource.library,
        "blocked": blocked,
        "reason_category": resource.get_moderation_reason_category_display() if blocked else "",
        "date": resource.moderated_at if blocked else resource.withdrawn_at,
    }
