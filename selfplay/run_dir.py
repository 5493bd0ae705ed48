"""The run directory: its paths, its lock, its metrics file, and finding the checkpoint a run resumes from.

Shared by self-play runs (``selfplay.loop``) and pretrain runs (``selfplay.pretrain``).
Three rules keep a run directory from being corrupted:

- **One process at a time.** ``RunLock`` holds an exclusive ``fcntl.flock`` on
  ``run.lock`` while a trainer works in the directory; a second trainer is
  refused, naming the process that holds it. The kernel drops the lock when
  that process ends, however it ends (kill -9 included), so a lock is never
  stale; the file itself (which holds the last holder's PID, for messages)
  may stay.
- **Never start over on top of history.** ``resume_checkpoint`` falls back
  from a missing, empty or damaged ``latest.pt`` to the newest weights-only
  checkpoint that loads, and refuses (saying how to recover) when none does.
- **One line per row.** ``append_metrics`` starts a new line after a partial
  one left by a storage fault, and ``read_metrics`` skips damaged lines with a warning.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import torch

from engine.spec import GameSpec
from nets import load_checkpoint
from nets.checkpoint import Checkpoint, CheckpointError, CheckpointNotFoundError, CorruptCheckpointError, \
    NotACheckpointError


class RunError(Exception):
    """A run directory that cannot be used as asked (the message says why)."""


@dataclass
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def lock(self) -> Path:
        return self.root / "run.lock"

    @property
    def games(self) -> Path:
        return self.root / "games"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def latest(self) -> Path:
        return self.checkpoints / "latest.pt"

    @property
    def best(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def metrics(self) -> Path:
        return self.logs / "metrics.jsonl"

    def generation_checkpoint(self, generation: int) -> Path:
        return self.checkpoints / f"gen{generation:05d}.pt"


# ---- the lock -------------------------------------------------------------------------

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


# ---- metrics.jsonl ---------------------------------------------------------------------


def warn_on_stderr(message: str) -> None:
    print(f"selfplay: warning: {message}", file=sys.stderr)


def read_metrics(paths: RunPaths, key: str = "generation",
                 warn: Callable[[str], None] = warn_on_stderr) -> list[dict]:
    """One dict per completed generation (pretrain runs: ``key="epoch"``), the last line
    winning for one redone after a kill or a resume from an older checkpoint. A damaged
    line (cut by a kill or a storage fault) is skipped, with a ``warn`` when it is not the
    last line (a kill mid-write can only cut the last one)."""
    if not paths.metrics.exists():
        return []
    rows = {}
    lines = paths.metrics.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
            rows[row[key]] = row
        except (json.JSONDecodeError, KeyError, TypeError):
            if number < len(lines):
                warn(f"{paths.metrics} line {number} is damaged (not a row of metrics); skipped")
    return [rows[g] for g in sorted(rows)]


def append_metrics(paths: RunPaths, row: dict) -> None:
    """Append ``row`` as one line of ``metrics.jsonl``, on a line of its own even when the file
    ends in a partial line (a storage fault), which would otherwise swallow this row."""
    with paths.metrics.open("a+b") as handle:
        handle.seek(0, os.SEEK_END)
        partial = handle.tell() > 0 and _last_byte(handle) != b"\n"
        handle.write((b"\n" if partial else b"") + json.dumps(row).encode() + b"\n")


def _last_byte(handle) -> bytes:
    handle.seek(-1, os.SEEK_END)
    return handle.read(1)


# ---- checkpoints ------------------------------------------------------------------------

GENERATION_CHECKPOINT = re.compile(r"gen(\d+)\.pt")
DAMAGED = (CheckpointNotFoundError, CorruptCheckpointError, NotACheckpointError)
"""Load failures a resume recovers from: a file missing, empty, cut short or overwritten.
Others (another game, format version or network shape) mean the file is intact but
not this run's, which a fallback would only hide."""


def generation_checkpoints(paths: RunPaths) -> list[Path]:
    """The run's ``genGGGGG.pt`` files, newest generation first."""
    found = [(int(match.group(1)), path) for path in paths.checkpoints.glob("gen*.pt")
             if (match := GENERATION_CHECKPOINT.fullmatch(path.name))]
    return [path for _, path in sorted(found, reverse=True)]


def load_run_checkpoint(path: Path, spec: GameSpec, net: str, device: torch.device) -> Checkpoint:
    """A checkpoint of a run of ``spec`` with a ``net`` network. A missing or damaged file raises
    its ``DAMAGED`` CheckpointError; one that is intact but not this run's (another game, format
    version or network shape) raises RunError."""
    try:
        checkpoint = load_checkpoint(path, game=spec.name, map_location=device)
    except DAMAGED:
        raise
    except CheckpointError as error:
        raise RunError(f"cannot resume: {error}") from None
    if checkpoint.config.name != net:
        raise RunError(f"cannot resume: {path} holds a {checkpoint.config.name} network, the run config says {net}")
    return checkpoint


def resume_checkpoint(paths: RunPaths, fallbacks: Iterable[Path], spec: GameSpec, net: str,
                      device: torch.device, log: Callable[[str], None]) -> Checkpoint | None:
    """The checkpoint a run resumes from: ``latest.pt`` (optimizer, RNG and counters); when it is
    missing, empty or damaged, the first of ``fallbacks`` (weights-only checkpoints, newest first)
    that loads, said in ``log``; None for a new run, one without any of these files.

    RunError, saying how to recover, when checkpoints exist but none loads: a run never
    starts over on top of its history.
    """
    candidates = [paths.latest] + [path for path in fallbacks if path.exists()]
    if candidates == [paths.latest] and not paths.latest.exists():
        return None
    problems = []
    for path in candidates:
        try:
            checkpoint = load_run_checkpoint(path, spec, net, device)
        except DAMAGED as error:
            problems.append(str(error))
            continue
        if problems:
            log(f"warning: {'; '.join(problems)}: resuming from {path.name}, the newest checkpoint that loads")
        return checkpoint
    raise RunError(f"cannot resume {paths.root}: {'; '.join(problems)}; restore {paths.latest.name} from a backup, "
                   f"or move {paths.checkpoints} aside to start the run over, or use a new --run-dir")


# ---- a full disk --------------------------------------------------------------------------

DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def disk_full_text(error: OSError, run_dir: Path | None) -> str | None:
    """The one-line explanation of a write that failed for want of space, or None for other errors."""
    if error.errno not in DISK_FULL:
        return None
    where = error.filename or run_dir or "the output"
    why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
           errno.EFBIG: "the file size limit is reached"}[error.errno]
    return (f"cannot write {where}: {why} ({os.strerror(error.errno)}); free some space and run the "
            "same command again to resume")
