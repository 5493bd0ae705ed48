"""MCTS speed: our batched search against OpenSpiel's C++ MCTSBot, one core.

1. Simulations per second on Connect Four from the initial position with
   random-rollout evaluation: ours at B = 1 and B = 64 games, and in the same
   run OpenSpiel's ``pyspiel.MCTSBot`` with ``RandomRolloutEvaluator(1, seed)``
   and the same number of simulations per move.
2. With the network b6c64 on the CPU, B = 64 games, 200 simulations per move:
   the share of wall time spent outside the network call (search overhead).
3. On CUDA, when present: B = 256 and 1024, positions evaluated per second,
   overhead share, and the bf16 speed-up over fp32.

Run: ``python benchmarks/mcts_speed.py`` (needs the ``bench`` extra for
OpenSpiel). Ends with one JSON line: rollout_ratio_b1, rollout_ratio_b64
(ours over OpenSpiel's sims/s) and net_overhead_b64 (a fraction).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import engine  # noqa: E402
from mcts import BatchedSearch, MCTSConfig, RolloutEvaluator  # noqa: E402


def our_rollout_sims_per_second(batch_size: int, simulations: int, repeats: int) -> float:
    spec = engine.get_game("connect4")
    config = MCTSConfig(num_simulations=simulations, reuse_tree=False)
    search = BatchedSearch(spec, RolloutEvaluator(spec, seed=1), config, batch_size=batch_size)
    roots = np.stack([spec.initial_state()] * batch_size)
    search.set_roots(roots)
    search.run()  # compile / warm up
    best = float("inf")
    for _ in range(repeats):  # the fastest repeat: the least disturbed by other work on the machine
        start = time.perf_counter()
        search.set_roots(roots)
        search.run()
        best = min(best, time.perf_counter() - start)
    return batch_size * simulations / best


def openspiel_rollout_sims_per_second(simulations: int, repeats: int) -> float:
    import pyspiel

    game = pyspiel.load_game("connect_four")
    evaluator = pyspiel.RandomRolloutEvaluator(1, 7)
    bot = pyspiel.MCTSBot(game, evaluator, 2.0, simulations, 1000, False, 7, False)
    state = game.new_initial_state()
    bot.step(state)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        bot.step(state)
        best = min(best, time.perf_counter() - start)
    return simulations / best


class TimedEvaluator:
    """Wraps an evaluator and adds up the wall time spent inside it."""

    def __init__(self, inner):
        self.inner = inner
        self.needs_planes = inner.needs_planes
        self.seconds = 0.0
        self.positions = 0

    def evaluate(self, states, planes):
        start = time.perf_counter()
        out = self.inner.evaluate(states, planes)
        self.seconds += time.perf_counter() - start
        self.positions += len(states)
        return out


def network_search(batch_size: int, simulations: int, moves: int, device: str, dtype: str) -> dict:
    """Self-play-like search with b6c64: ``moves`` moves of B games from random openings."""
    from nets import NetConfig, NetworkEvaluator, PolicyValueNet

    spec = engine.get_game("connect4")
    model = PolicyValueNet.from_spec(spec, NetConfig.from_name("b6c64"))
    timed = TimedEvaluator(NetworkEvaluator(model, device=device, dtype=dtype))
    config = MCTSConfig(num_simulations=simulations, root_noise=True)
    search = BatchedSearch(spec, timed, config, batch_size=batch_size)
    rngs = [np.random.default_rng(b) for b in range(batch_size)]
    search.set_roots(np.stack([spec.initial_state()] * batch_size))
    search.run(num_simulations=2, rngs=rngs)  # warm up compilation and the network
    timed.seconds, timed.positions = 0.0, 0
    start = time.perf_counter()
    for _ in range(moves):
        result = search.run(rngs=rngs)
        actions = result.visit_counts.argmax(axis=1)
        search.advance(actions)
        for b in np.flatnonzero(search.active):
            if spec.status(search.root_state(b)) != engine.ONGOING:
                search.set_root(b, spec.initial_state())
    total = time.perf_counter() - start
    return {
        "positions_per_second": timed.positions / total,
        "overhead": (total - timed.seconds) / total,
        "seconds": total,
    }


def cuda_part(console: Console, net_moves: int) -> dict:
    """b6c64 on CUDA at B = 256 and 1024: positions/s and search overhead in bf16, and bf16 over fp32."""
    summary = {}
    for batch in (256, 1024):
        fast = network_search(batch, 200, net_moves, device="cuda", dtype="bfloat16")
        slow = network_search(batch, 200, net_moves, device="cuda", dtype="float32")
        console.print(f"CUDA B={batch}: bf16 {fast['positions_per_second']:,.0f} pos/s "
                      f"(overhead {fast['overhead']:.1%}), fp32 {slow['positions_per_second']:,.0f} pos/s")
        summary[f"cuda_b{batch}_bf16_positions_per_s"] = round(fast["positions_per_second"])
        summary[f"cuda_b{batch}_overhead"] = round(fast["overhead"], 4)
        summary[f"cuda_b{batch}_bf16_speedup"] = round(fast["positions_per_second"] / slow["positions_per_second"], 3)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulations", type=int, default=800, help="simulations per move (rollout part)")
    parser.add_argument("--repeats", type=int, default=10,
                        help="searches timed per configuration; the fastest counts")
    parser.add_argument("--net-moves", type=int, default=6, help="moves of 64 games searched with the network")
    parser.add_argument("--skip-net", action="store_true", help="only the rollout comparison")
    parser.add_argument("--cuda-only", action="store_true",
                        help="only the CUDA part (no OpenSpiel needed; benchmarks/gpu_check.sh)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import torch

    torch.set_num_threads(1)
    console = Console()
    if args.cuda_only:
        print(json.dumps(cuda_part(console, args.net_moves)))
        return
    sims = args.simulations
    figures = {
        "openspiel": openspiel_rollout_sims_per_second(sims, args.repeats),
        "ours_b1": our_rollout_sims_per_second(1, sims, args.repeats),
        "ours_b64": our_rollout_sims_per_second(64, sims, args.repeats),
    }
    table = Table(title=f"Connect Four, random-rollout MCTS, {sims} simulations per move, one core")
    for column in ("search", "sims/s", "vs OpenSpiel"):
        table.add_column(column, justify="right")
    for name, label in (("openspiel", "OpenSpiel MCTSBot (C++)"), ("ours_b1", "zeroplay B=1"), ("ours_b64", "zeroplay B=64")):
        table.add_row(label, f"{figures[name]:,.0f}", f"{figures[name] / figures['openspiel']:.2f}x")
    console.print(table)
    summary = {
        "rollout_ratio_b1": round(figures["ours_b1"] / figures["openspiel"], 3),
        "rollout_ratio_b64": round(figures["ours_b64"] / figures["openspiel"], 3),
        "openspiel_sims_per_s": round(figures["openspiel"]),
        "ours_b1_sims_per_s": round(figures["ours_b1"]),
        "ours_b64_sims_per_s": round(figures["ours_b64"]),
    }
    if not args.skip_net:
        cpu = network_search(64, 200, args.net_moves, device="cpu", dtype="float32")
        console.print(f"b6c64 on CPU, B=64, 200 sims: {cpu['positions_per_second']:,.0f} positions/s, "
                      f"search overhead {cpu['overhead']:.1%}")
        summary["net_overhead_b64"] = round(cpu["overhead"], 4)
        summary["net_cpu_positions_per_s"] = round(cpu["positions_per_second"])
        if torch.cuda.is_available():
            summary.update(cuda_part(console, args.net_moves))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
