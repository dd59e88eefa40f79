"""Background jobs of the review workflow (django_tasks); each is idempotent and safe to retry."""

from django_tasks import task


@task()
def run_machine_prereview(request_id: int) -> str:
    """Run the machine pre-review of a request waiting for it; a request already past that state is skipped."""
    from . import services

    return services.run_machine_prereview(request_id)


@task()
def notify_overdue() -> int:
    """Mark overdue review requests and notify their reviewers and the library lead (run it periodically, e.g.
    hourly from cron: `reslib review_overdue`)."""
    from . import services

    return services.notify_overdue()
