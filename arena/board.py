"""Boards for the terminal: the game's own text rendering, coloured with rich.

Works for every game whose ``spec.render`` draws X for the first player, O for
the second and '.' for an empty cell. The last move is found by comparing the
rendering before and after it, so no game needs to say where its move landed.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from engine.spec import GameSpec

STONE_STYLES = {"X": "bold red", "O": "bold yellow", ".": "dim"}
"""Styles of the first player's stones, the second player's and empty cells."""
LAST_MOVE_STYLE = "reverse"
"""Added to the stone of the last move."""
COLOUR_NAMES = {"X": "red", "O": "yellow"}


def board_text(spec: GameSpec, state: np.ndarray, previous: np.ndarray | None = None) -> Text:
    """The board of ``state`` [S] as rich Text; the stone that ``previous`` [S] lacks is highlighted.

    Coordinates (column numbers, files and ranks) keep the game's layout. In a
    plain terminal the styles vanish, so the caller also names the last move in words.
    """
    drawing = spec.render(state)
    before = spec.render(previous) if previous is not None else None
    text = Text()
    # Coordinate lines (e.g. "1 2 3 4 5 6 7") are styled as such; only cells change.
    lines = drawing.split("\n")
    before_lines = before.split("\n") if before is not None and before.count("\n") == drawing.count("\n") else None
    for number, line in enumerate(lines):
        old = before_lines[number] if before_lines is not None else None
        for position, char in enumerate(line):
            style = STONE_STYLES.get(char)
            if style is None:
                text.append(char, style="bold cyan" if char.isalnum() else "")
                continue
            if old is not None and position < len(old) and old[position] == "." and char in "XO":
                style = f"{style} {LAST_MOVE_STYLE}"
            text.append(char, style=style)
        if number < len(lines) - 1:
            text.append("\n")
    return text


def mark_of_player(first: bool) -> str:
    """'X (red)' for the first player, 'O (yellow)' for the second."""
    mark = "X" if first else "O"
    return f"{mark} ({COLOUR_NAMES[mark]})"
