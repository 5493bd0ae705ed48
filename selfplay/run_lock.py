"""The lock of a run directory: one trainer at a time.

``RunLock`` holds an exclusive ``fcntl.flock`` on ``<run-dir>/run.lock`` while a
trainer (``selfplay train`` or ``pretrain``) works in the directory; a second
one is refused, naming the process that holds it. The kernel drops the lock
when that process ends, however it ends (kill -9 included), so a lock is never
stale; the file itself (which holds the last holder's PID, for messages) may
stay. ``lock_holder`` lets ``selfplay status`` say who is at work without
taking the lock from them.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from selfplay.run_dir import RunError, RunPaths

LOCK_ATTEMPTS = 5
"""Tries before a busy lock is reported: ``lock_holder`` (``selfplay status``) holds a
shared lock for an instant, which must not turn a trainer away."""
LOCK_RETRY_SECONDS = 0.1


class RunLock:
    """``with RunLock(run_dir):`` the exclusive right to write in ``run_dir`` (module docstring).

    Creates the directory (and ``run.lock``) when missing, and removes them again when
    the block fails before writing anything else: a refused start leaves no trace. RunError
    naming the holder's PID when another process holds the lock.
    """

    def __init__(self, run_dir: Path):
        self.paths = RunPaths(Path(run_dir))
        self._handle = None
        self._created = False

    def __enter__(self) -> "RunLock":
        self._created = not self.paths.root.is_dir()
        handle = None
        while handle is None:
            self.paths.root.mkdir(parents=True, exist_ok=True)
            handle = self._locked_file()
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def _locked_file(self):
        """``run.lock``, open and locked; None when a failed start removed it (or the directory)
        meanwhile, so the caller tries again."""
        try:
            # "a+": create without truncating, so a holder's PID is still there to be read.
            handle = open(self.paths.lock, "a+")
        except FileNotFoundError:
            return None
        if not _try_flock(handle, fcntl.LOCK_EX, LOCK_ATTEMPTS):
            holder = _holder_text(handle)
            handle.close()
            raise RunError(f"{self.paths.root} is in use by {holder} (a 'selfplay train' or 'pretrain'); "
                           "wait for it to finish or stop it, or use another --run-dir")
        try:
            current = os.stat(self.paths.lock).st_ino
        except FileNotFoundError:
            current = None
        if current != os.fstat(handle.fileno()).st_ino:
            handle.close()  # the lock of a file that is no longer run.lock protects nothing
            return None
        return handle

    def __exit__(self, exc_type, *exc_info) -> None:
        if self._handle is None:
            return
        if exc_type is not None and self._created:
            self._remove_empty_run_dir()
        self._handle.close()  # closing the file releases the lock
        self._handle = None

    def _remove_empty_run_dir(self) -> None:
        """Undo the directory of a start that failed before writing anything but the lock file
        (still holding the lock: another start that opened the file meanwhile sees the
        inode change and takes a new one)."""
        if os.listdir(self.paths.root) != [self.paths.lock.name]:
            return
        self.paths.lock.unlink()
        try:
            self.paths.root.rmdir()
        except OSError:
            pass  # another start has just put its own run.lock there


def lock_holder(run_dir: Path) -> str | None:
    """Who holds ``run_dir``'s lock ("process 1234"), or None when no process does. Reads only."""
    path = RunPaths(Path(run_dir)).lock
    try:
        handle = open(path)
    except FileNotFoundError:
        return None
    with handle:
        if _try_flock(handle, fcntl.LOCK_SH, 1):
            return None  # closing the file below releases the probe's shared lock
        return _holder_text(handle)


def _try_flock(handle, mode: int, attempts: int) -> bool:
    """Take ``mode`` on ``handle`` without blocking, trying ``attempts`` times; whether it was taken."""
    for attempt in range(attempts):
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt + 1 < attempts:
                time.sleep(LOCK_RETRY_SECONDS)
    return False


def _holder_text(handle) -> str:
    handle.seek(0)
    pid = handle.read().strip()
    return f"process {pid}" if pid.isdigit() else "another process"
