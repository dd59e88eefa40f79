"""PostgreSQL: a tsvector of our own segmented words (no positions: relevance is computed in ranking.py) with a GIN
index; pg_trgm for substrings, completions and did-you-mean.

A GIN index yields matches in no useful order, and reading the rows of all of them (48 000 heap pages for "汽车 维修"
at a million documents) is what made common words slow. So every document's tsvector also holds the lexemes of its
id blocks ('~b12' = ids 120 000–129 999, '~c1' = ids 100 000–199 999) and of its filter attributes (attributes.py).
A word query asks for the newest blocks first — ``words & filters & ('~b99' | '~b98')`` — and widens by the match
density it observed until it has COUNT_CAP + 1 matches or has covered everything, so the rows it reads stay near
COUNT_CAP whether a word is rare or in every second document.

What a GIN scan costs: it walks the posting lists of the rarest lexemes of the query and, for each item of those,
advances every other lexeme's list — so its work grows with the rarest list and with the number of lexemes. Hence:
a window is a few block lexemes of one size (sized by the words' frequency in the planner's statistics, then by the
density seen), the last window has no block lexemes at all, and visibility is checked on the rows read rather than
through an access lexeme that most documents carry.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

from django.db import connections

from .base import COUNT_CAP, TEXT_FIELDS, Query
from .common import Prepared
from .sql import Plan, SqlBackend

BUCKET = 10_000  # ids per '~b' block; a '~c' block holds BLOCKS_PER_C of them
BLOCKS_PER_C = 10
# A window is sized for this many times the matches still missing, at the density expected or seen so far.
WINDOW_MARGIN = 1.5
# Block lexemes per window, at most: each one is a posting list the scan walks.
MAX_WINDOW_LEXEMES = 4
# Without any estimate of the words' density, the first window spans this many ids.
FIRST_WINDOW = 2 * BUCKET
# A window that would cover this share of the ids still unread becomes the last one: everything left, no blocks.
LAST_WINDOW_SHARE = 0.5
# Substring windows (no block lexemes in the trigram index): id ranges, the newest first.
SUBSTRING_WINDOWS = (20_000, 200_000)
# What reading one row costs, in units of what the GIN scan spends per posting-list item it walks (measured at a
# million documents: about 20). It decides which groups the index walks and which are tested on the rows read.
ROW_COST = 20.0
# How long the lexeme frequencies read from pg_stats are used before they are read again.
STATISTICS_TTL = 300.0


def block_lexemes(entry_id: int) -> list[str]:
    block = entry_id // BUCKET
    return [f"~b{block}", f"~c{block // BLOCKS_PER_C}"]


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(words) -> str:
    """A tsvector in its text form — no parser involved, so Chinese words stay exactly as segmented whatever the
    database locale."""
    return " ".join(_lexeme(w) for w in dict.fromkeys(words))


def conjuncts(query: Query, groups: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    """What a match holds: every query word (every sub-word of a compound) and a token of each filter group — an
    AND of OR-groups of lexemes."""
    words = ((w,) for required in query.required for w in required)
    return tuple(dict.fromkeys([*words, *(tuple("~" + t for t in group) for group in groups)]))


def tsquery_literal(groups) -> str:
    return " & ".join("(" + " | ".join(_lexeme(x) for x in group) + ")" for group in groups)


def window(stop: int, span: float) -> tuple[int, list[str]]:
    """The block lexemes of the next window below ``stop`` (newest first) and the lowest id they cover.

    Blocks of one size — '~c' when the window should span most of one, else '~b' — as many as bring the window
    nearest to ``span`` ids (at least one, at most MAX_WINDOW_LEXEMES). The top block may reach above ``stop``: the
    caller keeps ``id < stop``."""
    coarse = BUCKET * BLOCKS_PER_C
    size, prefix = (coarse, "~c") if span >= 0.75 * coarse else (BUCKET, "~b")
    block = (stop - 1) // size
    lexemes: list[str] = []
    start = stop
    while block >= 0 and len(lexemes) < MAX_WINDOW_LEXEMES and (not lexemes or stop - start + size / 2 < span):
        lexemes.append(f"{prefix}{block}")
        start = block * size
        block -= 1
    return start, lexemes


@dataclass(frozen=True)
class Split:
    """A word query divided for the GIN scan: ``driving`` groups go to the index (the rare ones), ``checked`` groups
    are tested on the rows it yields (common words: walking their long posting lists costs more than testing the
    few rows read); ``density`` is the share of documents expected to match (None: unknown)."""

    driving: tuple[tuple[str, ...], ...]
    checked: tuple[tuple[str, ...], ...]
    density: float | None


def split(groups: tuple[tuple[str, ...], ...], frequencies: dict[str, float], rarest: float) -> Split:
    """Divide by the lexemes' frequencies (a lexeme not listed is rarer than ``rarest``); without statistics every
    group drives.

    The rarest group drives, and so does every group whose share s is small enough that walking its posting list
    (s items per id of the window) costs less than reading the rows it would have excluded ((1 − s) · r rows per id,
    r the rarest share, each ROW_COST items' worth): s / (1 − s) < ROW_COST · r. The expected density: the rarest
    word's share (words go together: 老年 and 护理), times the share of each filter group ('~' tokens: a resource
    type says little about the words)."""
    if not frequencies or not groups:
        return Split(driving=groups, checked=(), density=None)
    shares = [min(1.0, sum(frequencies.get(x, rarest) for x in group)) for group in groups]
    weight = ROW_COST * min(shares)
    limit = max(min(shares), weight / (1 + weight))
    density = min([s for g, s in zip(groups, shares, strict=True) if not g[0].startswith("~")], default=1.0)
    for group, share in zip(groups, shares, strict=True):
        if group[0].startswith("~"):
            density *= share
    return Split(driving=tuple(g for g, share in zip(groups, shares, strict=True) if share <= limit),
                 checked=tuple(g for g, share in zip(groups, shares, strict=True) if share > limit),
                 density=density)


class LexemeStatistics:
    """The planner's lexeme frequencies of search_entry.tsv (ANALYZE's most common elements), per database: the
    share of documents holding a lexeme, and the smallest share listed (a lexeme not listed is rarer)."""

    _cache: dict[str, tuple[float, dict[str, float], float]] = {}

    @classmethod
    def read(cls, using: str) -> tuple[dict[str, float], float]:
        read_at, frequencies, rarest = cls._cache.get(using, (-math.inf, {}, 0.0))
        if time.monotonic() - read_at > STATISTICS_TTL:
            frequencies, rarest = cls._read(using)
            cls._cache[using] = (time.monotonic(), frequencies, rarest)
        return frequencies, rarest

    @classmethod
    def forget(cls, using: str) -> None:
        cls._cache.pop(using, None)

    @staticmethod
    def _read(using: str) -> tuple[dict[str, float], float]:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                           "WHERE tablename = 'search_entry' AND attname = 'tsv' AND schemaname = current_schema()")
            row = cursor.fetchone()
        if not row or not row[0]:
            return {}, 0.0
        elements, freqs = row
        # The frequencies are followed by their minimum, maximum and the share of empty values.
        return dict(zip(elements, freqs[:len(elements)], strict=True)), float(freqs[len(elements)])


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PostgresBackend(SqlBackend):
    FIND = "strpos"

    def word_plan(self, query: Query, groups: list[list[str]], visibility: list[str]) -> Plan:
        matched = conjuncts(query, groups)
        return Plan(from_sql="search_entry e", where=["e.tsv @@ %s::tsquery"], params=[tsquery_literal(matched)],
                    mode="w", order="e.id DESC", index_filters=True, lexemes=matched)

    def candidates(self, plan: Plan, cond: list[str], cond_params: list) -> list[tuple]:
        if plan.mode == "b":
            return super().candidates(plan, cond, cond_params)
        if plan.mode == "s":
            return self._substring_candidates(plan, cond, cond_params)
        want, top = COUNT_CAP + 1, self._newest_id()
        parts = split(plan.lexemes, *LexemeStatistics.read(self.using))
        span = want * WINDOW_MARGIN / parts.density if parts.density else FIRST_WINDOW
        rows: list[tuple] = []
        stop = top + 1  # ids below this are still to be read
        while stop > 0 and len(rows) < want:
            bounds = [f"e.id < {stop}"] if stop <= top else []
            if span >= LAST_WINDOW_SHARE * stop:
                # The rest in one go: every group in the index, or the rows read would be all the rare words' matches.
                start, driving, checked = 0, plan.lexemes, ()
            else:
                start, lexemes = window(stop, span)
                driving, checked = (*parts.driving, tuple(lexemes)), parts.checked
            where, params = ["e.tsv @@ %s::tsquery"], [tsquery_literal(driving)]
            if checked:  # ts_match_vq() is @@ as a function: the planner does not hand it to the index
                where.append("ts_match_vq(e.tsv, %s::tsquery)")
                params.append(tsquery_literal(checked))
            window_plan = replace(plan, where=where, params=params)
            sql, params = self._select(window_plan, cond, cond_params, bounds)
            # "+ 0": never walk the primary key backwards testing every row (the planner's choice for a word it
            # thinks common, ruinous when the filters make it rare).
            rows += self._run(f"{sql} ORDER BY e.id + 0 DESC LIMIT {want - len(rows)}", params)
            stop = start
            seen = max(len(rows), 1) / (top + 1 - stop)
            span = (want - len(rows)) * WINDOW_MARGIN / seen
        return rows

    def _newest_id(self) -> int:
        return self._run("SELECT COALESCE(MAX(id), 0) FROM search_entry", [])[0][0]

    def _substring_candidates(self, plan: Plan, cond: list[str], cond_params: list) -> list[tuple]:
        want, top = COUNT_CAP + 1, self._newest_id()
        rows: list[tuple] = []
        stop = top + 1
        for windows in range(len(SUBSTRING_WINDOWS) + 1):
            start = max(0, stop - SUBSTRING_WINDOWS[windows]) if windows < len(SUBSTRING_WINDOWS) else 0
            # The range on the payload only: it drives (newest first through its covering index, or the trigram
            # bitmap for a rare piece), entries are looked up for its matches.
            sql, params = self._select(plan, cond, cond_params, [f"p.entry_id >= {start}", f"p.entry_id < {stop}"])
            rows += self._run(f"{sql} ORDER BY p.entry_id DESC LIMIT {want - len(rows)}", params)
            stop = start
            if len(rows) >= want or stop == 0:
                break
        return rows

    def substring_plan(self, query: Query) -> Plan:
        # pg_trgm's GIN index serves LIKE '%…%' of ≥ 3 characters; shorter pieces are checked on the short texts of
        # the (id-range) windows candidates() reads.
        where, params = [], []
        for piece in query.substrings:
            where.append("p.short_text LIKE %s")
            params.append("%" + _like_prefix(piece))
        return Plan(from_sql="search_payload p JOIN search_entry e ON e.id = p.entry_id", where=where or ["1 = 0"],
                    params=params, mode="s", order="p.entry_id DESC")

    def _extra_columns(self, prep: Prepared, entry_id: int) -> list[tuple[str, object, str]]:
        words = [w for name in TEXT_FIELDS for w in prep.tokens[name].split()] + prep.pinyin.split()
        words += ["~" + t for t in prep.attr_tokens] + block_lexemes(entry_id)
        return [("tsv", tsvector_literal(words), "%s::tsvector")]

    def _new_ids(self, cursor, count: int) -> list[int]:
        if not count:
            return []
        cursor.execute("SELECT nextval(pg_get_serial_sequence('search_entry', 'id')) FROM generate_series(1, %s)",
                       [count])
        return [row[0] for row in cursor.fetchall()]

    def _write_index(self, cursor, entry_id: int, prep: Prepared) -> None:
        pass  # the tsvector columns are written with the row

    def _bulk_write_index(self, cursor, indexed) -> None:
        pass

    def _delete_index(self, cursor, rows) -> None:
        pass  # the tsvector columns go with the row

    def _prefix(self, column: str, prefix: str) -> tuple[str, list]:
        return f"{column} LIKE %s", [_like_prefix(prefix)]

    def _similar_term(self, text: str) -> str | None:
        from .. import segment

        if not segment.is_latin(text) or len(text) < 3:
            return None  # pg_trgm makes no trigrams of Chinese characters under the C locale: same pinyin is used
        rows = self._run("SELECT term FROM search_term WHERE term %% %s AND term <> %s AND df > 0 "
                         "ORDER BY similarity(term, %s) DESC, df DESC LIMIT 1", [text, text, text])
        return rows[0][0] if rows else None

    def optimize(self) -> None:
        with self.connection.cursor() as cursor:
            for table in ("search_entry", "search_payload", "search_attribute"):
                cursor.execute(f"ANALYZE {table}")
        LexemeStatistics.forget(self.using)

    def finish_bulk(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('search_entry', 'id'), "
                           "(SELECT COALESCE(MAX(id), 0) + 1 FROM search_entry))")
            for table in ("search_entry", "search_payload", "search_attribute", "search_term"):
                # VACUUM sets the visibility map, so index-only scans skip the heap from the start.
                cursor.execute(f"VACUUM ANALYZE {table}")
