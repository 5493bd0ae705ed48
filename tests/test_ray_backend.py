"""The Ray backend: a tiny tic-tac-toe run on a local Ray instance (2 CPUs) with
2 self-play actors, one of them killed mid-generation. The run must finish,
every shard must load, and every generation must hold exactly its games."""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch

# Opt-in: Ray 2.60 binds its node to the machine's primary interface even when
# asked for 127.0.0.1, and the machines this suite runs on allow test traffic on
# loopback only. Run with ZEROPLAY_RAY_TESTS=1 where the primary interface is fine.
if os.environ.get("ZEROPLAY_RAY_TESTS") != "1":
    pytest.skip("Ray test is opt-in (ZEROPLAY_RAY_TESTS=1): Ray does not bind to loopback only",
                allow_module_level=True)
ray = pytest.importorskip("ray")

from nets import load_checkpoint  # noqa: E402
from selfplay.cli import main as selfplay_main  # noqa: E402
from selfplay.config import preset  # noqa: E402
from selfplay.loop import TrainingRun, read_metrics  # noqa: E402
from selfplay.ray_backend import RayBackend  # noqa: E402
from selfplay.shards import generation_prefix, read_shard, shard_actor, shard_paths  # noqa: E402

GAMES = 64      # per generation: 32 per actor
PARALLEL = 4    # games per shard: 8 shards per actor and generation, so a kill lands mid-share


@pytest.fixture(scope="module")
def local_ray():
    # A private local instance; 2 CPUs, one per actor. Ray 2.60 picks the node's own
    # address for it (it does not take 127.0.0.1 as a node address); nothing leaves the machine.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def tiny_config():
    base = preset("tictactoe", gpu=False)
    return dataclasses.replace(
        base, mcts=base.mcts.replace(num_simulations=24),
        selfplay=dataclasses.replace(base.selfplay, games_in_parallel=PARALLEL, games_per_generation=GAMES),
        train=dataclasses.replace(base.train, steps_per_generation=20, batch_size=64),
        device="cpu",
    )


def generation_shards(run, generation):
    return [read_shard(p) for p in shard_paths(run.paths.games) if p.name.startswith(generation_prefix(generation))]


def test_ray_run_survives_a_killed_actor(tmp_path, local_ray, capsys):
    torch.set_num_threads(1)
    backend = RayBackend(num_actors=2, log=lambda line: None, poll_seconds=0.02)
    run = TrainingRun(tmp_path / "run", tiny_config(), log=lambda line: None, backend=backend)
    killed = {}

    def on_progress(info: dict) -> None:
        # Kill actor 0 once it has written a shard of generation 2 but not its whole share:
        # the restarted actor must finish the share from its shards on disk.
        if killed or "games" not in info or run.generation < 1:
            return
        mine = [p for p in shard_paths(run.paths.games)
                if p.name.startswith(generation_prefix(run.generation + 1, actor=0))]
        if 1 <= len(mine) < GAMES // 2 // PARALLEL:
            killed["generation"] = run.generation + 1
            ray.kill(backend.actors[0], no_restart=False)

    try:
        run.run(generations=3, on_progress=on_progress)
    finally:
        backend.close()

    assert killed, "the kill point was never reached"
    rows = read_metrics(run.paths)
    assert [r["generation"] for r in rows] == [1, 2, 3]
    assert sum(r["actor0_failures"] for r in rows) >= 1, "the killed actor's call failed and was sent again"
    assert load_checkpoint(run.paths.latest, game="tictactoe").extra["generation"] == 3
    for generation in (1, 2, 3):
        shards = generation_shards(run, generation)  # read_shard raises on any unreadable shard
        assert sum(s.num_games for s in shards) == GAMES, f"generation {generation}: every game counted once"
        for a in (0, 1):
            names = sorted(s.path.name for s in shards if shard_actor(s.path.name) == a)
            # Each actor's index space is gap-free: the restarted actor went on from its last shard.
            assert [int(n.split("-")[2][:5]) for n in names] == list(range(len(names)))
            assert sum(s.num_games for s in shards if shard_actor(s.path.name) == a) == GAMES // 2
        row = rows[generation - 1]
        assert row["actor0_games"] + row["actor1_games"] == GAMES and row["actors"] == 2

    # The same run directory resumes on the local backend: checkpoints and shards are the same format.
    resumed = TrainingRun(tmp_path / "run", tiny_config(), log=lambda line: None)
    assert resumed.generation == 3
    resumed.run(generations=4)
    assert sum(s.num_games for s in generation_shards(resumed, 4)) == GAMES

    capsys.readouterr()
    assert selfplay_main(["status", "--run-dir", str(tmp_path / "run")]) == 0
    shown = capsys.readouterr().out
    assert "self-play actors" in shown and "games/s" in shown
