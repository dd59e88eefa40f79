"""Filter attributes and visibility as words of the full-text index.

Every document's index entry also holds one token per attribute value ("tvideo" = resource type video, "i5" =
institution 5, "vpublic" = access public, …): in the FTS5 column ``attrs`` on SQLite, as '~'-prefixed lexemes of the
tsvector on PostgreSQL. A filtered word query then intersects posting lists inside the index instead of checking
candidate rows one by one, so "护理 + 视频 + 免费" costs what "护理" costs. SQLite applies visibility the same way;
PostgreSQL checks it on the rows it reads (see postgres.py: a GIN scan walks the posting list of every lexeme it is
given, and the access token of public documents is in most of them).
"""

from __future__ import annotations

import re

from .base import Visibility

PREFIX = {
    "resource_type": "t", "major": "m", "library": "l", "licence": "c", "price_mode": "p", "kind": "k",
    "institution": "i", "audience": "a", "access": "v",
}
# Letters and digits stay; anything else (and the escape letter x itself) becomes x<hex>x, so tokens are injective
# and survive FTS5's unicode61 tokenizer as one token.
_UNSAFE = re.compile(r"[^0-9a-wyz]")


def token(name: str, value) -> str:
    return PREFIX[name] + _UNSAFE.sub(lambda m: f"x{ord(m.group()):x}x", str(value))


def document_tokens(attributes: dict[str, list[str]]) -> list[str]:
    """The filter tokens of one document (from SearchDocument.attributes())."""
    return [token(name, value) for name, values in attributes.items() for value in values]


def visibility_group(visibility: Visibility) -> list[str] | None:
    """The tokens of which a visible document has one: [] when everything is visible, None when nothing is."""
    if visibility.everything:
        return []
    group = [token("access", a) for a in sorted(visibility.access)]
    group += [token("library", i) for i in sorted(visibility.library_ids)]
    return group or None


def filter_groups(filters: dict[str, list[str]]) -> list[list[str]]:
    """AND of OR-groups of tokens a document matching the filters has (values of one filter are OR-ed)."""
    return [[token(name, v) for v in values] for name, values in filters.items()]
