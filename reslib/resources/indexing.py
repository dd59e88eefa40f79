"""Resources feed the search index: a published resource becomes one SearchDocument ("resource:<pk>").

Only published versions of resources in public libraries are indexed — drafts and versions in review never enter
the index. Services call ``schedule_reindex(resource_id)`` inside their transaction; the task runs after commit and
is idempotent: it (re)builds the document from the database, or removes it when the resource is no longer indexable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import translation

from reslib.libraries.models import PUBLIC_STATUSES
from reslib.search import services as search
from reslib.search.backends.base import SearchDocument

from .models import KnowledgePoint, Resource, ResourceVersion, VersionAuthor

KIND = "resource"
BATCH = 500


def doc_id(resource_id: int) -> str:
    return f"{KIND}:{resource_id}"


def moderation_excluded(qs: QuerySet) -> QuerySet:
    """Blocked and withdrawn (下架) resources leave the index and the catalogue (moderation, issue 4)."""
    return qs.exclude(moderation_state=Resource.Moderation.BLOCKED).filter(withdrawn_at__isnull=True)


def _forced_members(resource: Resource) -> bool:
    """Restricted resources stay findable by library members only."""
    return resource.moderation_state == Resource.Moderation.RESTRICTED


def indexable_resources() -> QuerySet:
    qs = Resource.objects.filter(published_version__isnull=False, library__status__in=PUBLIC_STATUSES)
    return moderation_excluded(qs)


def _with_related(qs: QuerySet) -> QuerySet:
    return qs.select_related(
        "library", "published_version", "published_version__major", "published_version__contributing_org",
        "published_version__copyright_holder_org",
    ).prefetch_related(
        Prefetch("published_version__authors", queryset=VersionAuthor.objects.order_by("position")),
        Prefetch("published_version__knowledge_points", queryset=KnowledgePoint.objects.only("id", "name")),
    )


def document_for(resource: Resource) -> SearchDocument:
    """The search document of a resource's published version (the caller checked it is indexable)."""
    version: ResourceVersion = resource.published_version
    authors = list(version.authors.all())
    institutions = [org for org in (version.contributing_org, version.copyright_holder_org) if org is not None]
    institution_names = [o.name for o in institutions] + [a.institution for a in authors if a.institution]
    major = version.major
    with translation.override(settings.LANGUAGE_CODE):
        type_label = str(version.get_resource_type_display())
    access = ResourceVersion.Access.MEMBERS if _forced_members(resource) else version.access
    return SearchDocument(
        id=doc_id(resource.pk),
        kind=KIND,
        title=version.title,
        keywords=list(version.keywords or []),
        description=version.description,
        authors=[a.name for a in authors],
        institutions=list(dict.fromkeys(institution_names)),
        library=resource.library.name,
        majors=[major.name, major.code, major.class_name],
        knowledge_points=[p.name for p in version.knowledge_points.all()],
        resource_type=type_label,
        attr_resource_type=version.resource_type,
        major=major.code,
        library_id=resource.library_id,
        institution=sorted({o.pk for o in institutions}),
        audience=list(version.audience or []),
        licence=version.licence,
        price_mode=version.price_mode,
        access=access,
        created_at=version.published_at or resource.created_at,
        display={
            "title": version.title,
            "url": reverse("resources:detail", args=[resource.pk]),
            "library_id": resource.library_id,
            "library_name": resource.library.name,
            "resource_type": version.resource_type,
            "major_code": major.code,
            "major_name": major.name,
            "version": version.number,
        },
    )


def reindex_resource(resource_id: int) -> str:
    """Bring the index in line with the database for one resource. Idempotent."""
    resource = _with_related(indexable_resources().filter(pk=resource_id)).first()
    if resource is None:
        search.remove([doc_id(resource_id)])
        return "removed"
    search.index([document_for(resource)])
    return "indexed"


def schedule_reindex(resource_id: int) -> None:
    """Call inside a service's transaction: re-index the resource once the change is committed."""
    from . import tasks

    transaction.on_commit(lambda: tasks.reindex_resource.enqueue(resource_id))


def iter_documents(batch: int = BATCH) -> Iterator[SearchDocument]:
    last = 0
    while True:
        chunk = list(_with_related(indexable_resources().filter(pk__gt=last).order_by("pk"))[:batch])
        if not chunk:
            return
        for resource in chunk:
            yield document_for(resource)
        last = chunk[-1].pk


def reindex_all(progress: Callable[[int, int], None] | None = None, batch: int = BATCH) -> dict:
    """Rebuild every resource document without taking search offline: upsert in batches under a new generation,
    then delete what the rebuild did not write (resources no longer indexable)."""
    backend = search.get_backend()
    generation = backend.next_generation()
    total = indexable_resources().count()
    done = 0
    pending: list[SearchDocument] = []
    for document in iter_documents(batch):
        pending.append(document)
        if len(pending) >= batch:
            done += backend.index(pending, generation=generation)
            pending = []
            if progress:
                progress(done, total)
    if pending:
        done += backend.index(pending, generation=generation)
    if progress:
        progress(done, total)
    removed = backend.remove_stale(generation, kind=KIND)
    return {"indexed": done, "removed": removed, "generation": generation}
