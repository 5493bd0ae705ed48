"""The files the arena commands write (game logs, SGF folders, rating tables, ladder plots),
checked before any game is played, and an OSError met writing them as one line.

The commands call ``check_writable`` on every output path first, so that no games are played
for results that cannot be saved; the writers themselves (``arena.records``, ``arena.elo``,
``arena.ladder``) then write as usual.
"""

from __future__ import annotations

import os
from pathlib import Path


class UnwritableOutput(ValueError):
    """An output path that cannot be written; the message is one line naming the flag."""


def check_writable(path: Path | None, flag: str, folder: bool = False) -> None:
    """Fail now (UnwritableOutput) unless ``path`` can be written (a file, or files in a ``folder``), so no
    games are played for results that cannot be saved. Tried for real (root passes every permission
    check): missing folders are made, the file (a probe in a folder) opened for appending, and
    whatever this made is removed again."""
    if path is None:
        return
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        raise UnwritableOutput(f"{flag} {path}: {'is not a directory' if folder else 'is a directory'}")
    probe = path / ".arena-write-probe" if folder else path
    made: list[Path] = []
    try:
        missing = [parent for parent in probe.parents if not parent.exists()]
        for folder_made in reversed(missing):
            folder_made.mkdir()
            made.append(folder_made)
        existed = probe.exists()
        with probe.open("a", encoding="utf-8"):
            pass
        if not existed:
            probe.unlink()
    except OSError as error:
        raise UnwritableOutput(f"{flag} {path}: cannot be written ({_os_error_reason(error)})") from None
    finally:
        for folder_made in reversed(made):
            try:
                folder_made.rmdir()
            except OSError:
                pass


def _os_error_reason(error: OSError) -> str:
    """An OSError's reason without its errno number, e.g. 'No such file or directory'."""
    return error.strerror or str(error) or type(error).__name__


def os_error_text(error: OSError) -> str:
    """One line for an OSError: 'PATH: reason' when it names a file."""
    reason = _os_error_reason(error)
    if error.filename is None:
        return reason
    names = [os.fsdecode(error.filename)] + ([os.fsdecode(error.filename2)] if error.filename2 is not None else [])
    return f"{' -> '.join(names)}: {reason}"
