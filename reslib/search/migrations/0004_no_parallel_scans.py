"""PostgreSQL: no parallel scans of the search tables.

A search reads about a thousand rows through an index; starting parallel workers for that costs more than the read
(browsing one institution's resources at a million: 12 ms with workers, 4 ms without)."""

from django.db import migrations

TABLES = ("search_entry", "search_payload", "search_attribute")


def _set(schema_editor, clause: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE {table} {clause}")


def forward(apps, schema_editor):
    _set(schema_editor, "SET (parallel_workers = 0)")


def backward(apps, schema_editor):
    _set(schema_editor, "RESET (parallel_workers)")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_rank_columns")]

    operations = [migrations.RunPython(forward, backward)]
