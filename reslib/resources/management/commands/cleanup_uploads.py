"""`reslib cleanup_uploads`: remove abandoned resumable uploads now (run it periodically, e.g. hourly)."""

from django.core.management.base import BaseCommand

from reslib.core import workdirs
from reslib.resources import uploads


class Command(BaseCommand):
    help = ("Delete unfinished uploads past their expiry time, their temporary files, stray temporary files and the "
            "work directories of killed background tasks.")

    def handle(self, *args, **options):
        counts = uploads.cleanup_expired()
        work_dirs = workdirs.cleanup_stale()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Removed {counts['uploads']} expired upload(s), {counts['files']} temporary file(s), "
                              f"{counts['blobs']} unused stored file(s) and {work_dirs} abandoned work director(ies).")
