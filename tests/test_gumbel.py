"""Gumbel search (mcts.gumbel): the sequential-halving schedule, its choice checked against
the tree's own statistics, the improved policy on tactical boards, batching and reuse."""

from __future__ import annotations

import math

import numpy as np
import pytest

import engine
from arena.shipped import shipped_network
from mcts import BatchedSearch, MCTSConfig, RolloutEvaluator, UniformEvaluator
from mcts.gumbel import considered_visits
from mcts.tree import ROOT, UNVISITED
from tests.boards import connect4_from_drawing
from tests.test_mcts import BLOCK_COLUMN, C4_MUST_BLOCK, C4_WIN_IN_ONE, WIN_COLUMN, random_openings

C4 = engine.get_game("connect4")


def gumbel(simulations: int, **changes) -> MCTSConfig:
    return MCTSConfig(num_simulations=simulations, search="gumbel", **changes)


def halving_visits(m: int, n: int) -> list[int]:
    """Visits of each of m actions after n simulations of sequential halving, written from the
    paper's description: ceil(log2 m) phases; a phase with k actions left visits each of them
    max(1, floor(n / (ceil(log2 m) * k))) times, then keeps the better half (here: the first)."""
    visits = [0] * m
    left, done = m, 0
    phases = max(1, math.ceil(math.log2(m)))
    while done < n:
        for _ in range(max(1, n // (phases * left))):
            for action in range(left):
                if done < n:
                    visits[action] += 1
                    done += 1
        left = max(2, left // 2) if m > 1 else 1
    return visits


@pytest.mark.parametrize("m, n", [(1, 5), (2, 2), (2, 9), (3, 10), (7, 7), (7, 100), (16, 50), (16, 800), (5, 3)])
def test_schedule_is_sequential_halving(m, n):
    visits = [0] * m
    for index in range(n):
        wanted = considered_visits(m, n, index)
        # The simulation goes to the first (best) action that has exactly the visits asked for.
        action = visits.index(wanted)
        visits[action] += 1
    assert visits == halving_visits(m, n)


def root_q(search: BatchedSearch, b: int) -> np.ndarray:
    """[A] mean value of each visited root action for the side to move (NaN if unvisited)."""
    tree = search.tree
    q = np.full(C4.num_actions, np.nan)
    for action, child in enumerate(tree.children[b, ROOT]):
        if child != UNVISITED and tree.visits[b, child] > 0:
            q[action] = tree.value_sums[b, child] / tree.visits[b, child]
    return q


def test_with_a_visit_for_every_move_it_plays_the_win():
    state = connect4_from_drawing(C4_WIN_IN_ONE)
    search = BatchedSearch(C4, UniformEvaluator(C4), gumbel(C4.num_actions), batch_size=1)
    search.set_root(0, state)
    result = search.run()
    assert (result.visit_counts[0] == 1).all(), "seven simulations, seven moves: one visit each"
    assert result.chosen[0] == WIN_COLUMN
    assert result.policies[0, WIN_COLUMN] > 1 / C4.num_actions, "more mass on the win than the flat prior"
    assert result.policies[0].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("simulations", [7, 20, 60])
def test_it_picks_the_highest_completed_q_among_the_last_considered(simulations):
    """Flat priors and no noise: the choice is the best Q among the most visited actions, as
    read off the tree."""
    states = random_openings(C4, 8, plies=6, seed=21)
    search = BatchedSearch(C4, RolloutEvaluator(C4, seed=5), gumbel(simulations), batch_size=len(states))
    search.set_roots(states)
    result = search.run()
    for b in range(len(states)):
        counts = result.visit_counts[b]
        assert counts.sum() == simulations
        last = counts == counts.max()
        q = root_q(search, b)
        assert last[result.chosen[b]]
        assert q[result.chosen[b]] == np.nanmax(np.where(last, q, np.nan))


class MisguidedPrior:
    """An evaluator that steers away from ``avoid`` (its logit 3 below the others), value 0."""

    needs_planes = False

    def __init__(self, avoid: int):
        self.logits = np.zeros(C4.num_actions, np.float32)
        self.logits[avoid] = -3.0

    def evaluate(self, states, planes=None):
        return np.tile(self.logits, (len(states), 1)), np.zeros(len(states), np.float32)


@pytest.mark.parametrize("simulations", [4, 7, 16, 64])
def test_improved_policy_puts_more_mass_on_a_won_move_than_the_prior(simulations):
    state = connect4_from_drawing(C4_WIN_IN_ONE)
    evaluator = MisguidedPrior(avoid=WIN_COLUMN)
    prior = np.exp(evaluator.logits) / np.exp(evaluator.logits).sum()
    search = BatchedSearch(C4, evaluator, gumbel(simulations, root_noise=True), batch_size=1)
    for seed in range(5):
        search.set_root(0, state)
        result = search.run(rngs=[np.random.default_rng(seed)])
        if result.visit_counts[0, WIN_COLUMN]:  # the win was among the moves considered
            assert result.policies[0, WIN_COLUMN] > prior[WIN_COLUMN]
        else:  # it was not: nothing is known of it, and its share stays near the prior's
            assert result.policies[0, WIN_COLUMN] <= prior[WIN_COLUMN] * 1.5


def test_shipped_network_with_gumbel_search_puts_more_mass_on_the_win():
    from nets import NetworkEvaluator, load_checkpoint

    evaluator = NetworkEvaluator(load_checkpoint(shipped_network("connect4"), game="connect4").model)
    state = connect4_from_drawing(C4_WIN_IN_ONE)
    planes = np.zeros((1, *C4.planes_shape), np.float32)
    C4.encode_batch(state[None], planes)
    logits, _ = evaluator.evaluate(state[None], planes)
    prior = np.exp(logits[0] - logits[0].max())
    prior /= prior.sum()
    search = BatchedSearch(C4, evaluator, gumbel(16), batch_size=1)
    search.set_root(0, state)
    result = search.run()
    assert result.chosen[0] == WIN_COLUMN
    assert result.policies[0, WIN_COLUMN] > prior[WIN_COLUMN]


@pytest.mark.parametrize("drawing, right", [(C4_WIN_IN_ONE, WIN_COLUMN), (C4_MUST_BLOCK, BLOCK_COLUMN)],
                         ids=["win", "block"])
def test_tactics_with_random_playouts(drawing, right):
    search = BatchedSearch(C4, RolloutEvaluator(C4, seed=3), gumbel(400), batch_size=1)
    search.set_root(0, connect4_from_drawing(drawing))
    assert search.run().chosen[0] == right


def test_noise_samples_different_moves_and_no_noise_is_deterministic():
    state = C4.initial_state()
    search = BatchedSearch(C4, UniformEvaluator(C4), gumbel(14, root_noise=True), batch_size=1)
    chosen = set()
    for seed in range(30):
        search.set_root(0, state)
        chosen.add(int(search.run(rngs=[np.random.default_rng(seed)]).chosen[0]))
    assert len(chosen) > 3, "Gumbel noise on flat priors: the choice is spread over the moves"
    quiet = BatchedSearch(C4, UniformEvaluator(C4), gumbel(14), batch_size=1)
    picks = set()
    for _ in range(3):
        quiet.set_root(0, state)
        picks.add(int(quiet.run().chosen[0]))
    assert len(picks) == 1


def test_tree_reuse_counts_only_the_new_visits():
    """After advance(), the kept subtree's visits stay; the schedule shares out the new ones."""
    search = BatchedSearch(C4, RolloutEvaluator(C4, seed=1), gumbel(60, root_noise=True), batch_size=1)
    search.set_root(0, C4.initial_state())
    rng = np.random.default_rng(0)
    first = search.run(rngs=[rng])
    search.advance([int(first.chosen[0])])
    kept = search.tree.visits[0, ROOT]
    assert kept > 1, "the chosen child's subtree is the new root"
    second = search.run(rngs=[rng])
    assert search.tree.visits[0, ROOT] == kept + 60
    assert (second.visit_counts[0] >= search.tree.search_start[0]).all()
    assert (second.visit_counts[0] - search.tree.search_start[0]).sum() == 60
