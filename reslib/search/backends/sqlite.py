"""SQLite: FTS5 over segmented tokens (bm25 with per-column weights), a trigram FTS5 table for substrings of ≥ 3
characters and a bounded LIKE scan for 1–2 character substrings."""

from __future__ import annotations

import json
from collections import Counter

from .base import COUNT_CAP, FACET_LIMIT, FIELD_WEIGHTS, MULTI_ATTRIBUTES, PINYIN_WEIGHT, TEXT_FIELDS, Query
from .common import Prepared
from .sql import COLUMNS, FACET_COLUMNS, RANK_CAP, Plan, SqlBackend

WEIGHTS = ", ".join(str(FIELD_WEIGHTS[name]) for name in TEXT_FIELDS) + f", {PINYIN_WEIGHT}"
FTS_COLUMNS = ", ".join(TEXT_FIELDS) + ", pinyin"


# 1–2 character substrings scan at most this many of the newest entries.
SUBSTRING_SCAN = 100_000


def _quote(phrase: str) -> str:
    return '"' + phrase.replace('"', '""') + '"'


def match_expression(query: Query) -> str:
    """FTS5 MATCH text: every query word (or its sub-word phrase) must occur."""
    parts = []
    for alternatives in query.terms:
        options = [_quote(a) for a in alternatives]
        parts.append(options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")")
    return " AND ".join(parts)


def _like(piece: str) -> str:
    return "%" + piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SqliteBackend(SqlBackend):
    FORCED_JOIN = "CROSS JOIN"

    def word_plan(self, query: Query) -> Plan:
        return Plan(
            from_sql="search_fts CROSS JOIN search_entry e ON e.id = search_fts.rowid",
            where=["search_fts MATCH %s"], params=[match_expression(query)],
            score=f"-bm25(search_fts, {WEIGHTS})", mode="w", cap_order="search_fts.rowid DESC",
        )

    def _count_and_facets(self, plan: Plan, cond: list[str], cond_params: list,
                          facets) -> tuple[int, bool, dict]:
        # SQLite re-runs a CTE's FTS scan for each UNION arm, and temp-table writes take the write lock: count the
        # (at most COUNT_CAP + 1) matches in Python instead, and the multi-valued attributes in one indexed query.
        candidates, params = self._candidates(plan, cond, cond_params, score=False,
                                              extra=[f"e.{COLUMNS[n]} AS f_{n}" for n in FACET_COLUMNS])
        rows = self._run(f"SELECT * FROM ({candidates}) c LIMIT {COUNT_CAP + 1}", params)
        total = len(rows)
        out: dict[str, list] = {}
        single = {name: 4 + FACET_COLUMNS.index(name) for name in facets if name in FACET_COLUMNS}
        for name, index in single.items():
            counter = Counter(row[index] for row in rows)
            out[name] = [(str(v), n) for v, n in counter.items() if v not in (None, "")]
        multi = [name for name in facets if name in MULTI_ATTRIBUTES]
        if multi and rows:
            names, name_params = self._in("a.name", multi)
            counted = self._run(
                f"SELECT a.name, a.value, COUNT(*) FROM json_each(%s) j CROSS JOIN search_attribute a "
                f"ON a.entry_id = j.value AND {names} GROUP BY a.name, a.value",
                [json.dumps([row[0] for row in rows])] + name_params)
            for name in multi:
                out[name] = []
            for name, value, count in counted:
                out[name].append((str(value), count))
        for name in facets:
            out[name] = sorted(out.get(name, []), key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]
        approximate = total > COUNT_CAP or (plan.capped and total >= RANK_CAP)
        return min(total, COUNT_CAP), approximate, out

    def match_count(self, plan: Plan) -> int:
        return int(self._run("SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH %s", plan.params)[0][0])

    def substring_plan(self, query: Query) -> Plan:
        long = [p for p in query.substrings if len(p) >= 3]
        short = [p for p in query.substrings if len(p) < 3]
        where, params = [], []
        for piece in short:
            where.append("p.short_text LIKE %s ESCAPE '\\'")
            params.append(_like(piece))
        if long:
            # Trigram index, newest matches first; only the newest RANK_CAP are considered (approximate).
            return Plan(from_sql="search_trigram CROSS JOIN search_entry e ON e.id = search_trigram.rowid "
                                 "CROSS JOIN search_payload p ON p.entry_id = e.id",
                        where=["search_trigram MATCH %s", *where],
                        params=[" AND ".join(_quote(p) for p in long), *params],
                        mode="s", cap_order="search_trigram.rowid DESC", capped=True)
        # 1–2 characters: a LIKE scan bounded to the newest SUBSTRING_SCAN entries.
        where.append(f"e.id > (SELECT COALESCE(MAX(id), 0) - {SUBSTRING_SCAN} FROM search_entry)")
        return Plan(from_sql="search_entry e CROSS JOIN search_payload p ON p.entry_id = e.id", where=where,
                    params=params, mode="s", cap_order="e.id DESC", capped=True)

    def _insert_entry(self, cursor, sql: str, params: list) -> int:
        cursor.execute(sql, params)
        return cursor.lastrowid

    def _write_index(self, cursor, entry_id: int, prep: Prepared) -> None:
        cursor.execute(
            f"INSERT INTO search_fts (rowid, {FTS_COLUMNS}) VALUES (%s, {', '.join(['%s'] * (len(TEXT_FIELDS) + 1))})",
            [entry_id] + [prep.tokens[name] for name in TEXT_FIELDS] + [prep.pinyin])
        cursor.execute("INSERT INTO search_trigram (rowid, short_text) VALUES (%s, %s)", [entry_id, prep.short_text])

    def _bulk_write_index(self, cursor, indexed) -> None:
        marks = ", ".join(["%s"] * (len(TEXT_FIELDS) + 2))
        cursor.executemany(f"INSERT INTO search_fts (rowid, {FTS_COLUMNS}) VALUES ({marks})",
                           [[i] + [p.tokens[n] for n in TEXT_FIELDS] + [p.pinyin] for i, p in indexed])
        cursor.executemany("INSERT INTO search_trigram (rowid, short_text) VALUES (%s, %s)",
                           [(i, p.short_text) for i, p in indexed])

    def _delete_index(self, cursor, rows: list[tuple[int, str]]) -> None:
        sql, params = self._in("rowid", [r[0] for r in rows])
        cursor.execute(f"DELETE FROM search_fts WHERE {sql}", params)
        cursor.executemany(
            "INSERT INTO search_trigram (search_trigram, rowid, short_text) VALUES ('delete', %s, %s)", rows)

    def _prefix(self, column: str, prefix: str) -> tuple[str, list]:
        return f"{column} >= %s AND {column} < %s", [prefix, prefix + "\U0010ffff"]

    def _similar_term(self, text: str) -> str | None:
        from .. import segment

        if not segment.is_latin(text) or len(text) < 3:
            return None
        candidates = self._run("SELECT term FROM search_term WHERE term >= %s AND term < %s AND df > 0 "
                               "ORDER BY df DESC LIMIT 500", [text[:2], text[:2] + "\U0010ffff"])
        best, best_distance = None, 3
        for (term,) in candidates:
            distance = _levenshtein(text, term, best_distance)
            if distance < best_distance and term != text:
                best, best_distance = term, distance
        return best

    def finish_bulk(self) -> None:
        self.optimize()
        with self.connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def optimize(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
            cursor.execute("INSERT INTO search_trigram (search_trigram) VALUES ('optimize')")


def _levenshtein(a: str, b: str, cap: int) -> int:
    if abs(len(a) - len(b)) >= cap:
        return cap
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]

