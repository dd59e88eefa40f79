"""`reslib db_worker`: django_tasks_db's worker with a pulse (reslib.core.worker).

Same options as django_tasks_db's command, which this one replaces (reslib.core comes first in INSTALLED_APPS). The
pulse beats in the process that runs the tasks: with --reload that is the reloader's child process.
"""

import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from reslib.core.worker import Pulse


class PulseWorker(db_worker.Worker):
    def run(self) -> None:
        pulse = Pulse(self.worker_id)
        pulse.round()  # before the first task: recover what a killed predecessor left running
        pulse.start()
        try:
            super().run()
        finally:
            pulse.stop()


class Command(db_worker.Command):
    help = "Run a database background worker that sends heartbeats and runs again the tasks of dead workers"

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay, reload, max_tasks,
               worker_id, exclude_queues, **options):
        self.configure_logging(verbosity)
        if reload and batch:
            db_worker.logger.warning("--reload and --batch cannot be specified together. Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = PulseWorker(queue_names=queue_names, interval=interval, batch=batch, backend_name=backend_name,
                             startup_delay=startup_delay, max_tasks=max_tasks, worker_id=worker_id,
                             excluded_queue_names=excluded_queue_names)
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
