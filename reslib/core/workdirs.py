"""Scratch directories of background work, which a killed process cannot leave behind for good.

Every scratch directory lives under ``RESLIB_UPLOAD_TEMP_DIR/work`` and holds a ``.lock`` file that its process keeps
locked (flock) for as long as it uses the directory. The kernel drops the lock when the process ends, however it ends
(kill -9 included), so `cleanup_stale()` can tell a directory of a dead process from one still in use without
guessing from its age; the age threshold only covers the instant between creating a directory and locking it.

* `work_dir(prefix)`: a fresh directory for one piece of work, removed when the block ends;
* `process_dir(name)`: a directory kept for the life of the process (e.g. the LibreOffice profile of a worker).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_NAME = ".lock"

_process_locks: dict[Path, int] = {}


def base_dir() -> Path:
    path = Path(settings.RESLIB_UPLOAD_TEMP_DIR) / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _lock(directory: Path) -> int:
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


@contextlib.contextmanager
def work_dir(prefix: str) -> Iterator[Path]:
    """A new empty directory (besides its lock file) for the duration of the block."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base_dir()))
    fd = _lock(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def process_dir(name: str) -> Path:
    """The directory `name` under the work directory, locked by this process until it exits (made on first use)."""
    path = base_dir() / name
    if path in _process_locks and path.is_dir():
        return path
    path.mkdir(exist_ok=True)
    fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RuntimeError(f"{path} is in use by another process") from None
    stale = _process_locks.pop(path, None)
    if stale is not None:
        os.close(stale)
    _process_locks[path] = fd
    return path


def cleanup_stale(max_age: datetime.timedelta | None = None) -> int:
    """Remove the scratch directories no live process holds that are older than `max_age` (default: the task stale
    threshold, RESLIB_TASK_STALE_MINUTES). Returns how many were removed."""
    if max_age is None:
        max_age = datetime.timedelta(minutes=settings.RESLIB_TASK_STALE_MINUTES)
    base = Path(settings.RESLIB_UPLOAD_TEMP_DIR) / "work"
    if not base.is_dir():
        return 0
    cutoff = time.time() - max_age.total_seconds()
    removed = 0
    for entry in os.scandir(base):
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            fd = os.open(os.path.join(entry.path, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            continue  # removed meanwhile by its owner or another cleaner
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live process works in it
        else:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
            logger.info("removed the abandoned work directory %s", entry.path)
        finally:
            os.close(fd)
    return removed
