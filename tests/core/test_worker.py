"""Real `reslib db_worker` processes killed with SIGKILL in the middle of a task: the next worker runs the task again
to completion, removes the scratch directory the dead one left, and gives up with a clear reason on a task that
kills every worker that runs it.

The workers are separate processes, so they need a database the test shares with them: on PostgreSQL the test
database itself (transactional test, so the rows are committed); on SQLite, whose test database lives in this
process's memory, a copy of it in a file (as tests/resources/test_tus.py does for granian). Everything the workers
see is read through Django in a child process too.
"""

import contextlib
import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from reslib.core import workdirs

# Transactional: on PostgreSQL the workers share the test database, so what the test writes must be committed
# (and the rows the migrations load are put back afterwards for the tests that follow).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parents[2]
STALE_SECONDS = 3


def _env(var_dir: Path, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESLIB_")}
    env.update(DJANGO_SETTINGS_MODULE="reslib.settings", PYTHONPATH=str(ROOT), RESLIB_VAR_DIR=str(var_dir),
               RESLIB_DATABASE_URL=database_url, RESLIB_UPLOAD_TEMP_DIR=str(var_dir / "uploads"),
               RESLIB_TASK_STALE_MINUTES=str(STALE_SECONDS / 60), RESLIB_TASK_MAX_ATTEMPTS="3")
    return env


def _django(code: str, env: dict) -> dict:
    """Run `code` in a fresh Django process on the workers' database; it sets `result`, printed as JSON."""
    script = f"import django, json\ndjango.setup()\n{code}\nprint(json.dumps(result, default=str))"
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def worker_env(tmp_path):
    if connection.vendor == "sqlite":
        copy = tmp_path / "workers.sqlite3"
        connection.ensure_connection()
        with contextlib.closing(sqlite3.connect(copy)) as target:
            connection.connection.backup(target)
        return _env(tmp_path, f"sqlite:///{copy}")
    s = connection.settings_dict
    credentials = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return _env(tmp_path, f"postgres://{credentials}@{s['HOST']}:{s['PORT']}/{s['NAME']}")


class Workers:
    """Starts `reslib db_worker` processes and makes sure none outlives the test."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir, self.processes = env, log_dir, []

    def start(self) -> subprocess.Popen:
        log = open(self.log_dir / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115 — closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "reslib.manage", "db_worker", "--no-reload", "--no-startup-delay", "--interval",
             "0.1"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        process.log = log
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            process.log.close()


@pytest.fixture
def workers(worker_env, tmp_path):
    pool = Workers(worker_env, tmp_path)
    yield pool
    pool.stop_all()


def _wait_for(condition, timeout: float, what: str, workers: Workers):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker logs:\n{workers.logs()}")


def _enqueue(task_name: str, directory: Path, env: dict) -> str:
    return _django(f"from tests.core import worker_tasks\n"
                   f"result = worker_tasks.{task_name}.enqueue({str(directory)!r}).id", env)


def _task_state(task_id: str, env: dict, *, until: str = "", timeout: float = 0) -> dict:
    """The task's row (waiting in the child process up to `timeout` seconds for status `until`) and the audit
    actions recorded about it."""
    return _django(f"""
import time
from django_tasks_db.models import DBTaskResult
from reslib.core.models import AuditEntry
deadline = time.monotonic() + {timeout}
while True:
    row = DBTaskResult.objects.get(pk={task_id!r})
    if not {until!r} or row.status == {until!r} or time.monotonic() > deadline:
        break
    time.sleep(0.2)
result = {{"status": row.status, "worker_ids": row.worker_ids, "return_value": row.return_value,
          "exception_class_path": row.exception_class_path, "traceback": row.traceback,
          "audit": list(AuditEntry.objects.filter(target_id={task_id!r}).order_by("id")
                        .values_list("action", flat=True))}}
""", env)


def _starts(directory: Path) -> list[Path]:
    return sorted(directory.glob("started-*"), key=lambda p: p.stat().st_mtime)


def test_a_task_whose_worker_is_killed_runs_again_to_completion(workers, worker_env, tmp_path, settings):
    markers = tmp_path / "markers"
    markers.mkdir()
    task_id = _enqueue("wait_for_release", markers, worker_env)

    first = workers.start()
    _wait_for(lambda: _starts(markers), 90, "the first worker to start the task", workers)
    scratch = Path(_starts(markers)[0].read_text())
    assert (scratch / "partial-output").exists()

    # While its worker lives, the scratch directory survives any cleanup, however old it is.
    settings.RESLIB_UPLOAD_TEMP_DIR = worker_env["RESLIB_UPLOAD_TEMP_DIR"]
    assert workdirs.cleanup_stale(max_age=datetime.timedelta(0)) == 0
    assert scratch.exists()

    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=30) == -signal.SIGKILL
    left = _task_state(task_id, worker_env)
    assert left["status"] == "RUNNING" and len(left["worker_ids"]) == 1  # what kill -9 leaves behind

    (markers / "release").touch()
    workers.start()
    done = _task_state(task_id, worker_env, until="SUCCESSFUL", timeout=90)
    assert done["status"] == "SUCCESSFUL", workers.logs()
    assert done["return_value"] == "finished"
    assert len(done["worker_ids"]) == 2 and done["worker_ids"][0] != done["worker_ids"][1]
    assert done["audit"] == ["task.requeued"]
    assert len(_starts(markers)) == 2
    # The dead worker's scratch directory is removed by the live worker's cleanup once it is past the threshold.
    _wait_for(lambda: not scratch.exists(), 30, "the killed task's scratch directory to be removed", workers)


def test_a_task_that_kills_every_worker_ends_failed_with_the_reason(workers, worker_env, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    task_id = _enqueue("kill_own_worker", markers, worker_env)

    for attempt in range(1, 4):
        worker = workers.start()
        try:
            assert worker.wait(timeout=90) == -signal.SIGKILL
        except subprocess.TimeoutExpired:
            pytest.fail(f"attempt {attempt} was never started; worker logs:\n{workers.logs()}")
        assert len(_starts(markers)) == attempt

    last = workers.start()
    failed = _task_state(task_id, worker_env, until="FAILED", timeout=90)
    assert failed["status"] == "FAILED", workers.logs()
    assert failed["exception_class_path"] == "reslib.core.services.WorkerLost"
    assert "all 3 attempts" in failed["traceback"] and "RESLIB_TASK_MAX_ATTEMPTS=3" in failed["traceback"]
    assert failed["audit"] == ["task.requeued", "task.requeued", "task.failed_worker_lost"]
    time.sleep(STALE_SECONDS)
    assert last.poll() is None  # the last worker was not handed the task a fourth time
    assert len(_starts(markers)) == 3
