"""Self-play actors: what they record as targets with each search and value setting."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from mcts import MCTSConfig, RolloutEvaluator, UniformEvaluator
from selfplay.actor import SelfPlayActor
from selfplay.config import SelfPlayConfig
from selfplay.targets import REPLY

TTT = engine.get_game("tictactoe")


def play(mcts: MCTSConfig, games: int = 24, evaluator=None, **selfplay) -> list:
    config = SelfPlayConfig(games_in_parallel=8, resign_threshold=-2.0, **selfplay)
    actor = SelfPlayActor(TTT, evaluator or UniformEvaluator(TTT), mcts, config, np.random.default_rng(0))
    return actor.play(games)


@pytest.mark.parametrize("discount", [1.0, 0.8])
def test_value_targets_are_the_result_discounted_per_ply_to_the_end(discount):
    for record in play(MCTSConfig(num_simulations=16, value_discount=discount)):
        plies_left = record.length - np.arange(len(record.states))
        expected = record.players * record.result * discount ** plies_left
        assert np.allclose(record.values, expected, atol=1e-6)
        if record.result != 0:
            assert record.values[-1] == pytest.approx(record.players[-1] * record.result * discount)


def test_value_targets_mix_in_the_search_value():
    evaluator = RolloutEvaluator(TTT, seed=2)
    plain = play(MCTSConfig(num_simulations=16), evaluator=evaluator)
    mixed = play(MCTSConfig(num_simulations=16), evaluator=evaluator, value_target_search=0.5)
    for z_only, half in zip(plain, mixed):  # the same games: the target does not steer play
        assert z_only.result == half.result and np.array_equal(z_only.states, half.states)
        searched = 2 * half.values - z_only.values  # the root values q
        assert (np.abs(searched) <= 1 + 1e-6).all()
    assert any(not np.allclose(2 * h.values - z.values, z.values) for z, h in zip(plain, mixed))


@pytest.mark.parametrize("mcts", [MCTSConfig(num_simulations=12, search="gumbel"),
                                  MCTSConfig(num_simulations=40, forced_playouts=2.0)], ids=["gumbel", "forced"])
def test_policy_targets_are_distributions_over_legal_moves(mcts):
    records = play(mcts, evaluator=RolloutEvaluator(TTT, seed=1))
    assert len(records) == 24
    for record in records:
        assert np.allclose(record.policies.sum(axis=1), 1.0, atol=1e-5)
        legal = np.zeros((len(record.states), TTT.num_actions), np.bool_)
        TTT.legal_mask_batch(record.states, legal)
        assert (record.policies[~legal] == 0).all()


def test_reply_policies_are_the_next_recorded_positions_targets():
    # Playout-cap randomisation leaves some positions unrecorded: their predecessors get no reply.
    actor = SelfPlayActor(TTT, RolloutEvaluator(TTT, seed=3), MCTSConfig(num_simulations=16),
                          SelfPlayConfig(games_in_parallel=8, resign_threshold=-2.0, full_search_share=0.6,
                                         fast_simulations=4),
                          np.random.default_rng(0), aux_targets=frozenset({REPLY.key}))
    records = actor.play(24)
    gaps = 0
    for record in records:
        plies = [TTT.num_actions - int((state[:TTT.num_actions] == 0).sum()) for state in record.states]
        for t in range(len(record.states)):
            follows = t + 1 < len(record.states) and plies[t + 1] == plies[t] + 1
            expected = record.policies[t + 1] if follows else np.zeros(TTT.num_actions, np.float32)
            assert np.array_equal(record.aux[REPLY.key][t], expected)
            gaps += t + 1 < len(record.states) and not follows
    assert gaps > 0, "some recorded positions are followed by an unrecorded one"
    assert all(play(MCTSConfig(num_simulations=8), games=8)[i].aux == {} for i in range(8))
