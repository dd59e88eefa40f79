"""PostgreSQL read paths of a search at a million documents.

* No parallel scans of the search tables: a search reads about a thousand rows through an index; starting parallel
  workers for that costs more than the read (browsing one institution's resources: 12 ms with workers, 4 ms without).
* The substring fallback scans the newest entries' short text: a covering index (entry_id, short_text) lets it read
  150-byte index tuples instead of 1.3 kB payload rows (a 20 000-entry window: 5 ms instead of 14 ms).
"""

from django.db import migrations

TABLES = ("search_entry", "search_payload", "search_attribute")
FORWARD = [
    *(f"ALTER TABLE {table} SET (parallel_workers = 0)" for table in TABLES),
    "CREATE INDEX IF NOT EXISTS search_payload_short ON search_payload (entry_id) INCLUDE (short_text)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_payload_short",
    *(f"ALTER TABLE {table} RESET (parallel_workers)" for table in TABLES),
]


def _run(schema_editor, statements) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_rank_columns")]

    operations = [migrations.RunPython(forward, backward)]
