"""Ships the GB/T 2260 provinces (and demo cities) and the demo's rows of the majors catalogue."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def load(apps, schema_editor):
    Region = apps.get_model("orgs", "Region")
    Major = apps.get_model("orgs", "Major")
    with open(DATA / "regions.csv", encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["level"] != "province")
    for row in rows:
        Region.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "level": row["level"], "parent_id": row["parent"] or None}
        )
    with open(DATA / "majors.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            Major.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
