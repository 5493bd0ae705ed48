"""Build positions from human move text, checking every move.

These are the human-facing entry points: they validate input and raise
``IllegalMoveError`` with a message that says what is wrong. Search and
self-play call the kernels directly and never come through here.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from engine.spec import ONGOING, GameSpec, IllegalMoveError


def legal_actions(spec: GameSpec, state: np.ndarray) -> np.ndarray:
    """The legal actions of ``state`` as an int64 array (empty once the game is over)."""
    mask = np.zeros(spec.num_actions, dtype=np.bool_)
    spec.legal_mask(state, mask)
    return np.flatnonzero(mask)


def play_action(spec: GameSpec, state: np.ndarray, action: int) -> np.ndarray:
    """The position after ``action``; raises IllegalMoveError if it is not legal."""
    if not 0 <= action < spec.num_actions or action not in legal_actions(spec, state):
        raise IllegalMoveError(
            f"illegal move {spec.format_move(action) if 0 <= action < spec.num_actions else action}: "
            f"{spec.why_illegal(state, action)}"
        )
    out = np.empty_like(state)
    spec.play_into(state, action, out)
    return out


def play_move(spec: GameSpec, state: np.ndarray, move: str) -> np.ndarray:
    """The position after the move written as ``move`` (e.g. '4' or 'b2')."""
    return play_action(spec, state, spec.parse_move(move))


def position_from_moves(spec: GameSpec, moves: str | Sequence[str]) -> np.ndarray:
    """Play a move sequence from the initial position.

    ``moves`` is a string in the game's notation ("4453" for Connect Four,
    "b2 a1" for tic-tac-toe) or a list of move texts. The error of an illegal
    move names its position in the sequence.
    """
    texts = spec.split_moves(moves) if isinstance(moves, str) else list(moves)
    state = spec.initial_state()
    for number, text in enumerate(texts, start=1):
        try:
            state = play_move(spec, state, text)
        except IllegalMoveError as error:
            raise IllegalMoveError(f"move {number} ('{text}'): {error}") from None
    return state


def is_over(spec: GameSpec, state: np.ndarray) -> bool:
    return spec.status(state) != ONGOING
