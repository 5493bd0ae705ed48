"""Score margins in the search tree (``BatchedSearch(..., scores=True)``): what analysis
reports as the score lead. Checked against a hand-counted finished board and against the
tree's own bookkeeping recomputed node by node."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import engine
from mcts import BatchedSearch, MCTSConfig
from mcts.evaluators import UniformEvaluator
from mcts.tree import UNVISITED
from nets import NetConfig, NetworkEvaluator, PolicyValueNet

GO5 = engine.get_game("go5")
PASS = GO5.num_actions - 1


class ScoreStub:
    """Random priors, values and score margins, each a fixed function of the position (so a
    batched search sees the same figures as a single one)."""

    needs_planes = False
    has_score = True

    def __init__(self, pass_logit: float = 0.0, sharpness: float = 1.0):
        self.pass_logit = pass_logit
        self.sharpness = sharpness

    def evaluate(self, states, planes):
        logits, values, _ = self.evaluate_scores(states, planes)
        return logits, values

    def evaluate_scores(self, states, planes):
        rows = [np.random.default_rng(zlib.crc32(state.tobytes())) for state in states]
        logits = np.array([rng.normal(size=GO5.num_actions) for rng in rows], np.float32)
        values = np.array([rng.uniform(-0.9, 0.9) for rng in rows], np.float32)
        scores = np.array([rng.normal(scale=20.0) for rng in rows], np.float32)
        logits *= self.sharpness
        logits[:, PASS] += self.pass_logit
        return logits, values, scores


def position(moves: str) -> np.ndarray:
    """The go5 position after ``moves`` (alternating from black; 'pass' passes)."""
    state = GO5.initial_state()
    for move in moves.split():
        following = np.empty_like(state)
        GO5.play_into(state, GO5.parse_move(move), following)
        state = following
    return state


# Black D and E columns (10 points), white A to C (15): after black's pass, white passing
# ends the game and wins by 15 - 10 + 7.5 komi = 12.5.
WHITE_AHEAD = position("D1 C1 D2 C2 D3 C3 D4 C4 D5 C5 pass")


def check_score_sums(search: BatchedSearch, b: int) -> int:
    """Each node's score sum is its own evaluations (a finished game's exact margin counts at
    every visit) plus its children's sums, each from the other side's view; returns the
    nodes checked."""
    tree = search.tree
    for node in range(tree.num_nodes[b]):
        children = tree.children[b, node][tree.children[b, node] != UNVISITED]
        own_visits = tree.visits[b, node] - tree.visits[b, children].sum()
        expected = -own_visits * float(tree.raw_scores[b, node]) - tree.score_sums[b, children].sum()
        assert tree.score_sums[b, node] == pytest.approx(expected, abs=1e-6 * max(1, tree.visits[b, node]))
    return int(tree.num_nodes[b])


def test_a_finished_game_backs_up_its_counted_margin():
    search = BatchedSearch(GO5, ScoreStub(pass_logit=3.0), MCTSConfig(num_simulations=200, root_noise=False),
                           scores=True)
    search.set_root(0, WHITE_AHEAD)
    search.run()
    stats = search.root_children(0)
    # The pass ends the game: black, to move there, has lost.
    assert stats.visits[PASS] > 0 and search.tree.statuses[0, search.tree.children[0, 0, PASS]] == -1
    assert stats.scores[PASS] == pytest.approx(12.5)  # white's margin, for white (to move)
    assert GO5.final_margin(position("D1 C1 D2 C2 D3 C3 D4 C4 D5 C5 pass pass")) == -12.5  # black to move
    searched = stats.visits > 0
    assert np.isfinite(stats.scores[searched]).all() and np.isnan(stats.scores[~searched]).all()
    root_visits = search.tree.visits[0, 0]
    own = root_visits - stats.visits.sum()  # the root's own evaluation
    expected_root = (own * search.tree.raw_scores[0, 0] + (stats.visits[searched] * stats.scores[searched]).sum())
    assert stats.root_score == pytest.approx(expected_root / root_visits, rel=1e-6)


@pytest.mark.parametrize("search_kind", ["puct", "gumbel"])
def test_score_sums_add_up_in_batched_search_and_after_tree_reuse(search_kind):
    config = MCTSConfig(num_simulations=120, search=search_kind, leaves_per_tree=4, root_noise=False)
    # Sharp priors: search follows one line deep, so the kept subtree fills the tree.
    search = BatchedSearch(GO5, ScoreStub(sharpness=4.0), config, batch_size=2, scores=True)
    search.set_roots([GO5.initial_state(), position("C3 D3")])
    keep_limit = search.tree.visits.shape[1] - search.max_new_nodes
    truncated = False
    for _ in range(5):
        search.run()
        for b in range(2):
            check_score_sums(search, b)
        search.advance([int(search.root_children(b).visits.argmax()) for b in range(2)])
        truncated |= bool((search.tree.num_nodes == keep_limit).any())
        for b in range(2):
            check_score_sums(search, b)  # kept subtrees, and the ancestors of dropped ones, still add up
    # Some reuse dropped part of a subtree (Gumbel's sequential halving spreads the root's
    # visits, so its kept subtrees stay small: PUCT exercises the path).
    assert truncated or search_kind == "gumbel"


def test_only_a_network_with_a_score_head_tracks_scores():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="score"):
        BatchedSearch(GO5, UniformEvaluator(GO5), MCTSConfig(num_simulations=8), scores=True)
    plain = NetworkEvaluator(PolicyValueNet.from_spec(GO5, NetConfig(blocks=1, channels=8)), device="cpu")
    assert not plain.has_score
    with pytest.raises(ValueError, match="score"):
        BatchedSearch(GO5, plain, MCTSConfig(num_simulations=8), scores=True)
    model = PolicyValueNet.from_spec(GO5, NetConfig(blocks=1, channels=8, score_hidden=8))
    evaluator = NetworkEvaluator(model, device="cpu")
    assert evaluator.has_score
    planes = np.zeros((2, *GO5.planes_shape), np.float32)
    GO5.encode(WHITE_AHEAD, planes[1])
    logits, values, scores = evaluator.evaluate_scores(None, planes)
    with torch.no_grad():
        heads = model.eval().forward_heads(torch.from_numpy(planes))
    assert np.allclose(scores, heads["score"].numpy(), atol=1e-5) and np.allclose(values, heads["value"].numpy())
    assert np.allclose(logits, heads["policy"].numpy(), atol=1e-5)
    search = BatchedSearch(GO5, evaluator, MCTSConfig(num_simulations=32, root_noise=False), scores=True)
    search.set_root(0, WHITE_AHEAD)
    search.run()
    assert check_score_sums(search, 0) > 1 and np.isfinite(search.root_children(0).root_score)


class CentreStub:
    """Value 0 and flat priors everywhere; a margin of 10 points for black when black holds C3
    (from the side to move's view), else 0."""

    needs_planes = False
    has_score = True

    def evaluate(self, states, planes):
        return self.evaluate_scores(states, planes)[:2]

    def evaluate_scores(self, states, planes):
        from engine import go_positions

        scores = [10.0 * (GO5.parse_move("C3") in go_positions.stones(state)[0]) * go_positions.side_to_move(state)
                  for state in states]
        return (np.zeros((len(states), GO5.num_actions), np.float32), np.zeros(len(states), np.float32),
                np.array(scores, np.float32))


def test_the_score_utility_steers_search_to_the_larger_margin():
    """Every value is 0, so values alone cannot tell the moves apart; the score utility makes
    black's C3 (+10 points) the move search spends its visits on."""
    visits = {}
    for weight in (0.0, 0.3):
        config = MCTSConfig(num_simulations=200, score_utility=weight, root_noise=False)
        search = BatchedSearch(GO5, CentreStub(), config, scores=True)
        search.set_root(0, GO5.initial_state())
        visits[weight] = search.run().visit_counts[0]
        if weight:
            tree = search.tree
            assert tree.score_centre[0] == 0.0  # the empty board's margin
            for node in range(1, tree.num_nodes[0]):  # every evaluated node's value is its utility
                depth, parent = 1, tree.parents[0, node]
                while parent != 0:
                    depth, parent = depth + 1, tree.parents[0, parent]
                expected = weight * 2 / np.pi * np.arctan(tree.raw_scores[0, node] / 5.0)  # centre 0; scale: 5x5
                assert tree.raw_values[0, node] == pytest.approx(expected, abs=1e-6)
    c3 = GO5.parse_move("C3")
    assert visits[0.3].argmax() == c3 and visits[0.3][c3] > 0.5 * visits[0.3].sum()
    assert visits[0.0][c3] < 0.2 * visits[0.0].sum()


def test_the_score_utility_is_centred_on_the_roots_margin():
    """Each node's value is its evaluation plus the utility of its margin measured from the
    root's margin (turned to the node's side); after a move the kept root's mean margin is the
    next search's centre."""
    config = MCTSConfig(num_simulations=50, score_utility=0.3, root_noise=False)
    stub = ScoreStub()
    search = BatchedSearch(GO5, stub, config, scores=True)
    for root in (WHITE_AHEAD, position("C3 D3")):
        search.set_root(0, root)
        search.run()
        tree = search.tree
        assert tree.score_centre[0] == pytest.approx(float(tree.raw_scores[0, 0]))
        for node in range(1, tree.num_nodes[0]):
            sign, parent = -1.0, tree.parents[0, node]
            while parent != 0:
                sign, parent = -sign, tree.parents[0, parent]
            status = tree.statuses[0, node]
            base = float(status) if status != 2 else float(stub.evaluate_scores(tree.states[0, node:node + 1],
                                                                                None)[1][0])
            utility = 0.3 * 2 / np.pi * np.arctan((tree.raw_scores[0, node] - sign * tree.score_centre[0]) / 5.0)
            assert tree.raw_values[0, node] == pytest.approx(base + utility, abs=1e-5)
    search.advance([GO5.parse_move("E5")])
    kept_visits = search.tree.visits[0, 0]
    assert kept_visits > 0 and GO5.status(search.root_state(0)) == 2
    kept_margin = -search.tree.score_sums[0, 0] / kept_visits
    search.run()
    assert search.tree.score_centre[0] == pytest.approx(kept_margin)
    with pytest.raises(ValueError, match="score"):
        BatchedSearch(GO5, UniformEvaluator(GO5), config)
