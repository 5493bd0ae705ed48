"""Speed of the exact Connect Four solver on the five solved test sets.

Solves every position of each set (1,000 per set) on one core and checks each
score against the data. Prints, per set, the mean and the largest time per
position and the total (wall clock, and the CPU time of this process, which
is the steadier figure on a shared machine), then one JSON line with all the
figures.

One ``Solver`` (one transposition table, reused across the set's positions,
as an application would) is created per set, so sets do not help each other.
Numba compilation happens before any timing.

    python benchmarks/solver_speed.py                 # all five sets
    python benchmarks/solver_speed.py --sets L3_R1_end_easy --table-bits 20
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import engine  # noqa: E402
from engine.solved_sets import SET_NAMES, SolvedSetError, read_solved_set  # noqa: E402
from engine.solver import DEFAULT_TABLE_BITS, Solver  # noqa: E402
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py, beside this script)

def bench_set(entries: list[dict], table_bits: int) -> dict:
    """Solve every entry; return the timing figures of the set (seconds)."""
    spec = engine.get_game("connect4")
    states = [engine.position_from_moves(spec, entry["sequence"]) for entry in entries]
    solver = Solver(table_bits)
    times = []
    mismatches = 0
    cpu_start = time.process_time()
    for state, entry in zip(states, entries):
        start = time.perf_counter()
        score = solver.solve(state)
        times.append(time.perf_counter() - start)
        mismatches += score != entry["score"]
    cpu = time.process_time() - cpu_start
    return {
        "positions": len(entries),
        "mean_ms": 1e3 * sum(times) / len(times),
        "max_ms": 1e3 * max(times),
        "total_s": sum(times),
        "cpu_s": cpu,
        "mismatches": mismatches,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(SET_NAMES), metavar="SET",
                        help="which sets to solve: names of the sets shipped with zeroplay, or JSON files "
                             "in their layout (default: all five shipped sets)")
    parser.add_argument("--table-bits", type=int, default=DEFAULT_TABLE_BITS,
                        help="transposition table of 2**BITS entries (default %(default)s)")
    parser.add_argument("--cpu", type=int, default=None,
                        help="pin the process to this CPU (the solver is single-threaded anyway)")
    args = parser.parse_args(argv)

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    compile_start = time.perf_counter()
    late_position = "2252576253462244111563365343671351441"  # solved in microseconds
    Solver(10).analyze(engine.position_from_moves(engine.get_game("connect4"), late_position))
    print(f"numba compile / cache load: {time.perf_counter() - compile_start:.1f} s")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; table 2**{args.table_bits} entries\n")

    header = f"{'set':<22}{'positions':>10}{'mean ms':>10}{'max ms':>10}{'total s':>10}{'cpu s':>9}{'wrong':>7}"
    print(header)
    print("-" * len(header))
    figures = {}
    for name in args.sets:
        try:
            entries = read_solved_set(name)
        except SolvedSetError as error:
            sys.exit(f"error: {error}")
        row = bench_set(entries, args.table_bits)
        figures[name] = row
        print(f"{name:<22}{row['positions']:>10}{row['mean_ms']:>10.3f}{row['max_ms']:>10.1f}"
              f"{row['total_s']:>10.2f}{row['cpu_s']:>9.2f}{row['mismatches']:>7}", flush=True)
    print()
    print(json.dumps({
        "benchmark": "solver_speed",
        "machine": cpu_model(),
        "cores": os.cpu_count(),
        "table_bits": args.table_bits,
        "sets": {name: {key: round(value, 4) if isinstance(value, float) else value
                        for key, value in row.items()} for name, row in figures.items()},
    }))
    return 1 if any(row["mismatches"] for row in figures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
