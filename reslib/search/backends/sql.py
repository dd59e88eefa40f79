"""The SQL both backends share: visibility and filter conditions, keyset pagination, totals and facets in one
statement, index writes around vendor hooks. Subclasses say how a word query and a substring query match."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connections, transaction

from .base import (
    COUNT_CAP,
    FACET_LIMIT,
    MULTI_ATTRIBUTES,
    Hit,
    InvalidCursor,
    Query,
    SearchBackend,
    SearchDocument,
    SearchResult,
    Visibility,
    decode_cursor,
    encode_cursor,
)
from .common import Prepared, from_ts, highlight_words, highlights, prepare, term_row

# Filter / facet name → column of search_entry (single-valued attributes).
COLUMNS = {"resource_type": "resource_type", "major": "major", "library": "library_id", "licence": "licence",
           "price_mode": "price_mode", "kind": "kind"}
BATCH = 500
# A word query matching more documents than this ranks only the newest RANK_CAP visible matches (approximate=True).
RANK_CAP = 3_000
FACET_COLUMNS = ("resource_type", "major", "library", "licence", "price_mode")


@dataclass
class Plan:
    """How to find matching entries: FROM/WHERE fragments (alias e = search_entry) and the score expression."""

    from_sql: str
    where: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)
    score: str = "0.0"
    score_params: list = field(default_factory=list)
    mode: str = "w"  # "w" word index, "s" substring fallback, "b" browse (empty query)
    cap_order: str = ""  # how to pick the RANK_CAP candidates when there are too many matches to rank them all
    capped: bool = False


class SqlBackend(SearchBackend):
    FORCED_JOIN = "JOIN"  # a join whose left side must drive (SQLite: CROSS JOIN)

    # --- hooks ------------------------------------------------------------------------------------------------

    def word_plan(self, query: Query) -> Plan:  # pragma: no cover - abstract
        raise NotImplementedError

    def substring_plan(self, query: Query) -> Plan:  # pragma: no cover - abstract
        raise NotImplementedError

    def _write_index(self, cursor, entry_id: int, prep: Prepared) -> None:  # pragma: no cover - abstract
        """Write the vendor word index for a freshly inserted/updated entry row."""
        raise NotImplementedError

    def _delete_index(self, cursor, rows: list[tuple[int, str]]) -> None:  # pragma: no cover - abstract
        """Remove the vendor word index of entries (id, old short_text) BEFORE their rows change."""
        raise NotImplementedError

    def _prefix(self, column: str, prefix: str) -> tuple[str, list]:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- helpers ----------------------------------------------------------------------------------------------

    @property
    def connection(self):
        return connections[self.using]

    @staticmethod
    def _in(column: str, values: Sequence) -> tuple[str, list]:
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

    def _conditions(self, filters: dict[str, list[str]], visibility: Visibility) -> tuple[list[str], list]:
        where, params = [], []
        if not visibility.everything:
            parts, vis_params = [], []
            if visibility.access:
                sql, p = self._in("e.access", sorted(visibility.access))
                parts.append(sql)
                vis_params += p
            if visibility.library_ids:
                sql, p = self._in("e.library_id", sorted(visibility.library_ids))
                parts.append(sql)
                vis_params += p
            where.append("(" + " OR ".join(parts) + ")" if parts else "1 = 0")
            params += vis_params
        for name, values in filters.items():
            if name in MULTI_ATTRIBUTES:
                sql, p = self._in("a.value", values)
                where.append(f"EXISTS (SELECT 1 FROM search_attribute a WHERE a.entry_id = e.id AND a.name = %s "
                             f"AND {sql})")
                params += [name, *p]
            else:
                column = COLUMNS[name]
                if column == "library_id":
                    values = [int(v) for v in values if str(v).isdigit()] or [-1]
                sql, p = self._in(f"e.{column}", values)
                where.append(sql)
                params += p
        return where, params

    @staticmethod
    def _keys(sort: str, mode: str) -> list[str]:
        if sort == "relevance" and mode == "w":
            return ["score", "id"]
        if sort == "popular":
            return ["usage", "ts", "id"]
        if sort == "rating":
            return ["rating", "ts", "id"]
        return ["ts", "id"]

    def _run(self, sql: str, params: list) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def match_count(self, plan: Plan) -> int:
        """Documents matching the words before visibility and filters (cheap, from the word index), to decide
        whether ranking must be limited to the newest RANK_CAP matches. 0 = never cap."""
        return 0

    def _candidates(self, plan: Plan, cond: list[str], cond_params: list, *, score: bool,
                    extra: Sequence[str] = ()) -> tuple[str, list]:
        columns = ["e.id AS id", "e.created_ts AS ts", "e.usage AS usage", "e.rating AS rating", *extra]
        params: list = []
        if score:
            columns.insert(1, f"{plan.score} AS score")
            params += plan.score_params
        params += plan.params + cond_params
        sql = f"SELECT {', '.join(columns)} FROM {plan.from_sql} WHERE {' AND '.join(plan.where + cond) or '1 = 1'}"
        if plan.capped:
            sql += f" ORDER BY {plan.cap_order} LIMIT {RANK_CAP}"
        return sql, params

    def _facet_rows(self, matches_sql: str, params: list, arms_sql: str) -> list[tuple]:
        """Run the facet/total arms over the matches, available to them as table ``m``."""
        return self._run(f"WITH m AS MATERIALIZED ({matches_sql}) {arms_sql}", params)

    def _count_and_facets(self, plan: Plan, cond: list[str], cond_params: list,
                          facets: Sequence[str]) -> tuple[int, bool, dict]:
        candidates, params = self._candidates(plan, cond, cond_params, score=False,
                                              extra=[f"e.{COLUMNS[n]} AS f_{n}" for n in FACET_COLUMNS])
        parts = ["SELECT '_total' AS f, '' AS v, COUNT(*) AS n FROM m"]
        for name in facets:
            if name in MULTI_ATTRIBUTES:
                parts.append(f"SELECT '{name}', a.value, COUNT(*) FROM m {self.FORCED_JOIN} search_attribute a "
                             f"ON a.entry_id = m.id AND a.name = '{name}' GROUP BY a.value")
            else:
                parts.append(f"SELECT '{name}', CAST(f_{name} AS TEXT), COUNT(*) FROM m GROUP BY f_{name}")
        rows = self._facet_rows(f"SELECT * FROM ({candidates}) c LIMIT {COUNT_CAP + 1}", params,
                                " UNION ALL ".join(parts))
        total, out = 0, {name: [] for name in facets}
        for name, value, count in rows:
            if name == "_total":
                total = count
            elif value not in (None, ""):
                out[name].append((str(value), count))
        for name in out:
            out[name] = sorted(out[name], key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]
        approximate = total > COUNT_CAP or (plan.capped and total >= RANK_CAP)
        return min(total, COUNT_CAP), approximate, out

    # --- search -----------------------------------------------------------------------------------------------

    def _browse_plan(self, filters: dict[str, list[str]]) -> Plan:
        """No words: scan entries newest first; a filter on one institution/audience value drives from its index."""
        for name in MULTI_ATTRIBUTES:
            if len(filters.get(name, ())) == 1:
                return Plan(from_sql=f"search_attribute fa {self.FORCED_JOIN} search_entry e ON e.id = fa.entry_id",
                            where=["fa.name = %s", "fa.value = %s"], params=[name, filters[name][0]], mode="b")
        return Plan(from_sql="search_entry e", mode="b")

    def _word_plan(self, query: Query) -> Plan:
        plan = self.word_plan(query)
        if plan.cap_order and self.match_count(plan) > RANK_CAP:
            plan.capped = True
        return plan

    def search(self, query: Query, *, filters, visibility, facets, sort, cursor, limit, fp) -> SearchResult:
        mode, key = ("w", None)
        if cursor:
            mode, key = decode_cursor(cursor, fp)
        cond, cond_params = self._conditions(filters, visibility)
        if query.empty:
            plan = self._browse_plan(filters)
        elif mode == "s":
            plan = self.substring_plan(query)
        else:
            plan = self._word_plan(query)
        total, approximate, facet_counts = 0, plan.capped, {}
        if cursor is None:
            total, approximate, facet_counts = self._count_and_facets(plan, cond, cond_params, facets)
            if total == 0 and plan.mode == "w" and query.substrings:
                plan = self.substring_plan(query)
                total, approximate, facet_counts = self._count_and_facets(plan, cond, cond_params, facets)
        keys = self._keys(sort, plan.mode)
        candidates, params = self._candidates(plan, cond, cond_params, score="score" in keys)
        outer_where, outer_params = "", []
        if key is not None:
            if len(key) != len(keys):
                raise InvalidCursor("cursor belongs to another sort")
            outer_where = f"WHERE ({', '.join(keys)}) < ({', '.join(['%s'] * len(keys))})"
            outer_params = list(key)
        order = ", ".join(f"{k} DESC" for k in keys)
        sql = f"SELECT {', '.join(keys)} FROM ({candidates}) s {outer_where} ORDER BY {order} LIMIT {limit + 1}"
        rows = self._run(sql, params + outer_params)
        page, more = rows[:limit], len(rows) > limit
        next_cursor = encode_cursor(fp, page[-1], plan.mode) if more and page else None
        hits = self._hits(page, keys, query, plan.mode == "s")
        return SearchResult(hits=hits, facets=facet_counts, next_cursor=next_cursor, total=total,
                            approximate=approximate, substring=plan.mode == "s")

    def _hits(self, page: list[tuple], keys: list[str], query: Query, substring: bool) -> list[Hit]:
        if not page:
            return []
        id_index = keys.index("id")
        score_index = keys.index("score") if "score" in keys else None
        ids = [row[id_index] for row in page]
        sql, params = self._in("id", ids)
        stored = {row[0]: row[1:] for row in self._run(
            f"SELECT e.id, e.doc_id, p.fields, p.display, e.created_ts FROM search_entry e "
            f"JOIN search_payload p ON p.entry_id = e.id WHERE e.{sql}", params)}
        words = highlight_words(query, substring) if not query.empty else []
        hits = []
        for row in page:
            entry = stored.get(row[id_index])
            if entry is None:  # removed between the two queries
                continue
            doc_id, fields, display, ts = entry
            fields = self._json(fields)
            hits.append(Hit(id=doc_id, score=float(row[score_index]) if score_index is not None else 0.0,
                            highlights=highlights(fields, words) if words else {},
                            display=self._json(display), created_at=from_ts(ts)))
        return hits

    @staticmethod
    def _json(value):
        import json

        return json.loads(value) if isinstance(value, str) else (value or {})

    # --- suggestions ------------------------------------------------------------------------------------------

    def suggest(self, prefix: str, visibility: Visibility, limit: int = 10) -> list[str]:
        from .. import segment

        prefix = segment.normalise(prefix).strip()
        if not prefix:
            return []
        column = "term"
        if segment.is_latin(prefix.replace(" ", "")):
            prefix = prefix.replace(" ", "")
            parts, params = [], []
            for column in ("term", "pinyin", "initials"):
                sql, p = self._prefix(column, prefix)
                parts.append(f"SELECT term, df FROM search_term WHERE {sql} AND df > 0")
                params += p
            sql = f"SELECT term, MAX(df) AS df FROM ({' UNION ALL '.join(parts)}) t GROUP BY term"
        else:
            cond, params = self._prefix(column, prefix)
            sql = f"SELECT term, df FROM search_term WHERE {cond} AND df > 0"
        rows = self._run(f"{sql} ORDER BY df DESC, term LIMIT {int(limit)}", params)
        return [row[0] for row in rows]

    def did_you_mean(self, query: Query, visibility: Visibility) -> str | None:
        from .. import segment

        text = segment.normalise(query.text).replace(" ", "")
        if not text or len(text) > 60:
            return None
        _term, full, initials = term_row(text)
        rows = self._run("SELECT term FROM search_term WHERE pinyin = %s AND term <> %s AND df > 0 "
                         "ORDER BY df DESC LIMIT 1", [full, text])
        if rows:
            return rows[0][0]
        return self._similar_term(text)

    def _similar_term(self, text: str) -> str | None:
        """Nearest term by spelling (vendor-specific)."""
        return None

    # --- writes -----------------------------------------------------------------------------------------------

    def next_generation(self) -> int:
        rows = self._run("SELECT COALESCE(MAX(generation), 0) FROM search_entry", [])
        return int(rows[0][0]) + 1

    def count(self) -> int:
        return int(self._run("SELECT COUNT(*) FROM search_entry", [])[0][0])

    def _apply_terms(self, cursor, deltas: Counter) -> None:
        deltas = {t: d for t, d in deltas.items() if d}
        if not deltas:
            return
        rows = [(*term_row(t), d) for t, d in deltas.items()]
        cursor.executemany(
            "INSERT INTO search_term (term, pinyin, initials, df) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (term) DO UPDATE SET df = search_term.df + excluded.df", rows)
        removed = [t for t, d in deltas.items() if d < 0]
        for start in range(0, len(removed), BATCH):
            chunk = removed[start:start + BATCH]
            sql, params = self._in("term", chunk)
            cursor.execute(f"DELETE FROM search_term WHERE df <= 0 AND {sql}", params)

    def _remove_rows(self, cursor, rows: list[tuple], deltas: Counter) -> None:
        """rows: (id, access, short_text, fields) of entries about to be deleted or rewritten."""
        if not rows:
            return
        self._delete_index(cursor, [(r[0], r[2]) for r in rows])
        for entry_id, access, _short, fields in rows:
            if access == "public":
                deltas.subtract(self._json(fields).get("terms", []))
        sql, params = self._in("entry_id", [r[0] for r in rows])
        cursor.execute(f"DELETE FROM search_attribute WHERE {sql}", params)
        cursor.execute(f"DELETE FROM search_payload WHERE {sql}", params)

    def index(self, documents: Iterable[SearchDocument], *, generation: int | None = None) -> int:
        written = 0
        batch: list[SearchDocument] = []
        for doc in documents:
            batch.append(doc)
            if len(batch) >= BATCH:
                written += self._index_batch(batch, generation)
                batch = []
        if batch:
            written += self._index_batch(batch, generation)
        return written

    def _entry_values(self, prep: Prepared, generation: int) -> list:
        import json

        d = prep.doc
        return [d.kind, d.access, d.library_id, d.attr_resource_type, d.major, d.licence, d.price_mode,
                prep.created_ts, int(d.usage or 0), float(d.rating) if d.rating is not None else -1.0, generation]

    @staticmethod
    def _payload_values(prep: Prepared) -> list:
        import json

        return [prep.short_text, json.dumps(prep.fields, ensure_ascii=False),
                json.dumps(prep.doc.display, ensure_ascii=False, default=str)]

    def _extra_columns(self, prep: Prepared) -> list[tuple[str, object, str]]:
        """Vendor columns written with the entry row: (column, value, placeholder)."""
        return []

    ENTRY_COLUMNS = ("kind", "access", "library_id", "resource_type", "major", "licence", "price_mode",
                     "created_ts", "usage", "rating", "generation")

    def _index_batch(self, docs: list[SearchDocument], generation: int | None) -> int:
        latest = {}
        for doc in docs:
            latest[doc.id] = doc
        prepared = [prepare(doc) for doc in latest.values()]
        with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
            sql, params = self._in("doc_id", list(latest))
            cursor.execute(f"SELECT e.id, e.access, p.short_text, p.fields, e.doc_id, e.generation FROM search_entry e "
                           f"LEFT JOIN search_payload p ON p.entry_id = e.id WHERE e.{sql}", params)
            existing = {row[4]: row for row in cursor.fetchall()}
            deltas: Counter = Counter()
            self._remove_rows(cursor, [row[:4] for row in existing.values()], deltas)
            attributes = []
            for prep in prepared:
                old = existing.get(prep.doc.id)
                gen = generation if generation is not None else (old[5] if old else 0)
                extra = self._extra_columns(prep)
                values = self._entry_values(prep, gen) + [x[1] for x in extra]
                names = list(self.ENTRY_COLUMNS) + [x[0] for x in extra]
                marks = ["%s"] * len(self.ENTRY_COLUMNS) + [x[2] for x in extra]
                if old:
                    assignments = ", ".join(f"{c} = {m}" for c, m in zip(names, marks, strict=True))
                    cursor.execute(f"UPDATE search_entry SET {assignments} WHERE id = %s", values + [old[0]])
                    entry_id = old[0]
                else:
                    columns = ", ".join(["doc_id", *names])
                    marks = ", ".join(["%s", *marks])
                    entry_id = self._insert_entry(cursor, f"INSERT INTO search_entry ({columns}) VALUES ({marks})",
                                                  [prep.doc.id] + values)
                cursor.execute("INSERT INTO search_payload (entry_id, short_text, fields, display) "
                               "VALUES (%s, %s, %s, %s)", [entry_id, *self._payload_values(prep)])
                self._write_index(cursor, entry_id, prep)
                attrs = prep.doc.attributes()
                for name in MULTI_ATTRIBUTES:
                    attributes.extend((entry_id, name, value[:64]) for value in attrs[name])
                if prep.public:
                    deltas.update(prep.terms)
            if attributes:
                cursor.executemany("INSERT INTO search_attribute (entry_id, name, value) VALUES (%s, %s, %s)",
                                   attributes)
            self._apply_terms(cursor, deltas)
        return len(prepared)

    def _insert_entry(self, cursor, sql: str, params: list) -> int:  # pragma: no cover - vendor
        raise NotImplementedError

    def remove(self, ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(ids))
        removed = 0
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                sql, params = self._in("doc_id", chunk)
                cursor.execute(f"SELECT e.id, e.access, p.short_text, p.fields FROM search_entry e "
                               f"LEFT JOIN search_payload p ON p.entry_id = e.id WHERE e.{sql}", params)
                rows = cursor.fetchall()
                removed += self._delete_entries(cursor, rows)
        return removed

    def _delete_entries(self, cursor, rows: list[tuple]) -> int:
        if not rows:
            return 0
        deltas: Counter = Counter()
        self._remove_rows(cursor, rows, deltas)
        sql, params = self._in("id", [r[0] for r in rows])
        cursor.execute(f"DELETE FROM search_entry WHERE {sql}", params)
        self._apply_terms(cursor, deltas)
        return len(rows)

    def remove_stale(self, generation: int, kind: str | None = None) -> int:
        removed = 0
        while True:
            with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                sql = ("SELECT e.id, e.access, p.short_text, p.fields FROM search_entry e "
                       "LEFT JOIN search_payload p ON p.entry_id = e.id WHERE e.generation < %s")
                params: list = [generation]
                if kind:
                    sql += " AND e.kind = %s"
                    params.append(kind)
                cursor.execute(sql + f" LIMIT {BATCH}", params)
                rows = cursor.fetchall()
                if not rows:
                    return removed
                removed += self._delete_entries(cursor, rows)

    # --- bulk loading (first builds, benchmarks) --------------------------------------------------------------

    def bulk_append(self, documents: Iterable[SearchDocument], *, start_id: int, generation: int = 0) -> Counter:
        """Append documents known NOT to be in the index, with entry ids from ``start_id`` on; one transaction per
        call. Returns the suggestion-term counts to pass to ``apply_term_counts`` once at the end."""
        terms: Counter = Counter()
        entries, payloads, attributes, indexed = [], [], [], []
        names = None
        for offset, doc in enumerate(documents):
            prep = prepare(doc)
            extra = self._extra_columns(prep)
            if names is None:
                names = ["id", "doc_id", *self.ENTRY_COLUMNS, *(x[0] for x in extra)]
                marks = ["%s"] * (len(self.ENTRY_COLUMNS) + 2) + [x[2] for x in extra]
            entry_id = start_id + offset
            entries.append([entry_id, doc.id, *self._entry_values(prep, generation), *(x[1] for x in extra)])
            payloads.append([entry_id, *self._payload_values(prep)])
            attrs = doc.attributes()
            for name in MULTI_ATTRIBUTES:
                attributes.extend((entry_id, name, value[:64]) for value in attrs[name])
            indexed.append((entry_id, prep))
            if prep.public:
                terms.update(prep.terms)
        if not entries:
            return terms
        with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO search_entry ({', '.join(names)}) VALUES ({', '.join(marks)})", entries)
            cursor.executemany("INSERT INTO search_payload (entry_id, short_text, fields, display) "
                               "VALUES (%s, %s, %s, %s)", payloads)
            self._bulk_write_index(cursor, indexed)
            if attributes:
                cursor.executemany("INSERT INTO search_attribute (entry_id, name, value) VALUES (%s, %s, %s)",
                                   attributes)
        return terms

    def _bulk_write_index(self, cursor, indexed: list[tuple[int, Prepared]]) -> None:
        for entry_id, prep in indexed:
            self._write_index(cursor, entry_id, prep)

    def finish_bulk(self) -> None:
        """After bulk_append: compact and refresh planner statistics."""

    def apply_term_counts(self, counts: Counter) -> None:
        items = list(counts.items())
        for start in range(0, len(items), 5000):
            with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                self._apply_terms(cursor, Counter(dict(items[start:start + 5000])))
