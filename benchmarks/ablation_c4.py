"""Connect Four learning-efficiency ablations: runs of equal wall time, scored on solved sets.

Three steps, each resumable:

    # one run per variant, each pinned to its own core (two at once on a 2-core machine)
    python benchmarks/ablation_c4.py run puct --minutes 30 --cpu 0 --runs runs/ablation &
    python benchmarks/ablation_c4.py run gumbel32 --minutes 30 --cpu 1 --runs runs/ablation &
    # score the checkpoint of each run nearest 10, 20 and 30 minutes (network alone and with
    # 800 simulations, all 1,000 positions of L1_R2 and L2_R2); appends to runs/ablation/scores.jsonl
    python benchmarks/ablation_c4.py score --runs runs/ablation --at 10 20 30
    # the table (Markdown) and the plot
    python benchmarks/ablation_c4.py report --runs runs/ablation --plot docs/ablations_c4.png

Each variant is ``BASELINE`` (the Connect Four CPU preset the ablations started from, before
their findings became the preset) with the flags of ``VARIANTS``; the in-run evaluation is off (``--eval-positions 0``) so that scoring costs no run time.
Training time is the generations' durations summed: the numba compilation before the first
generation, and the pause before a resumed run (``run`` again with a larger total, e.g. ``--minutes
60`` after 30), are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BASELINE = ["--net", "b4c32", "--search", "puct", "--num-simulations", "100", "--value-discount", "1.0",
            "--steps-per-generation", "100", "--lr-decay-generations", "200",
            "--optimizer", "sgd", "--learning-rate", "0.02", "--value-target-search", "0"]
"""The CPU preset of 2026-12-03: AlphaZero's PUCT with 100 simulations, b4c32, 100 steps a generation,
SGD, the game's result as the value target. Every setting the Connect Four preset has changed since
is pinned here, so that a variant means the same run whatever today's preset is."""

VARIANTS: dict[str, list[str]] = {
    "puct": [],
    "gumbel32": ["--search", "gumbel", "--num-simulations", "32"],
    "gumbel16": ["--search", "gumbel", "--num-simulations", "16"],
    "gumbel64": ["--search", "gumbel", "--num-simulations", "64"],
    "pcr": ["--full-search-share", "0.25", "--fast-simulations", "20"],
    "pcr8": ["--full-search-share", "0.25", "--fast-simulations", "8"],
    "forced": ["--forced-playouts", "2"],
    "discount": ["--value-discount", "0.98"],
    "qmix": ["--value-target-search", "0.5"],
    "adamw": ["--optimizer", "adamw", "--learning-rate", "0.002"],
    "budget": ["--lr-decay-minutes", "{minutes}"],
    "onecycle": ["--lr-schedule", "onecycle", "--lr-decay-minutes", "{minutes}"],
    "reply": ["--reply-weight", "0.15"],
    "steps50": ["--steps-per-generation", "50"],
    "steps200": ["--steps-per-generation", "200"],
    "b6c48": ["--net", "b6c48"],
    "b4c64": ["--net", "b4c64"],
}
"""Variant name -> its ``selfplay train`` flags on top of ``BASELINE``; ``{minutes}`` stands for
the run's ``--minutes`` (a learning-rate schedule that ends with the run; such a run cannot be
extended with a larger ``--minutes``, since its schedule is one of its settings)."""

SETS = ("L1_R2_begin_medium", "L2_R2_middle_medium")
SIMULATIONS = (0, 800)


def variant_flags(variant: str) -> list[str] | None:
    """The flags of a variant, or of a combination such as ``gumbel32+discount`` (the parts'
    flags in order, a later part's flag winning); None if a part is unknown."""
    parts = variant.split("+")
    if not all(part in VARIANTS for part in parts):
        return None
    return [flag for part in parts for flag in VARIANTS[part]]


def run_variant(args) -> int:
    flags = variant_flags(args.variant)
    if flags is None:
        print(f"error: unknown variant {args.variant!r} (variants: {', '.join(VARIANTS)}, "
              "or several joined by '+')", file=sys.stderr)
        return 2
    run_dir = args.runs / f"{args.variant}-s{args.seed}"
    command = ["taskset", "-c", str(args.cpu), sys.executable, "-m", "selfplay", "train", "--game", "connect4",
               "--run-dir", str(run_dir), "--minutes", str(args.minutes), "--seed", str(args.seed),
               "--workers", "1", "--eval-positions", "0", *BASELINE,
               *(flag.format(minutes=args.minutes) for flag in flags)]
    print(" ".join(command), flush=True)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.call(command, env=env)


def _checkpoint_times(run_dir: Path) -> list[tuple[float, Path]]:
    """(minutes of training, path) of every generation checkpoint: the generations' durations
    summed, as ``selfplay train --minutes`` counts them (a generation redone after a kill once,
    the pause before a resumed run not at all)."""
    from selfplay.run_dir import RunPaths, read_metrics

    rows = read_metrics(RunPaths(run_dir))
    minutes = np.cumsum([row["seconds"] for row in rows]) / 60.0
    return [(float(at), run_dir / "checkpoints" / f"gen{row['generation']:05d}.pt") for at, row in zip(minutes, rows)]


