"""Our Go rules against GNU Go's, move by move, over random games.

Each game is played by uniformly random legal moves (ours; a pass only when no
point is legal) until it ends by our rules, usually at the cap of 2 * N * N
moves, which on 9x9 means many captures and retaken kos. GNU Go follows every
move over GTP (``play``). Before each move, every point's legality for the side
to move is compared: ours (``legal_mask``) against GNU Go's ``is_legal``. After
each move, the stones on our board are compared with GNU Go's ``list_stones
black`` and ``list_stones white``.

The two rule sets differ in one known way: we forbid any move that recreates an
earlier board (positional superko), GNU Go only the immediate retake of a ko.
A point that only our superko forbids is counted under ``superko_only`` (its
game under ``superko_games``) after an independent check that it really
repeats the game: GNU Go plays it, lists the stones, and the board must be one
GNU Go listed earlier in the game (the move is then taken back with ``undo``).
Every other difference is a ``disagreement``, kept with its game, move number
and point under ``examples``. Game k's moves are drawn from the seed
``[seed, k]``, so any game can be replayed alone.

    python benchmarks/go_gnugo_crosscheck.py [--games 200] [--size 9] [--seed 0]

The last line of output is one JSON object with the counts. tests/test_go_gnugo.py
runs the same check on a few games.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, when run as a script

from engine import go  # noqa: E402
from engine.go_positions import COLOUR_NAMES  # noqa: E402
from engine import go_positions  # noqa: E402
from engine.gtp_client import GTPClient, find_gnugo  # noqa: E402
from engine.spec import ONGOING  # noqa: E402

MAX_EXAMPLES = 10
"""Disagreements kept in full (all are counted)."""


def gnugo_board(gnugo: GTPClient) -> tuple[frozenset, frozenset]:
    """GNU Go's black and white stones as sets of vertices."""
    return tuple(frozenset(gnugo.send(f"list_stones {colour}").split()) for colour in ("black", "white"))


def our_board(state: np.ndarray) -> tuple[frozenset, frozenset]:
    """Our black and white stones as sets of vertices."""
    size = go.board_size(state)
    return tuple(frozenset(go.format_vertex(p, size) for p in points) for points in go_positions.stones(state))


def crosscheck(num_games: int, size: int = 9, seed: int = 0, gnugo_command: str | None = None) -> dict:
    """Play ``num_games`` random games on both engines and return the counts (see the module docstring)."""
    command = gnugo_command or f"{find_gnugo() or 'gnugo'} --mode gtp"
    spec = go.spec_for_size(size)
    counts = Counter()
    examples: list[dict] = []
    superko_games: list[int] = []
    started = time.perf_counter()
    with GTPClient(command) as gnugo:
        version = gnugo.send("version")
        gnugo.send(f"boardsize {size}")
        for game in range(num_games):
            rng = np.random.default_rng([seed, game])  # game by game, so any game can be replayed alone
            gnugo.send("clear_board")
            state = spec.initial_state()
            boards = {gnugo_board(gnugo)}  # every board of the game so far, as GNU Go listed them
            ply = 0
            legal = np.zeros(spec.num_actions, np.bool_)
            while spec.status(state) == ONGOING:
                colour = COLOUR_NAMES[go_positions.side_to_move(state)]
                spec.legal_mask(state, legal)
                for point in range(size * size):
                    vertex = go.format_vertex(point, size)
                    theirs = gnugo.send(f"is_legal {colour} {vertex}") == "1"
                    counts["legality_checks"] += 1
                    if legal[point] == theirs:
                        continue
                    reason = go.why_illegal(state, point)
                    if theirs and "superko" in reason and repeats_earlier_board(gnugo, colour, vertex, boards):
                        counts["superko_only"] += 1
                        superko_games.append(game)
                        continue
                    counts["disagreements"] += 1
                    if len(examples) < MAX_EXAMPLES:
                        examples.append({"game": game, "move": ply + 1, "colour": colour,
                                         "point": vertex, "ours": bool(legal[point]), "gnugo": theirs,
                                         "our_reason": reason})
                points = np.flatnonzero(legal[:-1])
                action = int(rng.choice(points)) if len(points) else size * size
                following = np.empty_like(state)
                spec.play_into(state, action, following)
                state = following
                gnugo.send(f"play {colour} {go.format_vertex(action, size)}")
                counts["moves"] += 1
                ply += 1
                board = gnugo_board(gnugo)
                counts["stone_checks"] += 1
                if board != our_board(state):
                    counts["disagreements"] += 1
                    if len(examples) < MAX_EXAMPLES:
                        examples.append({"game": game, "move": ply, "stones_differ": True})
                boards.add(board)
    return {"games": num_games, "size": size, "seed": seed, "moves": counts["moves"],
            "legality_checks": counts["legality_checks"], "stone_checks": counts["stone_checks"],
            "disagreements": counts["disagreements"], "superko_only": counts["superko_only"],
            "superko_games": superko_games, "seconds": round(time.perf_counter() - started, 1),
            "gnugo": f"GNU Go {version}", "examples": examples}


def repeats_earlier_board(gnugo: GTPClient, colour: str, vertex: str, boards: set) -> bool:
    """Whether GNU Go's board after ``colour`` plays ``vertex`` is one of ``boards``; the move is undone."""
    gnugo.send(f"play {colour} {vertex}")
    try:
        return gnugo_board(gnugo) in boards
    finally:
        gnugo.send("undo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=200, help="random games (%(default)s)")
    parser.add_argument("--size", type=int, default=9, help="board size (%(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random moves (%(default)s)")
    args = parser.parse_args(argv)
    if find_gnugo() is None:
        print("go_gnugo_crosscheck: GNU Go is not installed (apt-get install gnugo)", file=sys.stderr)
        return 2
    if args.games < 1 or not go.MIN_SIZE <= args.size <= go.MAX_SIZE:
        print(f"go_gnugo_crosscheck: --games must be >= 1 and --size {go.MIN_SIZE}-{go.MAX_SIZE}", file=sys.stderr)
        return 2
    print(json.dumps(crosscheck(args.games, args.size, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
