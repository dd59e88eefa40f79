"""Running a resource search for one user: parameters in, hits with labels, facets and highlights out.

Shared by the search page and the JSON API so both answer the same thing. The engine (reslib.search.services) decides
what matches; this module adds what people read: facet labels, safe highlight HTML, the resources themselves
(fetched again through resources.policies.visible_resources, so a stale index entry can never show something the
user may not see), disjunctive facet counts and the zero-result help (did-you-mean, related majors).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reslib.core.errors import ValidationFailed
from reslib.libraries.policies import visible_libraries
from reslib.orgs.models import Major, Organization
from reslib.resources.indexing import moderation_excluded
from reslib.resources.models import Resource, ResourceVersion
from reslib.resources.policies import search_visibility, visible_resources
from reslib.search import services as search_services
from reslib.search.backends.base import InvalidCursor, SearchError

V = ResourceVersion

# URL/API parameter → the engine's filter and facet name, in display order.
PARAMS: dict[str, str] = {
    "type": "resource_type",
    "major": "major",
    "library": "library",
    "institution": "institution",
    "audience": "audience",
    "licence": "licence",
    "price": "price_mode",
}
FACET_TITLES = {
    "type": pgettext_lazy("search facet", "Resource type"),
    "major": pgettext_lazy("search facet", "Major"),
    "library": pgettext_lazy("search facet", "Library"),
    "institution": pgettext_lazy("search facet", "Institution"),
    "audience": pgettext_lazy("search facet", "Audience"),
    "licence": pgettext_lazy("search facet", "Licence"),
    "price": pgettext_lazy("search facet", "Free or paid"),
}
NUMERIC_PARAMS = {"library", "institution"}
MAX_VALUES_PER_PARAM = 10
MAX_VALUE_LENGTH = 64
MAX_QUERY_LENGTH = 200

# Sort orders: (code, label, available). "Most used" and "best rated" wait for the statistics issue.
SORTS = (
    ("relevance", pgettext_lazy("search sort", "Relevance"), True),
    ("newest", pgettext_lazy("search sort", "Newest"), True),
    ("popular", pgettext_lazy("search sort", "Most used"), False),
    ("rating", pgettext_lazy("search sort", "Best rated"), False),
)
SORT_CODES = tuple(code for code, _label, _ok in SORTS)
AVAILABLE_SORTS = tuple(code for code, _label, ok in SORTS if ok)
STATISTICS_PENDING = _("Available once statistics are live")

# Highlight fields shown under a hit's title, in order of preference, with their labels.
SNIPPET_FIELDS = (
    ("description", None),
    ("keywords", pgettext_lazy("search snippet", "Keywords")),
    ("knowledge_points", pgettext_lazy("search snippet", "Knowledge points")),
    ("authors", pgettext_lazy("search snippet", "Authors")),
    ("institutions", pgettext_lazy("search snippet", "Institutions")),
    ("majors", pgettext_lazy("search snippet", "Majors")),
    ("library", pgettext_lazy("search snippet", "Library")),
)
SNIPPET_LENGTH = 160


def published_resources(user):
    """What the catalogue lists: resources the user may see (resources.policies.visible_resources) that have a
    published version and are neither blocked nor withdrawn — the same set the search index holds."""
    return moderation_excluded(visible_resources(user).filter(published_version__isnull=False))


# What a resource row (a list entry or a search hit, catalogue/_resource_row.html and search.html) shows: only these
# columns are read (a row of four joined tables has about eighty).
ROW_FIELDS = (
    "created_at", "library_id", "published_version_id", "library__name",
    *(f"published_version__{name}" for name in (
        "title", "description", "resource_type", "price_mode", "access", "published_at", "external_url",
        "major__code", "major__name", "contributing_org__name")),
)


def with_rows(resources):
    """What a resource row shows besides the resource: its library, and the published version with its major and
    contributing institution."""
    return resources.select_related("library", "published_version__major", "published_version__contributing_org") \
        .only(*ROW_FIELDS)


# --- safe highlights ---------------------------------------------------------------------------------------------

_MARK = re.compile(r"(</?mark>)")
_BARE_AMPERSAND = re.compile(r"&(?!(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});)")


def safe_highlight(html: str | None) -> SafeString:
    """The engine's highlight HTML with nothing but balanced <mark> tags let through.

    The engine escapes the stored text and wraps matches in <mark>; this re-checks it (defence in depth): any other
    '<', '>' or '"' is escaped, a bare '&' becomes '&amp;', and marks are balanced. Entities the engine wrote stay.
    """
    out: list[str] = []
    open_mark = False
    for part in _MARK.split(html or ""):
        if part == "<mark>":
            if not open_mark:
                out.append(part)
                open_mark = True
            continue
        if part == "</mark>":
            if open_mark:
                out.append(part)
                open_mark = False
            continue
        out.append(_BARE_AMPERSAND.sub("&amp;", part).replace("<", "&lt;").replace(">", "&gt;")
                   .replace('"', "&quot;"))
    if open_mark:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - built above from escaped pieces and bare <mark> tags only


# --- parameters --------------------------------------------------------------------------------------------------


@dataclass
class SearchRequest:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # by URL parameter name
    sort: str = "relevance"
    cursor: str | None = None
    limit: int = 20

    @classmethod
    def from_params(cls, data, *, limit: int = 20, strict: bool = False) -> SearchRequest:
        """From a QueryDict (or any mapping with getlist). With `strict` (the API), a bad sort raises
        ValidationFailed; otherwise it falls back to relevance."""
        q = " ".join((data.get("q") or "").split())[:MAX_QUERY_LENGTH]
        filters: dict[str, list[str]] = {}
        for name in PARAMS:
            values: list[str] = []
            for raw in data.getlist(name):
                for value in str(raw).split(","):
                    value = value.strip()[:MAX_VALUE_LENGTH]
                    if not value or value in values:
                        continue
                    if name in NUMERIC_PARAMS and not value.isdigit():
                        continue
                    values.append(value)
            if values:
                filters[name] = values[:MAX_VALUES_PER_PARAM]
        sort = (data.get("sort") or "relevance").strip()
        if sort not in SORT_CODES:
            if strict:
                raise ValidationFailed.single("sort", "search.sort_invalid",
                                              _("Unknown sort order. Use one of: %(sorts)s.")
                                              % {"sorts": ", ".join(SORT_CODES)})
            sort = "relevance"
        cursor = (data.get("cursor") or "").strip()[:500] or None
        return cls(q=q, filters=filters, sort=sort, cursor=cursor, limit=limit)

    def engine_filters(self, without: str | None = None) -> dict[str, list[str]]:
        filters: dict[str, list[str]] = {"kind": ["resource"]}
        for name, values in self.filters.items():
            if name != without:
                filters[PARAMS[name]] = values
        return filters

    @property
    def is_browse(self) -> bool:
        """No words and no filters: the page lists everything visible, newest first."""
        return not self.q and not self.filters


# --- results -----------------------------------------------------------------------------------------------------


@dataclass
class Snippet:
    field: str
    label: str | None
    html: SafeString


@dataclass
class HitView:
    resource: Resource
    version: ResourceVersion
    title_html: SafeString
    snippets: list[Snippet]
    highlights: dict[str, SafeString]

    @property
    def is_external(self) -> bool:
        return self.version.is_external


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str  # URL parameter name
    title: str
    values: list[FacetValue]

    FOLD = 8

    @property
    def top(self) -> list[FacetValue]:
        """The values shown at once: the most frequent ones, and every selected one."""
        return [v for i, v in enumerate(self.values) if i < self.FOLD or v.selected]

    @property
    def rest(self) -> list[FacetValue]:
        return [v for i, v in enumerate(self.values) if i >= self.FOLD and not v.selected]


@dataclass
class ActiveFilter:
    name: str
    title: str
    value: str
    label: str


@dataclass
class SearchOutcome:
    request: SearchRequest
    hits: list[HitView]
    facets: list[Facet]
    active: list[ActiveFilter]
    total: int
    approximate: bool
    next_cursor: str | None
    did_you_mean: str | None
    substring: bool = False
    related_majors: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.hits and self.request.cursor is None


class CursorInvalid(ValidationFailed):
    pass


def run_search(user, request: SearchRequest, *, with_facets: bool = True) -> SearchOutcome:
    """Search what `user` may see. Raises ValidationFailed (field "cursor") for a cursor of another query."""
    visibility = search_visibility(user)
    facet_names = [PARAMS[name] for name in PARAMS] if with_facets else []
    try:
        result = search_services.search(request.q, filters=request.engine_filters(), visibility=visibility,
                                        facets=facet_names, sort=request.sort, cursor=request.cursor,
                                        limit=request.limit)
    except InvalidCursor as exc:
        raise CursorInvalid.single("cursor", "search.cursor_invalid",
                                   _("This page link has expired. Start again from the first page.")) from exc
    except SearchError as exc:  # pragma: no cover - parameters are validated above
        raise ValidationFailed.single("q", "search.invalid", _("The search could not be run.")) from exc

    raw_facets: dict[str, list[tuple[str, int]]] = {}
    if with_facets:
        for name in PARAMS:
            raw_facets[name] = list(result.facets.get(PARAMS[name], []))
        # Disjunctive counts: a facet with a selection counts its values as if that facet were not filtered, so the
        # other values stay visible and can be added (values of one facet are OR-ed).
        for name in request.filters:
            other = search_services.search(request.q, filters=request.engine_filters(without=name),
                                           visibility=visibility, facets=[PARAMS[name]], sort="relevance", limit=0)
            raw_facets[name] = list(other.facets.get(PARAMS[name], []))

    labels = _labels(user, raw_facets, request.filters)
    facets: list[Facet] = []
    for name, values in raw_facets.items():
        selected = set(request.filters.get(name, []))
        seen = {value for value, _count in values}
        facet_values = [FacetValue(value, labels[name].get(value, value), count, value in selected)
                        for value, count in values]
        facet_values += [FacetValue(value, labels[name].get(value, value), 0, True)
                         for value in request.filters.get(name, []) if value not in seen]
        facets.append(Facet(name=name, title=str(FACET_TITLES[name]), values=facet_values))
    active = [ActiveFilter(name, str(FACET_TITLES[name]), value, labels[name].get(value, value))
              for name, values in request.filters.items() for value in values]

    hits = _hit_views(user, result.hits)
    outcome = SearchOutcome(
        request=request, hits=hits, facets=facets, active=active, total=result.total,
        approximate=result.approximate, next_cursor=result.next_cursor,
        did_you_mean=result.did_you_mean, substring=result.substring,
    )
    if outcome.empty and request.q:
        outcome.related_majors = related_majors(request.q)
    return outcome


def choice_labels() -> dict[str, dict[str, str]]:
    """Labels of the coded facets (type, audience, licence, price) in the active language."""
    return _choice_labels(get_language())


@functools.lru_cache(maxsize=8)
def _choice_labels(language: str) -> dict[str, dict[str, str]]:
    choices = {"type": V.Type, "audience": V.Audience, "licence": V.Licence, "price": V.PriceMode}
    return {name: {code: str(label) for code, label in enum.choices} for name, enum in choices.items()}


def _labels(user, facets: dict[str, list[tuple[str, int]]], filters: dict[str, list[str]]) -> dict[str, dict]:
    """Display labels for every facet value and active filter value. At most three queries."""
    wanted: dict[str, set[str]] = {name: set() for name in PARAMS}
    for name, values in facets.items():
        wanted[name].update(value for value, _count in values)
    for name, values in filters.items():
        wanted[name].update(values)
    labels: dict[str, dict] = {**choice_labels(), "major": {}, "library": {}, "institution": {}}
    if wanted["major"]:
        labels["major"] = {code: name for code, name in
                           Major.objects.filter(code__in=wanted["major"]).values_list("code", "name")}
    library_ids = [int(v) for v in wanted["library"] if v.isdigit()]
    if library_ids:
        labels["library"] = {str(pk): name for pk, name in visible_libraries(user).filter(pk__in=library_ids)
                             .values_list("pk", "name")}
    org_ids = [int(v) for v in wanted["institution"] if v.isdigit()]
    if org_ids:
        labels["institution"] = {str(pk): name for pk, name in
                                 Organization.objects.filter(pk__in=org_ids).values_list("pk", "name")}
    return labels


def _hit_views(user, hits) -> list[HitView]:
    """The hits' resources, re-checked against the visibility policy, in the engine's order. One query."""
    pks = [hit.pk for hit in hits if hit.kind == "resource"]
    if not pks:
        return []
    resources = {
        r.pk: r for r in with_rows(published_resources(user).filter(pk__in=pks)).order_by()
    }
    views: list[HitView] = []
    for hit in hits:
        resource = resources.get(hit.pk) if hit.kind == "resource" else None
        if resource is None:
            continue  # stale index entry, or not visible after all: never shown
        version = resource.published_version
        highlights = {name: safe_highlight(html) for name, html in (hit.highlights or {}).items() if html}
        views.append(HitView(
            resource=resource, version=version,
            title_html=highlights.get("title") or escape(version.title),
            snippets=_snippets(version, highlights),
            highlights=highlights,
        ))
    return views


def _snippets(version: ResourceVersion, highlights: dict[str, SafeString]) -> list[Snippet]:
    snippets = []
    for name, label in SNIPPET_FIELDS:
        html = highlights.get(name)
        if html:
            if len(html) > SNIPPET_LENGTH:  # the engine cuts long text already; the HTML-aware cut is slow
                html = mark_safe(Truncator(html).chars(SNIPPET_LENGTH, html=True))  # noqa: S308 - sanitised above
            snippets.append(Snippet(name, str(label) if label else None, html))
        if len(snippets) == 2:
            break
    if not any(s.field == "description" for s in snippets) and version.description and len(snippets) < 2:
        snippets.insert(0, Snippet("description", None, escape(Truncator(version.description).chars(SNIPPET_LENGTH))))
    return snippets


# --- zero results ------------------------------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u9fff]")


def related_majors(q: str, *, limit: int = 6) -> list[Major]:
    """Majors of the current catalogue whose names share characters with the query, best overlap first."""
    chars = list(dict.fromkeys(_HAN.findall(q)))[:12]
    if not chars:
        return []
    condition = Q()
    for char in chars:
        condition |= Q(name__contains=char)
    bigrams = {a + b for a, b in zip(q, q[1:]) if _HAN.match(a) and _HAN.match(b)}
    scored = []
    for major in Major.objects.filter(is_active=True).filter(condition).only("code", "name", "level"):
        shared = sum(1 for char in chars if char in major.name)
        pairs = sum(1 for pair in bigrams if pair in major.name)
        if pairs or shared >= min(2, len(chars)):
            scored.append((-(pairs * 2 + shared), len(major.name), major.code, major))
    scored.sort(key=lambda row: row[:3])
    return [row[3] for row in scored[:limit]]
