"""Turn a user's query string into a backend-neutral Query (see backends/base.py)."""

from __future__ import annotations

from . import segment
from .backends.base import Query

MAX_WORDS = 12


def parse(text: str) -> Query:
    words: list[str] = []
    for word in segment.query_words(text):
        if word not in words:
            words.append(word)
    words = words[:MAX_WORDS]
    terms = []
    for word in words:
        alternatives = [word]
        subs = segment.sub_words(word) if " " not in word else ()
        if subs:
            alternatives.append(" ".join(subs))  # a phrase of the sub-words, in order
        terms.append(tuple(alternatives))
    substrings = tuple(p for p in segment.normalise(text).split() if p)[:MAX_WORDS]
    return Query(text=text, terms=tuple(terms), words=tuple(words), substrings=substrings)
