"""Relevance of a candidate document — the same on SQLite and PostgreSQL.

Why not bm25()/ts_rank_cd(): FTS5's bm25 counts every document of every query term over the whole index to get its
IDF, which costs 20–60 ms for common words at a million documents; ts_rank_cd reads each candidate's whole tsvector.
Here every candidate already contains every query word somewhere (AND semantics), so IDF would not reorder them: what
matters is WHERE a word occurs. Score = BASE + Σ over query words of the weights of the field groups containing it:

* title (TITLE_WEIGHT, scaled by BM25's length normalisation so a short title that is about the word wins),
* tags — keywords and knowledge points (TAGS_WEIGHT),
* other — majors, resource type, library, institutions, authors and the pinyin initials (OTHER_WEIGHT);

a word found only in the description adds nothing beyond BASE. Ties break by newest (the callers' id order).

The database looks for each needle (a query word between spaces, or a substring piece) in the stored field groups
and returns one bit mask per group (sql.py builds the expressions); Python turns the masks into the score. So the
field texts stay in the database and the per-row work in Python is a few integer operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .base import Query

TITLE_WEIGHT = 10.0
TAGS_WEIGHT = 6.0
OTHER_WEIGHT = 2.5
BASE = 1.0
# BM25 term-frequency part for tf = 1: (k1 + 1) / (1 + k1 · (1 − b + b · length / average length)).
K1, B, AVERAGE_TITLE_WORDS = 1.2, 0.75, 8.0
# Masks are 64-bit integers in the database: query words beyond this many needles do not count for relevance.
MAX_NEEDLES = 62


def padded(tokens: list[str] | str) -> str:
    """The stored form of a field group: its words between single spaces, with a space at each end."""
    words = tokens.split() if isinstance(tokens, str) else tokens
    return " " + " ".join(words) + " " if words else ""


def title_norm(words: int) -> float:
    words = max(words, 1)
    return (K1 + 1) / (1 + K1 * (1 - B + B * words / AVERAGE_TITLE_WORDS))


@dataclass(frozen=True)
class Ranking:
    """How one query is scored.

    ``needles``: the texts looked for in each field group — bit i of a group's mask says needles[i] occurs in it;
    ``joined``: look in the group's text with the spaces removed (inside words: the substring fallback);
    ``terms``: per query word (or substring piece), the masks of its alternatives — the word matches a group when
    every bit of one alternative is set (a compound matches through all of its sub-words)."""

    needles: tuple[str, ...]
    joined: bool
    terms: tuple[tuple[int, ...], ...]

    def scorer(self) -> Callable[[tuple[int, int, int, int]], float]:
        """score((title mask, title word count, tags mask, other mask)). Remembers each combination: a thousand
        candidates share a few dozen."""
        scores: dict[tuple[int, int, int, int], float] = {}

        def words_in(mask: int) -> int:
            return sum(1 for alternatives in self.terms if any(mask & alt == alt for alt in alternatives))

        def score(masks: tuple[int, int, int, int]) -> float:
            total = scores.get(masks)
            if total is None:
                title, title_words, tags, other = masks
                total = BASE + TAGS_WEIGHT * words_in(tags) + OTHER_WEIGHT * words_in(other)
                in_title = words_in(title)
                if in_title:
                    total += TITLE_WEIGHT * title_norm(title_words) * in_title
                scores[masks] = total
            return total

        return score


def word_ranking(query: Query) -> Ranking:
    needles: dict[str, int] = {}
    terms = []
    for alternatives in query.terms:
        parts = {padded(part) for alternative in alternatives for part in alternative.split()}
        if len(needles.keys() | parts) > MAX_NEEDLES:
            break
        masks = []
        for alternative in alternatives:
            mask = 0
            for part in alternative.split():
                mask |= 1 << needles.setdefault(padded(part), len(needles))
            masks.append(mask)
        terms.append(tuple(masks))
    return Ranking(needles=tuple(needles), joined=False, terms=tuple(terms))


def substring_ranking(query: Query) -> Ranking:
    """The substring fallback: pieces are looked for inside the joined words."""
    needles: dict[str, int] = {}
    pieces = [piece for piece in query.substrings if piece]
    terms = tuple((1 << needles.setdefault(piece, len(needles)),) for piece in pieces[:MAX_NEEDLES])
    return Ranking(needles=tuple(needles), joined=True, terms=terms)
