"""Exact play as the expert: games of an exact solver (``engine.exact.solver_for``).

A game is a random opening of k moves, k uniform in [opening_min,
opening_max], which is not labelled and only makes the games differ (perfect
play from the empty board would repeat a handful of games), then the solver
plays both sides to the end and labels every position:

- policy target, ``policy_target``:

  - ``optimal`` (default): uniform over the moves with the best exact score
    (all fastest wins, all draws of a drawn position, all slowest losses);
  - ``softmax``: ``exp(score / T)`` over the legal moves, T =
    ``policy_temperature`` in score units, so near-optimal moves keep some
    weight and the games also visit positions after small mistakes;

  the solver plays a move drawn from the target (so with ``optimal`` every
  labelled position keeps the value of the first one);
- value target: the sign of the best score, the game-theoretic result for the
  side to move (+1 win, 0 draw, -1 loss): self-play's z under perfect play;
- scores: the exact score of every move (NaN where illegal), stored so that
  validation can judge a move by its score whatever the target was.

Cost (Connect Four): an analysis takes seconds before ply 8 and milliseconds
from ply 12 on, so the opening range sets the price of the data. One solver,
and its transposition table, serves all the games of a worker; analyses of
positions before ``CACHE_PLY`` are kept (under their symmetry-reduced key),
since openings make those repeat across games.
"""

from __future__ import annotations

import time

import numpy as np

from engine.exact import solver_for
from engine.positions import play_action, random_moves
from engine.spec import ONGOING, GameSpec
from mcts.search import choose_action
from selfplay.config import ExpertConfig
from selfplay.experts import ExpertGame, canonical_key, players_to_move
from selfplay.shards import GameRecord

CACHE_PLY = 14
"""Analyses of positions with fewer moves than this are cached: they repeat across games and
cost up to seconds; later ones are unique enough and cost milliseconds."""


def policy_target(scores: np.ndarray, config: ExpertConfig) -> np.ndarray:
    """[A] float32 target of the exact ``scores`` [A] (NaN where illegal), as ``config`` says."""
    legal = ~np.isnan(scores)
    best = scores[legal].max()
    if config.policy_target == "optimal":
        weights = (legal & (scores == best)).astype(np.float64)
    else:
        weights = np.zeros(len(scores))
        weights[legal] = np.exp((scores[legal] - best) / config.policy_temperature)
    return (weights / weights.sum()).astype(np.float32)


class SolverSource:
    """Solver games of one game (see the module docstring)."""

    label = "solver"

    def __init__(self, spec: GameSpec, config: ExpertConfig, seed: int):
        self.spec = spec
        self.config = config
        self.seed = seed
        self.solver = solver_for(spec)  # ValueError for a game without one
        self._cache: dict[bytes, np.ndarray] = {}
        """symmetry-reduced position key -> scores [A] of that reduced position."""

    def available(self) -> None:
        return None

    def close(self) -> None:
        pass

    def scores(self, state: np.ndarray, moves: int) -> np.ndarray:
        """[A] float64: the exact score of every move of ``state`` (NaN: illegal);
        ``moves``: moves played to reach it."""
        if moves >= CACHE_PLY:
            return self._analyze(state)
        key, k = canonical_key(self.spec, state)
        reduced = self._cache.get(key)
        if reduced is None:
            # Symmetry k maps this position (and a policy p to p[action_perms[k]]) onto the reduced one.
            reduced = self._cache[key] = self._analyze(state)[self.spec.action_perms[k]]
        return reduced[self.spec.action_perms[self.spec.inverse[k]]]

    def _analyze(self, state: np.ndarray) -> np.ndarray:
        return np.array([np.nan if s is None else s for s in self.solver.analyze(state)], np.float64)

    def game(self, index: int) -> ExpertGame:
        started = time.perf_counter()
        spec, config = self.spec, self.config
        rng = np.random.default_rng([self.seed, index])
        opening_moves, state = random_moves(spec, int(rng.integers(config.opening_min, config.opening_max + 1)), rng)
        opening = moves = len(opening_moves)  # fewer than drawn when a random opening ends the game
        states, policies, values, scores = [], [], [], []
        while spec.status(state) == ONGOING:
            move_scores = self.scores(state, moves)
            target = policy_target(move_scores, config)
            states.append(state)
            policies.append(target)
            values.append(np.sign(np.nanmax(move_scores)))
            scores.append(move_scores)
            state = play_action(spec, state, choose_action(target, 1.0, rng))
            moves += 1
        labelled = len(states)
        # A decided game is lost for the side to move at its end (engine.spec).
        first_player_to_move = 1 if moves % 2 == 0 else -1
        record = GameRecord(
            states=np.array(states, np.int64).reshape(labelled, spec.state_size),
            policies=np.array(policies, np.float32).reshape(labelled, spec.num_actions),
            players=players_to_move(opening, labelled),
            result=int(spec.status(state)) * first_player_to_move,
            length=moves,
            values=np.array(values, np.float32),
            scores=np.array(scores, np.float32).reshape(labelled, spec.num_actions),
        )
        return ExpertGame(record, opening=opening, seconds=time.perf_counter() - started)


def make_source(spec: GameSpec, argument: str | None, config: ExpertConfig, seed: int) -> SolverSource:
    return SolverSource(spec, config, seed)
