"""The rich console of the command lines (``arena``, ``selfplay``).

On a terminal, text wraps to its width as usual. Written to a pipe or a file,
rich would assume 80 columns: it would break long lines mid-phrase and cut
table cells to "2.5…". There a line is never wrapped and a table takes the
width its cells need, so logs and ``grep`` see whole lines and whole numbers.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

UNBOUNDED_WIDTH = 10_000
"""Columns assumed off a terminal: wider than any line or table we print."""


def command_console(file: TextIO | None = None) -> Console:
    """A console on ``file`` (default: standard output) that wraps only on a terminal."""
    stream = file if file is not None else sys.stdout
    if stream.isatty():
        return Console(file=file)
    return Console(file=file, soft_wrap=True, width=UNBOUNDED_WIDTH)


def progress_display(console: Console, label: str = "{task.description}") -> Progress:
    """Spinner, ``label`` (may name task fields), bar, count, the task's ``detail`` field and the
    time taken. Drawn on a terminal only: in a pipe or a log the lines printed beside it are the
    record, and a bar frozen at its last state would only add noise."""
    return Progress(SpinnerColumn(), TextColumn(label), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console,
                    disable=not console.is_terminal)
