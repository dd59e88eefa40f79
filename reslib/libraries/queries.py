"""Library lists shared by the library pages, the API and the catalogue: what a row needs and the list's filters."""

from django.db.models import Prefetch, Q, QuerySet

from .models import Library, LibraryHost
from .policies import visible_libraries


def hosts_prefetch() -> Prefetch:
    """A library's hosts in their order, with their institutions."""
    return Prefetch("hosts", queryset=LibraryHost.objects.select_related("organization").order_by("position"))


def listed(user) -> QuerySet:
    """The libraries the user may see, with what a list row shows (province, core major, hosts)."""
    return visible_libraries(user).select_related("province", "core_major").prefetch_related(hosts_prefetch())


def serving_major(major) -> Q:
    """Libraries whose core major or one of whose served majors is `major` (a Major or its id)."""
    served = Library.served_majors.through.objects.filter(major=major).values("library_id")
    return Q(core_major=major) | Q(pk__in=served)


def filtered(libraries: QuerySet, *, q: str = "", province=None, level: str = "", status: str = "",
             major=None) -> QuerySet:
    """The library list's filters, newest first. `q` matches part of the name; `province` and `major` are model
    instances or their keys; empty values do not filter."""
    q = (q or "").strip()
    if q:
        libraries = libraries.filter(name__icontains=q)
    if province:
        libraries = libraries.filter(province=province)
    if level:
        libraries = libraries.filter(level=level)
    if status:
        libraries = libraries.filter(status=status)
    if major is not None:
        libraries = libraries.filter(serving_major(major))
    return libraries.order_by("-created_at", "-id")
