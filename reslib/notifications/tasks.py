"""Background jobs of notifications."""

from django_tasks import task


@task()
def send_notification_emails(ids: list[int]) -> int:
    """E-mail the given notifications to users who have an address and have not switched e-mail off."""
    from . import services

    return services.send_emails(ids)
