"""Full-text index backends: one interface (base.SearchBackend), one implementation per database vendor."""

from django.db import connections

from .base import SearchBackend


def get_backend(using: str = "default") -> SearchBackend:
    """The backend for the database alias: SQLite FTS5 or PostgreSQL tsvector + pg_trgm."""
    vendor = connections[using].vendor
    if vendor == "postgresql":
        from .postgres import PostgresBackend

        return PostgresBackend(using)
    if vendor == "sqlite":
        from .sqlite import SqliteBackend

        return SqliteBackend(using)
    raise NotImplementedError(f"No search backend for database vendor {vendor!r}")
