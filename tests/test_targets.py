"""KataGo's ownership and score targets (Go): what self-play records from the played-out final
board, how shards, the buffer's symmetries and the losses treat them, and a run that trains
the heads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import engine
from engine import go, go_positions
from mcts import MCTSConfig, RolloutEvaluator
from nets import NetConfig, PolicyValueNet
from selfplay.actor import SelfPlayActor, scored_by_owners
from selfplay.buffer import Positions, encoded_batch
from selfplay.config import RunConfig, SelfPlayConfig, TrainConfig
from selfplay.loop import TrainingRun
from selfplay.shards import game_metrics, read_shard, shard_from_games, shard_paths, write_shard
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


# ---- games ended by the ownership head (KataGo's dead-stone ending) ------------------------


def test_a_settled_board_is_scored_by_its_owners_dead_stones_off():
    # Black's wall on column B, white's on C; a dead white stone on A3, a dead black one on E3.
    #   5 . X O . .
    #   4 . X O . .
    #   3 O X O . X
    #   2 . X O . .
    #   1 . X O . .
    #     A B C D E
    black = [GO5.parse_move(v) for v in ("B1", "B2", "B3", "B4", "B5", "E3")]
    white = [GO5.parse_move(v) for v in ("C1", "C2", "C3", "C4", "C5", "A3")]
    state = go_positions.position_from_stones(5, black, white)
    # As it stands, both empty regions touch both colours: 6 stones each, W+7.5.
    assert go.ownership_and_score(state)[1] == -7.5
    owners = np.array([1 if column in "AB" else -1 for row in range(5) for column in "ABCDE"], np.int8)
    final = scored_by_owners(GO5, state, owners)
    # The stones on A3 and E3 off: black has columns A and B, white C to E: W+12.5.
    assert final.margin == -12.5 and final.owners is owners


class SettlesAtFourStones:
    """A network stand-in: uniform priors, value 0, and an ownership head that gives black every
    point, surely, once four stones stand on the board (before that it is unsure everywhere)."""

    needs_planes = True
    has_ownership = True

    def evaluate(self, states, planes):
        return np.zeros((len(planes), GO5.num_actions), np.float32), np.zeros(len(planes), np.float32)

    def evaluate_ownership(self, planes):
        stones = planes[:, :2].sum(axis=(1, 2, 3))
        black_to_move = planes[:, GO5.colour_plane, 0, 0] == 1
        sure = np.where(stones >= 4, 0.95, 0.0) * np.where(black_to_move, 1.0, -1.0)
        return np.repeat(sure[:, None], 25, axis=1).astype(np.float32)


def test_games_end_when_the_ownership_head_settles_the_board_except_those_that_check_it(tmp_path):
    config = SelfPlayConfig(games_in_parallel=8, resign_threshold=-2.0, ownership_end=0.9,
                            ownership_end_check_share=0.5)
    actor = SelfPlayActor(GO5, SettlesAtFourStones(), MCTSConfig(num_simulations=8), config,
                          np.random.default_rng(0), aux_targets=BOTH)
    records = actor.play(12)
    ended = [r for r in records if r.ownership_ended]
    checked = [r for r in records if not r.ownership_ended]
    assert ended and checked, "both kinds of games happen"
    for record in ended:
        # Four stones take four moves (a capture takes more); black owns all 25 points: B+17.5.
        assert 4 <= record.length < 10 and record.result == 1 and not record.would_end
        assert np.array_equal(record.aux[OWNERSHIP.key], np.repeat(record.players[:, None], 25, axis=1))
        assert np.array_equal(record.aux[SCORE.key], record.players * 17.5)
    for record in checked:
        # Played out on the rules: the head's verdict (black wins) is wrong where white won.
        assert record.would_end and record.false_end == (record.result != 1)
        assert record.length > 10 and not record.resigned
    assert 0 < sum(r.false_end for r in checked) < len(checked), "right and wrong verdicts both happen"
    path = tmp_path / "gen00001-00000.npz"
    write_shard(shard_from_games(records, 1, "go5", GO5.num_actions, GO5.state_size), path)
    metrics = game_metrics([read_shard(path)])
    assert metrics["ownership_end_share"] == pytest.approx(len(ended) / len(records))
    assert metrics["ownership_end_false_rate"] == pytest.approx(np.mean([r.result != 1 for r in checked]))
    # Shards from before these fields existed load as games that were played out.
    shard = read_shard(path)
    fields = {f.name: getattr(shard, f.name) for f in dataclasses.fields(shard) if f.name not in
              ("path", "aux", "scores", "ownership_ended", "would_end", "false_end")}
    np.savez(path, **fields)
    older = read_shard(path)
    assert not older.ownership_ended.any() and not older.would_end.any() and "ownership_end_share" not in game_metrics([older])


def test_ownership_end_needs_an_ownership_head():
    with pytest.raises(ValueError, match="ownership head"):
        SelfPlayActor(GO5, RolloutEvaluator(GO5, seed=1), MCTSConfig(num_simulations=8),
                      SelfPlayConfig(ownership_end=0.9), np.random.default_rng(0))
    with pytest.raises(ValueError, match="ownership_end needs the ownership head"):
        RunConfig(game="go5", selfplay=SelfPlayConfig(ownership_end=0.9))
    with pytest.raises(ValueError, match=r"ownership_end must lie in \[0, 1\)"):
        SelfPlayConfig(ownership_end=1.0)
