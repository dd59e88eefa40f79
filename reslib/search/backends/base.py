"""The search interface: documents in, hits out. Generic — knows nothing of resources.

Callers (the resources app, the catalogue pages, the API) use ``reslib.search.services``:

    services.index(documents: Iterable[SearchDocument]) -> int            # upsert by SearchDocument.id
    services.remove(ids: Iterable[str]) -> int                            # delete by SearchDocument.id
    services.search(query, *, filters={}, visibility, facets=[], sort="relevance", cursor=None, limit=20)
        -> SearchResult
    services.suggest(prefix, visibility, limit=10) -> list[str]

and ``reslib.resources.policies.search_visibility(user) -> Visibility`` to say what a user may see.

Semantics the implementations guarantee (SQLite FTS5 and PostgreSQL tsvector + pg_trgm alike):

* Query text is segmented like the documents (Chinese words via rjieba with the operator's user dictionary,
  English words lower-cased, numbers kept): every query word must match (AND). "汽车 维修" and "汽车维修" find the
  same documents. A latin-letter query also matches the pinyin initials of title/keyword words ("sksb" → 数控设备).
  When the word index finds nothing, a substring path (trigram index for ≥ 3 characters, a bounded scan for
  1–2 characters) is tried; hits found that way score lower.
* An empty query lists every visible document matching the filters (for catalogue pages), sorted by ``sort``
  ("relevance" then means "newest").
* Visibility is applied inside the query, to hits, totals, facet counts, highlights and suggestions alike: a document
  is visible iff ``visibility.everything`` or ``doc.access in visibility.access`` or
  ``doc.library_id in visibility.library_ids``.
* ``filters`` maps a FILTER name to a value or a list of values: values of one name are OR-ed, names are AND-ed.
  Unknown names raise ValueError. Values are compared as strings (library ids, institution ids and major codes as
  their string form).
* Facet values are the raw stored codes/ids as strings (the caller turns them into labels), ordered by count desc,
  at most ``FACET_LIMIT`` values per facet.
* Bounded work at any size: a search reads the newest ``COUNT_CAP`` visible matches ("newest" = most recently
  indexed) and computes ``total``, facet counts and the relevance order from them. With more matches than that,
  ``total`` = COUNT_CAP, ``SearchResult.approximate`` is True (show "1000+"), facets count those COUNT_CAP, and
  relevance ranks those COUNT_CAP. Browsing without words by date stays exact to the last page.
* Relevance (backends/ranking.py): where the query words occur — title (shorter titles first), keywords and
  knowledge points, other attributes, description — then newest first.
* Pagination is keyset: pass ``SearchResult.next_cursor`` back as ``cursor`` with the SAME query, filters and sort.
  A cursor is opaque (URL-safe base64); a malformed or mismatched one raises InvalidCursor.
* Highlights: {field: html} for the text fields where a query word occurs, built from the stored original text,
  HTML-escaped, with matches wrapped in ``<mark>…</mark>``; safe to render with ``|safe``. ``display`` is returned
  unchanged from the indexed document (the caller's own payload: title, url, …).
* sort="popular" orders by ``SearchDocument.usage`` and sort="rating" by ``SearchDocument.rating``; both are
  placeholders (0 / None) until statistics exist — the UI must say so. Ties break by newest.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Text fields, in index column order.
TEXT_FIELDS: tuple[str, ...] = (
    "title", "keywords", "knowledge_points", "majors", "resource_type", "library", "institutions", "authors",
    "description",
)

# Filter / facet attributes. Single-valued ones are columns; multi-valued ones (institution, audience) are lists.
SINGLE_ATTRIBUTES: tuple[str, ...] = ("resource_type", "major", "library", "licence", "price_mode")
MULTI_ATTRIBUTES: tuple[str, ...] = ("institution", "audience")
FILTERS: tuple[str, ...] = SINGLE_ATTRIBUTES + MULTI_ATTRIBUTES + ("kind",)
FACETS: tuple[str, ...] = SINGLE_ATTRIBUTES + MULTI_ATTRIBUTES

SORTS: tuple[str, ...] = ("relevance", "newest", "popular", "rating")
ACCESS_LEVELS: tuple[str, ...] = ("public", "registered", "members")

MAX_LIMIT = 100
FACET_LIMIT = 30
COUNT_CAP = 1_000


class SearchError(ValueError):
    """Bad input to the search interface (unknown filter, facet or sort)."""


class InvalidCursor(SearchError):
    """The cursor is malformed or belongs to another query/sort."""


@dataclass(frozen=True)
class Visibility:
    """What one user may see in search results.

    Build it with ``reslib.resources.policies.search_visibility(user)``: anonymous → access {"public"};
    signed in → {"public", "registered"}; plus ``library_ids`` of the libraries the user is a team member of (every
    indexed document of those libraries, whatever its access); operators → ``everything=True``.
    """

    access: frozenset[str] = frozenset({"public"})
    library_ids: frozenset[int] = frozenset()
    everything: bool = False

    @classmethod
    def anonymous(cls) -> Visibility:
        return cls()

    @classmethod
    def all(cls) -> Visibility:
        return cls(access=frozenset(ACCESS_LEVELS), everything=True)

    def allows(self, access: str, library_id: int | None) -> bool:
        return self.everything or access in self.access or (library_id is not None and library_id in self.library_ids)

    def cache_key(self) -> str:
        return "all" if self.everything else ",".join(sorted(self.access)) + "|" + ",".join(
            str(i) for i in sorted(self.library_ids))


@dataclass
class SearchDocument:
    """One indexable thing. ``id`` is "<kind>:<pk>", e.g. "resource:42"; index() upserts by it.

    Text fields are plain text (lists are joined with spaces when given as lists); the backend segments them.
    Attributes are codes for filters and facets. ``access``/``library_id`` decide visibility (see Visibility).
    ``display`` is an opaque JSON-serialisable payload handed back in hits (e.g. {"title", "url", "library_name"}).
    """

    id: str
    kind: str = "resource"
    # text (searched; ranking groups in ranking.py)
    title: str = ""
    keywords: str | list[str] = ""
    description: str = ""
    authors: str | list[str] = ""
    institutions: str | list[str] = ""
    library: str = ""
    majors: str | list[str] = ""
    knowledge_points: str | list[str] = ""
    resource_type: str = ""  # the human-readable type label, searched as text (e.g. "微课")
    # filter / facet attributes
    attr_resource_type: str = ""  # code, e.g. "micro_lesson"
    major: str = ""  # major code, e.g. "460103"
    library_id: int | None = None
    institution: list[int] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    licence: str = ""
    price_mode: str = ""
    access: str = "public"  # public | registered | members
    created_at: dt.datetime | None = None
    usage: int = 0  # placeholder until statistics exist
    rating: float | None = None  # placeholder until ratings exist
    display: dict = field(default_factory=dict)

    def text(self, name: str) -> str:
        value = getattr(self, name)
        if isinstance(value, (list, tuple)):
            return " ".join(str(v) for v in value if v)
        return value or ""

    def attributes(self) -> dict[str, list[str]]:
        """Filter attribute name → list of string values (the library attribute is library_id)."""
        return {
            "resource_type": [self.attr_resource_type] if self.attr_resource_type else [],
            "major": [self.major] if self.major else [],
            "library": [str(self.library_id)] if self.library_id is not None else [],
            "licence": [self.licence] if self.licence else [],
            "price_mode": [self.price_mode] if self.price_mode else [],
            "institution": sorted({str(i) for i in self.institution}),
            "audience": sorted({str(a) for a in self.audience}),
            "kind": [self.kind],
        }


@dataclass
class Hit:
    id: str  # SearchDocument.id, e.g. "resource:42"
    score: float  # higher is better; comparable within one result only
    highlights: dict[str, str] = field(default_factory=dict)  # field → escaped HTML with <mark>
    display: dict = field(default_factory=dict)  # SearchDocument.display as indexed
    created_at: dt.datetime | None = None

    @property
    def kind(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def pk(self) -> int:
        return int(self.id.split(":", 1)[1])


@dataclass
class SearchResult:
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    next_cursor: str | None = None
    total: int = 0
    approximate: bool = False  # more than COUNT_CAP matches: total/facets/ranking cover the newest COUNT_CAP
    did_you_mean: str | None = None  # a corrected query that has visible results, when this one has none
    substring: bool = False  # hits came from the substring fallback, not the word index


@dataclass(frozen=True)
class Query:
    """A parsed query, shared by the backends (built by reslib.search.query.parse)."""

    text: str  # the raw query, stripped
    terms: tuple[tuple[str, ...], ...]  # per query word: the alternatives that satisfy it (word or its sub-words)
    words: tuple[str, ...]  # the segmented query words (for highlighting)
    substrings: tuple[str, ...]  # raw whitespace-separated pieces, for the substring fallback

    @property
    def empty(self) -> bool:
        return not self.terms and not self.substrings

    @property
    def required(self) -> tuple[tuple[str, ...], ...]:
        """Per query word, the index words a match must all contain: a compound's sub-words (documents are indexed
        with the sub-words of every compound, so this also finds the compound itself), else the word."""
        return tuple(tuple(alternatives[-1].split()) for alternatives in self.terms)


# --- cursors ----------------------------------------------------------------------------------------------------


def fingerprint(query: str, filters: dict, sort: str) -> str:
    raw = json.dumps([query, sorted((k, sorted(map(str, v))) for k, v in filters.items()), sort], ensure_ascii=False)
    return hashlib.blake2s(raw.encode(), digest_size=6).hexdigest()


def encode_cursor(fp: str, key: Sequence, mode: str = "w") -> str:
    raw = json.dumps([fp, mode, list(key)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fp: str) -> tuple[str, list]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_fp, mode, key = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if got_fp != fp or mode not in ("w", "s", "b") or not isinstance(key, list):
        raise InvalidCursor("cursor belongs to another query")
    return mode, key


def normalise_filters(filters: dict | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in (filters or {}).items():
        if name not in FILTERS:
            raise SearchError(f"unknown filter {name!r}")
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        values = sorted({str(v) for v in values if v is not None and str(v) != ""})
        if values:
            out[name] = values
    return out


class SearchBackend(ABC):
    """One implementation per database vendor; stateless apart from the connection alias."""

    def __init__(self, using: str = "default"):
        self.using = using

    @abstractmethod
    def index(self, documents: Iterable[SearchDocument], *, generation: int | None = None) -> int:
        """Insert or replace documents (by id). Returns how many were written."""

    @abstractmethod
    def remove(self, ids: Iterable[str]) -> int:
        """Delete documents by id (missing ids are ignored). Returns how many were removed."""

    @abstractmethod
    def search(self, query: Query, *, filters: dict[str, list[str]], visibility: Visibility, facets: Sequence[str],
               sort: str, cursor: str | None, limit: int, fp: str) -> SearchResult:
        """Run a parsed query; see the module docstring for the semantics."""

    @abstractmethod
    def suggest(self, prefix: str, visibility: Visibility, limit: int = 10) -> list[str]:
        """Completions (words and phrases from titles, keywords, knowledge points, majors) of visible documents,
        matched by prefix of the text, its full pinyin or its pinyin initials; most frequent first."""

    @abstractmethod
    def did_you_mean(self, query: Query, visibility: Visibility) -> str | None:
        """A close query (same pinyin, or a small spelling distance) that has visible results, else None."""

    @abstractmethod
    def next_generation(self) -> int:
        """A new rebuild generation number (greater than any stored)."""

    @abstractmethod
    def remove_stale(self, generation: int, kind: str | None = None) -> int:
        """After a rebuild: delete documents (of kind) not written with ``generation`` or later."""

    @abstractmethod
    def count(self) -> int:
        """Number of indexed documents (all visibilities)."""
