"""Speed of one training step (``selfplay.trainer.train_step``) on the CPU, per network and
number of torch threads: what ``selfplay train --train-threads`` changes, and per layout of the
weights: channels-last, where ``PolicyValueNet.place`` puts a CPU network, against torch's
default. Random Connect Four planes and targets (the speed does not depend on them). Prints a
table, then one JSON line.

    python benchmarks/train_speed.py                                  # b4c32 and b6c48, 1 and 2 threads
    python benchmarks/train_speed.py --nets b6c64 --threads 1 2 4 --batch-size 512
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import engine  # noqa: E402
from nets import NetConfig, PolicyValueNet  # noqa: E402
from selfplay.buffer import Batch  # noqa: E402
from selfplay.trainer import make_optimizer, train_step  # noqa: E402

LAYOUTS = ("placed", "default")


def step_milliseconds(spec, net: str, threads: int, batch: Batch, steps: int, layout: str) -> float:
    """Mean milliseconds of one SGD step of a fresh ``net`` on ``threads`` torch threads, its
    weights in ``layout`` (``placed``: as ``selfplay train`` holds them; ``default``: torch's)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = PolicyValueNet.from_spec(spec, NetConfig.from_name(net))
    if layout == "placed":
        model.place("cpu")
    optimizer = make_optimizer(model, 0.02, 1e-4)
    for _ in range(5):  # warm-up: allocator, first-call paths
        train_step(model, optimizer, batch)
    started = time.perf_counter()
    for _ in range(steps):
        train_step(model, optimizer, batch)
    return (time.perf_counter() - started) / steps * 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", nargs="+", default=["b4c32", "b6c48"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS),
                        help="placed: channels-last, as selfplay trains; default: torch's layout (both)")
    args = parser.parse_args()
    spec = engine.get_game("connect4")
    rng = np.random.default_rng(0)
    batch = Batch(rng.random((args.batch_size, *spec.planes_shape)).astype(np.float32),
                  rng.dirichlet(np.ones(spec.num_actions), size=args.batch_size).astype(np.float32),
                  rng.uniform(-1, 1, args.batch_size).astype(np.float32))
    rows = []
    print(f"training step, batch {args.batch_size}, torch {torch.__version__}")
    for net in args.nets:
        for threads in args.threads:
            for layout in args.layouts:
                ms = step_milliseconds(spec, net, threads, batch, args.steps, layout)
                rows.append({"net": net, "threads": threads, "layout": layout, "ms_per_step": round(ms, 1)})
                print(f"  {net:8s} {threads} thread{'s' if threads > 1 else ' '}  {layout:7s} {ms:7.1f} ms/step")
    print(json.dumps({"batch_size": args.batch_size, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
