"""Operations of the shared kernel: putting back background tasks whose worker died while running them."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from . import audit
from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """Names, on a failed task, why it failed: every worker that started it stopped before it finished."""


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.RESLIB_TASK_STALE_MINUTES)


def recover_stale_tasks(*, now: datetime.datetime | None = None) -> dict:
    """Find RUNNING tasks whose worker has sent no heartbeat for RESLIB_TASK_STALE_MINUTES and run them again (our
    tasks are idempotent), or mark them FAILED once RESLIB_TASK_MAX_ATTEMPTS workers have died running them, so that
    a task that kills its worker every time stops. Returns {"requeued": n, "failed": n}."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    alive = set(WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True))
    # A task's last worker id is the one running it; a worker without a heartbeat row never beat (or was pruned).
    stale = [(task.pk, task.worker_ids) for task in
             DBTaskResult.objects.running().filter(started_at__lt=cutoff).only("id", "worker_ids")
             if not task.worker_ids or task.worker_ids[-1] not in alive]
    counts = {"requeued": 0, "failed": 0}
    for pk, worker_ids in stale:
        outcome = _recover(pk, worker_ids, now)
        if outcome:
            counts[outcome] += 1
    return counts


def _recover(pk, worker_ids: list, now: datetime.datetime) -> str | None:
    with transaction.atomic():
        task = DBTaskResult.objects.select_for_update().filter(pk=pk).first()
        if task is None or task.status != TaskResultStatus.RUNNING or task.worker_ids != worker_ids:
            return None  # finished, or recovered by another worker, meanwhile
        lost = worker_ids[-1] if worker_ids else ""
        heartbeat = WorkerHeartbeat.objects.filter(worker_id=lost).first()
        if heartbeat is None:
            where = f"worker {lost or '?'} (no heartbeat)"
        else:
            where = f"worker {lost} ({heartbeat.hostname}, pid {heartbeat.pid}, last heartbeat " \
                    f"{heartbeat.last_seen.isoformat(timespec='seconds')})"
        attempts, limit = len(worker_ids), settings.RESLIB_TASK_MAX_ATTEMPTS
        before = {"status": task.status, "worker": lost, "attempts": attempts}
        if attempts >= limit:
            reason = (f"{task.task_path}: the {where} stopped while running it; all {attempts} attempts ended the "
                      f"same way (limit RESLIB_TASK_MAX_ATTEMPTS={limit}), so it is not run again.")
            task.status, task.finished_at, task.return_value = TaskResultStatus.FAILED, now, None
            task.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
            task.traceback = f"{task.exception_class_path}: {reason}\n"
            task.save(update_fields=["status", "finished_at", "return_value", "exception_class_path", "traceback"])
            audit.record(actor=None, action="task.failed_worker_lost", target=task, reason=reason, before=before,
                         after={"status": task.status})
            logger.error("task %s failed: %s", task.pk, reason)
            return "failed"
        reason = (f"{task.task_path}: the {where} stopped while running it (attempt {attempts} of {limit}); "
                  "queued again.")
        task.status, task.started_at = TaskResultStatus.READY, None
        task.save(update_fields=["status", "started_at"])
        audit.record(actor=None, action="task.requeued", target=task, reason=reason, before=before,
                     after={"status": task.status})
        logger.warning("task %s requeued: %s", task.pk, reason)
        return "requeued"
