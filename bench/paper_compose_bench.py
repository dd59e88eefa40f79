"""Random composition of papers (试卷) over a large question bank: the rule draw and the whole compose service,
against baselines measured in the same run.

    .venv/bin/python bench/paper_compose_bench.py [--size 100000] [--database-url postgres://…/scratch_db]
        [--runs 200] [--workdir DIR] [--reuse] [--json FILE]

Builds a bank of --size questions in one library, in a SCRATCH database (SQLite file in the work dir by default; with
--database-url the database is wiped: give it a throw-away one): Resource + ResourceVersion + QuestionContent rows
bulk-inserted, spread over the 7 question types × 20 knowledge points × 3 difficulties; 5 % of them are drafts and
1 % blocked by the operator, so the eligibility filter has something to refuse. Then it times, --runs times each:
  draw       papers.draw(): the candidate ids of a typical paper's 5 rules (50 questions) and the random sample;
  compose    papers.compose_by_rules(): the draw plus replacing the paper's items and the audit entry (rolled back);
  baselines  an indexed COUNT(*) of one type's questions, and one primary-key fetch of 50 question rows.
Prints p50/p95 in ms and the ratios against the baselines. The target in issue 11 is compose p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TYPES = ["single_choice", "multiple_choice", "true_false", "fill_blank", "short_answer", "matching", "ordering"]
DIFFICULTIES = ["basic", "intermediate", "advanced"]
POINTS = 20
BODY = {
    "single_choice": (["机床原点", "工件原点", "刀具原点", "参考点"], 1),
    "multiple_choice": (["切削速度", "进给量", "背吃刀量", "刀具材料"], [0, 1, 2]),
    "true_false": ([], True),
    "fill_blank": ([], [["右手", "右手笛卡尔"]]),
    "short_answer": ([], "先试切端面，再试切外圆，测量后输入刀补。"),
    "matching": (["G01", "G02", "M03"], ["直线插补", "顺时针圆弧插补", "主轴正转"]),
    "ordering": (["装夹工件", "对刀", "运行程序", "测量"], None),
}


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(share * (len(values) - 1))))
    return values[k]


def setup_django(workdir: Path, database_url: str | None):
    os.environ["RESLIB_VAR_DIR"] = str(workdir)
    os.environ["RESLIB_DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
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


def make_library():
    import datetime as dt

    from reslib.accounts.models import User
    from reslib.libraries.models import Library, TeamMember
    from reslib.orgs.models import Major, Organization, Region
    from reslib.resources.models import KnowledgePoint
    from tests.factories import credit_code

    province = Region.objects.get(code="320000")
    org = Organization.objects.create(name="江苏信息职业技术学院", type="higher_vocational",
                                      credit_code=credit_code("320100"), province=province)
    user = User.objects.create(username="bench", real_name="基准", organization=org)
    library = Library.objects.create(name="数控技术专业教学资源库", level="provincial", province=province,
                                     core_major=Major.objects.order_by("code").first(),
                                     build_start=dt.date(2024, 1, 1), build_end=dt.date(2026, 12, 31),
                                     status="building", created_by=user)
    TeamMember.objects.create(library=library, user=user, role=TeamMember.Role.LEAD)
    points = [KnowledgePoint.objects.create(library=library, name=f"知识点{i + 1}", position=i) for i in range(POINTS)]
    return user, org, library, points


def load_bank(size: int, user, org, library, points, batch: int = 5000) -> float:
    from django.db import connection, transaction

    from reslib.questions.models import QuestionContent
    from reslib.resources.models import Resource, ResourceVersion

    Through = ResourceVersion.knowledge_points.through
    started = time.perf_counter()
    for start in range(0, size, batch):
        ids = range(start + 1, min(size, start + batch) + 1)
        with transaction.atomic():
            Resource.objects.bulk_create([
                Resource(id=i, library=library, created_by=user,
                         moderation_state="blocked" if i % 100 == 7 else "normal") for i in ids])
            ResourceVersion.objects.bulk_create([
                ResourceVersion(id=i, resource_id=i, number=1, state="draft" if i % 20 == 3 else "published",
                                created_by=user, title=f"试题 {i}", description=f"试题 {i} 的题干",
                                resource_type="question", major_id=library.core_major_id,
                                difficulty=DIFFICULTIES[(i // 7) % 3], copyright_holder_org=org,
                                originality="original", licence="cc_by", contributing_org=org) for i in ids])
            QuestionContent.objects.bulk_create([
                QuestionContent(version_id=i, library=library, qtype=TYPES[i % 7], stem=f"第 {i} 题的题干",
                                options=BODY[TYPES[i % 7]][0], answer=BODY[TYPES[i % 7]][1]) for i in ids])
            Through.objects.bulk_create([
                Through(resourceversion_id=i, knowledgepoint_id=points[(i // 21) % POINTS].pk) for i in ids])
        print(f"\r  questions {ids[-1]:>8}/{size}", end="", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE resources_resource SET latest_version_id = id, "
                       "published_version_id = CASE WHEN id % 20 = 3 THEN NULL ELSE id END")
        if connection.vendor == "postgresql":
            for table in ("resources_resource", "resources_resourceversion"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {size + 1})")
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    print()
    return time.perf_counter() - started


def typical_rules(points) -> list[dict]:
    """A 50-question end-of-unit paper: broad rules and narrow ones (a knowledge point, a difficulty)."""
    return [
        {"qtype": "single_choice", "knowledge_point": None, "difficulty": "", "count": 20, "score": "2"},
        {"qtype": "multiple_choice", "knowledge_point": points[3].pk, "difficulty": "", "count": 10, "score": "3"},
        {"qtype": "true_false", "knowledge_point": None, "difficulty": "basic", "count": 10, "score": "1"},
        {"qtype": "fill_blank", "knowledge_point": points[5].pk, "difficulty": "intermediate", "count": 5,
         "score": "2"},
        {"qtype": "short_answer", "knowledge_point": None, "difficulty": "", "count": 5, "score": "6"},
    ]


def timed(fn, runs: int) -> list[float]:
    fn()  # warm the caches and the connection
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


class _Rollback(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="a SCRATCH PostgreSQL database (it is wiped)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--reuse", action="store_true", help="skip generation: reuse the bank of a previous run")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="reslib-paper-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    setup_django(workdir, args.database_url)
    from django.db import connection, transaction

    from reslib.accounts.models import User
    from reslib.libraries.models import Library
    from reslib.questions import papers
    from reslib.questions.models import Paper, QuestionContent
    from reslib.resources.models import KnowledgePoint

    print(f"paper compose bench: {args.size:,} questions on {connection.vendor} (work dir {workdir})")
    figures: dict = {"size": args.size, "vendor": connection.vendor, "runs": args.runs}
    if not args.reuse:
        reset_database()
        user, org, library, points = make_library()
        figures["load_s"] = round(load_bank(args.size, user, org, library, points), 1)
        print(f"  bank loaded in {figures['load_s']} s")
    user = User.objects.get(username="bench")
    library = Library.objects.get()
    points = list(KnowledgePoint.objects.filter(library=library).order_by("position"))
    rules = typical_rules(points)
    parsed = papers.parse_rules(library, rules)
    paper = Paper.objects.filter(library=library).first() or papers.create_paper(
        library, papers.PaperData(title="期末测验"), by=user)
    rng = random.Random(11)
    sample_ids = list(QuestionContent.objects.filter(library=library).values_list("pk", flat=True)[:5000])

    def draw():
        drawn = papers.draw(library, parsed, rng=rng)
        assert len(drawn) == 50

    def compose():
        try:
            with transaction.atomic():
                papers.compose_by_rules(paper, rules, by=user, rng=rng)
                raise _Rollback
        except _Rollback:
            pass

    def count_baseline():
        QuestionContent.objects.filter(library=library, qtype="single_choice").count()

    def fetch_baseline():
        list(QuestionContent.objects.filter(pk__in=rng.sample(sample_ids, 50)))

    results = {
        "draw": timed(draw, args.runs),
        "compose": timed(compose, args.runs),
        "count_baseline": timed(count_baseline, args.runs),
        "fetch_baseline": timed(fetch_baseline, args.runs),
    }
    summary = {name: {"p50": round(percentile(v, 0.5), 2), "p95": round(percentile(v, 0.95), 2)}
               for name, v in results.items()}
    figures["ms"] = summary
    print(f"\n{args.runs} runs each (5 rules, 50 questions):")
    for name, s in summary.items():
        print(f"  {name:<15} p50 {s['p50']:8.2f} ms   p95 {s['p95']:8.2f} ms")
    for base in ("count_baseline", "fetch_baseline"):
        for name in ("draw", "compose"):
            ratio = summary[name]["p50"] / summary[base]["p50"]
            figures.setdefault("ratios_p50", {})[f"{name}/{base}"] = round(ratio, 1)
            print(f"  {name}/{base} (p50): ×{ratio:.1f}")
    target = summary["compose"]["p95"] < 100
    figures["target_met"] = target
    print(f"\ntarget compose p95 < 100 ms: {'met' if target else 'NOT met'} ({summary['compose']['p95']} ms)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
