from django.core.management.base import BaseCommand, CommandError

from reslib.orgs.services import import_majors


class Command(BaseCommand):
    help = "Import majors from a UTF-8 CSV file (see reslib/orgs/data/README.md for the columns)."

    def add_arguments(self, parser):
        parser.add_argument("csv_file")

    def handle(self, *args, csv_file, **options):
        try:
            with open(csv_file, encoding="utf-8-sig", newline="") as stream:
                created, updated = import_majors(stream)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{created} new, {updated} updated"))
