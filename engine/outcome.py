"""The status of a position right after a move, shared by games that end on a
completed line or a full board."""

from __future__ import annotations

import numba

from engine.spec import ONGOING


@numba.njit(cache=True)
def status_after_move(mover_won, ply, max_plies):
    """-1 (the side now to move has lost) if the mover completed a line, 0 (draw)
    if the board is full after ``ply`` moves, else ONGOING."""
    if mover_won:
        return -1
    if ply == max_plies:
        return 0
    return ONGOING
