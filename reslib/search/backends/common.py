"""What both backends share: preparing a document for the index, highlights, suggestion terms."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from dataclasses import dataclass

from django.utils import timezone

from .. import segment
from . import attributes as attribute_tokens
from .base import MULTI_ATTRIBUTES, TEXT_FIELDS, Query, SearchDocument
from .ranking import padded

HIGHLIGHT_FIELDS = ("title", "keywords", "knowledge_points", "description", "authors", "institutions", "library",
                    "majors")
SNIPPET_CHARS = 90
SHORT_TEXT_FIELDS = ("title", "keywords", "knowledge_points")
TAG_FIELDS = ("keywords", "knowledge_points")
OTHER_FIELDS = ("majors", "resource_type", "library", "institutions", "authors")
MAX_TERM = 60


def _items(value) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p for p in re.split(r"[\s,，;；、]+", value or "") if p]


@dataclass
class Prepared:
    doc: SearchDocument
    tokens: dict[str, str]  # field → space-separated segmented tokens
    pinyin: str  # space-separated pinyin initials of title/keyword/knowledge-point words
    short_text: str
    fields: dict
    terms: list[str]
    created_ts: int
    multi: str  # " institution=5 audience=student "
    rank_title: str  # ranking words per field group (see ranking.py)
    rank_tags: str
    rank_other: str
    attr_tokens: list[str]  # filter attributes as index words (attributes.py)
    access_token: str  # the access level as an index word

    @property
    def public(self) -> bool:
        return self.doc.access == "public"


def to_ts(value: dt.datetime | None) -> int:
    value = value or timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return int(value.timestamp() * 1_000_000)


def from_ts(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts / 1_000_000, tz=dt.UTC)


def suggestion_terms(doc: SearchDocument) -> list[str]:
    terms: list[str] = []
    title = segment.normalise(doc.title).strip()
    if title and len(title) <= MAX_TERM:
        terms.append(title)
    for name in ("keywords", "knowledge_points", "majors"):
        terms.extend(segment.normalise(v) for v in _items(getattr(doc, name)) if len(v) <= MAX_TERM)
    terms.extend(t for t in segment.index_tokens(doc.title) if len(t) >= 2 and segment.is_cjk(t))
    seen, out = set(), []
    for term in terms:
        if term and term not in seen:
            seen.add(term)
            out.append(term)
    return out


def prepare(doc: SearchDocument) -> Prepared:
    tokens = {name: " ".join(segment.index_tokens(doc.text(name))) for name in TEXT_FIELDS}
    pinyin = " ".join(segment.pinyin_tokens(" ".join(doc.text(n) for n in SHORT_TEXT_FIELDS)))
    fields = {name: doc.text(name) for name in TEXT_FIELDS if doc.text(name)}
    short_text = segment.normalise(" ".join(doc.text(n) for n in SHORT_TEXT_FIELDS))
    terms = suggestion_terms(doc)
    fields["terms"] = terms
    attributes = doc.attributes()
    multi = padded([f"{name}={value}" for name in MULTI_ATTRIBUTES for value in attributes[name]])
    return Prepared(doc=doc, tokens=tokens, pinyin=pinyin, short_text=short_text, fields=fields, terms=terms,
                    created_ts=to_ts(doc.created_at), multi=multi,
                    rank_title=_group(tokens, ("title",)), rank_tags=_group(tokens, TAG_FIELDS),
                    rank_other=_group(tokens, OTHER_FIELDS, pinyin),
                    attr_tokens=attribute_tokens.document_tokens(attributes),
                    access_token=attribute_tokens.token("access", doc.access))


def _group(tokens: dict[str, str], names: tuple[str, ...], *extra: str) -> str:
    words = " ".join([tokens[name] for name in names] + list(extra)).split()
    return padded(list(dict.fromkeys(words)))


def term_deltas(rows: list[tuple[bool, list[str]]]) -> Counter:
    """(public?, terms) per document added (+) — callers pass removed ones through subtract."""
    counter: Counter = Counter()
    for public, terms in rows:
        if public:
            counter.update(terms)
    return counter


def term_row(term: str) -> tuple[str, str, str]:
    words = segment.query_words(term) or [term]
    full = "".join(segment.pinyin(w) if segment.is_cjk(w) else w.replace(" ", "") for w in words)
    initials = "".join(segment.initials(w) if segment.is_cjk(w) else w[:1] for w in words)
    return term[:200], full[:400], initials[:200]


# --- highlights -------------------------------------------------------------------------------------------------


def highlight_words(query: Query, substring: bool = False) -> list[str]:
    words: set[str] = set()
    for word in query.words:
        words.update(p for p in word.split() if p)
        words.update(segment.sub_words(word))
    if substring:
        words.update(query.substrings)
    # Longest first so 数控设备 is marked whole rather than as 数控 + 设备.
    return sorted((w for w in words if w), key=len, reverse=True)


def _pattern(words: list[str]) -> re.Pattern | None:
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def _mark(text: str, pattern: re.Pattern) -> str:
    out, pos = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[pos:match.start()]))
        out.append("<mark>" + html.escape(match.group(0)) + "</mark>")
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def highlights(fields: dict, words: list[str]) -> dict[str, str]:
    """{field: escaped HTML with <mark>} for the fields where a word occurs; long text cut to a snippet."""
    pattern = _pattern(words)
    if pattern is None:
        return {}
    out = {}
    for name in HIGHLIGHT_FIELDS:
        text = fields.get(name) or ""
        if not text:
            continue
        folded = segment.normalise(text)
        source = folded if len(folded) == len(text) else text
        match = pattern.search(source)
        if not match:
            continue
        if len(text) > SNIPPET_CHARS:
            start = max(0, match.start() - SNIPPET_CHARS // 3)
            end = min(len(text), start + SNIPPET_CHARS)
            start = max(0, end - SNIPPET_CHARS)
            piece = text[start:end]
            marked = _mark(piece, pattern)
            out[name] = ("…" if start else "") + marked + ("…" if end < len(text) else "")
        else:
            out[name] = _mark(text, pattern)
    return out
