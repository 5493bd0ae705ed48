"""Positions drawn as ASCII boards, turned into engine states independently of
the move-playing kernels (X moved first; the side to move follows from the
stone counts)."""

from __future__ import annotations

import numpy as np

from engine import connect4, tictactoe
from engine.spec import ONGOING


def _rows(drawing: str) -> list[list[str]]:
    return [line.split() for line in drawing.strip().splitlines()]


def connect4_from_drawing(drawing: str) -> np.ndarray:
    """Six rows of seven cells ('X', 'O', '.'), top row first."""
    rows = _rows(drawing)
    assert len(rows) == connect4.HEIGHT and all(len(r) == connect4.WIDTH for r in rows)
    x_stones = o_stones = 0
    for top_index, row in enumerate(rows):
        height = connect4.HEIGHT - 1 - top_index
        for col, cell in enumerate(row):
            bit = 1 << (7 * col + height)
            if cell == "X":
                x_stones |= bit
            elif cell == "O":
                o_stones |= bit
    mask = x_stones | o_stones
    for col in range(connect4.WIDTH):
        column = (mask >> (7 * col)) & 0x3F
        assert column & (column + 1) == 0, f"column {col + 1} has a stone floating over an empty cell"
    ply = bin(x_stones).count("1") + bin(o_stones).count("1")
    state = np.zeros(connect4.STATE_SIZE, np.int64)
    state[connect4.CURRENT] = x_stones if ply % 2 == 0 else o_stones
    state[connect4.MASK] = x_stones | o_stones
    state[connect4.PLY] = ply
    state[connect4.STATUS] = ONGOING
    return state


def tictactoe_from_drawing(drawing: str) -> np.ndarray:
    """Three rows of three cells, top row (rank 3) first."""
    cells = [c for row in _rows(drawing) for c in row]
    state = np.zeros(tictactoe.STATE_SIZE, np.int64)
    for i, cell in enumerate(cells):
        state[i] = {"X": 1, "O": -1, ".": 0}[cell]
    state[tictactoe.PLY] = sum(c != "." for c in cells)
    state[tictactoe.STATUS] = ONGOING
    return state
