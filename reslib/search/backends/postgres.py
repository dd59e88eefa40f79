"""PostgreSQL: tsvector('simple'-style, built from our own segmented tokens) with per-field weights and a GIN index,
ranked by ts_rank_cd; pg_trgm for substrings, completions and did-you-mean."""

from __future__ import annotations

from .base import TEXT_FIELDS, Query
from .common import Prepared
from .sql import Plan, SqlBackend

# ts_rank_cd weights for {D, C, B, A}.
RANK_WEIGHTS = "{0.1, 0.25, 0.6, 1.0}"
FIELD_CLASS = {
    "title": "A", "keywords": "B", "knowledge_points": "B", "majors": "C", "resource_type": "C", "library": "C",
    "institutions": "C", "authors": "C", "description": "D", "pinyin": "C",
}
MAX_POSITION = 16383


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(fields: list[tuple[str, str]]) -> str:
    """A tsvector in its text form from (weight class, space-separated tokens) pairs — no parser involved, so Chinese
    words stay exactly as segmented whatever the database locale."""
    positions: dict[str, list[str]] = {}
    pos = 1
    for weight, tokens in fields:
        for token in tokens.split():
            positions.setdefault(token, []).append(f"{min(pos, MAX_POSITION)}{weight}")
            pos += 1
        pos += 1  # no phrase across fields
    return " ".join(f"{_lexeme(t)}:{','.join(p[:256])}" for t, p in positions.items())


def tsquery_literal(query: Query) -> str:
    parts = []
    for alternatives in query.terms:
        options = [" <-> ".join(_lexeme(w) for w in a.split()) for a in alternatives]
        parts.append("(" + " | ".join(f"({o})" for o in options) + ")")
    return " & ".join(parts)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PostgresBackend(SqlBackend):
    def word_plan(self, query: Query) -> Plan:
        tsquery = tsquery_literal(query)
        return Plan(from_sql="search_entry e", where=["e.tsv @@ %s::tsquery"], params=[tsquery],
                    score=f"ts_rank_cd('{RANK_WEIGHTS}', e.tsv, %s::tsquery)::float8", score_params=[tsquery],
                    mode="w", cap_order="e.id DESC", capped=True)

    def substring_plan(self, query: Query) -> Plan:
        # pg_trgm's GIN index serves LIKE '%…%' of ≥ 3 characters; shorter pieces scan, newest first, bounded.
        where, params = [], []
        for piece in query.substrings:
            where.append("p.short_text LIKE %s")
            params.append("%" + _like_prefix(piece))
        return Plan(from_sql="search_entry e JOIN search_payload p ON p.entry_id = e.id", where=where or ["1 = 0"],
                    params=params, mode="s", cap_order="e.id DESC", capped=True)

    def _extra_columns(self, prep: Prepared) -> list[tuple[str, object, str]]:
        fields = [(FIELD_CLASS[name], prep.tokens[name]) for name in TEXT_FIELDS] + [("C", prep.pinyin)]
        return [("tsv", tsvector_literal(fields), "%s::tsvector")]

    def _insert_entry(self, cursor, sql: str, params: list) -> int:
        cursor.execute(sql + " RETURNING id", params)
        return cursor.fetchone()[0]

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
            for table in ("search_entry", "search_attribute", "search_term"):
                cursor.execute(f"ANALYZE {table}")
