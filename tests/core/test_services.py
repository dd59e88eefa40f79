"""recover_stale_tasks on real task rows: only the tasks of workers that stopped beating are touched."""

import datetime

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reslib.core import services
from reslib.core.models import AuditEntry, WorkerHeartbeat

from .worker_tasks import wait_for_release

pytestmark = pytest.mark.django_db


def _running(worker_ids: list[str], *, started_minutes_ago: float) -> DBTaskResult:
    """A task row as `db_worker` leaves it while running it (claimed by the last of `worker_ids`)."""
    task = DBTaskResult.objects.get(pk=wait_for_release.enqueue("/nonexistent").id)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", worker_ids=worker_ids,
        started_at=timezone.now() - datetime.timedelta(minutes=started_minutes_ago))
    return task


def _beat(worker_id: str, minutes_ago: float) -> None:
    seen = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    WorkerHeartbeat.objects.create(worker_id=worker_id, hostname="worker-1", pid=4242, started_at=seen,
                                   last_seen=seen)


def test_a_long_task_of_a_live_worker_is_left_alone(settings):
    settings.RESLIB_TASK_STALE_MINUTES = 5
    _beat("alive", minutes_ago=0.2)
    task = _running(["alive"], started_minutes_ago=120)
    assert services.recover_stale_tasks() == {"requeued": 0, "failed": 0}
    task.refresh_from_db()
    assert task.status == "RUNNING"
    assert not AuditEntry.objects.filter(target_id=str(task.pk)).exists()


def test_the_task_of_a_silent_worker_is_queued_again(settings):
    settings.RESLIB_TASK_STALE_MINUTES = 5
    _beat("gone", minutes_ago=6)
    task = _running(["gone"], started_minutes_ago=30)
    fresh = _running(["never-beat"], started_minutes_ago=1)  # too recent to tell
    assert services.recover_stale_tasks() == {"requeued": 1, "failed": 0}
    task.refresh_from_db()
    assert (task.status, task.started_at, task.worker_ids) == ("READY", None, ["gone"])
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()  # a worker will claim it
    entry = AuditEntry.objects.get(target_id=str(task.pk))
    assert entry.action == "task.requeued" and entry.actor is None
    assert "worker gone (worker-1, pid 4242" in entry.reason and "attempt 1 of 3" in entry.reason
    fresh.refresh_from_db()
    assert fresh.status == "RUNNING"


def test_the_last_allowed_attempt_fails_with_the_reason(settings):
    settings.RESLIB_TASK_STALE_MINUTES = 5
    settings.RESLIB_TASK_MAX_ATTEMPTS = 2
    task = _running(["w1", "w2"], started_minutes_ago=10)
    assert services.recover_stale_tasks() == {"requeued": 0, "failed": 1}
    task.refresh_from_db()
    assert task.status == "FAILED" and task.finished_at is not None
    result = task.task_result
    assert result.errors[0].exception_class_path == "reslib.core.services.WorkerLost"
    assert "all 2 attempts" in result.errors[0].traceback
    assert AuditEntry.objects.get(target_id=str(task.pk)).action == "task.failed_worker_lost"
    assert services.recover_stale_tasks() == {"requeued": 0, "failed": 0}  # nothing left to do
