"""`reslib load_demo`: load the Chinese demo data set (debug mode only, empty database only)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reslib.accounts.models import User
from reslib.demo import questions as demo_questions
from reslib.demo import resources as demo_resources
from reslib.libraries import demo


class Command(BaseCommand):
    help = "Load the demo data (江苏省: institutions, one user per role, three libraries, resources, questions and a paper). Debug only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true",
            help="Do nothing (and succeed) when the database already has users, instead of failing.",
        )

    def handle(self, *args, if_empty=False, **options):
        say = self.stdout.write if options["verbosity"] >= 1 else (lambda msg: None)
        try:
            # Before --if-empty: in production mode even a run that would do nothing fails loudly.
            demo.refuse_unless_debug()
            if if_empty and User.objects.exists():
                say("The database already has users; demo data not loaded.")
                return
            with transaction.atomic():  # all of it or nothing
                loaded = demo.load(stdout=self.stdout if options["verbosity"] >= 1 else None)
                demo_resources.load(loaded["libraries"][0], loaded["users"], say)
                demo_questions.load(loaded["libraries"][0], loaded["users"], say)
        except demo.DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(
                f"Demo accounts: {', '.join(demo.DEMO_USERNAMES)} — password: {demo.PASSWORD}"
            ))
