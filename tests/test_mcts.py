"""Batched MCTS: tactics drawn as boards, exhaustive tic-tac-toe against minimax,
batched-versus-single equivalence, noise, virtual loss and tree reuse."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.exact import solver_for
from engine.positions import random_moves
from engine.spec import ONGOING
from mcts import (BatchedSearch, MCTSConfig, RolloutEvaluator, UniformEvaluator, choose_action, choose_move,
                  greedy_moves, search_position)
from mcts.tree import EXPANDED, ROOT, UNVISITED
from tests.boards import connect4_from_drawing, tictactoe_from_drawing

C4 = engine.get_game("connect4")
TTT = engine.get_game("tictactoe")

# X to move (4 stones each side): X wins at once in column 5 (three in the bottom row).
C4_WIN_IN_ONE = """
. . . . . . .
. . . . . . .
. . . . . . .
. . . . . . .
O . . . . O .
O X X X . X O
"""
WIN_COLUMN = 4

# O to move: X threatens to complete the column-2 stack; O must block at column 2.
C4_MUST_BLOCK = """
. . . . . . .
. . . . . . .
. X . . . . .
. X . . . . .
. X O . . . .
. O X O . . .
"""
BLOCK_COLUMN = 1

TTT_WIN_IN_ONE = """
X X .
O O .
. . .
"""  # X to move: c3 wins
TTT_MUST_BLOCK = """
X X .
. O .
. . .
"""  # O to move: c3 blocks


def evaluators(spec):
    return {
        "rollout": (RolloutEvaluator(spec, seed=3), 400),
        "uniform": (UniformEvaluator(spec), 3000),
    }


@pytest.mark.parametrize("kind", ["rollout", "uniform"])
@pytest.mark.parametrize(
    "spec, drawing, from_drawing, expected",
    [
        (C4, C4_WIN_IN_ONE, connect4_from_drawing, WIN_COLUMN),
        (C4, C4_MUST_BLOCK, connect4_from_drawing, BLOCK_COLUMN),
        (TTT, TTT_WIN_IN_ONE, tictactoe_from_drawing, TTT.parse_move("c3")),
        (TTT, TTT_MUST_BLOCK, tictactoe_from_drawing, TTT.parse_move("c3")),
    ],
    ids=["c4-win", "c4-block", "ttt-win", "ttt-block"],
)
def test_tactics(kind, spec, drawing, from_drawing, expected):
    state = from_drawing(drawing)
    evaluator, sims = evaluators(spec)[kind]
    result, pv = search_position(spec, evaluator, MCTSConfig(num_simulations=sims), state)
    assert choose_action(result.visit_counts[0], 0.0, np.random.default_rng(0)) == expected
    assert pv[0] == expected


def test_win_in_one_has_exact_value():
    state = connect4_from_drawing(C4_WIN_IN_ONE)
    result, _ = search_position(C4, UniformEvaluator(C4), MCTSConfig(num_simulations=3000), state)
    assert result.root_values[0] > 0.9, "the winning child is terminal and backs up an exact +1"


# ---- tic-tac-toe: never loses from the empty board, checked against minimax ----


TTT_SOLVER = solver_for(TTT)


def minimax(state: np.ndarray) -> int:
    """Exact value (-1, 0, +1) for the side to move of a tic-tac-toe position."""
    return int(np.sign(TTT_SOLVER.solve(state)))


@pytest.mark.parametrize("rule", ["puct", "gumbel"])
@pytest.mark.parametrize("search_plays_first", [True, False])
def test_tictactoe_search_never_loses_to_any_reply(search_plays_first, rule):
    """Every line where the search moves against all opponent replies: each search
    move keeps the minimax value. Positions of one depth are searched as one batch."""
    # Sequential halving spreads its budget evenly over up to nine moves before it narrows
    # down, so Gumbel search needs more simulations than PUCT to see the deep forks.
    config = MCTSConfig(num_simulations=2000 if rule == "puct" else 6000, search=rule)
    frontier = [TTT.initial_state()]
    searched = 0
    while frontier:
        to_search, following = [], []
        for state in frontier:
            if TTT.status(state) != ONGOING:
                continue
            searchers_turn = (state[9] % 2 == 0) == search_plays_first
            if searchers_turn:
                to_search.append(state)
            else:
                following += [engine.play_action(TTT, state, a) for a in engine.legal_actions(TTT, state)]
        if to_search:
            # Gumbel search's deterministic selection below the root follows its best Q-values
            # greedily: it is checked on exact values (terminal ones only), not noisy playouts.
            evaluator = RolloutEvaluator(TTT, num_playouts=4, seed=1) if rule == "puct" else UniformEvaluator(TTT)
            search = BatchedSearch(TTT, evaluator, config, batch_size=len(to_search))
            search.set_roots(np.stack(to_search))
            result = search.run()
            for b, state in enumerate(to_search):
                action = choose_move(result, b, 0.0, np.random.default_rng(0))
                after = engine.play_action(TTT, state, action)
                assert -minimax(after) == minimax(state), (
                    f"search threw away value in\n{TTT.render(state)}\nplaying {TTT.format_move(action)}")
                following.append(after)
            searched += len(to_search)
        frontier = {tuple(s): s for s in following}.values()
    assert searched > 50


# ---- batching, counts, noise, virtual loss, reuse -----------------------------


def random_openings(spec, count, plies, seed):
    """[count, S]: positions after ``plies`` random moves (short enough not to end a game)."""
    rng = np.random.default_rng(seed)
    return np.stack([random_moves(spec, plies, rng)[1] for _ in range(count)])


@pytest.mark.parametrize("rule", ["puct", "gumbel"])
def test_batched_search_equals_single_searches(rule):
    config = MCTSConfig(num_simulations=300, root_noise=True, search=rule)
    states = random_openings(C4, 6, plies=5, seed=4)
    batched = BatchedSearch(C4, RolloutEvaluator(C4, seed=9), config, batch_size=len(states))
    batched.set_roots(states)
    together = batched.run(rngs=[np.random.default_rng(100 + b) for b in range(len(states))])
    for b, state in enumerate(states):
        single = BatchedSearch(C4, RolloutEvaluator(C4, seed=9), config, batch_size=1)
        single.set_root(0, state)
        alone = single.run(rngs=[np.random.default_rng(100 + b)])
        assert np.array_equal(alone.visit_counts[0], together.visit_counts[b])
        assert np.array_equal(alone.policies[0], together.policies[b])
        assert alone.root_values[0] == together.root_values[b]
        if rule == "gumbel":
            assert alone.chosen[0] == together.chosen[b]


class StepByStep:
    """Hides a playout evaluator's numba nature: the search takes its Python step loop."""

    needs_planes = False

    def __init__(self, inner):
        self.inner = inner

    def evaluate(self, states, planes=None):
        return self.inner.evaluate(states, planes)


