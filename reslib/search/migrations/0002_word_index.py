"""The vendor-specific word index: FTS5 (+ trigram) tables on SQLite; tsvector + GIN and pg_trgm on PostgreSQL."""

from django.db import migrations

SQLITE_FORWARD = [
    # Segmented tokens, one column per text field (order = backends.base.TEXT_FIELDS) plus pinyin initials.
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title, keywords, knowledge_points, majors, resource_type, library, institutions, authors, description,
        pinyin, tokenize = 'unicode61 remove_diacritics 2')""",
    # Substrings of ≥ 3 characters of the short text (external content: search_payload.short_text).
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_trigram USING fts5(
        short_text, content = 'search_payload', content_rowid = 'entry_id', tokenize = 'trigram')""",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS search_trigram", "DROP TABLE IF EXISTS search_fts"]

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS tsv tsvector NOT NULL DEFAULT ''::tsvector",
    "CREATE INDEX IF NOT EXISTS search_entry_tsv ON search_entry USING gin (tsv)",
    "CREATE INDEX IF NOT EXISTS search_payload_short_trgm ON search_payload USING gin (short_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_term_trgm ON search_term USING gin (term gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_term_term_prefix ON search_term (term text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS search_term_pinyin_prefix ON search_term (pinyin text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS search_term_initials_prefix ON search_term (initials text_pattern_ops)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_term_initials_prefix",
    "DROP INDEX IF EXISTS search_term_pinyin_prefix",
    "DROP INDEX IF EXISTS search_term_term_prefix",
    "DROP INDEX IF EXISTS search_term_trgm",
    "DROP INDEX IF EXISTS search_payload_short_trgm",
    "ALTER TABLE search_entry DROP COLUMN IF EXISTS tsv",
]


def _run(schema_editor, statements):
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_FORWARD)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_BACKWARD)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
