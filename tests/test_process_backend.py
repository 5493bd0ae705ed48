"""Self-play in local worker processes (selfplay.process_backend): the same games as the
in-process players of the same shard spaces, a worker killed mid-generation is started
again, and a trainer killed with SIGKILL takes its workers with it and resumes."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import engine
from nets import PolicyValueNet, load_checkpoint
from selfplay.backends import GenerationJob
from selfplay.config import RunConfig, preset
from selfplay.loop import TrainingRun
from selfplay.process_backend import ProcessBackend
from selfplay.run_dir import RunPaths, read_metrics
from selfplay.shard_actors import ShardPlayer
from selfplay.shards import generation_prefix, read_shard, shard_actor, shard_paths

REPO = Path(__file__).resolve().parents[1]
GAMES = 48      # per generation: 24 per worker
PARALLEL = 4    # games per shard: 6 shards per worker and generation, so a kill lands mid-share

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def tiny_config() -> RunConfig:
    base = preset("tictactoe", gpu=False)
    return dataclasses.replace(
        base, mcts=base.mcts.replace(num_simulations=16),
        selfplay=dataclasses.replace(base.selfplay, games_in_parallel=PARALLEL, games_per_generation=GAMES),
        train=dataclasses.replace(base.train, steps_per_generation=10, batch_size=32),
        device="cpu",
    )


def generation_shards(games_dir: Path, generation: int, actor: int | None = None) -> list:
    return [read_shard(p) for p in shard_paths(games_dir)
            if p.name.startswith(generation_prefix(generation, actor))]


def check_generation(games_dir: Path, generation: int, actors: int = 2, even: bool = True) -> None:
    """The generation holds exactly GAMES games, each worker's index space is gap-free and (``even``:
    played without a resume, which splits what is missing) holds half the games."""
    shards = generation_shards(games_dir, generation)  # read_shard raises on any unreadable shard
    assert sum(s.num_games for s in shards) == GAMES, f"generation {generation}: every game counted once"
    for a in range(actors):
        names = sorted(s.path.name for s in shards if shard_actor(s.path.name) == a)
        assert [int(n.split("-")[2][:5]) for n in names] == list(range(len(names)))
        if even:
            assert sum(s.num_games for s in shards if shard_actor(s.path.name) == a) == GAMES // actors


def test_workers_play_the_games_of_their_shard_spaces(tmp_path):
    """Two worker processes write what two in-process ShardPlayers of the same actor numbers write."""
    config = tiny_config()
    weights = PolicyValueNet.from_spec(engine.get_game("tictactoe"), config.net).state_dict()
    backend = ProcessBackend(2, log=lambda line: None, poll_seconds=0.05)
    progress = []
    try:
        job = GenerationJob(config, weights, tmp_path / "workers" / "games", 1, GAMES)
        metrics = backend.play_generation(job, progress.append)
    finally:
        backend.close()
    assert metrics["games"] == GAMES and metrics["actors"] == 2
    assert metrics["actor0_games"] == metrics["actor1_games"] == GAMES // 2
    assert progress and progress[-1]["games"] == GAMES
    assert all(p is None for p in backend.processes), "close ends the workers"
    for a in (0, 1):
        ShardPlayer(str(tmp_path / "here"), config.to_json(), a).play(weights, 1, GAMES // 2, None)
        mine = generation_shards(tmp_path / "workers" / "games", 1, a)
        theirs = generation_shards(tmp_path / "here" / "games", 1, a)
        assert [s.path.name for s in mine] == [s.path.name for s in theirs]
        for ours, reference in zip(mine, theirs):
            assert np.array_equal(ours.states, reference.states)
            assert np.array_equal(ours.policies, reference.policies)


def test_a_killed_worker_is_started_again_and_finishes_its_share(tmp_path):
    backend = ProcessBackend(2, log=lambda line: None, poll_seconds=0.05)
    run = TrainingRun(tmp_path / "run", tiny_config(), log=lambda line: None, backend=backend)
    killed = []

    def on_progress(info: dict) -> None:
        # Early in generation 2 (worker 0 has its call and at most a shard or two of its share
        # done): the restarted worker finishes the share from what its shards hold.
        if not killed and "games" in info and run.generation == 1:
            killed.append(backend.processes[0].pid)
            os.kill(backend.processes[0].pid, signal.SIGKILL)

    try:
        run.run(generations=3, on_progress=on_progress)
    finally:
        backend.close()
    assert killed, "the kill point was never reached"
    rows = read_metrics(run.paths)
    assert [r["generation"] for r in rows] == [1, 2, 3]
    assert rows[1]["actor0_failures"] >= 1 and rows[1]["actor0_games"] + rows[1]["actor1_games"] == GAMES
    for generation in (1, 2, 3):
        check_generation(run.paths.games, generation)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    """No such process, or only its zombie (no init here may reap it)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_sigkilled_trainer_takes_its_workers_along_and_resumes(tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "selfplay", "train", "--game", "tictactoe", "--run-dir", str(run_dir),
               "--generations", "3", "--workers", "2", "--train-threads", "2", "--num-simulations", "16",
               "--games-per-generation", str(GAMES), "--games-in-parallel", str(PARALLEL),
               "--steps-per-generation", "10", "--batch-size", "32", "--eval-positions", "0", "--device", "cpu"]
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    paths = RunPaths(run_dir)
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while not 1 <= len(list(paths.games.glob("gen00002-*.npz"))) < GAMES // PARALLEL:  # mid-generation 2
        assert process.poll() is None, process.stderr.read().decode()
        assert time.time() < deadline, "the run never reached the kill point"
        time.sleep(0.02)
    workers = children_of(process.pid)
    assert len(workers) >= 2, "two worker processes (and multiprocessing's resource tracker)"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.time() + 5
    while not all(gone(pid) for pid in workers):
        assert time.time() < deadline, "workers outlived their trainer by 5 s"
        time.sleep(0.05)
    written = sorted(p.name for p in shard_paths(paths.games))
    time.sleep(1.0)
    assert sorted(p.name for p in shard_paths(paths.games)) == written, "no shard written after the kill"

    finished = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert "2 self-play workers, training on 2 threads" in finished.stdout
    assert load_checkpoint(paths.latest, game="tictactoe").extra["generation"] == 3
    assert [r["generation"] for r in read_metrics(paths)] == [1, 2, 3]
    for generation in (1, 2, 3):
        check_generation(paths.games, generation, even=generation != 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_workers_play_on_cuda(tmp_path):
    """Each worker evaluates on the GPU (benchmarks/gpu_check.sh runs this where one is)."""
    config = dataclasses.replace(tiny_config(), device="cuda")
    weights = PolicyValueNet.from_spec(engine.get_game("tictactoe"), config.net).state_dict()
    backend = ProcessBackend(2, log=lambda line: None)
    try:
        metrics = backend.play_generation(GenerationJob(config, weights, tmp_path / "games", 1, GAMES), lambda info: None)
    finally:
        backend.close()
    assert metrics["games"] == GAMES and metrics["evaluations_per_s"] > 0
    check_generation(tmp_path / "games", 1)
