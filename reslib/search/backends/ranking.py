"""Relevance of a candidate document, computed in Python from its ranking words — the same on SQLite and PostgreSQL.

Why not bm25()/ts_rank_cd(): FTS5's bm25 counts every document of every query term over the whole index to get its
IDF, which costs 20–60 ms for common words at a million documents; ts_rank_cd reads each candidate's whole tsvector.
Here every candidate already contains every query word somewhere (AND semantics), so IDF would not reorder them: what
matters is WHERE a word occurs. Score = BASE + Σ over query words of the weights of the field groups containing it:

* title (TITLE_WEIGHT, scaled by BM25's length normalisation so a short title that is about the word wins),
* tags — keywords and knowledge points (TAGS_WEIGHT),
* other — majors, resource type, library, institutions, authors and the pinyin initials (OTHER_WEIGHT);

a word found only in the description adds nothing beyond BASE. Ties break by newest (the callers' id order).
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Query

TITLE_WEIGHT = 10.0
TAGS_WEIGHT = 6.0
OTHER_WEIGHT = 2.5
BASE = 1.0
# BM25 term-frequency part for tf = 1: (k1 + 1) / (1 + k1 · (1 − b + b · length / average length)).
K1, B, AVERAGE_TITLE_WORDS = 1.2, 0.75, 8.0


def padded(tokens: list[str] | str) -> str:
    """The stored form of a field group: its words between single spaces, with a space at each end."""
    words = tokens.split() if isinstance(tokens, str) else tokens
    return " " + " ".join(words) + " " if words else ""


def title_norm(title: str) -> float:
    words = max(title.count(" ") - 1, 1)
    return (K1 + 1) / (1 + K1 * (1 - B + B * words / AVERAGE_TITLE_WORDS))


def _word_test(alternatives: tuple[str, ...]) -> Callable[[str], bool]:
    """A test for one query word in a padded field: the word itself, or every sub-word of its split compound."""
    options = [tuple(f" {part} " for part in alternative.split()) for alternative in alternatives]
    if len(options) == 1 and len(options[0]) == 1:
        needle = options[0][0]
        return lambda text: needle in text
    return lambda text: any(all(part in text for part in parts) for parts in options)


def word_scorer(query: Query) -> Callable[[str, str, str], float]:
    """score(rank_title, rank_tags, rank_other) for a word query."""
    tests = [_word_test(alternatives) for alternatives in query.terms]

    def score(title: str, tags: str, other: str) -> float:
        total = BASE
        title_hits = 0
        for test in tests:
            if test(title):
                title_hits += 1
            if test(tags):
                total += TAGS_WEIGHT
            if test(other):
                total += OTHER_WEIGHT
        if title_hits:
            total += TITLE_WEIGHT * title_norm(title) * title_hits
        return total

    return score


def substring_scorer(query: Query) -> Callable[[str, str, str], float]:
    """score(...) for the substring fallback: pieces are looked for inside the joined words."""
    pieces = [p for p in query.substrings if p]

    def score(title: str, tags: str, other: str) -> float:
        total = BASE
        joined = (title.replace(" ", ""), tags.replace(" ", ""), other.replace(" ", ""))
        for piece in pieces:
            if piece in joined[0]:
                total += TITLE_WEIGHT * title_norm(title)
            if piece in joined[1]:
                total += TAGS_WEIGHT
            if piece in joined[2]:
                total += OTHER_WEIGHT
        return total

    return score