def score(args) -> int:
    import torch

    import engine
    from nets import NetworkEvaluator, load_checkpoint
    from selfplay.evaluation import load_solved_positions, optimal_move_shares

    torch.set_num_threads(1)
    spec = engine.get_game("connect4")
    positions = {name: load_solved_positions(spec, name, limit=None) for name in SETS}
    out = args.runs / "scores.jsonl"
    done = set()
    if out.exists():
        done = {(r["run"], r["at_minutes"]) for r in map(json.loads, out.read_text().splitlines())}
    for run_dir in sorted(p for p in args.runs.iterdir() if (p / "logs" / "metrics.jsonl").exists()):
        if args.only and run_dir.name not in args.only:
            continue
        times = _checkpoint_times(run_dir)
        # A run stopped by its time budget ends within a generation of it: that last checkpoint
        # counts as reaching the budget.
        slack = max(0.5, times[-1][0] / len(times)) if times else 0.5
        for at in args.at:
            if (run_dir.name, at) in done:
                continue
            reached = [(minutes, path) for minutes, path in times if minutes <= at + 0.5]
            if not reached or times[-1][0] < at - slack:
                continue  # the run has not got there (yet)
            minutes, path = reached[-1]
            evaluator = NetworkEvaluator(load_checkpoint(path, game="connect4").model, device="cpu")
            row = {"run": run_dir.name, "at_minutes": at, "checkpoint": path.name, "minutes": round(minutes, 2)}
            started = time.time()
            for name, solved in positions.items():
                for sims in SIMULATIONS:
                    exact, result = optimal_move_shares(evaluator, solved, simulations=sims)
                    key = f"{name.split('_')[0]}_{name.split('_')[1]}_{'net' if sims == 0 else f's{sims}'}"
                    row[f"{key}_exact"], row[f"{key}_result"] = round(exact, 4), round(result, 4)
            row["scoring_seconds"] = round(time.time() - started, 1)
            print(json.dumps(row), flush=True)
            with out.open("a") as file:
                file.write(json.dumps(row) + "\n")
    return 0


def report(args) -> int:
    rows = [json.loads(line) for line in (args.runs / "scores.jsonl").read_text().splitlines() if line.strip()]
    columns = [key for key in rows[0] if key.endswith(("_exact", "_result"))]
    print("| run | minutes | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for row in sorted(rows, key=lambda r: (r["run"], r["at_minutes"])):
        print(f"| {row['run']} | {row['at_minutes']} | " + " | ".join(f"{100 * row[c]:.1f}" for c in columns) + " |")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        panels = ["L1_R2_net_exact", "L1_R2_net_result", "L1_R2_s800_exact", "L1_R2_s800_result",
                  "L2_R2_net_exact", "L2_R2_net_result", "L2_R2_s800_exact", "L2_R2_s800_result"]
        figure, axes = plt.subplots(2, 4, figsize=(19, 7), sharex=True)
        runs = sorted({r["run"] for r in rows})
        for axis, key in zip(axes.flat, panels):
            for i, run in enumerate(runs):  # tab20's 20 colours, then the same with another marker
                mine = sorted((r for r in rows if r["run"] == run), key=lambda r: r["at_minutes"])
                axis.plot([r["minutes"] for r in mine], [100 * r[key] for r in mine], label=run,
                          marker="osD^"[i // 20 % 4], color=plt.cm.tab20(i % 20))
            axis.set_title(key.replace("_", " "))
            axis.set_xlabel("minutes of training")
            axis.set_ylabel("% optimal moves")
            axis.grid(alpha=0.3)
        figure.legend(*axes.flat[0].get_legend_handles_labels(), loc="center right", fontsize=8)
        figure.tight_layout(rect=(0, 0, 0.8, 1))
        figure.savefig(args.plot, dpi=90)
        print(f"wrote {args.plot}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train one variant")
    run.add_argument("variant", help=", ".join(VARIANTS) + "; or several joined by '+'")
    run.add_argument("--minutes", type=float, default=30.0)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--cpu", type=int, default=0, help="the core the run is pinned to")
    run.add_argument("--runs", type=Path, default=Path("runs/ablation"))
    scoring = commands.add_parser("score", help="score each run's checkpoints at fixed times")
    scoring.add_argument("--runs", type=Path, default=Path("runs/ablation"))
    scoring.add_argument("--at", type=float, nargs="+", default=[10.0, 20.0, 30.0], help="minutes")
    scoring.add_argument("--only", nargs="+", help="these runs (folder names) only, e.g. to score runs in parallel")
    reporting = commands.add_parser("report", help="the table and the plot")
    reporting.add_argument("--runs", type=Path, default=Path("runs/ablation"))
    reporting.add_argument("--plot", type=Path)
    args = parser.parse_args()
    return {"run": run_variant, "score": score, "report": report}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
