"""SQLite: FTS5 over segmented tokens (one column per text field), a trigram FTS5 table for substrings of ≥ 3
characters and a bounded LIKE scan for 1–2 character substrings."""

from __future__ import annotations

from .base import TEXT_FIELDS, Query
from .common import Prepared
from .sql import Plan, SqlBackend

FTS_COLUMNS = ", ".join(TEXT_FIELDS) + ", pinyin, attrs"


# 1–2 character substrings scan at most this many of the newest entries.
SUBSTRING_SCAN = 100_000


def _quote(phrase: str) -> str:
    return '"' + phrase.replace('"', '""') + '"'


def match_expression(query: Query, groups: list[list[str]]) -> str:
    """FTS5 MATCH text: every query word (or every sub-word of a compound) occurs, and the document has a token of
    each attribute group (visibility, filters) in its attrs column."""
    parts = []
    for words in query.required:
        parts.append(" AND ".join(_quote(w) for w in words))
    for group in groups:
        parts.append("attrs : (" + " OR ".join(_quote(t) for t in group) + ")")
    return " AND ".join(f"({p})" for p in parts)


def _like(piece: str) -> str:
    return "%" + piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SqliteBackend(SqlBackend):
    FORCED_JOIN = "CROSS JOIN"

    def word_plan(self, query: Query, groups: list[list[str]], visibility: list[str]) -> Plan:
        # FTS5 yields matches in rowid (= entry id) order, so "newest first, stop after COUNT_CAP + 1" reads only
        # what it returns, however common the words are; filters and visibility are index words too.
        groups = [visibility, *groups] if visibility else groups
        return Plan(from_sql="search_fts CROSS JOIN search_entry e ON e.id = search_fts.rowid",
                    where=["search_fts MATCH %s"], params=[match_expression(query, groups)], mode="w",
                    order="search_fts.rowid DESC", index_filters=True, index_visibility=True)

    def substring_plan(self, query: Query) -> Plan:
        long = [p for p in query.substrings if len(p) >= 3]
        short = [p for p in query.substrings if len(p) < 3]
        where, params = [], []
        for piece in short:
            where.append("p.short_text LIKE %s ESCAPE '\\'")
            params.append(_like(piece))
        if long:
            return Plan(from_sql="search_trigram CROSS JOIN search_entry e ON e.id = search_trigram.rowid "
                                 "CROSS JOIN search_payload p ON p.entry_id = e.id",
                        where=["search_trigram MATCH %s", *where],
                        params=[" AND ".join(_quote(p) for p in long), *params],
                        mode="s", order="search_trigram.rowid DESC")
        # 1–2 characters: a LIKE scan bounded to the newest SUBSTRING_SCAN entries.
        where.append(f"e.id > (SELECT COALESCE(MAX(id), 0) - {SUBSTRING_SCAN} FROM search_entry)")
        return Plan(from_sql="search_entry e CROSS JOIN search_payload p ON p.entry_id = e.id", where=where,
                    params=params, mode="s", order="e.id DESC")

    def _new_ids(self, cursor, count: int) -> list[int]:
        # Writers are serialised (BEGIN IMMEDIATE), so the next ids follow the current maximum.
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM search_entry")
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))

    def _write_index(self, cursor, entry_id: int, prep: Prepared) -> None:
        cursor.execute(
            f"INSERT INTO search_fts (rowid, {FTS_COLUMNS}) VALUES (%s, {', '.join(['%s'] * (len(TEXT_FIELDS) + 2))})",
            _fts_row(entry_id, prep))
        cursor.execute("INSERT INTO search_trigram (rowid, short_text) VALUES (%s, %s)", [entry_id, prep.short_text])

    def _bulk_write_index(self, cursor, indexed) -> None:
        marks = ", ".join(["%s"] * (len(TEXT_FIELDS) + 3))
        cursor.executemany(f"INSERT INTO search_fts (rowid, {FTS_COLUMNS}) VALUES ({marks})",
                           [_fts_row(i, p) for i, p in indexed])
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


def _fts_row(entry_id: int, prep: Prepared) -> list:
    return [entry_id, *(prep.tokens[name] for name in TEXT_FIELDS), prep.pinyin,
            " ".join([*prep.attr_tokens, prep.access_token])]


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

