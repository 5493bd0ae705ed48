"""What ending Go self-play by the ownership head (``--ownership-end``) would save, and how
often it would be wrong, measured offline on the played-out games of a run.

For every played-out game of the last ``--generations`` generations' shards, the network of
``--checkpoint`` judges each recorded position in order; at each threshold t the game would
have ended at the first position where every point's predicted owner is at least t sure,
scored by those owners (``selfplay.actor.settled_ending``, as self-play does). One JSON line per threshold:

- ``settled_share``: the share of games that would have ended early;
- ``false_rate``: among those, the share whose ownership result differs from the played-out one;
- ``moves_saved_share``: the moves after the ending point, as a share of all moves played.

    python benchmarks/ownership_end.py --run-dir runs/go9 --generations 5

The checkpoint (default: the run's ``latest.pt``) needs an ownership head
(``--ownership-weight``); games need every move recorded (no playout-cap randomisation).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

import engine
from nets import CheckpointError, NetworkEvaluator, load_checkpoint
from selfplay.actor import settled_ending, settled_rows
from selfplay.run_dir import RunPaths
from selfplay.shards import ShardError, read_shard, shard_paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="a Go run directory")
    parser.add_argument("--checkpoint", type=Path, help="the judging network (default: the run's latest.pt)")
    parser.add_argument("--generations", type=int, default=5, help="the last N generations' games (5)")
    parser.add_argument("--threshold", type=float, action="append",
                        help="an ownership_end threshold (repeatable; default 0.8, 0.9 and 0.95)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = RunPaths(args.run_dir)
    try:
        checkpoint = load_checkpoint(args.checkpoint or paths.latest)
    except (CheckpointError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    spec = engine.get_game(checkpoint.game)
    evaluator = NetworkEvaluator(checkpoint.model, device="cpu")
    if spec.final_ownership is None or not evaluator.has_ownership:
        print(f"error: the {checkpoint.game} network has no ownership head to judge with", file=sys.stderr)
        return 2
    shards = shard_paths(paths.games)
    generations = sorted({int(path.name[3:8]) for path in shards})[-args.generations:]
    games = []  # (states [T, S], ownership [T, H*W] for each side to move, first player's result, length)
    for path in shards:
        if int(path.name[3:8]) not in generations:
            continue
        try:
            shard = read_shard(path)
        except ShardError as error:
            print(f"skipped: {error}", file=sys.stderr)
            continue
        for game in range(shard.num_games):
            rows = np.flatnonzero(shard.game_ids == game)
            if shard.resigned[game] or shard.ownership_ended[game] or len(rows) != shard.lengths[game]:
                continue  # not played out, or not every move recorded
            states = shard.states[rows]
            planes = np.zeros((len(rows), *spec.planes_shape), np.float32)
            spec.encode_batch(states, planes)
            games.append((states, evaluator.evaluate_ownership(planes), int(shard.results[game]),
                          int(shard.lengths[game])))
    if not games:
        print("error: no played-out game with every move recorded in those generations", file=sys.stderr)
        return 2
    total_moves = sum(length for *_, length in games)
    for threshold in args.threshold or [0.8, 0.9, 0.95]:
        settled = wrong = saved = 0
        for states, ownership, result, length in games:
            plies = settled_rows(ownership, threshold)  # rows are plies: every move is recorded
            if not len(plies):
                continue
            ply = int(plies[0])
            player = 1 if ply % 2 == 0 else -1  # the first player moves at even plies
            settled += 1
            wrong += int(settled_ending(spec, states[ply], ownership[ply], player).result != result)
            saved += length - ply
        print(json.dumps({"threshold": threshold, "games": len(games), "generations": generations,
                          "settled_share": round(settled / len(games), 4),
                          "false_rate": round(wrong / settled, 4) if settled else None,
                          "moves_saved_share": round(saved / total_moves, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
