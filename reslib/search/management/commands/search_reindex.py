"""reslib search_reindex: rebuild the whole search index while search stays online."""

import sys
import time

from django.core.management.base import BaseCommand

from reslib.search import segment
from reslib.search.backends import get_backend
from reslib.search.sources import sources


class Progress:
    def __init__(self, out, label: str, width: int = 30):
        self.out, self.label, self.width = out, label, width
        self.started = time.monotonic()
        self.last = -1.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.5:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(share * self.width)
        rate = done / max(now - self.started, 1e-6)
        self.out.write(f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {share:6.1%} "
                       f"{done}/{total} ({rate:.0f}/s)")
        self.out.flush()


class Command(BaseCommand):
    help = "Rebuild the search index from its sources (published resources) without taking search offline."

    def handle(self, *args, **options):
        segment.reload()  # pick up the operator's latest dictionary words
        started = time.monotonic()
        for source in sources():
            label = source.__name__.rsplit(".", 2)[-2]
            result = source.reindex_all(progress=Progress(self.stdout, label))
            self.stdout.write(f"{label}: {result}")
        backend = get_backend()
        backend.optimize()
        self.stdout.write(self.style.SUCCESS(
            f"Search index rebuilt: {backend.count()} documents in {time.monotonic() - started:.1f}s"))
        sys.stdout.flush()
