"""Forward-pass speed of the policy/value network as search sees it.

Times ``NetworkEvaluator.evaluate`` (numpy planes in, numpy logits and values
out, transfers included) of a freshly initialised network on Connect Four
planes at several batch sizes, on the CPU and, when present, on CUDA with the
evaluator's default bf16/fp16 autocast. On the CPU it also times the weights in torch's
default layout beside the channels-last one the evaluator places them in (``--layouts``).
Prints a table, then one JSON line.

    python benchmarks/net_speed.py                      # b6c64, batches 1 64 256
    python benchmarks/net_speed.py --net b10c128 --batch-sizes 1 512 --compile
    python benchmarks/net_speed.py --net b10c128 --devices cuda --dtypes fp32 bf16 --batch-sizes 256 1024 4096
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import engine  # noqa: E402
from nets import NetworkEvaluator, PolicyValueNet  # noqa: E402


def real_planes(spec, batch: int, seed: int) -> np.ndarray:
    """[batch, C, H, W] float32 planes of positions from random games, so the
    input looks like what search sends (the speed does not depend on it)."""
    rng = np.random.default_rng(seed)
    states = np.empty((batch, spec.state_size), np.int64)
    mask = np.zeros(spec.num_actions, np.bool_)
    for b in range(batch):
        state = spec.initial_state()
        for _ in range(int(rng.integers(0, spec.max_game_length // 2))):
            spec.legal_mask(state, mask)
            if not mask.any():
                break
            nxt = np.empty_like(state)
            spec.play_into(state, int(rng.choice(np.flatnonzero(mask))), nxt)
            state = nxt
        states[b] = state
    planes = np.zeros((batch, *spec.planes_shape), np.float32)
    spec.encode_batch(states, planes)
    return planes


def time_evaluator(evaluator: NetworkEvaluator, planes: np.ndarray, seconds: float, repeats: int) -> dict:
    """Best-of-``repeats`` throughput, each repeat running for about ``seconds / repeats``."""
    for _ in range(3):  # warm-up: allocator, cuDNN autotuning, compilation
        evaluator.evaluate(None, planes)
    # Calibrate the number of calls per repeat from one timed call.
    start = time.perf_counter()
    evaluator.evaluate(None, planes)
    calls = max(1, int(seconds / repeats / max(time.perf_counter() - start, 1e-6)))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            evaluator.evaluate(None, planes)
        best = min(best, (time.perf_counter() - start) / calls)
    # The minimum, not the mean: the machine's other load only ever adds time.
    return {
        "batch": planes.shape[0],
        "ms_per_batch": round(best * 1e3, 4),
        "positions_per_s": round(planes.shape[0] / best, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--game", default="connect4", help="game whose planes and actions to use (default connect4)")
    add("--net", default="b6c64", help="network name, b<blocks>c<channels> (default b6c64)")
    add("--batch-sizes", type=int, nargs="+", default=[1, 64, 256], help="batch sizes (default 1 64 256)")
    add("--seconds", type=float, default=1.5, help="time per device and batch size (default 1.5)")
    add("--repeats", type=int, default=5, help="timed repeats; the fastest one counts (default 5)")
    add("--devices", nargs="+", default=None, help="devices to time (default: cpu, and cuda when present)")
    add("--compile", action="store_true", help="wrap the network in torch.compile")
    add("--dtypes", nargs="+", default=["auto"],
        help="compute dtypes to time: auto (bf16 on CUDA, fp32 on the CPU), fp32, bf16, fp16 (default auto)")
    add("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    add("--layouts", nargs="+", choices=("placed", "default"), default=["placed", "default"],
        help="CPU weight layouts to time: placed (channels-last, the evaluator's), default (torch's)")
    add("--seed", type=int, default=0, help="seed of the weights and positions (default 0)")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    spec = engine.get_game(args.game)
    torch.manual_seed(args.seed)
    model = PolicyValueNet.from_spec(spec, args.net)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    planes = real_planes(spec, max(args.batch_sizes), args.seed)

    results = []
    for device, dtype in [(device, dtype) for device in devices for dtype in args.dtypes]:
        for layout in args.layouts if device == "cpu" else ["placed"]:
            evaluator = NetworkEvaluator(model, device=device, dtype=dtype, compile=args.compile)
            if layout == "default":
                evaluator.model.to(memory_format=torch.contiguous_format)
            for batch in args.batch_sizes:
                row = time_evaluator(evaluator, planes[:batch], args.seconds, args.repeats)
                row.update(device=str(evaluator.device), dtype=str(evaluator.dtype).removeprefix("torch."),
                           layout=layout)
                results.append(row)

    print(
        f"{args.net} on {args.game} planes {spec.planes_shape}, {model.num_parameters():,} weights, "
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
        + (", compiled" if args.compile else "")
    )
    print(f"{'device':<10}{'dtype':<10}{'layout':<9}{'batch':>7}{'ms/batch':>12}{'positions/s':>14}")
    for row in results:
        print(
            f"{row['device']:<10}{row['dtype']:<10}{row['layout']:<9}{row['batch']:>7}"
            f"{row['ms_per_batch']:>12.3f}{row['positions_per_s']:>14,.0f}"
        )
    print(json.dumps({
        "benchmark": "net_speed",
        "game": args.game,
        "net": args.net,
        "parameters": model.num_parameters(),
        "compile": args.compile,
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "machine": platform.machine(),
        "results": results,
    }))


if __name__ == "__main__":
    main()
