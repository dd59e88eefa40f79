"""Filter attributes and visibility as words of the full-text index.

Every document's index entry also holds one token per attribute value ("tvideo" = resource type video, "i5" =
institution 5, "vpublic" = access public, …): in the FTS5 column ``attrs`` on SQLite, as '~'-prefixed lexemes of the
tsvector on PostgreSQL. A filtered or visibility-restricted word query then intersects posting lists inside the index
instead of checking candidate rows one by one, so "护理 + 视频 + 免费" costs what "护理" costs.
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


def document_tokens(attributes: dict[str, list[str]], access: str) -> list[str]:
    """The tokens of one document: its filter attributes (SearchDocument.attributes()) and its access level."""
    return [token(name, value) for name, values in attributes.items() for value in values] + [token("access", access)]


def query_groups(filters: dict[str, list[str]], visibility: Visibility) -> list[list[str]] | None:
    """AND of OR-groups of tokens a visible, filtered document has; None when the visibility allows nothing."""
    groups = []
    if not visibility.everything:
        group = [token("access", a) for a in sorted(visibility.access)]
        group += [token("library", i) for i in sorted(visibility.library_ids)]
        if not group:
            return None
        groups.append(group)
    for name, values in filters.items():
        groups.append([token(name, v) for v in values])
    return groups
