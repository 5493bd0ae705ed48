"""Random playouts per second on one core: zeroplay's kernels against OpenSpiel.

For every registered game, measurements in the same run, all of uniformly
random games (every legal move equally likely, pass included in Go):

- zeroplay batch: ``B`` games at once driven by the generic batch kernels, one
  step per move of every game: ``spec.legal_mask_batch`` -> ``sample_legal``
  (with uniforms from a numpy Generator) -> ``spec.play_batch`` ->
  ``spec.status_batch``, and finished games are refilled with the initial
  position. Python runs a handful of calls per step, i.e. per ``B`` moves.
- zeroplay loop: one game at a time, each played out inside one numba
  function (``legal_mask`` -> ``sample_legal`` -> ``play_into`` -> ``status``
  per move), as random playouts run in search. A
  Go state is kilobytes, and the batch driver's B states spill out of the
  caches; the loop keeps two.
- OpenSpiel: the same game in C++, one game per ``pyspiel.evaluate_bots`` call
  with two ``pyspiel.make_uniform_random_bot`` bots (Go: ``go(board_size=N,
  komi=7.5)``: the same rules and move cap but for superko, where OpenSpiel
  ends a game as a draw on a move that repeats a board and we refuse the
  move; that is rare, and random 9x9 games last 119 moves on both sides).

The comparison is moves per second: the same work per move (a legal-move
mask, a uniform choice, the move). Both sides are timed for ``--seconds``
per repeat; the best of ``--repeats`` counts (other processes can only slow a
run down). The process is pinned to one core and numba to one thread. The
last line of output is one JSON object: ``<game>_ratio`` = the faster
zeroplay driver's moves/s over OpenSpiel's, ``raw`` with every figure, and
for Go ``<game>_openspiel_check``: random games replayed in OpenSpiel move by
move with their final scores compared (tests/go_openspiel.py; the test suite
runs fewer).

    python benchmarks/engine_speed.py [--seconds 2] [--repeats 3] [--batch 4096] [--check-games 1000]

Needs the ``bench`` extra (``pip install -e '.[bench]'``) for OpenSpiel.
"""

from __future__ import annotations

import os

# Before numba is imported: it reads the thread count once.
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

# Run as a script from a checkout that is not pip-installed: the repository root holds `engine`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine  # noqa: E402
from engine.batch import sample_legal  # noqa: E402
from engine.spec import ONGOING, GameSpec  # noqa: E402
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py, beside this script)
from tests.go_openspiel import cross_check  # noqa: E402

OPENSPIEL_NAMES = {"connect4": "connect_four", "tictactoe": "tic_tac_toe",
                   **{f"go{n}": f"go(board_size={n},komi=7.5)" for n in (9, 13, 19)}}
"""OpenSpiel's name of each registered game that it implements."""


def zeroplay_playouts(spec: GameSpec, batch: int, seconds: float, seed: int) -> dict:
    """Random games with the batch kernels for about ``seconds``.

    Every game in the batch is ongoing at the start of a step, so a step plays
    exactly ``batch`` moves; games that end are replaced by the initial
    position before the next step. Returns moves, finished games and seconds.
    """
    rng = np.random.default_rng(seed)
    initial = spec.initial_state()
    states = np.tile(initial, (batch, 1))  # [B, S]
    next_states = np.empty_like(states)  # [B, S]; play_batch may not write its input
    legal_masks = np.zeros((batch, spec.num_actions), dtype=np.bool_)  # [B, A]
    actions = np.zeros(batch, dtype=np.int64)  # [B]
    statuses = np.zeros(batch, dtype=np.int64)  # [B]
    uniforms = np.zeros(batch, dtype=np.float64)  # [B]
    steps = games = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        spec.legal_mask_batch(states, legal_masks)
        rng.random(out=uniforms)
        sample_legal(legal_masks, uniforms, actions)
        spec.play_batch(states, actions, next_states)
        spec.status_batch(next_states, statuses)
        finished = statuses != ONGOING
        games += int(np.count_nonzero(finished))
        next_states[finished] = initial
        states, next_states = next_states, states
        steps += 1
        # The clock is read every 64 steps: at B = 4096 a step takes tens of
        # microseconds, and the deadline needs no finer grain.
        if steps % 64 == 0 and time.perf_counter() >= deadline:
            break
    return {"moves": steps * batch, "games": games, "seconds": time.perf_counter() - start}


def loop_kernel(spec: GameSpec):
    """numba ``(initial [S], num_games, seed) -> moves``: plays ``num_games``
    uniformly random games from ``initial``, one after the other (a move:
    ``legal_mask``, ``sample_legal``, ``play_into``, ``status``)."""
    legal_mask, play_into, status, num_actions = spec.legal_mask, spec.play_into, spec.status, spec.num_actions

    @numba.njit
    def random_games(initial, num_games, seed):
        np.random.seed(seed)
        masks = np.zeros((1, num_actions), np.bool_)  # [1, A]: sample_legal takes a batch
        mask = masks[0]
        uniforms = np.zeros(1)
        actions = np.zeros(1, np.int64)
        current, following = initial.copy(), initial.copy()
        moves = 0
        for _ in range(num_games):
            current[:] = initial
            while status(current) == ONGOING:
                legal_mask(current, mask)
                uniforms[0] = np.random.random()
                sample_legal(masks, uniforms, actions)
                play_into(current, actions[0], following)
                current, following = following, current
                moves += 1
        return moves

    return random_games


