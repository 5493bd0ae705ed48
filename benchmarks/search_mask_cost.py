"""What search pays for Go's rules per position, one core: ``GameSpec.search_mask`` over
``legal_mask``, and the winning-move lookahead of each root (``SearchResult.wins``).

Go's search mask holds back the passes that would end a game on an unsettled
board (engine/go.py): on top of the legal mask it scans the legal points for
one that is not the mover's own eye, and counts the area when the opponent has
just passed. Every node that search creates calls it once. The positions are
those of uniformly random games (``tests/go_games.py``); each
kernel runs over all of them in one batch call, best of ``--repeats``. The lookahead
(``root_wins``: each legal move played and the game's status read, once per root) runs over
256 of them as the roots of one batched search. ``encode`` (the network's input planes, once
per leaf) runs over all of them too.

    python benchmarks/search_mask_cost.py [--game go9] [--games 50] [--repeats 20]

Ends with one JSON line: nanoseconds per position of each mask, of the lookahead and of encode.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, when run as a script: tests.go_games

import engine  # noqa: E402
from engine import go  # noqa: E402
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py, beside this script)
from mcts import BatchedSearch, MCTSConfig, UniformEvaluator  # noqa: E402
from tests.go_games import random_positions  # noqa: E402


def nanoseconds_per_position(kernel, states: np.ndarray, out: np.ndarray, repeats: int) -> float:
    kernel(states, out)  # loads or compiles it
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        kernel(states, out)
        best = min(best, time.perf_counter() - started)
    return best / len(states) * 1e9


def root_wins_nanoseconds(spec, states: np.ndarray, repeats: int, roots: int = 256) -> float:
    """Nanoseconds per root of ``root_wins`` over ``roots`` of ``states`` spread over the list."""
    chosen = states[::max(1, len(states) // roots)][:roots]
    search = BatchedSearch(spec, UniformEvaluator(spec), MCTSConfig(num_simulations=1, leaves_per_tree=1),
                           batch_size=len(chosen))
    search.set_roots(chosen)
    which = np.ones(len(chosen), np.bool_)
    wins = np.zeros(len(chosen), np.int32)
    return nanoseconds_per_position(lambda _, out: search.kernels.root_wins(search.tree, which, out),
                                    chosen, wins, repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", default="go9", help="game (default go9)")
    parser.add_argument("--games", type=int, default=50, help="random games whose positions are timed (default 50)")
    parser.add_argument("--repeats", type=int, default=20, help="timed passes; the best counts (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.games < 1 or args.repeats < 1:
        parser.error("--games and --repeats must be at least 1")
    try:
        spec = engine.get_game(args.game)
    except engine.UnknownGameError as error:
        parser.error(str(error))
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    if go.size_from_name(spec.name) is None:
        parser.error(f"{spec.name} is not Go: only Go's search mask differs from its legal mask")
    states = np.array(random_positions(spec, args.games, args.seed))
    out = np.zeros((len(states), spec.num_actions), np.bool_)
    figures = {name: round(nanoseconds_per_position(getattr(spec, f"{name}_batch"), states, out, args.repeats), 1)
               for name in ("legal_mask", "search_mask")}
    figures["root_wins"] = round(root_wins_nanoseconds(spec, states, args.repeats), 1)
    planes = np.zeros((len(states), *spec.planes_shape), np.float32)  # every leaf of search is encoded once
    figures["encode"] = round(nanoseconds_per_position(spec.encode_batch, states, planes, args.repeats), 1)
    print(f"{spec.name}, {len(states)} positions of {args.games} random games, {cpu_model()}, one core: "
          + ", ".join(f"{name} {ns:.0f} ns" for name, ns in figures.items()) + " per position")
    print(json.dumps({"game": spec.name, "positions": len(states), "cpu": cpu_model(),
                      **{f"{name}_ns": ns for name, ns in figures.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
