"""Batched search (PUCT or Gumbel) over B games at once.

One simulation step for all B games is three calls: ``select_leaves`` (numba:
descend every tree, play the selected move, encode the new leaves), one call
of the evaluator on the M leaves that need a value, and ``backup_leaves``
(numba: expand and back up). Every game owns one tree in one ``Tree`` of
arrays; see ``mcts.tree`` for shapes and the sign convention.

Typical use (one move of B games)::

    search = BatchedSearch(spec, evaluator, MCTSConfig(num_simulations=200), batch_size=B)
    search.set_roots(states)                  # states [B, S]
    result = search.run(rngs=rngs)           # visit counts, policy targets [B, A], root values [B]
    actions = [choose_move(result, b, 1.0, rngs[b]) for b in range(B)]
    search.advance(actions)                  # tree reuse: chosen children become roots
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np

from engine.spec import ONGOING, GameSpec
from mcts.config import MCTSConfig
from mcts.evaluators import Evaluator, PlayoutEvaluator
from mcts.kernels import tree_kernels
from mcts.gumbel import gumbel_root_results
from mcts.tree import ROOT, UNVISITED, SearchParams, allocate_tree
from mcts.tree_ops import backup_leaves, principal_variation, pruned_root_policies, reuse_subtree, root_statistics


@dataclass
class SearchResult:
    """What one search returns for its B games."""

    visit_counts: np.ndarray
    """[B, A] int32: visits of each root child (the policy target)."""
    root_values: np.ndarray
    """[B] float32: mean value of each root for its side to move, in [-1, 1] (with the score
    utility: value plus score utility, within 1 + score_utility of 0)."""
    policies: np.ndarray
    """[B, A] float32: the policy target: visit shares (PUCT; pruned of forced playouts when
    they are on), the improved policy (Gumbel)."""
    chosen: np.ndarray | None = None
    """[B] int32: Gumbel search's own choice of move (its Gumbel noise is the sampling);
    None for PUCT, whose move is drawn from the visits (``choose_move``)."""
    wins: np.ndarray | None = None
    """[B] int32: a move that ends the game at once in a win for the root's mover, or -1.
    Played whatever the visits say (``choose_move``, ``greedy_moves``): in a won position every
    move's value is close to 1, visits follow the priors, and a finishing move with a small
    prior may never be visited (a 9x9 Go game was lost by filling its own eyes where a pass
    after the opponent's would have won on the count). Inactive trees hold -1."""


class RootChildren(NamedTuple):
    """A root's actions as search sees them (what analysis reports), each [A]."""

    visits: np.ndarray
    """int64: visits of each action's subtree (0 if never searched)."""
    values: np.ndarray
    """float64: mean value of each action for the side to move at the root, in [-1, 1] (NaN
    if never visited; with the score utility, value plus score utility)."""
    priors: np.ndarray
    """float32: the network's (or uniform) prior of each action, without root noise."""
    legal: np.ndarray
    """bool: the actions search considers (``GameSpec.search_mask``)."""
    root_value: float
    """The root's mean value for its side to move, in [-1, 1] (0 before any visit)."""
    scores: np.ndarray | None = None
    """float64: mean final score margin (points) of each action for the side to move at the
    root (NaN if never visited); None unless the search tracks scores."""
    root_score: float | None = None
    """The root's mean score margin for its side to move; None unless the search tracks scores."""


def search_memory(spec: GameSpec, config: MCTSConfig, batch_size: int) -> int:
    """Bytes of the tree arrays of a ``BatchedSearch`` of ``batch_size`` games, the bulk of its memory."""
    per_node = sum(array.nbytes for array in allocate_tree(1, 1, spec.num_actions, spec.state_size))
    return batch_size * config.tree_capacity * per_node


class BatchedSearch:
    """B search trees searched together, one evaluator call per simulation step.

    With ``scores`` (or a ``config.score_utility``), the evaluator's ``evaluate_scores``
    (``has_score``: a network with a score head) values the leaves, and the tree keeps each
    node's mean final score margin beside its value (``root_children``): what analysis reports
    as the score lead, and what the score utility bends values with.
    """

    def __init__(self, spec: GameSpec, evaluator: Evaluator, config: MCTSConfig, batch_size: int = 1,
                 scores: bool = False):
        scores = scores or config.score_utility > 0.0
        if scores and not getattr(evaluator, "has_score", False):
            raise ValueError("score leads and the score utility need an evaluator that predicts final score "
                             "margins (a network with a score head)")
        self.spec = spec
        self.evaluator = evaluator
        self.tracks_scores = scores
        self.score_scale = config.score_scale or float(spec.board_shape[0])
        self.config = config
        self.batch_size = batch_size
        self.max_new_nodes = config.num_simulations + config.leaves_per_tree + 1
        capacity = config.tree_capacity
        self.tree = allocate_tree(batch_size, capacity, spec.num_actions, spec.state_size)
        self.kernels = tree_kernels(spec)
        self.active = np.zeros(batch_size, np.bool_)
        self.sims_target = np.zeros(batch_size, np.int32)
        self.sims_done = np.zeros(batch_size, np.int32)
        leaves = batch_size * config.leaves_per_tree
        self.leaf_nodes = np.zeros((batch_size, config.leaves_per_tree), np.int32)
        self.eval_slots = np.zeros((batch_size, config.leaves_per_tree), np.int32)
        self.leaf_states = np.zeros((leaves, spec.state_size), np.int64)
        self.needs_planes = bool(getattr(evaluator, "needs_planes", True))
        plane_rows = leaves if self.needs_planes else 1
        self.leaf_planes = np.zeros((plane_rows, *spec.planes_shape), np.float32)
        self._no_logits = np.zeros((0, spec.num_actions), np.float32)
        self._flat_logits = np.zeros((leaves, spec.num_actions), np.float32)
        self._leaf_values = np.zeros(leaves, np.float32)
        self._no_leaf_scores = np.zeros(leaves, np.float32)
        self._scores = np.zeros(spec.num_actions, np.float64)  # Gumbel search's scratch row
        self._no_values = np.zeros(0, np.float32)
        self._order = np.zeros(capacity, np.int32)
        self._remap = np.zeros(capacity, np.int32)
        self._root_wins = np.full(batch_size, -1, np.int32)
        self._root_wins_known = np.zeros(batch_size, np.bool_)  # reset with each new root
        alpha = config.dirichlet_alpha if config.dirichlet_alpha is not None else spec.dirichlet_alpha
        self.dirichlet_alpha = float(alpha)

    # ---- roots ---------------------------------------------------------------

    def set_root(self, b: int, state: np.ndarray) -> None:
        """Start tree ``b`` afresh from ``state [S]`` and mark it active."""
        self.kernels.set_root(self.tree, b, np.ascontiguousarray(state, np.int64))
        self.active[b] = True
        self._root_wins_known[b] = False

    def set_roots(self, states: np.ndarray) -> None:
        """Start every tree afresh: states [B, S]."""
        for b, state in enumerate(states):
            self.set_root(b, state)

    def deactivate(self, b: int) -> None:
        """Leave tree ``b`` out of later searches (its game slot is empty)."""
        self.active[b] = False

    def root_state(self, b: int) -> np.ndarray:
        return self.tree.states[b, ROOT].copy()

    def advance(self, actions: Sequence[int]) -> None:
        """Play ``actions [B]`` at the roots of the active trees.

        With ``reuse_tree`` the chosen child becomes the root and keeps its
        statistics; otherwise (or if the child was never visited) the tree
        restarts from the new position.
        """
        for b in np.flatnonzero(self.active):
            self.advance_one(int(b), int(actions[b]))

    def advance_one(self, b: int, action: int) -> None:
        child = self.tree.children[b, ROOT, action]
        if self.config.reuse_tree and child != UNVISITED:
            keep_limit = self.tree.visits.shape[1] - self.max_new_nodes
            reuse_subtree(self.tree, b, child, keep_limit, self._order, self._remap, self.config.value_discount)
            self._root_wins_known[b] = False
        else:
            following = np.empty(self.spec.state_size, np.int64)
            self.spec.play_into(self.tree.states[b, ROOT], action, following)
            self.set_root(b, following)

    # ---- search --------------------------------------------------------------

    def run(self, num_simulations: int | np.ndarray | None = None,
            rngs: Sequence[np.random.Generator] | None = None) -> SearchResult:
        """Search every active tree and return the root statistics.

        ``num_simulations``: an int, or [B] per game (playout-cap randomisation);
        at most ``config.num_simulations``, the default. ``rngs``: one numpy
        Generator per game, needed when ``config.root_noise`` is on.
        """
        cfg = self.config
        target = cfg.num_simulations if num_simulations is None else num_simulations
        self.sims_target[:] = target
        if self.sims_target.max() > cfg.num_simulations:
            raise ValueError("num_simulations may not exceed config.num_simulations (it sizes the tree)")
        self.sims_done[:] = 0
        gumbel = cfg.search == "gumbel"
        noise_fraction = 0.0
        if cfg.root_noise and rngs is None:
            raise ValueError("root noise needs one random generator per game (rngs)")
        if gumbel:
            self._start_gumbel(rngs if cfg.root_noise else None)
        elif cfg.root_noise:
            self._draw_root_noise(rngs)
            noise_fraction = cfg.dirichlet_fraction
        params = SearchParams(cfg.c_base, cfg.c_init, cfg.fpu_reduction, noise_fraction, cfg.virtual_loss,
                              gumbel, cfg.gumbel_considered, cfg.gumbel_c_visit, cfg.gumbel_c_scale,
                              cfg.value_discount, cfg.forced_playouts, cfg.score_utility, self.score_scale)
        if cfg.score_utility > 0.0:
            self._centre_scores()
        if isinstance(self.evaluator, PlayoutEvaluator):
            self._run_in_numba(params)
        else:
            self._run_steps(params)
        return self._result(params)

    def _result(self, params: SearchParams) -> SearchResult:
        visit_counts = np.zeros((self.batch_size, self.spec.num_actions), np.int32)
        root_values = np.zeros(self.batch_size, np.float32)
        root_statistics(self.tree, visit_counts, root_values)
        wins = self._wins()
        policies = np.zeros((self.batch_size, self.spec.num_actions), np.float32)
        if not params.gumbel:
            if params.forced_playouts > 0.0 and params.noise_fraction > 0.0:
                pruned_root_policies(self.tree, self.active, params.c_base, params.c_init, params.noise_fraction,
                                     params.forced_playouts, policies)
            else:
                totals = np.maximum(visit_counts.sum(axis=1, keepdims=True), 1)
                policies[:] = visit_counts / totals
            return SearchResult(visit_counts, root_values, policies, wins=wins)
        chosen = np.zeros(self.batch_size, np.int32)
        gumbel_root_results(self.tree, self.active, params.c_visit, params.c_scale, policies, chosen)
        return SearchResult(visit_counts, root_values, policies, chosen, wins)

    def _wins(self) -> np.ndarray:
        """[B] int32: each active root's winning move or -1 (``SearchResult.wins``), looked for
        once per root: a search in chunks (GTP) asks again for the same root."""
        new_roots = self.active & ~self._root_wins_known
        if new_roots.any():
            self.kernels.root_wins(self.tree, new_roots, self._root_wins)
            self._root_wins_known |= new_roots
        return np.where(self.active, self._root_wins, -1).astype(np.int32)

    def _centre_scores(self) -> None:
        """The score utility's centre of each tree: its root's mean margin so far (tree reuse),
        or NaN, which the root's first evaluation fills in (``tree_ops.score_utility``)."""
        tree = self.tree
        visits = tree.visits[:, ROOT]
        with np.errstate(invalid="ignore", divide="ignore"):
            tree.score_centre[:] = np.where(visits > 0, -tree.score_sums[:, ROOT] / visits, np.nan)

    def _start_gumbel(self, rngs: Sequence[np.random.Generator] | None) -> None:
        """Record the root children's visits (tree reuse keeps some) and draw the Gumbel noise
        g(a) of each active root: none (deterministic search) without ``rngs``."""
        tree = self.tree
        tree.gumbel[:] = 0.0
        children = tree.children[:, ROOT]
        rows = np.arange(self.batch_size)[:, None]
        tree.search_start[:] = np.where(children != UNVISITED, tree.visits[rows, np.maximum(children, 0)], 0)
        if rngs is not None:
            for b in np.flatnonzero(self.active):
                tree.gumbel[b] = rngs[b].gumbel(size=self.spec.num_actions)

    def _run_in_numba(self, params: SearchParams) -> None:
        self.kernels.run_playout_search(
            self.tree, self.active, self.sims_target, self.sims_done, self.config.leaves_per_tree, params,
            self.leaf_nodes, self.eval_slots, self.leaf_states, self.leaf_planes,
            self.evaluator.num_playouts, self.evaluator.seed, self._flat_logits, self._leaf_values,
            self._no_leaf_scores)

    def _run_steps(self, params: SearchParams) -> None:
        """Select, evaluate, back up until every tree has its simulations: one evaluator call per step."""
        cfg = self.config
        evaluate = self.evaluator.evaluate
        while True:
            num_eval = self.kernels.select_leaves(
                self.tree, self.active, self.sims_target, self.sims_done, cfg.leaves_per_tree, params,
                self.needs_planes, self.leaf_nodes, self.eval_slots, self.leaf_states, self.leaf_planes,
                self._scores)
            if num_eval < 0:
                break
            scores = self._no_leaf_scores
            if num_eval:
                planes = self.leaf_planes[:num_eval] if self.needs_planes else None
                if self.tracks_scores:
                    logits, values, scores = self.evaluator.evaluate_scores(self.leaf_states[:num_eval], planes)
                    scores = np.ascontiguousarray(scores, np.float32)
                else:
                    logits, values = evaluate(self.leaf_states[:num_eval], planes)
                logits = np.ascontiguousarray(logits, np.float32)
                values = np.ascontiguousarray(values, np.float32)
            else:
                logits, values = self._no_logits, self._no_values
            backup_leaves(self.tree, self.leaf_nodes, self.eval_slots, logits, values, scores, self.sims_done,
                          params)

    def _draw_root_noise(self, rngs: Sequence[np.random.Generator]) -> None:
        noise = self.tree.root_noise
        for b in np.flatnonzero(self.active):
            legal = self.tree.legal[b, ROOT]
            noise[b] = 0.0
            count = int(legal.sum())
            if count:
                noise[b, legal] = rngs[b].dirichlet(np.full(count, self.dirichlet_alpha))

    def principal_variation(self, b: int, max_length: int = 32, first: int | None = None) -> list[int]:
        """The most-visited line of actions from the root of tree ``b``; with ``first``, the
        line that begins with that root action (just ``[first]`` if it was never searched)."""
        out = np.zeros(max_length, np.int64)
        if first is None:
            return [int(a) for a in out[:principal_variation(self.tree, b, ROOT, out)]]
        child = self.tree.children[b, ROOT, first]
        if child == UNVISITED:
            return [first]
        return [first] + [int(a) for a in out[:principal_variation(self.tree, b, child, out[:max_length - 1])]]

    def root_children(self, b: int) -> RootChildren:
        """The statistics of the root's actions in tree ``b``, as search last left them."""
        tree = self.tree
        children = tree.children[b, ROOT]
        searched = children != UNVISITED
        nodes = np.maximum(children, 0)
        visits = np.where(searched, tree.visits[b, nodes], 0)
        sums = np.where(searched, tree.value_sums[b, nodes], 0.0)
        values = np.where(visits > 0, sums / np.maximum(visits, 1), np.nan)
        root_visits = tree.visits[b, ROOT]
        root_value = -tree.value_sums[b, ROOT] / root_visits if root_visits > 0 else 0.0
        children_stats = RootChildren(visits.astype(np.int64), values, tree.priors[b, ROOT].copy(),
                                      tree.legal[b, ROOT].copy(), float(root_value))
        if not self.tracks_scores:
            return children_stats
        score_sums = np.where(searched, tree.score_sums[b, nodes], 0.0)
        root_score = -tree.score_sums[b, ROOT] / root_visits if root_visits > 0 else float(tree.raw_scores[b, ROOT])
        return children_stats._replace(scores=np.where(visits > 0, score_sums / np.maximum(visits, 1), np.nan),
                                       root_score=float(root_score))


def sample_move(log_weights: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """A move drawn with probability proportional to ``exp(log_weights / temperature)``.

    ``log_weights`` [A]: log visit counts or log probabilities (any constant
    offset, e.g. raw logits); -inf (or NaN) excludes a move (illegal, never
    visited, zero probability). Temperature 0 plays the largest weight, ties
    broken at random. Computed as exp((w - max w) / T) over the allowed moves
    only, so no temperature overflows: the best move weighs 1 and the others
    at most 1, underflowing to 0 at tiny T.
    """
    log_weights = np.asarray(log_weights, np.float64)
    allowed = log_weights > -np.inf  # NaN compares False: excluded too
    if not allowed.any():
        raise ValueError("no move to choose from")
    top = log_weights[allowed].max()
    if temperature <= 0 or top == np.inf:
        best = np.flatnonzero(allowed & (log_weights == top))
        return int(best[0] if len(best) == 1 else rng.choice(best))
    weights = np.zeros(len(log_weights))
    weights[allowed] = np.exp((log_weights[allowed] - top) / temperature)
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def choose_action(visit_counts: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """An action drawn with probability proportional to visits ** (1 / temperature).

    visit_counts [A]. Temperature 0 plays the most visited action (ties broken at random).
    """
    counts = np.asarray(visit_counts, np.float64)
    if counts.sum() <= 0:
        raise ValueError("no visits to choose from")
    with np.errstate(divide="ignore"):  # log(0) = -inf: never-visited actions are excluded
        return sample_move(np.log(counts), temperature, rng)


def choose_move(result: SearchResult, b: int, temperature: float, rng: np.random.Generator) -> int:
    """The move to play in game ``b`` after a search: a move that wins at once (``result.wins``),
    else Gumbel search's own choice (its noise already samples, so ``temperature`` does not
    apply), else a PUCT move drawn from the visits at ``temperature``."""
    if result.wins is not None and result.wins[b] >= 0:
        return int(result.wins[b])
    if result.chosen is not None:
        return int(result.chosen[b])
    return choose_action(result.visit_counts[b], temperature, rng)


def greedy_moves(result: SearchResult) -> np.ndarray:
    """[B] int64: the move of each game at temperature 0, without randomness: a move that wins
    at once, else Gumbel search's choice, else the most visited move (the lowest action of a tie)."""
    moves = result.chosen if result.chosen is not None else result.visit_counts.argmax(axis=1)
    if result.wins is not None:
        moves = np.where(result.wins >= 0, result.wins, moves)
    return np.asarray(moves, np.int64)


def search_position(spec: GameSpec, evaluator: Evaluator, config: MCTSConfig, state: np.ndarray,
                    rng: np.random.Generator | None = None) -> tuple[SearchResult, list[int]]:
    """Search one position from scratch; returns its result (B = 1) and principal variation."""
    if spec.status(state) != ONGOING:
        raise ValueError("the game is over: there is nothing to search")
    search = BatchedSearch(spec, evaluator, config, batch_size=1)
    search.set_root(0, state)
    result = search.run(rngs=[rng] if rng is not None else None)
    return result, search.principal_variation(0)
