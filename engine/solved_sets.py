"""Pascal Pons' solved Connect Four positions, shipped inside the package.

Five sets of 1,000 positions live in ``engine/data/connect4/`` (their layout
and provenance: the README.md there). They are found through the package
(``importlib.resources``), so an installed copy finds them from any working
directory; no folder beside the repository and no environment variable is
read. Any JSON file in the same layout can stand in for a shipped set: pass
its path where a set name is asked for.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

SET_NAMES = (
    "L3_R1_end_easy",
    "L2_R1_middle_easy",
    "L2_R2_middle_medium",
    "L1_R1_begin_easy",
    "L1_R2_begin_medium",
)
"""The shipped sets, from the positions with most stones (quickest to solve) to the fewest."""
DEFAULT_SET = "L1_R2_begin_medium"
"""The set agents are scored on: 4-14 stones, 14-27 moves from the end (the hardest shipped)."""

COLUMNS = 7


class SolvedSetError(ValueError):
    """A solved set that cannot be used: an unknown name, a missing file, or a file not in the layout."""


def solved_set_source(source: str | os.PathLike) -> str:
    """A shipped set's name as it is, any other source as an absolute path (what a run config
    saves, so a resume from another directory reads the same file); SolvedSetError when the
    source is neither a shipped set nor an existing file."""
    if str(source) in SET_NAMES:
        return str(source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise SolvedSetError(f"solved set '{source}' is neither one of the shipped sets "
                             f"({', '.join(SET_NAMES)}) nor an existing JSON file")
    return str(path.resolve())


def read_solved_set(source: str | os.PathLike = DEFAULT_SET) -> list[dict]:
    """The entries of a solved set, each ``{"sequence": str, "score": int, "analysis": [7 x int|None]}``.

    ``source`` is one of ``SET_NAMES`` (read from the package) or the path of a
    JSON file in the same layout. SolvedSetError says what is wrong with a file
    that cannot be read or is not in that layout.
    """
    name = str(source)
    try:
        if name in SET_NAMES:
            text = resources.files("engine").joinpath("data", "connect4", f"{name}.json").read_text()
        else:
            text = Path(solved_set_source(source)).read_text()
        entries = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SolvedSetError(f"solved set '{name}' cannot be read: {error}") from None
    problem = _layout_problem(entries)
    if problem:
        raise SolvedSetError(f"solved set '{name}' is not in the solved-set layout: {problem}")
    return entries


def _layout_problem(entries) -> str | None:
    """What keeps ``entries`` from being a list of solved positions, or None."""
    if not isinstance(entries, list) or not entries:
        return "expected a non-empty list of positions"
    for index, entry in enumerate(entries):
        where = f"entry {index}"
        if not isinstance(entry, dict):
            return f"{where} is not an object"
        sequence, score, analysis = entry.get("sequence"), entry.get("score"), entry.get("analysis")
        if not isinstance(sequence, str) or any(ch not in "1234567" for ch in sequence):
            return f"{where}: 'sequence' must be a string of columns 1-7"
        if not isinstance(score, int):
            return f"{where}: 'score' must be an integer"
        if (not isinstance(analysis, list) or len(analysis) != COLUMNS
                or any(value is not None and not isinstance(value, int) for value in analysis)):
            return f"{where}: 'analysis' must list {COLUMNS} integers or nulls"
        if all(value is None for value in analysis):
            return f"{where}: 'analysis' has no legal column"
    return None
