"""Plot a run's learning curve: share of optimal moves against wall time.

Reads ``<run-dir>/logs/metrics.jsonl`` (one line per generation, written by
``selfplay train``) and draws the share of optimal Connect Four moves on the
solved evaluation positions, for the network alone and with search, against
hours of training: one panel judging exact scores, one judging results only
(selfplay/evaluation.py). Several runs can be drawn together (``--run-dir`` twice).
``--start-hours`` shifts a run's curve by time spent before it, such as a
bootstrap's expert games and pretraining, so that runs compare at the same budget.

    python benchmarks/plot_learning_curve.py --run-dir runs/c4 --out docs/learning_curve_c4.png
    python benchmarks/plot_learning_curve.py --run-dir runs/c4 --start-hours 0 \
        --run-dir runs/c4-rl --start-hours 1.3 --out docs/bootstrap_c4.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: works without a display
import matplotlib.pyplot as plt  # noqa: E402

from selfplay.run_dir import RunPaths, read_metrics  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, action="append", required=True, help="a run directory (repeatable)")
    parser.add_argument("--label", action="append", help="legend label per run (default: the folder name)")
    parser.add_argument("--start-hours", type=float, action="append",
                        help="hours spent before the run, per run (default 0): its curve starts there")
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--target", type=float, default=0.9, help="horizontal target line (default 0.9)")
    args = parser.parse_args()
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5), dpi=120, sharex=True, sharey=True)
    panels = [(axes[0], "optimal_moves", "exact score judged"), (axes[1], "optimal_result", "result judged")]
    for index, run_dir in enumerate(args.run_dir):
        generations = read_metrics(RunPaths(run_dir))
        rows = [r for r in generations if "optimal_moves_net" in r]  # --eval-every: not every generation
        if not rows:
            print(f"{run_dir}: no evaluated generations", file=sys.stderr)
            return 2
        offset = args.start_hours[index] if args.start_hours and index < len(args.start_hours) else 0.0
        start = generations[0]["wall_time"] - generations[0]["seconds"]
        hours = [offset + (r["wall_time"] - start) / 3600 for r in rows]
        label = args.label[index] if args.label and index < len(args.label) else run_dir.name
        for axis, key, _ in panels:
            judged = [(h, r) for h, r in zip(hours, rows) if f"{key}_net" in r]  # older runs: exact only
            if not judged:
                continue
            line, = axis.plot([h for h, _ in judged], [r[f"{key}_search"] for _, r in judged],
                              label=f"{label}: network + search")
            axis.plot([h for h, _ in judged], [r[f"{key}_net"] for _, r in judged], linestyle="--",
                      color=line.get_color(), label=f"{label}: network alone")
    for axis, _, title in panels:
        axis.axhline(args.target, color="grey", linewidth=0.8)
        axis.set_xlabel("hours (wall time)")
        axis.set_ylim(0, 1)
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right", fontsize="small")
        axis.set_title(title)
    axes[0].set_ylabel("share of optimal moves")
    figure.suptitle("Connect Four: optimal moves on solved positions (L1_R2_begin_medium)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
