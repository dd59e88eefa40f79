"""Catalogue pages: home, search, a library's catalogue, majors and institutions. Read-only and thin.

Every list goes through resources.policies.visible_resources(user) (and libraries' visible_libraries(user)), shows
published versions only, and pages deep lists by keyset over (created_at, id). Search goes through the engine with
the user's visibility (see searching.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from reslib.libraries import queries as library_queries
from reslib.libraries.models import PUBLIC_STATUSES, Library
from reslib.libraries.policies import visible_libraries
from reslib.orgs.models import Major, Organization
from reslib.resources.forms import knowledge_point_tree
from reslib.resources.models import ResourceVersion
from reslib.resources.policies import search_visibility
from reslib.search import services as search_services

from . import keyset
from .searching import (
    AVAILABLE_SORTS,
    PARAMS,
    SORTS,
    STATISTICS_PENDING,
    CursorInvalid,
    SearchRequest,
    published_resources,
    run_search,
    with_rows,
)

V = ResourceVersion
PAGE_SIZE = 20
HOME_LIBRARIES = 6
HOME_RESOURCES = 8
MAJOR_LIBRARIES = 24
ORG_FRAGMENT_SIZE = 5
SEARCH_PAGE_SIZE = 20
SUGGESTIONS = 8

# Featured order of libraries (home and major pages): furthest along first, then the newest.
LIBRARY_STATUS_RANK = Case(
    When(status=Library.Status.RECOMMENDED_NATIONAL, then=Value(0)),
    When(status=Library.Status.ACCEPTED, then=Value(1)),
    When(status__in=[Library.Status.AWAITING_ACCEPTANCE, Library.Status.RECTIFYING], then=Value(2)),
    When(status=Library.Status.BUILDING, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def _featured_libraries(user, condition: Q, *, limit: int) -> list[Library]:
    """The libraries the user may see that match `condition`, furthest along first, then the newest."""
    return list(
        library_queries.listed(user).filter(condition)
        .annotate(rank=LIBRARY_STATUS_RANK)
        .order_by("rank", "-created_at", "-id")[:limit]
    )


def _library_cards(user, libraries: list[Library]) -> list[Library]:
    """Adds `resource_count` (published resources the user may see) to each library. One query."""
    counts = dict(
        published_resources(user).filter(library_id__in=[lib.pk for lib in libraries])
        .values("library_id").annotate(n=Count("id")).values_list("library_id", "n").order_by()
    )
    for lib in libraries:
        lib.resource_count = counts.get(lib.pk, 0)
    return libraries


# --- home ---------------------------------------------------------------------------------------------------------


def home(request):
    user = request.user
    featured = _featured_libraries(user, Q(status__in=PUBLIC_STATUSES), limit=HOME_LIBRARIES)
    newest = list(
        with_rows(published_resources(user)).order_by("-published_version__published_at", "-id")[:HOME_RESOURCES]
    )
    return render(request, "catalogue/home.html", {
        "featured": _library_cards(user, featured), "newest": newest,
    })


# --- search -------------------------------------------------------------------------------------------------------


def _search_url(req: SearchRequest, *, q=None, filters=None, sort=None, cursor=None) -> str:
    q = req.q if q is None else q
    filters = req.filters if filters is None else filters
    sort = req.sort if sort is None else sort
    items: list[tuple[str, str]] = []
    if q:
        items.append(("q", q))
    for name in PARAMS:
        items.extend((name, value) for value in filters.get(name, []))
    if sort != "relevance":
        items.append(("sort", sort))
    if cursor:
        items.append(("cursor", cursor))
    return reverse("catalogue:search") + ("?" + urlencode(items) if items else "")


def _toggled(filters: dict[str, list[str]], name: str, value: str) -> dict[str, list[str]]:
    out = {k: list(v) for k, v in filters.items()}
    values = out.setdefault(name, [])
    if value in values:
        values.remove(value)
    else:
        values.append(value)
    if not values:
        out.pop(name)
    return out


def search(request):
    req = SearchRequest.from_params(request.GET, limit=SEARCH_PAGE_SIZE)
    sort_unavailable = req.sort not in AVAILABLE_SORTS
    if sort_unavailable:
        req.sort = "relevance"
    cursor_expired = False
    try:
        outcome = run_search(request.user, req)
    except CursorInvalid:
        cursor_expired = True
        req.cursor = None
        outcome = run_search(request.user, req)
    for facet in outcome.facets:
        for value in facet.values:
            value.url = _search_url(req, filters=_toggled(req.filters, facet.name, value.value))
    for active in outcome.active:
        active.remove_url = _search_url(req, filters=_toggled(req.filters, active.name, active.value))
    sorts = [{"code": code, "label": label, "available": ok, "current": code == req.sort,
              "url": _search_url(req, sort=code)} for code, label, ok in SORTS]
    context = {
        "req": req,
        "outcome": outcome,
        "sorts": sorts,
        "statistics_pending": STATISTICS_PENDING,
        "sort_unavailable": sort_unavailable,
        "cursor_expired": cursor_expired,
        "next_url": _search_url(req, cursor=outcome.next_cursor) if outcome.next_cursor else "",
        "first_url": _search_url(req) if req.cursor else "",
        "did_you_mean_url": _search_url(req, q=outcome.did_you_mean) if outcome.did_you_mean else "",
        "clear_filters_url": _search_url(req, filters={}) if req.filters else "",
        "hidden_filters": [(name, value) for name, values in req.filters.items() for value in values],
    }
    return render(request, "catalogue/search.html", context)


def suggest(request):
    """htmx: completions for the search box (words from visible documents), as a list of links."""
    q = " ".join((request.GET.get("q") or "").split())[:50]
    suggestions = search_services.suggest(q, search_visibility(request.user), limit=SUGGESTIONS) if q else []
    items = []
    for text in suggestions:
        matched = len(q) if text.lower().startswith(q.lower()) else 0
        items.append({"text": text, "head": text[:matched], "tail": text[matched:],
                      "url": reverse("catalogue:search") + "?" + urlencode({"q": text})})
    return render(request, "catalogue/_suggestions.html", {"items": items, "q": q})


# --- library catalogue --------------------------------------------------------------------------------------------


def _branches(tree: list[tuple]) -> dict[int, list[int]]:
    """Each knowledge point's id with the ids of every point below it. `tree` is depth-first with depths, so a
    branch is its point and the deeper points right after it."""
    branches = {}
    for index, (point, depth) in enumerate(tree):
        ids = [point.pk]
        for below, below_depth in tree[index + 1:]:
            if below_depth <= depth:
                break
            ids.append(below.pk)
        branches[point.pk] = ids
    return branches


def library_catalogue(request, library_id: int):
    user = request.user
    library = get_object_or_404(visible_libraries(user).select_related("core_major", "province"), pk=library_id)
    base = published_resources(user).filter(library=library)

    type_counts = dict(
        base.values("published_version__resource_type").annotate(n=Count("id"))
        .values_list("published_version__resource_type", "n").order_by()
    )
    types = [{"code": code, "label": label, "count": type_counts[code]}
             for code, label in V.Type.choices if type_counts.get(code)]

    tree = knowledge_point_tree(library)
    branches = _branches(tree)
    # (point, published version) pairs of the visible resources: one query; counts include the whole branch and
    # count a resource once even when it is tagged with a point and its sub-point.
    through = V.knowledge_points.through
    tagged: dict[int, set[int]] = {}
    for point_id, version_id in through.objects.filter(
        resourceversion_id__in=base.values("published_version_id")
    ).values_list("knowledgepoint_id", "resourceversion_id"):
        tagged.setdefault(point_id, set()).add(version_id)

    branch_counts = {pk: len(set().union(*(tagged.get(i, ()) for i in ids))) for pk, ids in branches.items()}

    selected_point = None
    point_param = request.GET.get("point", "")
    listed = base
    if point_param:
        selected_point = next((p for p, _d in tree if str(p.pk) == point_param), None)
        if selected_point is None:
            raise Http404
        listed = listed.filter(published_version_id__in=through.objects.filter(
            knowledgepoint_id__in=branches[selected_point.pk]).values("resourceversion_id"))
    selected_type = request.GET.get("type", "")
    if selected_type:
        if selected_type not in V.Type.values:
            raise Http404
        listed = listed.filter(published_version__resource_type=selected_type)

    page = keyset.paginate(with_rows(listed), request.GET.get("cursor"), limit=PAGE_SIZE)
    base_params = {k: v for k, v in (("point", point_param), ("type", selected_type)) if v}
    for entry in types:
        entry["url"] = "?" + urlencode({**base_params, "type": entry["code"]})
    return render(request, "catalogue/library.html", {
        "library": library,
        "types": types,
        "total": sum(type_counts.values()),
        "tree": [{"point": p, "depth": d, "count": branch_counts[p.pk],
                  "url": "?" + urlencode({**base_params, "point": p.pk})} for p, d in tree],
        "selected_point": selected_point,
        "selected_type": selected_type,
        "selected_type_label": dict(V.Type.choices).get(selected_type, ""),
        "all_types_url": "?" + urlencode({k: v for k, v in base_params.items() if k != "type"}),
        "all_points_url": "?" + urlencode({k: v for k, v in base_params.items() if k != "point"}),
        "page": page,
        **keyset.page_links(page, request.path, base_params),
        "library_hidden": [("library", library.pk)],
    })


# --- majors -------------------------------------------------------------------------------------------------------


def major_detail(request, code: str):
    user = request.user
    major = get_object_or_404(Major, code=code)
    libraries = _featured_libraries(user, library_queries.serving_major(major), limit=MAJOR_LIBRARIES + 1)
    more_libraries = len(libraries) > MAJOR_LIBRARIES
    libraries = _library_cards(user, libraries[:MAJOR_LIBRARIES])
    for lib in libraries:
        lib.is_core = lib.core_major_id == major.pk
    resources = published_resources(user).filter(published_version__major=major)
    page = keyset.paginate(with_rows(resources), request.GET.get("cursor"), limit=PAGE_SIZE)
    return render(request, "catalogue/major.html", {
        "major": major,
        "libraries": libraries,
        "more_libraries": more_libraries,
        "libraries_url": reverse("libraries:list") + "?" + urlencode({"major": major.pk}),
        "page": page,
        **keyset.page_links(page, request.path),
        "search_url": reverse("catalogue:search") + "?" + urlencode({"major": major.code}),
    })


# --- institutions -------------------------------------------------------------------------------------------------


def _contributed(user, org):
    return published_resources(user).filter(published_version__contributing_org=org)


def organization_resources(request, pk: int):
    """All published resources an institution contributed that the user may see, newest first."""
    org = get_object_or_404(Organization.objects.select_related("province"), pk=pk)
    page = keyset.paginate(with_rows(_contributed(request.user, org)), request.GET.get("cursor"), limit=PAGE_SIZE)
    return render(request, "catalogue/organization.html", {
        "org": org,
        "page": page,
        **keyset.page_links(page, request.path),
        "search_url": reverse("catalogue:search") + "?" + urlencode({"institution": org.pk}),
    })


def organization_resources_fragment(request, pk: int):
    """htmx: the "resources contributed" section of the institution page (the orgs app loads it)."""
    org = get_object_or_404(Organization, pk=pk)
    contributed = _contributed(request.user, org)
    rows = list(with_rows(contributed).order_by("-created_at", "-id")[: ORG_FRAGMENT_SIZE + 1])
    return render(request, "catalogue/_organization_resources.html", {
        "org": org, "rows": rows[:ORG_FRAGMENT_SIZE], "has_more": len(rows) > ORG_FRAGMENT_SIZE,
    })
