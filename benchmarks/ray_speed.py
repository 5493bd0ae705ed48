"""Ray backend speed: self-play games per second with 1 and 2 Ray actors, and
the local backend with the same settings.

Each configuration plays whole generations of self-play into a scratch run
directory through the backend's ``play_generation`` (no training in between,
so only self-play and the backend's own costs are timed): one warm-up
generation (actor start, numba cache load, first network calls), then
``--repeats`` timed generations, each a fresh set of games; the figure is
games / seconds over the timed ones.

- scaling: games/s with 2 actors over games/s with 1 (2.0 is perfect; it needs
  2 free cores, one per actor).
- overhead: 1 - (Ray, 1 actor) / local, same settings: what the Ray backend
  costs (weights through the object store, progress polling, scheduling),
  against one in-process actor.

Run: ``python benchmarks/ray_speed.py [--game tictactoe] [--games 96]`` on an
idle machine (it starts a local Ray instance with ``--cpus`` CPUs). Ends with
one JSON line: local_games_per_s, ray1_games_per_s, ray2_games_per_s,
scaling_2_over_1, ray_overhead.

Where it can, it runs itself in a private network namespace with loopback as
the only interface (``tests/netns.py``, as the Ray test does): Ray alone binds
its node to the machine's primary interface. ``--no-netns`` runs it as it is.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, for tests.netns

import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from nets import cpu_weights  # noqa: E402
from selfplay.backends import GenerationJob, LocalBackend  # noqa: E402
from selfplay.config import RunConfig, preset  # noqa: E402
from selfplay.loop import TrainingRun  # noqa: E402
from tests import netns  # noqa: E402


def bench_config(game: str, games: int, parallel: int, simulations: int) -> RunConfig:
    base = preset(game, gpu=False)
    return dataclasses.replace(
        base, mcts=base.mcts.replace(num_simulations=simulations),
        selfplay=dataclasses.replace(base.selfplay, games_in_parallel=parallel, games_per_generation=games),
        device="cpu", eval_positions=0,
    )


def games_per_second(backend, config: RunConfig, repeats: int) -> float:
    """Games/s of ``backend`` over ``repeats`` generations after one warm-up generation."""
    with tempfile.TemporaryDirectory() as scratch:
        run = TrainingRun(Path(scratch) / "run", config, log=lambda line: None, backend=backend)
        weights = cpu_weights(run.model)

        def job(generation: int) -> GenerationJob:
            return GenerationJob(config, weights, run.paths.games, generation, config.selfplay.games_per_generation)

        try:
            backend.play_generation(job(1), lambda info: None)  # warm-up, not timed
            start = time.perf_counter()
            for generation in range(2, 2 + repeats):
                backend.play_generation(job(generation), lambda info: None)
            seconds = time.perf_counter() - start
        finally:
            backend.close()
    return repeats * config.selfplay.games_per_generation / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", default="tictactoe", choices=("tictactoe", "connect4"))
    parser.add_argument("--games", type=int, default=96, help="games per generation (%(default)s)")
    parser.add_argument("--parallel", type=int, default=16, help="games at once per actor, B (%(default)s)")
    parser.add_argument("--simulations", type=int, default=32, help="simulations per move (%(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed generations per configuration (%(default)s)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance (%(default)s)")
    parser.add_argument("--no-netns", action="store_true",
                        help="do not run in a loopback-only network namespace (Ray then uses the primary interface)")
    args = parser.parse_args()

    if not args.no_netns and not os.environ.get(netns.INSIDE):
        why_not = netns.unavailable()
        if why_not is None:
            # The same command again, inside the namespace; its output goes straight to this terminal.
            ray_tmp = netns.ray_temp_dir()
            try:
                done = netns.run_on_loopback([sys.executable, *sys.argv], env=netns.ray_environment(ray_tmp),
                                             capture=False)
            finally:
                shutil.rmtree(ray_tmp, ignore_errors=True)
            sys.exit(done.returncode)
        print(f"note: running without a loopback-only network namespace: {why_not}", file=sys.stderr)

    import ray

    from selfplay.ray_backend import RayBackend

    torch.set_num_threads(1)
    config = bench_config(args.game, args.games, args.parallel, args.simulations)
    figures = {"local_games_per_s": games_per_second(LocalBackend(), config, args.repeats)}
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        for actors in (1, 2):
            backend = RayBackend(num_actors=actors, log=lambda line: None)
            figures[f"ray{actors}_games_per_s"] = games_per_second(backend, config, args.repeats)
    finally:
        ray.shutdown()
    figures["scaling_2_over_1"] = figures["ray2_games_per_s"] / figures["ray1_games_per_s"]
    figures["ray_overhead"] = 1.0 - figures["ray1_games_per_s"] / figures["local_games_per_s"]

    table = Table(title=f"{args.game} {config.net}: {args.games} games/generation, B = {args.parallel}, "
                        f"{args.simulations} simulations, {args.repeats} timed generations")
    table.add_column("backend")
    table.add_column("games/s", justify="right")
    table.add_row("local (1 process)", f"{figures['local_games_per_s']:.2f}")
    table.add_row("ray, 1 actor", f"{figures['ray1_games_per_s']:.2f}")
    table.add_row("ray, 2 actors", f"{figures['ray2_games_per_s']:.2f}")
    console = Console()
    console.print(table)
    console.print(f"scaling 2 actors / 1: {figures['scaling_2_over_1']:.2f}x; "
                  f"Ray overhead against local (1 actor): {figures['ray_overhead']:.1%}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
