"""Background jobs of the resources app (django_tasks): each is idempotent and safe to run twice or retry."""

from django_tasks import task


@task(takes_context=True)
def make_derived_files(context, blob_id: int) -> dict:
    """Make the posters, thumbnails, web rendition and PDF preview of a blob (see derived.py). A second attempt
    means the first one's worker died mid-way: its "running" rows are taken over instead of waited for."""
    from . import derived

    return derived.make_all(blob_id, take_over=context.attempt > 1)


@task()
def cleanup_expired_uploads() -> dict:
    """Remove abandoned resumable uploads (rows past expires_at and their temporary files) and stray temp files."""
    from . import uploads

    return uploads.cleanup_expired()


@task()
def reindex_resource(resource_id: int) -> str:
    """Bring the search index in line with one resource (publish, new version, unpublish, block). Idempotent."""
    from . import indexing

    return indexing.reindex_resource(resource_id)
