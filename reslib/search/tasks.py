"""Background jobs of the search app."""

from django_tasks import task


@task()
def rebuild_index() -> dict:
    """Rebuild everything from the sources (what `reslib search_reindex` does), e.g. after dictionary changes."""
    from . import segment
    from .sources import sources

    segment.reload()
    return {source.__name__: source.reindex_all() for source in sources()}
