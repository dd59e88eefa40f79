from django.core.management.base import BaseCommand

from reslib.review import services


class Command(BaseCommand):
    help = "Mark review requests past their due date and notify their reviewers and the library lead (run hourly)."

    def handle(self, *args, **options):
        count = services.notify_overdue()
        self.stdout.write(f"{count} overdue review request(s) notified.")
