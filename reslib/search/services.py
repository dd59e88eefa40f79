"""The search app's public operations: index, remove, search, suggest (see backends/base.py for the semantics).

The search app is generic: callers hand in SearchDocument objects and get Hit ids back. Visibility is decided by the
caller's policy (``reslib.resources.policies.search_visibility(user)``) and enforced inside every query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from reslib.core import audit
from reslib.core.errors import ValidationFailed

from . import query as query_module
from .backends import get_backend  # noqa: F401 - re-exported for callers that rebuild
from .backends.base import (
    FACETS,
    MAX_LIMIT,
    SORTS,
    InvalidCursor,
    SearchDocument,
    SearchError,
    SearchResult,
    Visibility,
    fingerprint,
    normalise_filters,
)

__all__ = [
    "SearchDocument", "SearchResult", "Visibility", "SearchError", "InvalidCursor",
    "index", "remove", "search", "suggest", "add_dictionary_word", "remove_dictionary_word",
]


def index(documents: Iterable[SearchDocument], *, generation: int | None = None, using: str = "default") -> int:
    """Insert or replace documents by id. Idempotent."""
    return get_backend(using).index(documents, generation=generation)


def remove(ids: Iterable[str], *, using: str = "default") -> int:
    """Delete documents by id; unknown ids are ignored. Idempotent."""
    return get_backend(using).remove(list(ids))


def search(query: str, *, filters: dict | None = None, visibility: Visibility, facets: Sequence[str] = (),
           sort: str = "relevance", cursor: str | None = None, limit: int = 20, using: str = "default") -> SearchResult:
    """Search visible documents. Raises SearchError (unknown filter/facet/sort) or InvalidCursor.

    ``limit=0`` counts only: total and facets, no hits (cheaper: the ranking words stay in the database)."""
    text = (query or "").strip()[:200]
    if sort not in SORTS:
        raise SearchError(f"unknown sort {sort!r}")
    for name in facets:
        if name not in FACETS:
            raise SearchError(f"unknown facet {name!r}")
    normalised = normalise_filters(filters)
    limit = max(0, min(int(limit), MAX_LIMIT))
    parsed = query_module.parse(text)
    if parsed.empty and text:
        # Only punctuation: nothing can match.
        return SearchResult(hits=[], facets={name: [] for name in facets})
    backend = get_backend(using)
    fp = fingerprint(text, normalised, sort)
    result = backend.search(parsed, filters=normalised, visibility=visibility, facets=list(facets), sort=sort,
                            cursor=cursor, limit=limit, fp=fp)
    if not parsed.empty and result.total == 0 and cursor is None and limit:
        result.did_you_mean = backend.did_you_mean(parsed, visibility)
    return result


def suggest(prefix: str, visibility: Visibility, *, limit: int = 10, using: str = "default") -> list[str]:
    """Autocomplete: up to ``limit`` words/phrases of visible documents starting with ``prefix`` (or its pinyin)."""
    prefix = (prefix or "").strip()
    if not prefix:
        return []
    return get_backend(using).suggest(prefix[:50], visibility, max(1, min(limit, 20)))


# --- the operator's user dictionary ------------------------------------------------------------------------------


def add_dictionary_word(word: str, *, by, frequency: int | None = None, note: str = ""):
    """Add a domain term to the segmentation dictionary (takes effect at once; reindex to re-segment old text)."""
    from . import segment
    from .models import DictionaryWord

    word = (word or "").strip()
    if not word or len(word) > 32 or any(c.isspace() for c in word):
        raise ValidationFailed.single("word", "search.word_invalid", segment.WORD_INVALID_MESSAGE)
    with transaction.atomic():
        entry, created = DictionaryWord.objects.update_or_create(
            word=word, defaults={"frequency": frequency or None, "note": (note or "")[:200]})
        audit.record(actor=by, action="search.dictionary_add", target=entry,
                     after={"word": word, "frequency": entry.frequency})
        transaction.on_commit(segment.reload)
    return entry


def remove_dictionary_word(entry, *, by) -> None:
    from . import segment

    with transaction.atomic():
        audit.record(actor=by, action="search.dictionary_remove", target=entry, before={"word": entry.word})
        entry.delete()
        transaction.on_commit(segment.reload)
