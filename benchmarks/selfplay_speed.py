"""Self-play speed on every core against one worker, next to the bare network.

Plays generations of the default Connect Four CPU preset
(``selfplay.config.preset("connect4", gpu=False)``: today b6c48, Gumbel search with
32 simulations, 64 games at once per worker, 128 games per generation) with a fixed random
network, first with one worker (``LocalBackend``, in this process, one torch
thread: what ``--workers 1`` does), then with one worker process per core
(``ProcessBackend``: what ``selfplay train`` does by default). Then the bare
network (``net_speed.py``'s logic: ``NetworkEvaluator.evaluate`` on planes of
random positions at the preset's batch, one torch thread per process) in one
process and in as many processes as workers, all at once. Each timing is a
mean over its wall time (the network's too), worker start-up left out; the bare
network is timed before and after the self-play runs and averaged.

Prints a table, then one JSON line with ``speedup_all_cores`` (positions/s on
all cores over one worker) and ``share_of_bare_net`` (self-play network
evaluations/s on all cores over the bare network's in as many processes).

    python benchmarks/selfplay_speed.py                 # all usable cores, 2 generations each
    python benchmarks/selfplay_speed.py --workers 4 --generations 3
    python benchmarks/selfplay_speed.py --preset gpu --device cuda --workers 4 --skip-one-worker --generations 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import engine  # noqa: E402
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py, beside this script)
from net_speed import real_planes  # noqa: E402
from nets import NetworkEvaluator, PolicyValueNet  # noqa: E402
from selfplay.backends import GenerationJob, LocalBackend  # noqa: E402
from selfplay.config import preset, usable_cores  # noqa: E402
from selfplay.process_backend import ProcessBackend  # noqa: E402

def time_backend(backend, config, weights, games_dir: Path, generations: int) -> dict:
    """Positions/s and evaluations/s of ``generations`` generations after a short warm-up one."""
    warm_up = GenerationJob(config, weights, games_dir, 0, 2 * getattr(backend, "num_workers", 1))
    backend.play_generation(warm_up, lambda info: None)  # numba's cache, torch's first calls
    positions = evaluations = games = 0
    seconds = 0.0
    network_share = []
    for generation in range(1, generations + 1):
        job = GenerationJob(config, weights, games_dir, generation, config.selfplay.games_per_generation)
        started = time.perf_counter()
        metrics = backend.play_generation(job, lambda info: None)
        elapsed = time.perf_counter() - started
        seconds += elapsed
        positions += metrics["positions"]
        games += metrics["games"]
        # evaluations_per_s is over the backend's own clock, which starts with the play: close to ours.
        evaluations += metrics["evaluations_per_s"] * elapsed
        network_share.append(metrics["network_share"])
    return {"games": games, "positions": positions, "seconds": round(seconds, 2),
            "positions_per_s": round(positions / seconds, 1), "evaluations_per_s": round(evaluations / seconds, 1),
            "network_share": round(sum(network_share) / len(network_share), 3)}


def _bare_net_process(game: str, net: str, device: str, batch: int, seconds: float, barrier, results) -> None:
    """One process of the bare-network timing: one torch thread, calls at ``batch`` for ``seconds``."""
    torch.set_num_threads(1)
    spec = engine.get_game(game)
    torch.manual_seed(0)
    evaluator = NetworkEvaluator(PolicyValueNet.from_spec(spec, net), device=device)
    planes = real_planes(spec, batch, seed=0)
    for _ in range(5):
        evaluator.evaluate(None, planes)
    barrier.wait()  # every process times the same stretch of wall time
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        evaluator.evaluate(None, planes)
        calls += 1
    results.put(calls * batch / (time.perf_counter() - started))


def bare_net(config, batch: int, processes: int, seconds: float) -> float:
    """Positions/s of ``config``'s bare network in ``processes`` processes at once (summed)."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    args = (config.game, config.net, config.device, batch, seconds, barrier, results)
    workers = [context.Process(target=_bare_net_process, args=args)
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    total = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return round(total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=usable_cores(),
                        help="worker processes of the all-cores run (default: the usable cores, %(default)s)")
    parser.add_argument("--generations", type=int, default=2, help="timed generations per run (default 2)")
    parser.add_argument("--net-seconds", type=float, default=10.0,
                        help="seconds of each bare-network timing (default 10)")
    parser.add_argument("--game", default="connect4", help="game (default connect4)")
    parser.add_argument("--preset", choices=("cpu", "gpu"), default="cpu", help="the game's preset (default cpu)")
    parser.add_argument("--device", default="cpu", help="where workers and the bare network run (default cpu)")
    parser.add_argument("--games-per-generation", type=int, help="instead of the preset's")
    parser.add_argument("--skip-one-worker", action="store_true",
                        help="only the all-workers run (benchmarks/gpu_check.sh; no speedup_all_cores)")
    args = parser.parse_args()

    torch.set_num_threads(1)
    config = dataclasses.replace(preset(args.game, gpu=args.preset == "gpu"), device=args.device)
    if args.games_per_generation:
        config = dataclasses.replace(config, selfplay=dataclasses.replace(
            config.selfplay, games_per_generation=args.games_per_generation))
    spec = engine.get_game(args.game)
    torch.manual_seed(0)
    weights = PolicyValueNet.from_spec(spec, config.net).state_dict()
    batch = config.selfplay.games_in_parallel

    # The bare network before and after the self-play runs, averaged: the machine's other
    # load drifts over minutes, and both sides of the ratio should see the same drift.
    before = (bare_net(config, batch, 1, args.net_seconds / 2),
              bare_net(config, batch, args.workers, args.net_seconds / 2))
    with tempfile.TemporaryDirectory() as tmp:
        one = (None if args.skip_one_worker else
               time_backend(LocalBackend(), config, weights, Path(tmp) / "one" / "games", args.generations))
        backend = ProcessBackend(args.workers, log=lambda line: None)
        try:
            backend.start(config, Path(tmp) / "all" / "games")
            everyone = time_backend(backend, config, weights, Path(tmp) / "all" / "games", args.generations)
        finally:
            backend.close()
    bare_one = round((before[0] + bare_net(config, batch, 1, args.net_seconds / 2)) / 2, 1)
    bare_all = round((before[1] + bare_net(config, batch, args.workers, args.net_seconds / 2)) / 2, 1)

    print(f"{args.game} {args.preset.upper()} preset on {args.device}: {config.net}, {config.mcts.num_simulations} simulations, {batch} games at once "
          f"per worker, {config.selfplay.games_per_generation} games per generation, {args.generations} "
          f"generations per run; torch {torch.__version__}, {usable_cores()} usable cores of {cpu_model()}")
    print(f"{'run':<22}{'games':>7}{'positions/s':>13}{'evals/s':>10}{'net share':>11}{'bare net evals/s':>18}"
          f"{'of bare':>9}")
    for name, row, bare in (("1 worker", one, bare_one), (f"{args.workers} workers", everyone, bare_all)):
        if row is None:
            continue
        print(f"{name:<22}{row['games']:>7}{row['positions_per_s']:>13,.0f}{row['evaluations_per_s']:>10,.0f}"
              f"{row['network_share']:>11.0%}{bare:>18,.0f}{row['evaluations_per_s'] / bare:>9.0%}")
    speedup = everyone["positions_per_s"] / one["positions_per_s"] if one else None
    share = everyone["evaluations_per_s"] / bare_all
    share_one = one["evaluations_per_s"] / bare_one if one else None
    print((f"speedup on all cores {speedup:.2f}x; " if one else "")
          + f"self-play evaluations/s {share:.0%} of the bare network's in {args.workers} processes"
          + (f" (1 worker: {share_one:.0%})" if one else ""))
    print(json.dumps({
        "benchmark": "selfplay_speed", "game": args.game, "preset": args.preset, "device": args.device, "net": config.net, "workers": args.workers,
        "usable_cores": usable_cores(), "cpu": cpu_model(), "batch": batch, "generations": args.generations,
        "torch": torch.__version__, "one_worker": one, "all_cores": everyone,
        "bare_net_one_process": bare_one, "bare_net_all_processes": bare_all,
        "speedup_all_cores": round(speedup, 3) if one else None, "share_of_bare_net": round(share, 3),
        "share_of_bare_net_one_worker": round(share_one, 3) if one else None,
    }))


if __name__ == "__main__":
    main()
