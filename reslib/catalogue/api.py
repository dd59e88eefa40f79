"""Search API: full-text search over the resources a caller may see, with facets and highlights; autocomplete.

Public endpoints: anonymous callers see public resources; a token or session adds what the user may see. Hits,
totals, facet counts and suggestions all follow reslib.resources.policies.search_visibility(user).
"""

from django.urls import reverse
from ninja import Field, Query, Router, Schema

from reslib.core.api import ErrorOut
from reslib.resources.policies import search_visibility
from reslib.search import services as search_services
from reslib.search.backends.base import COUNT_CAP, MAX_LIMIT

from .searching import PARAMS, SORT_CODES, SearchRequest, choice_labels, run_search

router = Router(tags=["search"])


class LibraryRef(Schema):
    id: int
    name: str


class SearchItemOut(Schema):
    id: int
    title: str
    url: str = Field(..., description="The resource's page on this site.")
    resource_type: str = Field(..., examples=["micro_lesson"])
    resource_type_label: str
    library: LibraryRef
    major: str = Field(..., description="Major code.", examples=["460103"])
    external_url: str | None = Field(None, description="For external links: the address it points to.")
    highlights: dict[str, str] = Field(
        default_factory=dict,
        description="Field → HTML-escaped text with the matched words wrapped in <mark>…</mark>.")


class FacetValueOut(Schema):
    value: str
    label: str
    count: int
    selected: bool


class SearchOut(Schema):
    items: list[SearchItemOut]
    facets: dict[str, list[FacetValueOut]] = Field(
        ..., description="Per filter parameter (type, major, library, institution, audience, licence, price): "
                         "values with counts, most frequent first.")
    next_cursor: str | None = Field(None, description="Pass back as `cursor` (same query) for the next page.")
    did_you_mean: str | None = None
    total: int
    approximate: bool = Field(False, description=f"True when there are more than {COUNT_CAP:,} matches: total is "
                                                 f"{COUNT_CAP:,} and facets count the newest {COUNT_CAP:,}.")


class SuggestOut(Schema):
    items: list[str]


class SearchParams(Schema):
    q: str = Field("", max_length=200, description="Words, a phrase, Chinese and/or English; pinyin initials work.")
    type: list[str] = Field(default_factory=list, description="Resource type code(s); repeat or comma-separate.")
    major: list[str] = Field(default_factory=list, description="Major code(s), e.g. 460103.")
    library: list[str] = Field(default_factory=list, description="Library id(s).")
    institution: list[str] = Field(default_factory=list, description="Institution id(s).")
    audience: list[str] = Field(default_factory=list, description="student, social_learner, employee.")
    licence: list[str] = Field(default_factory=list, description="Licence code(s), e.g. cc_by.")
    price: list[str] = Field(default_factory=list, description="free or paid.")
    sort: str = Field("relevance", description="relevance, newest, popular, rating (popular and rating are "
                                               "placeholders until statistics exist; ties break by newest).")
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=MAX_LIMIT)


class _ParamsView:
    """Adapts the parsed schema to SearchRequest.from_params (which reads a QueryDict)."""

    def __init__(self, params: SearchParams):
        self.params = params

    def get(self, name, default=None):
        return getattr(self.params, name, default)

    def getlist(self, name):
        value = getattr(self.params, name, None)
        return list(value or [])


@router.get("/search", response={200: SearchOut, 400: ErrorOut, 422: ErrorOut}, summary="Search resources",
            openapi_extra={"description": "Sort codes: " + ", ".join(SORT_CODES) + ". Filters: "
                                          + ", ".join(PARAMS) + "."})
def search(request, params: Query[SearchParams]):
    req = SearchRequest.from_params(_ParamsView(params), limit=params.limit, strict=True)
    outcome = run_search(request.user, req)
    type_labels = choice_labels()["type"]
    items = []
    for hit in outcome.hits:
        version = hit.version
        items.append({
            "id": hit.resource.pk,
            "title": version.title,
            "url": reverse("resources:detail", args=[hit.resource.pk]),
            "resource_type": version.resource_type,
            "resource_type_label": type_labels.get(version.resource_type, version.resource_type),
            "library": {"id": hit.resource.library_id, "name": hit.resource.library.name},
            "major": version.major.code,
            "external_url": version.external_url or None if version.is_external else None,
            "highlights": {name: str(html) for name, html in hit.highlights.items()},
        })
    facets = {facet.name: [{"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                           for v in facet.values] for facet in outcome.facets}
    return {
        "items": items, "facets": facets, "next_cursor": outcome.next_cursor, "did_you_mean": outcome.did_you_mean,
        "total": outcome.total, "approximate": outcome.approximate,
    }


@router.get("/search/suggest", response=SuggestOut, summary="Autocomplete suggestions")
def suggest(request, q: str = Query("", max_length=50), limit: int = Query(10, ge=1, le=20)):
    text = " ".join((q or "").split())
    items = search_services.suggest(text, search_visibility(request.user), limit=limit) if text else []
    return {"items": items}
