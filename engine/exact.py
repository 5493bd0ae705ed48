"""Exact solvers: ``solver_for(spec)`` (the game's ``GameSpec.make_solver``), and a memoized
negamax for tic-tac-toe.

Every solver answers ``analyze(state) -> list[int | None]``: one entry per
action, the exact score of the position after playing it, seen by the player
who plays it, None where the action is illegal (every entry once the game is
over). Scores follow ``engine.solver``'s convention for every game: 0 is a
draw, a positive score a win, a negative one a loss, and a larger score is
better (a faster win, a slower loss), so the best actions are those with the
largest score and its sign is the game-theoretic result.

- Connect Four: ``engine.solver.Solver`` (alpha-beta on bitboards,
  ``22 - stones`` of the winner).
- Tic-tac-toe: ``TicTacToeSolver``, plain negamax over the 5,478 legal
  positions with a memo; a win scores ``10 - moves`` (moves on the board when
  the line completes: +5 for a win with the 5th move of the game, +1 with the
  9th), a loss the negative.
"""

from __future__ import annotations

import numpy as np

from engine.positions import legal_actions
from engine.spec import ONGOING, GameSpec
from engine.tictactoe import NUM_CELLS, PLY


class TicTacToeSolver:
    """Exact tic-tac-toe scores; every position's score is computed once and kept."""

    def __init__(self, spec: GameSpec):
        self.spec = spec
        self._scores: dict[bytes, int] = {}

    def solve(self, state: np.ndarray) -> int:
        """Score of ``state`` [S] for the side to move (a finished game: 0 or the loss's score)."""
        key = state.tobytes()
        score = self._scores.get(key)
        if score is None:
            status = self.spec.status(state)
            if status == ONGOING:
                score = max(s for s in self.analyze(state) if s is not None)
            else:  # a decided game is lost for the side to move (engine.spec), by 10 - moves
                score = int(status) * (NUM_CELLS + 1 - int(state[PLY]))
            self._scores[key] = score
        return score

    def analyze(self, state: np.ndarray) -> list[int | None]:
        """Per action (A entries): the score after playing it for the mover, None if illegal."""
        scores: list[int | None] = [None] * self.spec.num_actions
        child = np.empty_like(state)
        for action in legal_actions(self.spec, state):
            self.spec.play_into(state, action, child)
            scores[action] = -self.solve(child)
        return scores


def solver_for(spec: GameSpec):
    """A new exact solver of ``spec``'s game (``spec.make_solver``: an object with
    ``analyze(state)``); ValueError names the games that have one. Connect Four's allocates a
    64 MiB transposition table."""
    if spec.make_solver is None:
        raise ValueError(f"no exact solver for {spec.name}; there is one for {', '.join(games_with_solvers())}")
    return spec.make_solver()


def games_with_solvers() -> list[str]:
    """Registered games that have an exact solver."""
    import engine  # the registry imports this module's games: asked at call time

    return [name for name in engine.list_games() if engine.get_game(name).make_solver is not None]


def best_actions(scores: list[int | None]) -> np.ndarray:
    """int64 [k]: the actions (ascending) of the best score of an ``analyze`` answer; empty once
    the game is over."""
    playable = [score for score in scores if score is not None]
    if not playable:
        return np.zeros(0, np.int64)
    best = max(playable)
    return np.array([action for action, score in enumerate(scores) if score == best], np.int64)