@pytest.mark.parametrize("rule", ["puct", "gumbel"])
@pytest.mark.parametrize("leaves_per_tree", [1, 3])
def test_whole_search_in_numba_equals_the_step_loop(leaves_per_tree, rule):
    config = MCTSConfig(num_simulations=200, root_noise=True, leaves_per_tree=leaves_per_tree, search=rule)
    states = random_openings(C4, 4, plies=3, seed=11)
    results = []
    for wrap in (lambda e: e, StepByStep):
        search = BatchedSearch(C4, wrap(RolloutEvaluator(C4, seed=2)), config, batch_size=4)
        search.set_roots(states)
        results.append(search.run(rngs=[np.random.default_rng(b) for b in range(4)]))
    assert np.array_equal(results[0].visit_counts, results[1].visit_counts)
    assert np.array_equal(results[0].root_values, results[1].root_values)
    assert np.array_equal(results[0].policies, results[1].policies)


@pytest.mark.parametrize("rule", ["puct", "gumbel"])
@pytest.mark.parametrize("leaves_per_tree", [1, 4])
def test_visit_counts_sum_to_simulations(leaves_per_tree, rule):
    config = MCTSConfig(num_simulations=250, leaves_per_tree=leaves_per_tree, search=rule)
    states = random_openings(C4, 5, plies=3, seed=2)
    search = BatchedSearch(C4, RolloutEvaluator(C4), config, batch_size=5)
    search.set_roots(states)
    result = search.run()
    assert (result.visit_counts.sum(axis=1) == 250).all()
    tree = search.tree
    assert (tree.visits[:, ROOT] == 251).all(), "root: its own evaluation plus every simulation"
    assert np.allclose(tree.value_sums[:, :tree.num_nodes.max()].max(), tree.value_sums.max())


