"""`reslib health`: is this installation able to serve? For deploy scripts and monitoring (exit 1 on failure)."""

import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def check_database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return f"{connection.vendor} reachable"


def check_migrations() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        raise RuntimeError(f"{len(plan)} unapplied migration(s): {names} — run `reslib migrate`")
    return "all applied"


def check_cache() -> str:
    key = f"reslib:health:{uuid.uuid4().hex}"
    cache.set(key, "ok", 30)
    try:
        if cache.get(key) != "ok":
            raise RuntimeError("a value written to the cache could not be read back")
    finally:
        cache.delete(key)
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def check_media() -> str:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".health-"):
        pass
    return f"{root} writable"


def check_static() -> str:
    if settings.DEBUG:
        return "served from the apps (debug mode)"
    root = Path(settings.STATIC_ROOT)
    manifest_name = getattr(staticfiles_storage, "manifest_name", None)
    collected = (root / manifest_name).exists() if manifest_name else root.is_dir() and any(root.iterdir())
    if not collected:
        raise RuntimeError(f"no collected static files in {root} — run `reslib collectstatic --noinput`")
    return "collected"


CHECKS = [
    ("database", check_database),
    ("migrations", check_migrations),
    ("cache", check_cache),
    ("media", check_media),
    ("static", check_static),
]


class Command(BaseCommand):
    help = "Check that the database, migrations, cache, media directory and static files are ready (exit 1 if not)."
    requires_system_checks = []

    def handle(self, *args, **options):
        failures = 0
        for name, check in CHECKS:
            try:
                detail = check()
            except Exception as exc:  # noqa: BLE001 — report every failing part, not just the first
                failures += 1
                self.stdout.write(self.style.ERROR(f"FAIL {name}: {exc}"))
            else:
                if options["verbosity"] >= 1:
                    self.stdout.write(f"ok   {name}: {detail}")
        if failures:
            raise CommandError(f"{failures} health check(s) failed.")
