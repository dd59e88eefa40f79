"""Sensitive-word matching, independent of the database: normalise text, then one Aho-Corasick pass.

Normalisation (applied alike to the words and to the text, index-preserving so every hit points at the original):
* NFKC per character where it maps one character to one (full-width ＡＢＣ１２３ → ABC123, ideographic space → space,
  compatibility forms such as ①→1 or ㊙→秘), then lower case;
* optionally (``strip_separators``, on by default) spaces, punctuation, symbols and zero-width characters BETWEEN
  two Chinese characters are dropped, so "敏 感·词" and "敏​感词" match 敏感词 (Latin words keep their spaces).

Words that begin or end with a Latin letter or digit only match as whole words at that edge ("ass" does not match
"class"); Chinese has no word boundaries and matches anywhere. Overlapping words are all reported ("敏感" and
"敏感词" in "敏感词"). One pass over the text costs the same whatever the number of words (ahocorasick-rs: the
Rust aho-corasick crate).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

import ahocorasick_rs

BLOCK = "block"
FLAG = "flag"
LEVELS = (BLOCK, FLAG)
CONTEXT_CHARS = 20

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_SEPARATORS_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[\W_]+(?=[{_CJK}])")


def _is_latin_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class _CharMap(dict):
    """code point → normalised character for str.translate, filled on first sight of each character."""

    def __missing__(self, code: int):
        ch = chr(code)
        mapped = unicodedata.normalize("NFKC", ch).lower()
        if len(mapped) != 1:  # expansions (㎏ → kg) would shift positions: keep the lower-cased character
            mapped = ch.lower() if len(ch.lower()) == 1 else ch
        value = code if mapped == ch else mapped
        if len(self) < 200_000:
            self[code] = value
        return value


_CHAR_MAP = _CharMap()


@dataclass
class Normalised:
    """Normalised text plus what is needed to map a position in it back to the original text."""

    text: str
    # sorted positions in `text` where characters were removed before, and the total removed up to there
    _cuts: list[int] = field(default_factory=list)
    _removed: list[int] = field(default_factory=list)

    def original_index(self, index: int) -> int:
        i = bisect.bisect_right(self._cuts, index)
        return index + (self._removed[i - 1] if i else 0)


def normalise(text: str, *, strip_separators: bool = True) -> Normalised:
    text = text or ""
    mapped = text.translate(_CHAR_MAP)
    if not strip_separators:
        return Normalised(mapped)
    cuts: list[int] = []
    removed: list[int] = []
    parts: list[str] = []
    last = 0
    total = 0
    for m in _SEPARATORS_BETWEEN_CJK.finditer(mapped):
        parts.append(mapped[last:m.start()])
        total += m.end() - m.start()
        cuts.append(m.start() - (total - (m.end() - m.start())))  # position in the output where the cut happened
        removed.append(total)
        last = m.end()
    if not cuts:
        return Normalised(mapped)
    parts.append(mapped[last:])
    return Normalised("".join(parts), cuts, removed)


def normalise_word(word: str) -> str:
    return normalise(word.strip()).text.strip()


@dataclass(frozen=True)
class Entry:
    word: str
    level: str = FLAG
    category: str = ""
    ref: object = None  # e.g. the SensitiveWord id


@dataclass(frozen=True)
class Match:
    start: int  # in the original text
    end: int  # exclusive, in the original text
    entry: Entry
    matched: str  # the original text that matched (may contain the separators that were skipped)
    context: str  # ±CONTEXT_CHARS around the match in the original text

    @property
    def level(self) -> str:
        return self.entry.level


class Matcher:
    """An immutable automaton over a word list. Build once, share across threads, call find() many times."""

    def __init__(self, entries, *, strip_separators: bool = True):
        self.strip_separators = strip_separators
        by_key: dict[str, list[Entry]] = {}
        for entry in entries:
            key = normalise(entry.word.strip(), strip_separators=strip_separators).text.strip()
            if key:
                by_key.setdefault(key, []).append(entry)
        self._keys: list[str] = []
        self._entries: list[Entry] = []
        for key, group in by_key.items():
            # The same normalised word listed twice (e.g. full- and half-width): the strictest level wins.
            group.sort(key=lambda e: 0 if e.level == BLOCK else 1)
            self._keys.append(key)
            self._entries.append(group[0])
        self.size = len(self._keys)
        self._automaton = (ahocorasick_rs.AhoCorasick(self._keys, matchkind=ahocorasick_rs.MATCHKIND_STANDARD)
                           if self.size else None)

    def __len__(self) -> int:
        return self.size

    def find(self, text: str, *, limit: int | None = None) -> list[Match]:
        if not self.size or not text:
            return []
        norm = normalise(text, strip_separators=self.strip_separators)
        ntext = norm.text
        matches: list[Match] = []
        for index, start, stop in self._automaton.find_matches_as_indexes(ntext, overlapping=True):
            key, entry = self._keys[index], self._entries[index]
            end = stop - 1
            if _is_latin_alnum(key[0]) and start > 0 and _is_latin_alnum(ntext[start - 1]):
                continue
            if _is_latin_alnum(key[-1]) and stop < len(ntext) and _is_latin_alnum(ntext[stop]):
                continue
            o_start = norm.original_index(start)
            o_end = norm.original_index(end) + 1
            context = text[max(0, o_start - CONTEXT_CHARS):o_end + CONTEXT_CHARS]
            matches.append(Match(o_start, o_end, entry, text[o_start:o_end], context))
            if limit is not None and len(matches) >= limit:
                break
        return matches

    def first_block(self, text: str) -> Match | None:
        return next((m for m in self.find(text) if m.level == BLOCK), None)


EMPTY = Matcher([])


def parse_word_file(content: str, *, default_level: str = FLAG, default_category: str = "") -> list[dict]:
    """Words from an operator's text or CSV file: one per line, optionally "word,category,level" (comma, tab or
    Chinese comma). Lines starting with # are comments; blank lines are skipped. Returns [{"line", "word",
    "category", "level", "error"}], error empty when the line is usable."""
    rows = []
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in re.split(r"[,\t，]", line)]
        word = parts[0]
        category = parts[1] if len(parts) > 1 and parts[1] else default_category
        level = (parts[2].lower() if len(parts) > 2 and parts[2] else default_level)
        level = {"阻断": BLOCK, "拦截": BLOCK, "标记": FLAG, "提示": FLAG}.get(level, level)
        error = ""
        if not normalise_word(word):
            error = "empty"
        elif len(word) > 64:
            error = "too_long"
        elif level not in LEVELS:
            error = "level"
        rows.append({"line": number, "word": word, "category": category, "level": level, "error": error})
    return rows