def test_per_game_simulation_counts():
    search = BatchedSearch(C4, UniformEvaluator(C4), MCTSConfig(num_simulations=100), batch_size=3)
    search.set_roots(random_openings(C4, 3, plies=2, seed=5))
    result = search.run(num_simulations=np.array([100, 10, 1]))
    assert list(result.visit_counts.sum(axis=1)) == [100, 10, 1]


def test_virtual_loss_spreads_leaves_and_still_finds_the_win():
    state = connect4_from_drawing(C4_WIN_IN_ONE)
    config = MCTSConfig(num_simulations=600, leaves_per_tree=8)
    result, pv = search_position(C4, RolloutEvaluator(C4, seed=1), config, state)
    assert pv[0] == WIN_COLUMN


class HashEvaluator:
    """Deterministic non-uniform logits and values from the position alone."""

    needs_planes = False

    def __init__(self, spec):
        self.num_actions = spec.num_actions

    def logits_of(self, state):
        return np.sin(np.arange(1, self.num_actions + 1) * (float(state.sum() % 9973) + 1.0)).astype(np.float32)

    def evaluate(self, states, planes=None):
        logits = np.stack([self.logits_of(s) for s in states]) if len(states) else np.zeros((0, self.num_actions), np.float32)
        return logits, np.tanh(logits[:, 0]).astype(np.float32)


def test_noise_touches_only_the_root():
    state = random_openings(C4, 1, plies=4, seed=8)[0]
    evaluator = HashEvaluator(C4)
    results = {}
    for noise in (False, True):
        search = BatchedSearch(C4, evaluator, MCTSConfig(num_simulations=400, root_noise=noise), batch_size=1)
        search.set_root(0, state)
        results[noise] = search.run(rngs=[np.random.default_rng(0)])
        tree = search.tree
        for node in range(tree.num_nodes[0]):
            if tree.expanded[0, node] != EXPANDED:
                continue
            logits = evaluator.logits_of(tree.states[0, node])
            legal = tree.legal[0, node]
            expected = np.where(legal, np.exp(logits - logits[legal].max()), 0.0)
            assert np.allclose(tree.priors[0, node], expected / expected.sum(), atol=1e-6), "stored priors stay clean"
        noise_vector = tree.root_noise[0]
        if noise:
            assert np.isclose(noise_vector.sum(), 1.0) and not noise_vector[~tree.legal[0, ROOT]].any()
        else:
            assert not noise_vector.any()
    assert not np.array_equal(results[True].visit_counts, results[False].visit_counts)


def test_reused_subtree_keeps_its_statistics():
    state = random_openings(C4, 1, plies=2, seed=6)[0]
    search = BatchedSearch(C4, RolloutEvaluator(C4), MCTSConfig(num_simulations=500), batch_size=1)
    search.set_root(0, state)
    result = search.run()
    action = int(np.argmax(result.visit_counts[0]))
    tree = search.tree
    child = tree.children[0, ROOT, action]
    child_visits, child_sum = tree.visits[0, child], tree.value_sums[0, child]
    grandchildren = tree.children[0, child].copy()
    grand_visits = [tree.visits[0, g] if g != UNVISITED else 0 for g in grandchildren]
    child_state = tree.states[0, child].copy()

    search.advance([action])
    assert tree.visits[0, ROOT] == child_visits and tree.value_sums[0, ROOT] == child_sum
    assert np.array_equal(tree.states[0, ROOT], child_state)
    assert tree.parents[0, ROOT] == UNVISITED
    kept = [tree.visits[0, g] if g != UNVISITED else 0 for g in tree.children[0, ROOT]]
    assert kept == grand_visits
    for node in range(1, tree.num_nodes[0]):  # parents point at nodes holding the preceding position
        parent = tree.parents[0, node]
        replay = np.empty(C4.state_size, np.int64)
        C4.play_into(tree.states[0, parent], tree.actions[0, node], replay)
        assert np.array_equal(replay, tree.states[0, node])
    # A second search adds the new simulations on top of the kept visits.
    again = search.run()
    assert again.visit_counts[0].sum() == sum(grand_visits) + 500


