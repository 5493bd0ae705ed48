"""Go positions as GTP and SGF see them, read and edited outside play: colour names, komi,
the side to move, setup stones, the area score and its text.

``engine.go`` holds the rules (the kernels, the notation of moves and the game specs); the
GTP engine and client (``arena.gtp_engine``, ``engine.gtp_client``) and SGF records
(``engine.sgf``) call these to set up and read a position.
"""

from __future__ import annotations

import numpy as np

from engine import go
from engine.spec import ONGOING, IllegalMoveError

COLOUR_NAMES = {go.BLACK: "black", go.WHITE: "white"}
"""GTP's colour words for the side to move as states hold it (+1 black, -1 white)."""


def komi(state: np.ndarray) -> float:
    return float(state[go.KOMI2]) / 2


def set_komi(state: np.ndarray, value: float) -> np.ndarray:
    """A copy of ``state`` with komi ``value`` (a multiple of 0.5); a finished game is rescored."""
    doubled = float(value) * 2
    if not doubled.is_integer() or abs(doubled) > 2 * go.MAX_SIZE * go.MAX_SIZE:
        raise ValueError(f"komi must be a multiple of 0.5 within +-{go.MAX_SIZE * go.MAX_SIZE}, got {value}")
    out = state.copy()
    out[go.KOMI2] = int(doubled)
    if out[go.STATUS] != ONGOING:
        out[go.STATUS] = go.final_status(out)
    return out


def side_to_move(state: np.ndarray) -> int:
    """BLACK (+1) or WHITE (-1)."""
    return int(state[go.TO_MOVE])


def with_side_to_move(state: np.ndarray, colour: int) -> np.ndarray:
    """A copy of ``state`` with ``colour`` (BLACK or WHITE) to move, for GTP's
    ``play`` out of turn and for handicap stones; an ongoing game only."""
    if colour not in (go.BLACK, go.WHITE):
        raise ValueError(f"colour must be BLACK (1) or WHITE (-1), got {colour}")
    if state[go.STATUS] != ONGOING:
        raise IllegalMoveError("the game is over")
    out = state.copy()
    out[go.TO_MOVE] = colour
    return out


def area_score(state: np.ndarray) -> float:
    """Black's area minus white's minus komi, for any position (finished or not;
    no dead stones removed): positive when black is ahead."""
    return float(go.area_difference(state)) - komi(state)


def score_text(state: np.ndarray) -> str:
    """The area score as GTP's final_score writes it: 'B+3.5', 'W+0.5' or '0'."""
    score = area_score(state)
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g}"


def stones(state: np.ndarray) -> tuple[list[int], list[int]]:
    """The points (actions) of black's stones and of white's, each sorted."""
    cells = go.point_colours(state)
    return np.flatnonzero(cells > 0).tolist(), np.flatnonzero(cells < 0).tolist()


def position_from_stones(size: int, black=(), white=(), to_move: int = go.BLACK,
                         komi: float = go.DEFAULT_KOMI) -> np.ndarray:
    """A position with these stones (actions) and no history: SGF setup (AB, AW)
    and handicap stones. Raises ValueError for a point off the board or given
    twice, or a group without liberty."""
    state = go.spec_for_size(size).initial_state()
    black, white = [int(a) for a in black], [int(a) for a in white]
    for point in black + white:
        if not 0 <= point < size * size:
            raise ValueError(f"point {point} is off the {size}x{size} board")
    if len(set(black + white)) != len(black) + len(white):
        raise ValueError("a point is given twice")
    cells = state.view(np.int8)
    for points, code in ((black, go.BLACK_FREE), (white, go.WHITE_FREE)):
        for point in points:
            cells[go.cell_of(point, size)] = code
    if not go.settle_setup(state):
        raise ValueError("a group has no liberty")
    return set_komi(with_side_to_move(state, to_move), komi)
