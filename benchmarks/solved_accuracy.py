"""Share of optimal Connect Four moves on a solved set, judged by exact score and by result.

Scores checkpoints (network alone and network + search) and two baselines
(pure MCTS with random playouts, and a uniformly random legal move, whose
expected share is computed exactly) on a solved set shipped with zeroplay (engine.solved_sets) or a file in its layout,
one JSON line per player:

    python benchmarks/solved_accuracy.py --checkpoint arena/models/connect4.pt --sims 0 --sims 800 --baselines

The network's search is PUCT unless ``--search gumbel`` or ``--value-discount`` say otherwise
(the search a network was trained with, e.g. the Connect Four preset's Gumbel search with
values discounted by 0.98 a ply).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

import engine
from machine import cpu_model  # benchmarks/machine.py, beside this script
from mcts import MCTSConfig
from mcts.config import SEARCHES
from mcts.evaluators import RolloutEvaluator
from nets import CheckpointError, NetworkEvaluator, load_checkpoint
from engine.solved_sets import DEFAULT_SET, SolvedSetError
from selfplay.evaluation import load_solved_positions, optimal_move_shares


def report(player: str, positions, started: float, exact: float, result: float) -> None:
    print(json.dumps({"player": player, "positions": len(positions.states), "exact": round(exact, 4),
                      "result": round(result, 4), "seconds": round(time.time() - started, 1)}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, action="append", default=[], help="a checkpoint (repeatable)")
    parser.add_argument("--sims", type=int, action="append", help="simulations per position; 0 = network alone "
                        "(repeatable; default 0 and 800)")
    parser.add_argument("--baselines", action="store_true", help="also pure MCTS (800 sims) and a random move")
    parser.add_argument("--set", default=DEFAULT_SET,
                        help=f"a shipped solved set, or a JSON file in that layout (default {DEFAULT_SET})")
    parser.add_argument("--limit", type=int, help="first N positions only")
    parser.add_argument("--search", choices=SEARCHES, default="puct", help="the network's search (%(default)s)")
    parser.add_argument("--value-discount", type=float, default=1.0,
                        help="the network's search: values discounted by this a ply (%(default)s: none)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        positions = load_solved_positions(engine.get_game("connect4"), args.set, limit=args.limit)
    except SolvedSetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"set": args.set, "cpu": cpu_model()}), flush=True)
    for path in args.checkpoint:
        try:
            evaluator = NetworkEvaluator(load_checkpoint(path, game="connect4").model, device="cpu")
        except CheckpointError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        search = MCTSConfig(search=args.search, value_discount=args.value_discount)
        for sims in args.sims or [0, 800]:
            started = time.time()
            label = f"{path} sims={sims}" + (f",search={args.search},discount={args.value_discount:g}" if sims else "")
            report(label, positions, started, *optimal_move_shares(evaluator, positions, simulations=sims,
                                                                   search=search))
    if args.baselines:
        started = time.time()
        rollouts = RolloutEvaluator(engine.get_game("connect4"))
        report("pure MCTS sims=800", positions, started, *optimal_move_shares(rollouts, positions, simulations=800))
        # A uniformly random legal move: its expected share, exactly.
        legal = np.zeros((len(positions.states), 7), np.bool_)
        engine.get_game("connect4").legal_mask_batch(positions.states, legal)
        count = legal.sum(axis=1)
        report("random legal move (expected)", positions, time.time(),
               float((positions.optimal.sum(axis=1) / count).mean()),
               float((positions.keeps_result.sum(axis=1) / count).mean()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
