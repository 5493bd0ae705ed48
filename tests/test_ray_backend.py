"""The Ray backend: a tiny tic-tac-toe run on a local Ray instance (2 CPUs) with
2 self-play actors, one of them killed mid-generation. The run must finish,
every shard must load, and every generation must hold exactly its games.

The Ray part runs in a private network namespace that the test makes, where
loopback is the only interface (tests/netns.py says why: Ray alone does not keep
to loopback, and test traffic must). There ``python -m tests.test_ray_backend``
(``scenario`` below) starts Ray, plays three generations with a kill and writes
what it saw, the namespace's network included, as JSON; the test then checks
the run directory and that JSON. The namespace's processes, Ray's included,
end with it, pass or fail.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from nets import load_checkpoint
from selfplay.cli import main as selfplay_main
from selfplay.config import RunConfig, preset
from selfplay.loop import TrainingRun
from selfplay.run_dir import read_metrics
from selfplay.shards import generation_prefix, read_shard, shard_actor, shard_paths
from tests import netns

REPO = Path(__file__).resolve().parents[1]
GAMES = 64      # per generation: 32 per actor
PARALLEL = 4    # games per shard: 8 shards per actor and generation, so a kill lands mid-share
GENERATIONS = 3
TIMEOUT = 600   # seconds for the Ray part: about 25 s on an idle 2-core machine, 235-265 s while a
                # training run held both cores (every Ray process start, the restarted actor's too,
                # then took 40-50 s), over 300 s with the rest of the suite beside it as well


def tiny_config() -> RunConfig:
    base = preset("tictactoe", gpu=False)
    return dataclasses.replace(
        base, mcts=base.mcts.replace(num_simulations=24),
        selfplay=dataclasses.replace(base.selfplay, games_in_parallel=PARALLEL, games_per_generation=GAMES),
        train=dataclasses.replace(base.train, steps_per_generation=20, batch_size=64),
        device="cpu",
    )


def generation_shards(run, generation):
    return [read_shard(p) for p in shard_paths(run.paths.games) if p.name.startswith(generation_prefix(generation))]


def scenario(run_dir: Path) -> dict:
    """The Ray part, run inside the namespace: GENERATIONS generations of ``tiny_config``
    on 2 actors of a local Ray instance with 2 CPUs, actor 0 killed once mid-share.
    Returns what the checks need that is not on disk: where the kill landed, and
    the namespace's interfaces, node addresses and socket addresses seen during the run."""
    import ray
    import torch

    from selfplay.ray_backend import RayBackend

    torch.set_num_threads(1)
    seen = {"addresses": set()}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        backend = RayBackend(num_actors=2, log=lambda line: None, poll_seconds=0.02)
        run = TrainingRun(run_dir, tiny_config(), log=lambda line: None, backend=backend)

        def look_at_network() -> None:
            seen["interfaces"], addresses = netns.loopback_only_sockets()
            seen["addresses"].update(addresses)

        def on_progress(info: dict) -> None:
            # Kill actor 0 once it has written a shard of generation 2 but not its whole share:
            # the restarted actor must finish the share from its shards on disk.
            if "killed_generation" in seen or "games" not in info or run.generation < 1:
                return
            mine = [p for p in shard_paths(run.paths.games)
                    if p.name.startswith(generation_prefix(run.generation + 1, actor=0))]
            if 1 <= len(mine) < GAMES // 2 // PARALLEL:
                look_at_network()  # everything is up now: GCS, raylet, both actors, dashboard
                seen["killed_generation"] = run.generation + 1
                ray.kill(backend.actors[0], no_restart=False)

        try:
            run.run(generations=GENERATIONS, on_progress=on_progress)
            look_at_network()
        finally:
            backend.close()
        seen["node_addresses"] = sorted({node["NodeManagerAddress"] for node in ray.nodes()})
    finally:
        ray.shutdown()
    seen["addresses"] = sorted(seen["addresses"])
    return seen


def test_ray_run_survives_a_killed_actor(tmp_path, capsys):
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed (pip install -e '.[dev]' or '.[ray]')")
    why_not = netns.unavailable()
    if why_not:
        pytest.skip(f"the Ray test runs in a loopback-only network namespace, and {why_not}")
    run_dir, report = tmp_path / "run", tmp_path / "scenario.json"
    ray_tmp = netns.ray_temp_dir()
    try:
        done = netns.run_on_loopback([sys.executable, "-m", "tests.test_ray_backend", str(run_dir), str(report)],
                                     timeout=TIMEOUT, env=netns.ray_environment(ray_tmp), cwd=REPO)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert done.returncode == 0, f"the Ray scenario failed (exit {done.returncode}):\n" \
                                 f"{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    seen = json.loads(report.read_text())

    # Loopback only: the namespace has lo alone, Ray took 127.0.0.1 as its node address,
    # and every socket of the run (listening or connected) was on it.
    assert seen["interfaces"] == ["lo"]
    assert seen["node_addresses"] == ["127.0.0.1"]
    assert seen["addresses"] and set(seen["addresses"]) <= {"127.0.0.1", "::1"}, seen["addresses"]

    assert seen.get("killed_generation") == 2, "the kill point was never reached"
    run = TrainingRun(run_dir, tiny_config(), log=lambda line: None)
    rows = read_metrics(run.paths)
    assert [r["generation"] for r in rows] == list(range(1, GENERATIONS + 1))
    assert sum(r["actor0_failures"] for r in rows) >= 1, "the killed actor's call failed and was sent again"
    assert load_checkpoint(run.paths.latest, game="tictactoe").extra["generation"] == GENERATIONS
    for generation in range(1, GENERATIONS + 1):
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
    assert run.generation == GENERATIONS
    run.run(generations=GENERATIONS + 1)
    assert sum(s.num_games for s in generation_shards(run, GENERATIONS + 1)) == GAMES

    capsys.readouterr()
    assert selfplay_main(["status", "--run-dir", str(run_dir)]) == 0
    shown = capsys.readouterr().out
    assert "self-play actors" in shown and "games/s" in shown


if __name__ == "__main__":  # inside the namespace: python -m tests.test_ray_backend RUN_DIR REPORT_JSON
    Path(sys.argv[2]).write_text(json.dumps(scenario(Path(sys.argv[1]))))