def zeroplay_loop_playouts(spec: GameSpec, kernel, seconds: float, seed: int) -> dict:
    """Random games with ``kernel`` (see loop_kernel) for about ``seconds``, in
    calls of a few games each. Returns moves, games and seconds."""
    initial = spec.initial_state()
    moves = games = 0
    start = time.perf_counter()
    deadline = start + seconds
    chunk = max(1, 20_000 // spec.max_game_length)  # about 10 ms of games
    while True:
        moves += kernel(initial, chunk, seed + games)
        games += chunk
        if time.perf_counter() >= deadline:
            break
    return {"moves": moves, "games": games, "seconds": time.perf_counter() - start}


def openspiel_playouts(name: str, seconds: float, seed: int) -> dict:
    """Random games of OpenSpiel's C++ ``name`` for about ``seconds``."""
    import pyspiel

    game = pyspiel.load_game(name)
    bots = [pyspiel.make_uniform_random_bot(player, seed + player) for player in range(game.num_players())]
    moves = games = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        state = game.new_initial_state()
        pyspiel.evaluate_bots(state, bots, seed + games)  # plays the game out on `state`
        moves += state.move_number()
        games += 1
        if games % 256 == 0 and time.perf_counter() >= deadline:
            break
    return {"moves": moves, "games": games, "seconds": time.perf_counter() - start}


def best_of(repeats: int, run) -> dict:
    """The run with the highest move rate; adds ``moves_per_s`` and ``games_per_s``."""
    best = max((run(r) for r in range(repeats)), key=lambda res: res["moves"] / res["seconds"])
    return {**best, "moves_per_s": best["moves"] / best["seconds"], "games_per_s": best["games"] / best["seconds"]}




def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", nargs="+", default=engine.list_games(), metavar="GAME",
                        help=f"games to measure (default: all of {', '.join(engine.list_games())})")
    parser.add_argument("--batch", type=int, default=4096, help="games played at once by zeroplay (default 4096)")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per timed run (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per engine and game; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin the process to (default 0)")
    parser.add_argument("--check-games", type=int, default=1000,
                        help="Go: random games checked move by move against OpenSpiel (default 1000; 0: none)")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.repeats < 1 or args.seconds <= 0 or args.check_games < 0:
        parser.error("--batch and --repeats must be at least 1, --seconds above 0, --check-games not negative")

    try:
        specs = [engine.get_game(name) for name in args.games]
    except engine.UnknownGameError as error:
        parser.error(str(error))
    try:
        import pyspiel  # noqa: F401
    except ImportError:
        print("error: OpenSpiel is missing; install the bench extra: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})

    from importlib.metadata import version

    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    console.print(f"CPU: {cpu_model()} (pinned to core {args.core}); OpenSpiel {version('open_spiel')}, "
                  f"numba {version('numba')}; zeroplay batch B={args.batch}; best of {args.repeats} x {args.seconds:g} s")
    table = Table("game", "engine", "moves/s", "games/s", "moves/game", "ratio (moves/s)")
    summary: dict = {}
    raw: dict = {}
    for spec in specs:
        # Warm-up: loads (or compiles) the kernels before any timing.
        zeroplay_playouts(spec, args.batch, 0.0, args.seed)
        kernel = loop_kernel(spec)
        kernel(spec.initial_state(), 1, args.seed)
        seconds, seed = args.seconds, args.seed
        raw[spec.name] = {
            "zeroplay_batch": best_of(args.repeats, lambda r: zeroplay_playouts(spec, args.batch, seconds, seed + r)),
            "zeroplay_loop": best_of(args.repeats, lambda r: zeroplay_loop_playouts(spec, kernel, seconds, seed + r)),
        }
        fastest = max(raw[spec.name], key=lambda driver: raw[spec.name][driver]["moves_per_s"])
        ratio_key = f"{spec.name}_ratio"
        if spec.name in OPENSPIEL_NAMES:
            theirs = best_of(args.repeats, lambda r: openspiel_playouts(OPENSPIEL_NAMES[spec.name], seconds, seed + r))
            raw[spec.name]["openspiel"] = theirs
            summary[ratio_key] = round(raw[spec.name][fastest]["moves_per_s"] / theirs["moves_per_s"], 2)
        for label, res in raw[spec.name].items():
            ratio = f"{summary[ratio_key]:.1f}x" if label == fastest and ratio_key in summary else ""
            table.add_row(spec.name, label.replace("_", " ").replace("openspiel", "OpenSpiel"),
                          f"{res['moves_per_s'] / 1e6:.2f} M", f"{res['games_per_s'] / 1e6:.4f} M",
                          f"{res['moves'] / max(res['games'], 1):.1f}", ratio)
        if spec.name.startswith("go") and spec.name in OPENSPIEL_NAMES and args.check_games:
            check = cross_check(args.check_games, size=spec.board_shape[0], seed=args.seed)
            summary[f"{spec.name}_openspiel_check"] = {"games": check.games, "moves": check.moves,
                                                       "superko_moves": check.superko_moves,
                                                       "mismatches": len(check.mismatches)}
            console.print(f"{spec.name}: {check.games} random games ({check.moves} moves, {check.superko_moves} "
                          f"superko refusals) replayed in OpenSpiel: {len(check.mismatches)} mismatches"
                          + "".join(f"\n  {line}" for line in check.mismatches[:10]))
    console.print(table)
    summary["raw"] = {"cpu": cpu_model(), "batch": args.batch, **{
        game: {engine_name: {"moves_per_s": round(res["moves_per_s"]), "games_per_s": round(res["games_per_s"])}
               for engine_name, res in by_engine.items()}
        for game, by_engine in raw.items()}}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
