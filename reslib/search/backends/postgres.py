"""PostgreSQL: a tsvector of our own segmented words (no positions: relevance is computed in ranking.py) with a GIN
index; pg_trgm for substrings, completions and did-you-mean.

A GIN index yields matches in no useful order, and reading the rows of all of them (48 000 heap pages for "汽车 维修"
at a million documents) is what made common words slow. So every document's tsvector also holds the lexemes of its
id blocks ('~b12' = ids 120 000–129 999, '~c1' = ids 100 000–199 999) and of its filter attributes and access
(attributes.py). A word query asks for the newest blocks first — ``words & access & filters & ('~b99' | '~b98')`` —
and widens by the match density it observed until it has COUNT_CAP + 1 matches or has covered everything, so the rows
it reads stay near COUNT_CAP whether a word is rare or in every second document.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .base import COUNT_CAP, TEXT_FIELDS, Query
from .common import Prepared
from .sql import ID, Plan, SqlBackend

BUCKET = 10_000  # ids per '~b' block; a '~c' block holds BLOCKS_PER_C of them
BLOCKS_PER_C = 10
# A further window is sized for this many times the matches still missing, at the density seen so far.
WINDOW_MARGIN = 1.5
# Windows of more block lexemes than this are not worth it: the rest is read in one go.
MAX_WINDOW_LEXEMES = 24
# Substring windows (no block lexemes in the trigram index): id ranges, the newest first.
SUBSTRING_WINDOWS = (20_000, 200_000)


def block_lexemes(entry_id: int) -> list[str]:
    block = entry_id // BUCKET
    return [f"~b{block}", f"~c{block // BLOCKS_PER_C}"]


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(words) -> str:
    """A tsvector in its text form — no parser involved, so Chinese words stay exactly as segmented whatever the
    database locale."""
    return " ".join(_lexeme(w) for w in dict.fromkeys(words))


def tsquery_literal(query: Query, groups: list[list[str]]) -> str:
    """Every query word (or every sub-word of a compound) and a token of each attribute group."""
    parts = []
    for words in query.required:
        parts.append(" & ".join(_lexeme(w) for w in words))
    for group in groups:
        parts.append(" | ".join(_lexeme("~" + t) for t in group))
    return " & ".join(f"({p})" for p in parts)


def window_lexemes(start: int, stop: int) -> list[str]:
    """Block lexemes covering ids [start, stop) — stop on a block boundary or just past the newest id; start rounded
    down to a block — the newest blocks first, '~c' blocks where aligned."""
    lexemes = []
    block = -(-stop // BUCKET)  # blocks below this one remain
    first = start // BUCKET
    while block > first:
        if block % BLOCKS_PER_C == 0 and block - BLOCKS_PER_C >= first:
            lexemes.append(f"~c{block // BLOCKS_PER_C - 1}")
            block -= BLOCKS_PER_C
        else:
            lexemes.append(f"~b{block - 1}")
            block -= 1
    return lexemes


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PostgresBackend(SqlBackend):
    def word_plan(self, query: Query, groups: list[list[str]]) -> Plan:
        return Plan(from_sql="search_entry e", where=["e.tsv @@ %s::tsquery"], params=[tsquery_literal(query, groups)],
                    mode="w", order="e.id DESC", filtered=True)

    def candidates(self, plan: Plan, cond: list[str], cond_params: list) -> list[tuple]:
        if plan.mode == "b":
            return super().candidates(plan, cond, cond_params)
        want = COUNT_CAP + 1
        top = self._run("SELECT COALESCE(MAX(id), 0) FROM search_entry", [])[0][0]
        rows: list[tuple] = []
        stop = top + 1  # ids below this are still to be read
        size = 2 * BUCKET if plan.mode == "w" else SUBSTRING_WINDOWS[0]
        windows = 0
        while stop > 0:
            start = max(0, stop - size)
            lexemes = window_lexemes(start, stop) if plan.mode == "w" else []
            last = start == 0 or len(lexemes) > MAX_WINDOW_LEXEMES or (plan.mode == "s" and windows == 2)
            if last:
                start = 0
                sql, params = self._select(plan, cond, cond_params, [f"e.id < {stop}"])
            elif plan.mode == "w":
                start = (start // BUCKET) * BUCKET
                window = replace(plan, params=[f"({plan.params[0]}) & ({' | '.join(_lexeme(x) for x in lexemes)})"])
                sql, params = self._select(window, cond, cond_params)
            else:
                # The range on both tables: the trigram bitmap is ANDed with the payload's key range.
                sql, params = self._select(plan, cond, cond_params, [f"e.id >= {start}", f"e.id < {stop}",
                                                                     f"p.entry_id >= {start}", f"p.entry_id < {stop}"])
            rows += self._run(f"{sql} ORDER BY e.id DESC LIMIT {want - len(rows)}", params)
            stop, windows = start, windows + 1
            if len(rows) >= want:
                break
            density = max(len(rows), 1) / (top + 1 - stop)
            size = math.ceil((want - len(rows)) / density * WINDOW_MARGIN)
            if plan.mode == "s":
                size = max(size, SUBSTRING_WINDOWS[min(windows, 1)])
        rows.sort(key=lambda row: row[ID], reverse=True)
        return rows[:want]

    def substring_plan(self, query: Query) -> Plan:
        # pg_trgm's GIN index serves LIKE '%…%' of ≥ 3 characters; shorter pieces are checked on the rows of the
        # (id-range) windows candidates() reads.
        where, params = [], []
        for piece in query.substrings:
            where.append("p.short_text LIKE %s")
            params.append("%" + _like_prefix(piece))
        return Plan(from_sql="search_entry e JOIN search_payload p ON p.entry_id = e.id", where=where or ["1 = 0"],
                    params=params, mode="s", order="e.id DESC")

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

    def finish_bulk(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('search_entry', 'id'), "
                           "(SELECT COALESCE(MAX(id), 0) + 1 FROM search_entry))")
            for table in ("search_entry", "search_payload", "search_attribute", "search_term"):
                # VACUUM sets the visibility map, so index-only scans skip the heap from the start.
                cursor.execute(f"VACUUM ANALYZE {table}")
