"""Build positions from human move text, checking every move, and from random moves.

The move-text functions are the human-facing entry points: they validate input
and raise ``IllegalMoveError`` with a message that says what is wrong. Search
and self-play call the kernels directly and never come through here.
``random_moves`` and ``random_opening`` draw the random openings that make
arena matches and expert games differ.
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


def random_moves(spec: GameSpec, plies: int, rng: np.random.Generator,
                 exclude: int | None = None) -> tuple[list[int], np.ndarray]:
    """Up to ``plies`` moves from the initial position, each drawn uniformly among the legal
    actions but ``exclude`` (Go's pass, say) with ``rng.choice``; fewer when the game ends or
    nothing is left to draw from. Returns the moves and the position [S] after them."""
    state = spec.initial_state()
    moves: list[int] = []
    while len(moves) < plies and spec.status(state) == ONGOING:
        actions = legal_actions(spec, state)
        if exclude is not None:
            actions = actions[actions != exclude]
        if not len(actions):
            break
        action = int(rng.choice(actions))
        following = np.empty_like(state)
        spec.play_into(state, action, following)
        state = following
        moves.append(action)
    return moves, state


def random_opening(spec: GameSpec, plies: int, rng: np.random.Generator, attempts: int = 1000) -> list[int]:
    """Exactly ``plies`` uniformly random legal moves after which the game is still on: drawn
    again (``rng`` goes on) while a draw ends the game early; ValueError after ``attempts``."""
    for _ in range(attempts):
        moves, state = random_moves(spec, plies, rng)
        if len(moves) == plies and spec.status(state) == ONGOING:
            return moves
    raise ValueError(f"no random opening of {plies} plies leaves a {spec.name} game going; use fewer plies")
