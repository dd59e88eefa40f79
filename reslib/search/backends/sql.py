"""The SQL both backends share: visibility and filter conditions, the candidate query, totals, facets, ranking and
keyset pages, index writes around vendor hooks. Subclasses say how a word query and a substring query match.

A search reads its candidates once: the newest ``COUNT_CAP + 1`` visible matches with their attributes and ranking
words (one statement; PostgreSQL may need two or three, see postgres.py). Total, facet counts, relevance order and
the page are computed from those rows in Python — no second pass over the index, whatever the query. Browsing
(no words) by date keeps exact keyset pages over every document through the entry indexes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter

from django.db import connections, transaction

from . import attributes as attribute_tokens
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
from .ranking import Ranking, substring_ranking, word_ranking

# Filter / facet name → column of search_entry (single-valued attributes).
COLUMNS = {"resource_type": "resource_type", "major": "major", "library": "library_id", "licence": "licence",
           "price_mode": "price_mode", "kind": "kind"}
BATCH = 500
FACET_COLUMNS = ("resource_type", "major", "library", "licence", "price_mode")
# What the candidate query reads per match, in this order (the constants below name the positions). The last four
# are the ranking masks (ranking.py), computed only when the order is by relevance.
CANDIDATE_COLUMNS = ("e.id", "e.created_ts", "e.usage", "e.rating", *(f"e.{COLUMNS[n]}" for n in FACET_COLUMNS),
                     "e.multi", "0", "0", "0", "0")
ID, TS, USAGE, RATING = 0, 1, 2, 3
FACET_INDEX = {name: 4 + i for i, name in enumerate(FACET_COLUMNS)}
MULTI = 4 + len(FACET_COLUMNS)
RANK = slice(MULTI + 1, MULTI + 5)
SORT_VALUE = {"id": ID, "ts": TS, "usage": USAGE, "rating": RATING}
INSERT_ATTRIBUTE = "INSERT INTO search_attribute (entry_id, name, value, created_ts) VALUES (%s, %s, %s, %s)"
RANKED_GROUPS = ("e.rank_title", "e.rank_tags", "e.rank_other")


def _ranking(query: Query, mode: str) -> Ranking:
    return substring_ranking(query) if mode == "s" else word_ranking(query)


def _attribute_rows(entry_id: int, prep: Prepared) -> list[tuple]:
    attributes = prep.doc.attributes()
    return [(entry_id, name, value[:64], prep.created_ts) for name in MULTI_ATTRIBUTES for value in attributes[name]]


@dataclass
class Plan:
    """How to find matching entries: FROM/WHERE fragments (alias e = search_entry) and the newest-first order."""

    from_sql: str
    where: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)
    mode: str = "w"  # "w" word index, "s" substring fallback, "b" browse (empty query)
    order: str = "e.id DESC"  # newest first, in the order the driving index yields rows
    index_filters: bool = False  # the index itself applies the filters (no row conditions for them)
    index_visibility: bool = False  # … and visibility
    ts_column: str = "e.created_ts"  # the date as the driving index holds it (browse pages by date)
    columns: tuple[str, ...] = CANDIDATE_COLUMNS  # what a row holds (candidates: always laid out as CANDIDATE_COLUMNS)
    column_params: tuple = ()  # parameters of the column expressions
    drives: str = ""  # a filter the driving index applies already (no row condition for it)
    lexemes: tuple[tuple[str, ...], ...] = ()  # what a match holds: an AND of OR-groups of index words (PostgreSQL)


class SqlBackend(SearchBackend):
    FORCED_JOIN = "JOIN"  # a join whose left side must drive (SQLite: CROSS JOIN)

    # --- hooks ------------------------------------------------------------------------------------------------

    def word_plan(self, query: Query, groups: list[list[str]], visibility: list[str]) -> Plan:  # pragma: no cover
        """Matches of the words that carry a token of every filter group (attributes.filter_groups); the index may
        also apply visibility (a token of attributes.visibility_group, [] = everything visible)."""
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

    def _new_ids(self, cursor, count: int) -> list[int]:  # pragma: no cover - abstract
        """Ids for ``count`` new entries (inside the writing transaction)."""
        raise NotImplementedError

    # --- helpers ----------------------------------------------------------------------------------------------

    @property
    def connection(self):
        return connections[self.using]

    @staticmethod
    def _in(column: str, values: Sequence) -> tuple[str, list]:
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

    def _conditions(self, filters: dict[str, list[str]], visibility: Visibility | None) -> tuple[list[str], list]:
        """Row conditions for the filters and (unless None) the visibility."""
        where, params = [], []
        if visibility is not None and not visibility.everything:
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
        if sort == "relevance" and mode != "b":
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

    # --- candidates -------------------------------------------------------------------------------------------

    def _select(self, plan: Plan, cond: list[str], cond_params: list, extra_where: Sequence[str] = (),
                extra_params: Sequence = ()) -> tuple[str, list]:
        where = " AND ".join([*plan.where, *extra_where, *cond]) or "1 = 1"
        return (f"SELECT {', '.join(plan.columns)} FROM {plan.from_sql} WHERE {where}",
                [*plan.column_params, *plan.params, *extra_params, *cond_params])

    def candidates(self, plan: Plan, cond: list[str], cond_params: list) -> list[tuple]:
        """The newest COUNT_CAP + 1 visible matches (rows laid out as CANDIDATE_COLUMNS), newest first."""
        sql, params = self._select(plan, cond, cond_params)
        return self._run(f"{sql} ORDER BY {plan.order} LIMIT {COUNT_CAP + 1}", params)

    @staticmethod
    def _facets(rows: list[tuple], facets: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        out: dict[str, list[tuple[str, int]]] = {}
        multi_counts = Counter(" ".join(map(itemgetter(MULTI), rows)).split()) if any(
            name in MULTI_ATTRIBUTES for name in facets) else Counter()
        for name in facets:
            if name in MULTI_ATTRIBUTES:
                prefix = name + "="
                counts = [(value[len(prefix):], n) for value, n in multi_counts.items() if value.startswith(prefix)]
            else:
                counted = Counter(map(itemgetter(FACET_INDEX[name]), rows))
                counts = [(str(v), n) for v, n in counted.items() if v not in (None, "")]
            out[name] = sorted(counts, key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]
        return out

    @staticmethod
    def _order(rows: list[tuple], keys: list[str], query: Query, mode: str) -> list[tuple]:
        """(key tuple, row) pairs, best first."""
        if keys[0] == "score":
            score = _ranking(query, mode).scorer()
            keyed = [((score(row[RANK]), row[ID]), row) for row in rows]
        else:
            positions = [SORT_VALUE[k] for k in keys]
            keyed = [(tuple(row[i] for i in positions), row) for row in rows]
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        return keyed

    def _browse_page(self, plan: Plan, cond: list[str], cond_params: list, keys: list[str], after: list | None,
                     limit: int) -> list[tuple]:
        """An exact keyset page over every matching document, through the entry indexes (browsing by date)."""
        columns = tuple(f"{plan.ts_column if k == 'ts' else 'e.' + k} AS {k}" for k in keys)
        sql, params = self._select(replace(plan, columns=columns), cond, cond_params)
        outer_where = ""
        if after is not None:
            outer_where = f"WHERE ({', '.join(keys)}) < ({', '.join(['%s'] * len(keys))})"
            params = params + list(after)
        order = ", ".join(f"{k} DESC" for k in keys)
        return self._run(f"SELECT {', '.join(keys)} FROM ({sql}) s {outer_where} ORDER BY {order} LIMIT {limit + 1}",
                         params)

    # --- search -----------------------------------------------------------------------------------------------

    def _browse_plan(self, filters: dict[str, list[str]]) -> Plan:
        """No words: entries newest first; a filter on one institution/audience value drives from its index."""
        for name in MULTI_ATTRIBUTES:
            if len(filters.get(name, ())) == 1:
                return Plan(from_sql=f"search_attribute fa {self.FORCED_JOIN} search_entry e ON e.id = fa.entry_id",
                            where=["fa.name = %s", "fa.value = %s"], params=[name, filters[name][0]], mode="b",
                            order="fa.created_ts DESC, fa.entry_id DESC", ts_column="fa.created_ts", drives=name)
        return Plan(from_sql="search_entry e", mode="b", order="e.created_ts DESC, e.id DESC")

    def _row_conditions(self, plan: Plan, filters: dict[str, list[str]], visibility: Visibility):
        """What the rows must be checked for: what the plan's index does not apply already."""
        row_filters = {} if plan.index_filters else {k: v for k, v in filters.items() if k != plan.drives}
        return self._conditions(row_filters, None if plan.index_visibility else visibility)

    def _matches(self, plan: Plan, query: Query, filters, visibility, facets, sort, limit):
        """The plan as run (with its columns), its row conditions and its candidate rows."""
        if not limit:  # totals and facets only: institution/audience values only when counted
            if not any(name in MULTI_ATTRIBUTES for name in facets):
                plan = replace(plan, columns=tuple("''" if c == "e.multi" else c for c in plan.columns))
        elif self._keys(sort, plan.mode)[0] == "score":
            plan = replace(plan, **self._rank_columns(plan, _ranking(query, plan.mode)))
        cond, cond_params = self._row_conditions(plan, filters, visibility)
        return plan, cond, cond_params, self.candidates(plan, cond, cond_params)

    FIND = "instr"  # the vendor's (haystack, needle) → 1-based position or 0

    def _rank_columns(self, plan: Plan, ranking: Ranking) -> dict:
        """The columns of a relevance-ordered read: the ranking masks (title, title word count, tags, other)."""
        masks, params = [], []
        for column in RANKED_GROUPS:
            text = f"replace({column}, ' ', '')" if ranking.joined else column
            bits = [f"CASE WHEN {self.FIND}({text}, %s) > 0 THEN {1 << i} ELSE 0 END"
                    for i in range(len(ranking.needles))]
            masks.append(" + ".join(bits) or "0")
            params += ranking.needles
        title_words = "length(e.rank_title) - length(replace(e.rank_title, ' ', '')) - 1"
        columns = (*plan.columns[:RANK.start], masks[0], title_words, masks[1], masks[2])
        return {"columns": columns, "column_params": tuple(params)}

    def search(self, query: Query, *, filters, visibility, facets, sort, cursor, limit, fp) -> SearchResult:
        mode, after = ("w", None)
        if cursor:
            mode, after = decode_cursor(cursor, fp)
        visibility_tokens = attribute_tokens.visibility_group(visibility)
        if visibility_tokens is None:  # this user may see nothing
            return SearchResult(hits=[], facets={name: [] for name in facets})
        if query.empty:
            plan = self._browse_plan(filters)
        elif mode == "s" or not query.terms:  # punctuation only: no words to look up
            plan = self.substring_plan(query)
        else:
            plan = self.word_plan(query, attribute_tokens.filter_groups(filters), visibility_tokens)
        plan, cond, cond_params, rows = self._matches(plan, query, filters, visibility, facets, sort, limit)
        if not rows and plan.mode == "w" and query.substrings and cursor is None:
            plan, cond, cond_params, rows = self._matches(self.substring_plan(query), query, filters, visibility,
                                                          facets, sort, limit)
        complete = len(rows) <= COUNT_CAP
        rows = rows[:COUNT_CAP]
        keys = self._keys(sort, plan.mode)
        if after is not None and len(after) != len(keys):
            raise InvalidCursor("cursor belongs to another sort")
        if not limit:
            page = []
        elif plan.mode == "b" and not complete:
            page = self._browse_page(plan, cond, cond_params, keys, after, limit)
        else:
            ordered = self._order(rows, keys, query, plan.mode)
            if after is not None:
                bound = tuple(after)
                ordered = [pair for pair in ordered if pair[0] < bound]
            page = [key for key, _row in ordered[:limit + 1]]
        page, more = page[:limit], len(page) > limit
        return SearchResult(
            hits=self._hits(page, keys, query, plan.mode == "s"),
            facets=self._facets(rows, facets) if cursor is None else {},
            next_cursor=encode_cursor(fp, page[-1], plan.mode) if more and page else None,
            total=len(rows), approximate=not complete, substring=plan.mode == "s")

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
        d = prep.doc
        return [d.kind, d.access, d.library_id, d.attr_resource_type, d.major, d.licence, d.price_mode,
                prep.created_ts, int(d.usage or 0), float(d.rating) if d.rating is not None else -1.0, generation,
                prep.multi, prep.rank_title, prep.rank_tags, prep.rank_other]

    @staticmethod
    def _payload_values(prep: Prepared) -> list:
        return [prep.short_text, json.dumps(prep.fields, ensure_ascii=False),
                json.dumps(prep.doc.display, ensure_ascii=False, default=str)]

    def _extra_columns(self, prep: Prepared, entry_id: int) -> list[tuple[str, object, str]]:
        """Vendor columns written with the entry row: (column, value, placeholder)."""
        return []

    ENTRY_COLUMNS = ("kind", "access", "library_id", "resource_type", "major", "licence", "price_mode",
                     "created_ts", "usage", "rating", "generation", "multi", "rank_title", "rank_tags", "rank_other")

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
            new_ids = iter(self._new_ids(cursor, sum(1 for p in prepared if p.doc.id not in existing)))
            for prep in prepared:
                old = existing.get(prep.doc.id)
                gen = generation if generation is not None else (old[5] if old else 0)
                entry_id = old[0] if old else next(new_ids)
                extra = self._extra_columns(prep, entry_id)
                values = self._entry_values(prep, gen) + [x[1] for x in extra]
                names = list(self.ENTRY_COLUMNS) + [x[0] for x in extra]
                marks = ["%s"] * len(self.ENTRY_COLUMNS) + [x[2] for x in extra]
                if old:
                    assignments = ", ".join(f"{c} = {m}" for c, m in zip(names, marks, strict=True))
                    cursor.execute(f"UPDATE search_entry SET {assignments} WHERE id = %s", values + [entry_id])
                else:
                    columns = ", ".join(["id", "doc_id", *names])
                    marks = ", ".join(["%s", "%s", *marks])
                    cursor.execute(f"INSERT INTO search_entry ({columns}) VALUES ({marks})",
                                   [entry_id, prep.doc.id] + values)
                cursor.execute("INSERT INTO search_payload (entry_id, short_text, fields, display) "
                               "VALUES (%s, %s, %s, %s)", [entry_id, *self._payload_values(prep)])
                self._write_index(cursor, entry_id, prep)
                attributes += _attribute_rows(entry_id, prep)
                if prep.public:
                    deltas.update(prep.terms)
            if attributes:
                cursor.executemany(INSERT_ATTRIBUTE, attributes)
            self._apply_terms(cursor, deltas)
        return len(prepared)

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
            entry_id = start_id + offset
            extra = self._extra_columns(prep, entry_id)
            if names is None:
                names = ["id", "doc_id", *self.ENTRY_COLUMNS, *(x[0] for x in extra)]
                marks = ["%s"] * (len(self.ENTRY_COLUMNS) + 2) + [x[2] for x in extra]
            entries.append([entry_id, doc.id, *self._entry_values(prep, generation), *(x[1] for x in extra)])
            payloads.append([entry_id, *self._payload_values(prep)])
            attributes += _attribute_rows(entry_id, prep)
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
                cursor.executemany(INSERT_ATTRIBUTE, attributes)
        return terms

    def _bulk_write_index(self, cursor, indexed: list[tuple[int, Prepared]]) -> None:
        for entry_id, prep in indexed:
            self._write_index(cursor, entry_id, prep)

    def finish_bulk(self) -> None:
        """After bulk_append: compact and refresh planner statistics."""

    def optimize(self) -> None:
        """After a rebuild (search_reindex): compact the index and refresh what the queries are planned by."""

    def apply_term_counts(self, counts: Counter) -> None:
        items = list(counts.items())
        for start in range(0, len(items), 5000):
            with transaction.atomic(using=self.using), self.connection.cursor() as cursor:
                self._apply_terms(cursor, Counter(dict(items[start:start + 5000])))
