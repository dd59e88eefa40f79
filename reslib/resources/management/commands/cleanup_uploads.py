"""`reslib cleanup_uploads`: remove abandoned resumable uploads now (run it periodically, e.g. hourly)."""

from django.core.management.base import BaseCommand

from reslib.resources import uploads


class Command(BaseCommand):
    help = "Delete unfinished uploads past their expiry time, their temporary files, and stray temporary files."

    def handle(self, *args, **options):
        counts = uploads.cleanup_expired()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Removed {counts['uploads']} expired upload(s) and {counts['files']} temporary file(s).")