def test_reuse_over_a_whole_game_never_overflows():
    search = BatchedSearch(TTT, RolloutEvaluator(TTT), MCTSConfig(num_simulations=200), batch_size=2)
    search.set_roots(np.stack([TTT.initial_state()] * 2))
    rng = np.random.default_rng(0)
    while search.active.any():
        result = search.run()
        actions = [choose_action(result.visit_counts[b], 1.0, rng) if search.active[b] else 0 for b in range(2)]
        search.advance(actions)
        for b in range(2):
            if search.active[b] and TTT.status(search.root_state(b)) != ONGOING:
                search.deactivate(b)


def test_tree_statistics_add_up_after_reuse_drops_nodes():
    """Reuse keeps at most keep_limit nodes; whatever it drops leaves the visits of
    every kept node equal to 1 + the sum of its children's (value sums likewise)."""
    search = BatchedSearch(C4, RolloutEvaluator(C4), MCTSConfig(num_simulations=100), batch_size=1)
    search.set_root(0, C4.initial_state())
    tree = search.tree
    dropped_some = False
    for _ in range(12):
        before = search.run()
        action = int(np.argmax(before.visit_counts[0]))
        child = tree.children[0, ROOT, action]
        subtree = 0
        stack = [child]
        while stack:
            node = stack.pop()
            subtree += 1
            stack += [c for c in tree.children[0, node] if c != UNVISITED]
        search.advance([action])
        dropped_some |= tree.num_nodes[0] < subtree
        for node in range(tree.num_nodes[0]):
            if tree.expanded[0, node] != EXPANDED:
                continue
            kids = [c for c in tree.children[0, node] if c != UNVISITED]
            assert tree.visits[0, node] == 1 + sum(tree.visits[0, c] for c in kids)
            leaf_value = -tree.value_sums[0, node] - sum(tree.value_sums[0, c] for c in kids)
            assert abs(leaf_value) <= 1.0 + 1e-9, "what is left is the node's own evaluation"
    assert dropped_some, "the test must exercise truncation"


def test_one_leaf_per_step_is_sequential_mcts():
    """With one leaf per tree, the virtual loss must not change a single decision."""
    state = random_openings(C4, 1, plies=3, seed=12)[0]
    counts = []
    for virtual_loss in (0.0, 1.0, 3.0):
        result, _ = search_position(C4, RolloutEvaluator(C4, seed=4),
                                    MCTSConfig(num_simulations=300, virtual_loss=virtual_loss), state)
        counts.append(result.visit_counts[0])
    assert np.array_equal(counts[0], counts[1]) and np.array_equal(counts[0], counts[2])


def test_choose_action_temperature():
    rng = np.random.default_rng(0)
    counts = np.array([1, 7, 2, 0])
    assert choose_action(counts, 0.0, rng) == 1
    draws = np.bincount([choose_action(counts, 1.0, rng) for _ in range(4000)], minlength=4) / 4000
    assert np.allclose(draws, counts / counts.sum(), atol=0.03)
    assert draws[3] == 0
    assert choose_action(np.array([3, 900, 5, 0]), 0.001, rng) == 1, "tiny temperatures do not overflow"


# ---- KataGo's forced playouts and policy target pruning; discounted values ----------


def test_forced_playouts_visit_every_root_child_and_pruning_takes_them_out_of_the_target():
    k = 2.0
    config = MCTSConfig(num_simulations=400, root_noise=True, forced_playouts=k, dirichlet_alpha=0.3)
    states = random_openings(C4, 6, plies=4, seed=8)
    search = BatchedSearch(C4, RolloutEvaluator(C4, seed=4), config, batch_size=len(states))
    search.set_roots(states)
    result = search.run(rngs=[np.random.default_rng(b) for b in range(len(states))])
    tree = search.tree
    for b in range(len(states)):
        legal = tree.legal[b, ROOT]
        noised = (1 - config.dirichlet_fraction) * tree.priors[b, ROOT] + config.dirichlet_fraction * tree.root_noise[b]
        counts = result.visit_counts[b]
        # Each child got its forced visits (the last one may still be owed when the budget ran out).
        owed = np.sqrt(k * noised * (counts.sum())) - counts
        assert (owed[legal] <= 1.0).all()
        target = result.policies[b]
        assert target.sum() == pytest.approx(1.0)
        best = counts.argmax()
        shares = counts / counts.sum()
        assert target[best] >= shares[best]
        # c* keeps all its visits: the others' visits relative to it only shrink.
        assert (target / target[best] <= counts / counts[best] + 1e-6).all()
        assert (target < shares - 1e-6).any(), "some forced visits were not earned"
        assert ((target == 0) | (counts > 1)).all(), "a child left with one visit is dropped"


