"""Question import at scale: a GIFT file of 10 000 questions through questions.services.import_questions, against
two baselines measured in the same run.

    .venv/bin/python bench/question_import_bench.py [--size 10000]
                                                    [--database-url postgres://postgres@127.0.0.1:5432/reslib_bench]

Builds a scratch database (SQLite in a temporary directory by default; with --database-url that PostgreSQL database
is wiped: give it a throw-away one), one library under construction with a builder and a small knowledge tree.
Generates the GIFT file deterministically (six types GIFT can carry, each question tagged with a knowledge point,
every 50th question broken so the report has bad items too). Then, one after the other:
  parse       formats.parse("gift", file) alone — the share of the import that is reading the file;
  resources   the same number of plain draft resources made with resources.services.create_resource — what the
              platform pays per resource (validation, rights, audit, one transaction each): the baseline;
  import      import_questions(...) — parse, check against the library, one transaction per question.
Prints seconds, questions (or resources) per second, and the ratios import/resources and import/parse.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POINTS = ["数控车削", "对刀", "坐标系", "切削用量", "刀具补偿", "螺纹加工", "程序编制", "安全操作"]
SUBJECTS = ["数控车床", "加工中心", "数控铣床", "车削中心", "线切割机床"]


def setup_django(database_url: str | None, var_dir: Path):
    os.environ["RESLIB_VAR_DIR"] = str(var_dir)
    os.environ["RESLIB_TASK_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ["RESLIB_LOG_LEVEL"] = "WARNING"
    if database_url:
        os.environ["RESLIB_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "reslib.settings"
    import django

    django.setup()


def gift_file(n: int) -> bytes:
    """n questions in GIFT, cycling through the types; every 50th has a syntax error (an unclosed answer set)."""
    blocks = []
    for i in range(n):
        subject = SUBJECTS[i % len(SUBJECTS)]
        head = f"// [tag:{POINTS[i % len(POINTS)]}] [tag:difficulty:basic]\n::第{i}题::"
        kind = i % 6
        if i % 50 == 49:
            body = f"{subject}开机后首先应进行哪项操作？{{=回参考点 ~对刀"
        elif kind == 0:
            body = f"{subject}对刀时首先应确定哪个坐标原点（{i}）？{{~机床原点 =工件原点 ~刀具原点 ~编程原点}}"
        elif kind == 1:
            body = f"以下哪些属于{subject}切削三要素（{i}）？{{~%33.33333%切削速度 ~%33.33333%进给量 " \
                   f"~%33.33334%背吃刀量 ~%-100%刀具材料}}"
        elif kind == 2:
            body = f"{subject}的 G00 指令用于快速定位（{i}）。{{T}}"
        elif kind == 3:
            body = f"{subject}的坐标系采用{{=右手笛卡尔 =右手}}直角坐标系（{i}）。"
        elif kind == 4:
            body = f"简述{subject}试切法对刀的步骤（{i}）。{{}}"
        else:
            body = f"将{subject}的指令与功能连线（{i}）。{{=G01 -> 直线插补 =G02 -> 顺时针圆弧插补 =M03 -> 主轴正转}}"
        blocks.append(head + body + "\n")
    return "\n".join(blocks).encode()


def build():
    from django.core.management import call_command
    from django.db import connection

    from reslib.libraries.models import Library
    from reslib.libraries.services import add_team_member
    from reslib.resources.models import KnowledgePoint
    from tests import factories

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    college = factories.organization("江苏信息职业技术学院")
    other = factories.organization("南京工业职业技术大学")
    lead = factories.user("lead", org=college, real_name="王建国")
    library = factories.library(lead, hosts=[college, other], status=Library.Status.BUILDING)
    builder = factories.user("builder", org=college, real_name="张建设")
    add_team_member(library, by=lead, user=builder, role="builder")
    for position, name in enumerate(POINTS):
        KnowledgePoint.objects.create(library=library, name=name, position=position)
    return library, builder, college


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reslib-question-bench-") as tmp:
        setup_django(args.database_url or None, Path(tmp))
        from django.db import connection

        from reslib.questions import formats
        from reslib.questions.models import QuestionContent
        from reslib.questions.services import Attribution, import_questions
        from reslib.resources.services import Author, create_resource
        from tests import factories

        library, builder, college = build()
        data = gift_file(args.size)
        print(f"{args.size} questions, GIFT file of {len(data) / 1024 / 1024:.1f} MiB, database: {connection.vendor}")

        t0 = time.perf_counter()
        parsed = formats.parse("gift", data)
        parse_s = time.perf_counter() - t0
        assert len(parsed) == args.size, len(parsed)

        t0 = time.perf_counter()
        for i in range(args.size):
            create_resource(library, factories.resource_metadata(library, title=f"数控车床对刀操作讲义 {i}",
                                                                  resource_type="text"), by=builder)
        resources_s = time.perf_counter() - t0

        attribution = Attribution(licence="cc_by", contributing_org=college.pk, copyright_holder_org=college.pk,
                                  authors=[Author(name="张建设", institution=college.name)])
        t0 = time.perf_counter()
        report = import_questions(library, by=builder, fmt="gift", data=data, attribution=attribution)
        import_s = time.perf_counter() - t0
        assert report.created == QuestionContent.objects.count()
        assert report.created + report.failed == args.size

        print(f"\n{'step':12} {'seconds':>9} {'items/s':>9}")
        print(f"{'parse':12} {parse_s:9.2f} {args.size / parse_s:9.0f}")
        print(f"{'resources':12} {resources_s:9.2f} {args.size / resources_s:9.0f}")
        print(f"{'import':12} {import_s:9.2f} {args.size / import_s:9.0f}   "
              f"({report.created} created, {report.failed} reported as bad)")
        print(f"\nimport time / resources baseline: {import_s / resources_s:.2f}×   "
              f"import time / parse alone: {import_s / parse_s:.1f}×")


if __name__ == "__main__":
    main()
