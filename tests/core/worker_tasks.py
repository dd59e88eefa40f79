"""Tasks run by the real worker processes of test_worker.py. Each start leaves a file `started-<pid>` in the given
directory, so the test sees which process ran which attempt."""

import os
import signal
import time
from pathlib import Path

from django_tasks import task

from reslib.core import workdirs


@task()
def wait_for_release(directory: str) -> str:
    """Works in a scratch directory (named in the start file) until the test creates `release`."""
    folder = Path(directory)
    with workdirs.work_dir("test-") as work:
        (work / "partial-output").write_bytes(b"\0" * 4096)
        (folder / f"started-{os.getpid()}").write_text(str(work))
        deadline = time.monotonic() + 120
        while not (folder / "release").exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the test never released the task")
            time.sleep(0.05)
    return "finished"


@task()
def kill_own_worker(directory: str) -> None:
    """A task that takes its worker down every time (as a native crash or the OOM killer would)."""
    (Path(directory) / f"started-{os.getpid()}").write_text("")
    os.kill(os.getpid(), signal.SIGKILL)
