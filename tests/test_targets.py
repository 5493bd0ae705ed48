"""KataGo's ownership and score targets (Go): what self-play records from the played-out final
board, how shards, the buffer's symmetries and the losses treat them, and a run that trains
the heads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import engine
from engine import go
from mcts import MCTSConfig, RolloutEvaluator
from nets import NetConfig, PolicyValueNet
from selfplay.actor import SelfPlayActor
from selfplay.buffer import Positions, encoded_batch
from selfplay.config import RunConfig, SelfPlayConfig, TrainConfig
from selfplay.loop import TrainingRun
from selfplay.shards import read_shard, shard_from_games, shard_paths, write_shard
from selfplay.targets import OWNERSHIP, SCORE, UNKNOWN_OWNER
from selfplay.trainer import SCORE_SCALE, train_step

GO5 = engine.get_game("go5")
BOTH = frozenset({OWNERSHIP.key, SCORE.key})


@pytest.fixture(scope="module")
def go5_records():
    config = SelfPlayConfig(games_in_parallel=6, resign_threshold=-0.9, resign_disabled_share=0.5)
    actor = SelfPlayActor(GO5, RolloutEvaluator(GO5, seed=1), MCTSConfig(num_simulations=24), config,
                          np.random.default_rng(0), aux_targets=BOTH)
    return actor.play(12)


def test_ownership_and_score_come_from_the_final_board_for_each_side_to_move(go5_records):
    played_out = [r for r in go5_records if not r.resigned]
    assert played_out and any(r.resigned for r in go5_records), "both kinds of games happen"
    for record in go5_records:
        ownership, score = record.aux[OWNERSHIP.key], record.aux[SCORE.key]
        assert ownership.shape == (len(record.states), 25) and ownership.dtype == np.int8
        if record.resigned:
            assert (ownership == UNKNOWN_OWNER).all() and np.isnan(score).all()
            continue
        first_player_owners = ownership * record.players[:, None]
        assert (first_player_owners == first_player_owners[0]).all()  # one final board
        first_player_score = score * record.players
        assert np.allclose(first_player_score, first_player_score[0])
        # Independent of the ownership map: the score's sign is the game's result (komi 7.5: no draw)
        # and the score is the map's sum less komi.
        assert np.sign(first_player_score[0]) == record.result
        assert first_player_score[0] == pytest.approx(first_player_owners[0].sum() - 7.5)


def test_shards_keep_the_targets_and_symmetries_move_ownership_with_the_board(go5_records, tmp_path):
    path = tmp_path / "gen00001-00000.npz"
    write_shard(shard_from_games(go5_records, 1, "go5", GO5.num_actions, GO5.state_size), path)
    positions = Positions.of_shards([read_shard(path)])
    assert positions.aux[OWNERSHIP.key].dtype == np.int8
    assert np.array_equal(positions.aux[SCORE.key], np.concatenate([r.aux[SCORE.key] for r in go5_records]),
                          equal_nan=True)
    # Each position's own area map as its target: under a symmetry it must be the map of the
    # position the engine's transform_into makes (the board and the target move together).
    own_maps = np.zeros((len(positions), 25), np.int8)
    for row, state in enumerate(positions.states):
        go.area_owners(state, own_maps[row])
    positions.aux[OWNERSHIP.key] = own_maps
    symmetries = np.arange(len(positions)) % GO5.num_symmetries
    batch = encoded_batch(GO5, positions, symmetries)
    transformed, expected = np.zeros(GO5.state_size, np.int64), np.zeros(25, np.int8)
    for row, state in enumerate(positions.states):
        GO5.transform_into(state, GO5.cell_perms[symmetries[row]], transformed)
        go.area_owners(transformed, expected)
        assert np.array_equal(batch.aux[OWNERSHIP.key][row], expected)
    assert np.array_equal(batch.aux[SCORE.key], positions.aux[SCORE.key], equal_nan=True)


def test_losses_leave_unknown_rows_out():
    torch.manual_seed(0)
    model = PolicyValueNet.from_spec(GO5, NetConfig(blocks=1, channels=8, ownership_channels=4, score_hidden=8))
    rng = np.random.default_rng(0)
    planes = rng.random((6, *GO5.planes_shape)).astype(np.float32)
    policies = np.full((6, GO5.num_actions), 1 / GO5.num_actions, np.float32)
    owners = rng.integers(-1, 2, size=(6, 25)).astype(np.int8)
    owners[4:] = UNKNOWN_OWNER
    scores = rng.normal(0, 10, size=6).astype(np.float32)
    scores[:2] = np.nan
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    metrics = train_step(model, optimizer, dataclasses.replace(
        encoded_batch(GO5, Positions(np.zeros((6, GO5.state_size), np.int64), policies, np.zeros(6, np.float32))),
        planes=planes, aux={OWNERSHIP.key: owners, SCORE.key: scores}),
        aux_weights={OWNERSHIP.key: 1.5, SCORE.key: 0.5})
    with torch.no_grad():
        heads = model.forward_heads(torch.from_numpy(planes))
    p_own = (1 + torch.tanh(heads["ownership"][:4])) / 2
    target = torch.from_numpy((1 + owners[:4].astype(np.float32)) / 2)
    expected_ownership = -(target * p_own.log() + (1 - target) * (1 - p_own).log()).mean()
    assert metrics["ownership_loss"] == pytest.approx(expected_ownership.item(), rel=1e-4)
    error = (heads["score"][2:] - torch.from_numpy(scores[2:])).abs() / SCORE_SCALE
    expected_score = torch.where(error < 1, 0.5 * error ** 2, error - 0.5).mean()
    assert metrics["score_loss"] == pytest.approx(expected_score.item(), rel=1e-4)
    assert metrics["loss"] == pytest.approx(metrics["policy_loss"] + metrics["value_loss"]
                                            + 1.5 * metrics["ownership_loss"] + 0.5 * metrics["score_loss"], rel=1e-5)


def test_a_go_run_trains_ownership_and_score_heads(tmp_path):
    base = RunConfig(game="go5", net="b1c16", device="cpu", eval_positions=0)
    config = dataclasses.replace(
        base, mcts=base.mcts.replace(num_simulations=8),
        selfplay=dataclasses.replace(base.selfplay, games_in_parallel=8, games_per_generation=8),
        train=dataclasses.replace(base.train, batch_size=32, steps_per_generation=2, window_min=100,
                                  ownership_weight=1.5, score_weight=0.5))
    run = TrainingRun(tmp_path / "run", config, log=lambda line: None)
    assert run.model.config.ownership_channels > 0 and run.model.config.score_hidden > 0
    run.run(generations=1)
    shard = read_shard(shard_paths(run.paths.games)[0])
    assert set(shard.aux) == {OWNERSHIP.key, SCORE.key}
    row = [line for line in (run.paths.logs / "metrics.jsonl").read_text().splitlines() if line][-1]
    assert '"ownership_loss"' in row and '"score_loss"' in row
    with pytest.raises(ValueError, match="scored by territory"):
        RunConfig(game="connect4", train=TrainConfig(ownership_weight=1.0))


def test_go_ownership_and_score_agree_with_the_area_count():
    state = go.spec_for_size(5).initial_state()
    owners, score = go.ownership_and_score(state)
    assert (owners == 0).all() and score == -7.5  # an empty board is nobody's: white wins by komi
