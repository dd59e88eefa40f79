"""The pulse of a background worker: a thread beside `reslib db_worker`'s task loop that

* writes the worker's heartbeat (WorkerHeartbeat.last_seen) every few seconds — a thread, so that a long task does
  not look like a dead worker;
* puts back the tasks of workers whose heartbeat has stopped (services.recover_stale_tasks);
* removes scratch directories that dead processes left behind (workdirs.cleanup_stale).

The first round runs before the worker takes its first task, so a restarted worker recovers at once what its
predecessor was running when it was killed (once the stale threshold has passed).
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading

from django.db import close_old_connections, connection
from django.utils import timezone

from . import services, workdirs
from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

MAX_INTERVAL = 30.0
MIN_INTERVAL = 0.5
# Heartbeat rows of workers gone this long are deleted; their tasks are recovered long before.
FORGET_AFTER = datetime.timedelta(days=1)


def interval() -> float:
    """Seconds between two heartbeats: several per stale period, so one slow beat never looks like a dead worker."""
    return max(MIN_INTERVAL, min(MAX_INTERVAL, services.stale_after().total_seconds() / 4))


class Pulse(threading.Thread):
    def __init__(self, worker_id: str):
        super().__init__(name=f"reslib-pulse-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self._stop_event = threading.Event()

    def beat(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"last_seen": now},
            create_defaults={"last_seen": now, "started_at": self.started_at, "hostname": socket.gethostname(),
                             "pid": os.getpid()},
        )

    def round(self) -> None:
        self.beat()
        services.recover_stale_tasks()
        workdirs.cleanup_stale()
        WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - max(FORGET_AFTER, 2 * services.stale_after())
                                       ).delete()

    def run(self) -> None:
        while not self._stop_event.wait(interval()):
            close_old_connections()
            try:
                self.round()
            except Exception:  # noqa: BLE001 — a database hiccup must not stop the heartbeat for good
                logger.exception("worker %s: heartbeat round failed; trying again", self.worker_id)
                connection.close()
        connection.close()

    def stop(self) -> None:
        """On a clean exit: no more beats, and the heartbeat row goes (nothing of ours is running any more)."""
        self._stop_event.set()
        self.join(timeout=MAX_INTERVAL)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
