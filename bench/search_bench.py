"""Search at scale: index build time and query latency of the search backend and of GET /api/v1/search, against
naive ``icontains`` search on the same data.

    .venv/bin/python bench/search_bench.py [--size 1000000] [--database-url postgres://…/scratch_db] [--rounds 3]
        [--workdir DIR] [--no-api] [--icontains-timeout 10]

Generates --size resources deterministically (bench/search_corpus.py) into a SCRATCH database (SQLite file in the
work dir by default; with --database-url the database is wiped: give it a throw-away one): lightweight Resource and
ResourceVersion rows (bulk insert, so the API can resolve hits through the normal visibility policy), then the search
index through the backend's bulk path (segmentation included in the build time). Then a fixed query mix runs
anonymously, with all seven facets:
  backend  reslib.search.services.search in-process;
  api      GET /api/v1/search over HTTP (granian, one worker) — what a client sees;
  naive    Resource.objects.filter(title/description/keywords __icontains each word).order_by(-id)[:20] + count()
           on a sample of the word queries, each stopped after --icontains-timeout seconds.
Each round runs the mix in-process, then over HTTP, so both meet the machine in the same state; a fixed CPU workload
timed before each round shows how fast the (shared, noisy) machine was. Prints p50/p95 per mode and the ratio
naive/backend. The target in issue 5 is API p95 <= 50 ms at 1 M resources.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
VENV_BIN = Path(sys.executable).parent

FACETS = ["resource_type", "major", "library", "institution", "audience", "licence", "price_mode"]
# The fixed query mix: (label, q, filters, sort). Filters use the engine's names.
QUERIES = [
    ("word", "数控", {}, "relevance"),
    ("word", "护理", {}, "relevance"),
    ("word", "会计", {}, "relevance"),
    ("word", "发动机", {}, "relevance"),
    ("compound", "汽车维修", {}, "relevance"),
    ("two words", "汽车 维修", {}, "relevance"),
    ("compound", "数控加工", {}, "relevance"),
    ("two words", "数控 编程", {}, "relevance"),
    ("phrase", "老年护理操作要点", {}, "relevance"),
    ("three words", "直播电商 数据分析 案例", {}, "relevance"),
    ("english", "Python", {}, "relevance"),
    ("english", "PLC", {}, "relevance"),
    ("number", "5G", {}, "relevance"),
    ("mixed", "Python 数据库", {}, "relevance"),
    ("pinyin", "sksb", {}, "relevance"),
    ("rare", "钣金喷涂", {}, "relevance"),
    ("substring", "车维修", {}, "relevance"),
    ("1-char", "车", {}, "relevance"),
    ("no hit", "量子引力", {}, "relevance"),
    ("general", "实训", {}, "relevance"),
    ("word+newest", "数控", {}, "newest"),
    ("word+filter", "护理", {"resource_type": ["video"]}, "relevance"),
    ("word+2 filters", "汽车维修", {"audience": ["student"], "price_mode": ["free"]}, "relevance"),
    ("browse", "", {}, "newest"),
    ("browse major", "", {"major": ["520201"]}, "newest"),
    ("browse library", "", {"library": ["17"]}, "newest"),
    ("browse inst.", "", {"institution": ["5"]}, "newest"),
]
NAIVE_SAMPLE = ["数控", "汽车维修", "Python", "老年护理操作要点", "钣金喷涂", "量子引力", "汽车 维修", "实训"]
API_PARAM = {"resource_type": "type", "major": "major", "library": "library", "institution": "institution",
             "audience": "audience", "licence": "licence", "price_mode": "price"}


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(share * (len(values) - 1))))
    return values[k]


def setup_django(workdir: Path, database_url: str | None):
    os.environ["RESLIB_VAR_DIR"] = str(workdir)
    os.environ["RESLIB_DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["RESLIB_LOGIN_THROTTLING"] = "0"
    os.environ["RESLIB_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reslib.settings")
    import django

    django.setup()


def reset_database():
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)


def make_fixture(corpus):
    """Operator-free scaffolding: one user, the institutions, the libraries (public status), extra majors."""
    import datetime as dt

    from django.db import connection

    from reslib.accounts.models import User
    from reslib.libraries.models import Library
    from reslib.orgs.models import Major, Organization, Region
    from tests.factories import credit_code

    for m in corpus.majors:
        Major.objects.get_or_create(code=m.code, defaults={
            "name": m.name, "level": "higher", "category_code": m.code[:2], "category_name": m.class_name,
            "class_code": m.class_code, "class_name": m.class_name})
    majors = {m.code: m for m in Major.objects.all()}
    province = Region.objects.get(code="320000")
    orgs = []
    for i, name in enumerate(corpus.institutions):
        org, _ = Organization.objects.get_or_create(
            name=name, defaults={"type": "higher_vocational", "credit_code": credit_code("320100"),
                                 "province": province})
        orgs.append(org)
    user = User.objects.create(username="bench", real_name="基准", organization=orgs[0])
    libraries = Library.objects.bulk_create([
        Library(name=corpus.library_name(i), level="provincial", province=province,
                core_major=majors[corpus.library_major[i].code], build_start=dt.date(2024, 1, 1),
                build_end=dt.date(2026, 12, 31), status="accepted", created_by=user)
        for i in range(corpus.library_count)])
    if connection.vendor == "sqlite":  # bulk_create did not return ids on old SQLite
        libraries = list(Library.objects.order_by("id"))
    return user, orgs, libraries, majors


def load_rows(corpus, size: int, user, orgs, libraries, majors, batch: int = 5000) -> float:
    """Resource + ResourceVersion rows with ids 1..size (published), bulk-inserted."""
    from django.db import connection, transaction

    from reslib.resources.models import Resource, ResourceVersion

    started = time.perf_counter()
    for start in range(0, size, batch):
        items = [corpus.resource(i) for i in range(start, min(size, start + batch))]
        with transaction.atomic():
            Resource.objects.bulk_create([
                Resource(id=g.index + 1, library=libraries[g.library_index], created_by=user,
                         created_at=g.created_at, updated_at=g.created_at) for g in items])
            ResourceVersion.objects.bulk_create([
                ResourceVersion(id=g.index + 1, resource_id=g.index + 1, number=1, state="published",
                                created_by=user, published_at=g.created_at, title=g.title,
                                description=g.description, keywords=g.keywords, resource_type=g.resource_type,
                                major=majors[g.major.code], audience=g.audience, access=g.access,
                                price_mode=g.price_mode, price=9 if g.price_mode == "paid" else None,
                                copyright_holder_org=orgs[g.institution_ids[0]], originality="original",
                                licence=g.licence, contributing_org=orgs[g.institution_ids[0]]) for g in items])
        print(f"\r  rows {min(size, start + batch):>9}/{size}", end="", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE resources_resource SET published_version_id = id, latest_version_id = id")
        if connection.vendor == "postgresql":
            for table in ("resources_resource", "resources_resourceversion"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {size + 1})")
            cursor.execute("ANALYZE")
    print()
    return time.perf_counter() - started


def document(corpus, g, libraries):
    from reslib.search.backends.base import SearchDocument

    library = libraries[g.library_index]
    inst = [corpus.institutions[i] for i in g.institution_ids]
    return SearchDocument(
        id=f"resource:{g.index + 1}", title=g.title, keywords=g.keywords, description=g.description,
        authors=g.authors, institutions=inst, library=library.name,
        majors=[g.major.name, g.major.code, g.major.class_name], knowledge_points=g.knowledge_points,
        resource_type=g.resource_type, attr_resource_type=g.resource_type, major=g.major.code,
        library_id=library.pk, institution=[i + 1 for i in g.institution_ids], audience=g.audience,
        licence=g.licence, price_mode=g.price_mode, access=g.access, created_at=g.created_at,
        display={"title": g.title, "url": f"/resources/{g.index + 1}/", "library_id": library.pk,
                 "library_name": library.name, "resource_type": g.resource_type, "major_code": g.major.code,
                 "major_name": g.major.name, "version": 1})


def build_index(corpus, size: int, libraries, batch: int = 2000) -> dict:
    from collections import Counter

    from reslib.search.backends import get_backend

    backend = get_backend()
    started = time.perf_counter()
    terms: Counter = Counter()
    for start in range(0, size, batch):
        docs = [document(corpus, corpus.resource(i), libraries) for i in range(start, min(size, start + batch))]
        terms.update(backend.bulk_append(docs, start_id=start + 1))
        done = min(size, start + batch)
        rate = done / (time.perf_counter() - started)
        print(f"\r  index {done:>9}/{size} ({rate:,.0f} docs/s)", end="", flush=True)
    print()
    append = time.perf_counter() - started
    backend.apply_term_counts(terms)
    backend.finish_bulk()
    total = time.perf_counter() - started
    return {"documents": size, "append_s": round(append, 1), "total_s": round(total, 1),
            "docs_per_s": round(size / total), "terms": len(terms)}


def rebuild_index(corpus, size: int) -> dict:
    """Drop the search tables (migrations back and forth) and build them again over the existing rows."""
    from django.core.management import call_command

    from reslib.libraries.models import Library

    call_command("migrate", "search", "zero", verbosity=0)
    call_command("migrate", "search", verbosity=0)
    return build_index(corpus, size, list(Library.objects.order_by("id")))


def cpu_baseline() -> float:
    """Milliseconds of a fixed pure-Python workload: how fast this (shared, noisy) machine is right now."""
    started = time.perf_counter()
    sum(i * i for i in range(300_000))
    return (time.perf_counter() - started) * 1000


def label(name: str, q: str, filters: dict, sort: str) -> str:
    return f"{name}: {q or '-'} {filters or ''} {sort}"


def backend_round(per_query: dict[str, list[float]]) -> None:
    from reslib.search import services
    from reslib.search.backends.base import Visibility

    anon = Visibility.anonymous()
    for name, q, filters, sort in QUERIES:
        started = time.perf_counter()
        services.search(q, filters=filters, visibility=anon, facets=FACETS, sort=sort, limit=20)
        per_query.setdefault(label(name, q, filters, sort), []).append((time.perf_counter() - started) * 1000)
    # deep pages: follow a cursor five pages down for a broad query
    cursor = services.search("数控", visibility=anon, sort="relevance", limit=20).next_cursor
    for _ in range(5):
        if not cursor:
            break
        started = time.perf_counter()
        cursor = services.search("数控", visibility=anon, sort="relevance", cursor=cursor, limit=20).next_cursor
        per_query.setdefault("page 2-6: 数控 (cursor)", []).append((time.perf_counter() - started) * 1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def api_server():
    """GET /api/v1/search over HTTP: granian, one worker, production settings (persistent database connections, no
    query log), plain HTTP on loopback. Yields a connection to it, or None when granian is not installed."""
    import http.client

    granian = VENV_BIN / "granian"
    if not granian.exists():
        yield None
        return
    port = free_port()
    env = dict(os.environ, RESLIB_DEBUG="0", RESLIB_SECRET_KEY=secrets.token_urlsafe(48),
               RESLIB_ALLOWED_HOSTS="127.0.0.1", RESLIB_SITE_URL="http://127.0.0.1", RESLIB_SECURE_SSL_REDIRECT="0")
    proc = subprocess.Popen([str(granian), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1", "--blocking-threads", "1", "reslib.wsgi:application"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("granian did not start: " + proc.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)
        yield http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def api_round(conn, per_query: dict[str, list[float]], failures: dict) -> None:
    for name, q, filters, sort in QUERIES:
        params = [("q", q), ("sort", sort)]
        for param, values in filters.items():
            params += [(API_PARAM[param], v) for v in values]
        url = "/api/v1/search?" + urllib.parse.urlencode(params)
        started = time.perf_counter()
        conn.request("GET", url, headers={"Host": "127.0.0.1", "Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
        per_query.setdefault(label(name, q, filters, sort), []).append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            failures[url] = (response.status, body[:200])


def time_queries(rounds: int, with_api: bool) -> dict:
    """Rounds of the query mix, in-process and (in the same round, so both meet the machine in the same state) over
    HTTP; the first round warms caches and is not counted. The CPU baseline is taken before each counted round."""
    backend: dict[str, list[float]] = {}
    api: dict[str, list[float]] = {}
    failures: dict = {}
    rounds_seen: list[dict] = []  # per counted round: the CPU baseline and that round's p95s
    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(api_server()) if with_api else None
        for round_ in range(rounds + 1):
            baseline = cpu_baseline()
            this_backend: dict[str, list[float]] = {}
            this_api: dict[str, list[float]] = {}
            backend_round(this_backend)
            if conn is not None:
                api_round(conn, this_api, failures)
            if not round_:
                continue
            for total, this in ((backend, this_backend), (api, this_api)):
                for name, values in this.items():
                    total.setdefault(name, []).extend(values)
            rounds_seen.append({"cpu_baseline_ms": round(baseline, 1),
                                "backend_p95": round(summary(this_backend)[1], 1),
                                "api_p95": round(summary(this_api)[1], 1) if this_api else None})
    return {"backend": backend, "api": api if conn is not None else None, "failures": failures,
            "rounds": rounds_seen}


def time_naive(timeout_s: float) -> dict:
    """icontains over title, description and keywords (each word must occur somewhere), newest 20 + count."""
    from django.db import OperationalError, connection, transaction
    from django.db.models import Q
    from django.db.models.functions import Cast
    from django.db.models import TextField

    from reslib.resources.models import Resource

    out = {}
    for q in NAIVE_SAMPLE:
        condition = Q()
        for word in q.split():
            condition &= (Q(published_version__title__icontains=word)
                          | Q(published_version__description__icontains=word)
                          | Q(keywords_text__icontains=word))
        qs = Resource.objects.annotate(keywords_text=Cast("published_version__keywords", TextField())).filter(
            condition, published_version__access="public")
        started = time.perf_counter()
        timed_out = False
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
                    list(qs.order_by("-id").values_list("id", flat=True)[:20])
                    qs.count()
                else:
                    deadline = time.perf_counter() + timeout_s
                    connection.connection.set_progress_handler(
                        lambda: 1 if time.perf_counter() > deadline else 0, 10_000)
                    try:
                        list(qs.order_by("-id").values_list("id", flat=True)[:20])
                        qs.count()
                    finally:
                        connection.connection.set_progress_handler(None, 0)
        except OperationalError:
            timed_out = True
        except Exception as exc:  # psycopg QueryCanceled is an OperationalError subclass in Django's wrapping
            if "cancel" not in str(exc).lower() and "interrupt" not in str(exc).lower():
                raise
            timed_out = True
        elapsed = (time.perf_counter() - started) * 1000
        out[q] = (elapsed, timed_out)
    return out


def summary(per_query: dict[str, list[float]]) -> tuple[float, float]:
    values = [v for vs in per_query.values() for v in vs]
    return percentile(values, 0.5), percentile(values, 0.95)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="a SCRATCH PostgreSQL database (it is wiped)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--no-api", action="store_true")
    parser.add_argument("--icontains-timeout", type=float, default=10.0)
    parser.add_argument("--reuse", action="store_true", help="skip generation: reuse the data of a previous run")
    parser.add_argument("--reindex", action="store_true",
                        help="with --reuse: keep the resource rows, rebuild the search index from scratch")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="reslib-search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    setup_django(workdir, args.database_url)
    from django.db import connection

    from search_corpus import Corpus

    print(f"search bench: {args.size:,} resources on {connection.vendor} (work dir {workdir})")
    corpus = Corpus()
    figures: dict = {"size": args.size, "vendor": connection.vendor}
    if not args.reuse:
        reset_database()
        user, orgs, libraries, majors = make_fixture(corpus)
        figures["rows_s"] = round(load_rows(corpus, args.size, user, orgs, libraries, majors), 1)
        figures["index"] = build_index(corpus, args.size, libraries)
        print(f"  rows loaded in {figures['rows_s']}s; index built in {figures['index']['total_s']}s "
              f"({figures['index']['docs_per_s']:,} docs/s)")
    elif args.reindex:
        figures["index"] = rebuild_index(corpus, args.size)
        print(f"  index rebuilt in {figures['index']['total_s']}s ({figures['index']['docs_per_s']:,} docs/s)")
    timed = time_queries(args.rounds, with_api=not args.no_api)
    figures["rounds"] = timed["rounds"]
    print("\nper round — CPU baseline (a fixed Python workload: how fast the machine was), backend p95, API p95:")
    for seen in timed["rounds"]:
        print(f"  {seen['cpu_baseline_ms']:6.1f} ms  {seen['backend_p95']:6.1f} ms  {seen['api_p95'] or '-':>6} ms")
    b50, b95 = summary(timed["backend"])
    figures["backend_ms"] = {"p50": round(b50, 2), "p95": round(b95, 2),
                             "median_per_query": {k: round(statistics.median(v), 1)
                                                  for k, v in timed["backend"].items()}}
    print(f"\nbackend (in-process, 7 facets, anonymous): p50 {b50:.1f} ms  p95 {b95:.1f} ms")
    for name, values in timed["backend"].items():
        print(f"  {statistics.median(values):8.1f} ms  {name}")
    if timed["api"] is None and not args.no_api:
        print("\nAPI: granian not installed; not measured")
    elif timed["api"] is not None:
        a50, a95 = summary(timed["api"])
        figures["api_ms"] = {"p50": round(a50, 2), "p95": round(a95, 2),
                             "median_per_query": {k: round(statistics.median(v), 1) for k, v in timed["api"].items()}}
        bad = timed["failures"]
        print(f"\nAPI GET /api/v1/search over HTTP: p50 {a50:.1f} ms  p95 {a95:.1f} ms"
              + (f"  (non-200: {bad})" if bad else ""))
        for name, values in timed["api"].items():
            print(f"  {statistics.median(values):8.1f} ms  {name}")
    naive = time_naive(args.icontains_timeout)
    print(f"\nnaive icontains (newest 20 + count, stopped after {args.icontains_timeout:g} s):")
    ratios = []
    backend_by_q = {}
    for name, values in timed["backend"].items():
        q = name.split(": ", 1)[1].rsplit(" {", 1)[0].rsplit(" relevance", 1)[0].strip()
        backend_by_q.setdefault(q, statistics.median(values))
    for q, (ms, timed_out) in naive.items():
        ours = backend_by_q.get(q)
        ratio = ms / ours if ours else float("nan")
        ratios.append(ratio)
        print(f"  {ms:9.1f} ms{'+' if timed_out else ' '} {q:<14} backend {ours:7.1f} ms  → ×{ratio:,.0f}")
    figures["naive"] = {q: {"ms": round(ms, 1), "timed_out": t} for q, (ms, t) in naive.items()}
    figures["naive_ratio_median"] = round(statistics.median(ratios), 1)
    print(f"  median ratio naive/backend: ×{figures['naive_ratio_median']:,}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    if not args.workdir and not args.reuse and not args.database_url:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
