"""Who feeds the index. The search app knows nothing of them but their dotted paths: each names a module with
``reindex_all(progress=callable(done, total)) -> dict`` (e.g. reslib.resources.indexing)."""

from django.conf import settings
from django.utils.module_loading import import_module

DEFAULT_SOURCES = ("reslib.resources.indexing",)


def sources() -> list:
    return [import_module(path) for path in getattr(settings, "RESLIB_SEARCH_SOURCES", DEFAULT_SOURCES)]
