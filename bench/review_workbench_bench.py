"""Reviewer workbench with a big queue: list latency with 100 000 pending review requests.

    .venv/bin/python bench/review_workbench_bench.py [--requests 100000] [--rounds 200]
                                                     [--database-url postgres://postgres@127.0.0.1:5432/reslib_bench]

Builds a scratch database (SQLite in a temporary directory by default; with --database-url, that PostgreSQL
database is wiped by `migrate` on a fresh schema — use a throwaway database), one library under construction with a
lead host reviewer, and N pending review requests (bulk_create: resources, versions and requests in batches).
Then it times, through Django's test client in this process (no network), N=`--rounds` requests of:
  baseline      GET /accounts/login/ (a trivial page: middleware, session, template) — measured in the same run;
  workbench     GET /review/ as the reviewer (first page of the queue: counted, ordered by due date, 50 rows);
  deep page     GET /review/?page=1000;
  overdue       GET /review/?overdue=on&who=unclaimed;
  api           GET /api/v1/review/requests?limit=50.
It prints p50 / p95 in milliseconds and the ratio of each p95 to the baseline's p95, and the number of SQL queries
per page. Target (issue 4): workbench p95 < 200 ms with 100 000 pending requests.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(database_url: str | None, var_dir: Path):
    os.environ["RESLIB_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("RESLIB_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ["RESLIB_TASK_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["RESLIB_LOGIN_THROTTLING"] = "0"
    os.environ["RESLIB_LOG_LEVEL"] = "WARNING"
    if database_url:
        os.environ["RESLIB_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "reslib.settings"
    import django

    django.setup()


def build(n: int):
    import datetime

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from reslib.libraries.models import Library
    from reslib.libraries.services import add_team_member
    from reslib.resources.models import Resource, ResourceVersion
    from reslib.review import services
    from reslib.review.models import ReviewRequest
    from tests import factories

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    college = factories.organization("江苏信息职业技术学院")
    other = factories.organization("南京工业职业技术大学")
    lead = factories.user("lead", org=college, real_name="王建国")
    library = factories.library(lead, hosts=[college, other], status=Library.Status.BUILDING)
    reviewer = factories.user("reviewer", org=college, real_name="李审核")
    add_team_member(library, by=lead, user=reviewer, role="reviewer")
    uploader = factories.user("uploader", org=college, real_name="张上传")
    add_team_member(library, by=lead, user=uploader, role="builder")
    level = services.levels_for(library)[0]
    now = timezone.now()
    started = time.perf_counter()
    batch = 5000
    for start in range(0, n, batch):
        size = min(batch, n - start)
        with transaction.atomic():
            resources = Resource.objects.bulk_create([Resource(library=library, created_by=uploader)
                                                      for _ in range(size)])
            if resources[0].pk is None:  # SQLite before RETURNING: read the ids back
                resources = list(Resource.objects.order_by("-id")[:size])[::-1]
            versions = ResourceVersion.objects.bulk_create([
                ResourceVersion(resource=r, number=1, state=ResourceVersion.State.IN_REVIEW, created_by=uploader,
                                title=f"数控车床对刀操作讲义 {start + i}", resource_type="text",
                                major_id=library.core_major_id, originality="original", licence="cc_by",
                                copyright_holder_org=college, contributing_org=college, submitted_at=now)
                for i, r in enumerate(resources)])
            if versions[0].pk is None:
                versions = list(ResourceVersion.objects.order_by("-id")[:size])[::-1]
            ReviewRequest.objects.bulk_create([
                ReviewRequest(version=v, resource_id=v.resource_id, library=library, contributing_org=college,
                              title=v.title, state=ReviewRequest.State.PENDING, level=level, submitted_by=uploader,
                              submitted_at=now - datetime.timedelta(minutes=start + i),
                              due_at=now + datetime.timedelta(hours=(start + i) % 200 - 20))
                for i, v in enumerate(versions)])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"built {n} pending requests in {time.perf_counter() - started:.1f} s ({connection.vendor})")
    return reviewer


def measure(client, url: str, rounds: int) -> tuple[list[float], int]:
    from django.db import connection

    for _ in range(5):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    from django.db.backends.signals import connection_created

    def wrap(sender, connection, **kwargs):
        connection.execute_wrappers.append(count)

    connection_created.connect(wrap)
    connection.close()
    client.get(url)
    connection_created.disconnect(wrap)
    if count in connection.execute_wrappers:
        connection.execute_wrappers.remove(count)
    connection.close()
    queries = executed
    timings = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    return timings, len(queries)


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reslib-review-bench-") as tmp:
        setup_django(args.database_url or None, Path(tmp))
        from django.test import Client

        reviewer = build(args.requests)
        anonymous = Client()
        client = Client()
        client.force_login(reviewer)
        rows = [("baseline /accounts/login/", anonymous, "/accounts/login/"),
                ("workbench /review/", client, "/review/"),
                ("deep page /review/?page=1000", client, "/review/?page=1000"),
                ("overdue+unclaimed", client, "/review/?overdue=on&who=unclaimed"),
                ("api /api/v1/review/requests", client, "/api/v1/review/requests?limit=50")]
        results = []
        for label, c, url in rows:
            timings, queries = measure(c, url, args.rounds)
            results.append((label, pct(timings, 50), pct(timings, 95), statistics.mean(timings), queries))
        base_p95 = results[0][2]
        print(f"\n{args.requests} pending requests, {args.rounds} rounds each (Django test client, in process)")
        print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'mean':>8} {'×base p95':>10} {'queries':>8}")
        for label, p50, p95, mean, queries in results:
            print(f"{label:34} {p50:8.1f} {p95:8.1f} {mean:8.1f} {p95 / base_p95:10.1f} {queries:8d}")
        workbench_p95 = results[1][2]
        print(f"\ntarget: workbench p95 < 200 ms → {'met' if workbench_p95 < 200 else 'NOT met'} "
              f"({workbench_p95:.1f} ms)")


if __name__ == "__main__":
    main()