def test_without_noise_forced_playouts_change_nothing():
    state = connect4_from_drawing(C4_MUST_BLOCK)
    plain, _ = search_position(C4, RolloutEvaluator(C4, seed=1), MCTSConfig(num_simulations=200), state)
    forced, _ = search_position(C4, RolloutEvaluator(C4, seed=1), MCTSConfig(num_simulations=200, forced_playouts=2),
                                state)
    assert np.array_equal(plain.visit_counts, forced.visit_counts)
    assert np.array_equal(plain.policies, forced.policies)


@pytest.mark.parametrize("discount", [1.0, 0.9])
def test_discounted_values_shrink_with_every_ply_to_the_end(discount):
    """Exact values only (uniform evaluator): the win now is worth 1, every other move at most
    discount (its results lie at least one ply further)."""
    state = tictactoe_from_drawing(TTT_WIN_IN_ONE)
    config = MCTSConfig(num_simulations=3000, value_discount=discount)
    search = BatchedSearch(TTT, UniformEvaluator(TTT), config, batch_size=1)
    search.set_root(0, state)
    result = search.run()
    win = TTT.parse_move("c3")
    assert result.visit_counts[0].argmax() == win
    tree = search.tree
    for action, child in enumerate(tree.children[0, ROOT]):
        if child == UNVISITED:
            continue
        q = tree.value_sums[0, child] / tree.visits[0, child]
        if action == win:
            assert q == 1.0
        else:
            assert abs(q) <= discount + 1e-9
    assert result.root_values[0] <= 1.0


# ---- a move that wins at once is played, whatever the visits say --------------


def winning_moves(spec, state) -> list[int]:
    """The search-mask moves after which the opponent has lost, found move by move on the engine."""
    mask = np.zeros(spec.num_actions, np.bool_)
    spec.search_mask(state, mask)
    return [int(a) for a in np.flatnonzero(mask) if spec.status(engine.play_action(spec, state, a)) == -1]


@pytest.mark.parametrize("game", ["tictactoe", "connect4"])
def test_wins_name_a_winning_move_exactly_where_one_exists(game):
    spec = engine.get_game(game)
    rng = np.random.default_rng(5)
    states = []
    while len(states) < 64:
        _, state = random_moves(spec, int(rng.integers(0, spec.num_actions * 2)), rng)
        if spec.status(state) == ONGOING:
            states.append(state)
    search = BatchedSearch(spec, UniformEvaluator(spec), MCTSConfig(num_simulations=2), batch_size=len(states))
    search.set_roots(np.stack(states))
    wins = search.run().wins
    expected = [winning_moves(spec, state) for state in states]
    assert any(expected) and not all(expected), "the sample holds positions of both kinds"
    for b, moves in enumerate(expected):
        assert wins[b] == (moves[0] if moves else -1)


def test_a_pass_that_wins_on_the_count_is_played_though_search_never_visited_it():
    go9 = engine.get_game("go9")
    state = engine.play_move(go9, go9.initial_state(), "pass")  # white to move: komi wins the count
    search = BatchedSearch(go9, UniformEvaluator(go9), MCTSConfig(num_simulations=8), batch_size=2)
    search.set_roots(np.stack([state, go9.initial_state()]))
    result = search.run()
    passing = go9.num_actions - 1
    assert result.visit_counts[0, passing] == 0, "8 simulations among 82 moves: the pass was not searched"
    assert list(result.wins) == [passing, -1], "black, on the empty board, cannot win by passing"
    assert choose_move(result, 0, 1.0, np.random.default_rng(0)) == passing
    assert list(greedy_moves(result)) == [passing, result.visit_counts[1].argmax()]


def test_wins_follow_the_root_through_tree_reuse():
    spec = TTT
    search = BatchedSearch(spec, UniformEvaluator(spec), MCTSConfig(num_simulations=200, reuse_tree=True),
                           batch_size=1)
    search.set_root(0, engine.position_from_moves(spec, ["a1", "b1", "a2"]))  # O to move, no win yet
    assert search.run().wins[0] == -1
    search.advance_one(0, spec.parse_move("b2"))  # X to move: a3 wins
    assert search.run().wins[0] == spec.parse_move("a3")
    search.deactivate(0)
    assert search.run().wins[0] == -1, "an inactive tree holds no move"
