"""Command line of the game engine: ``python -m engine <command>``.

Commands:

- ``info``: a table of the registered games and their default settings.
- ``solve``: the exact score of a Connect Four position and of every move.

Errors in user input (an unknown game, an illegal or malformed move sequence)
print one line to stderr and exit with status 2, like argparse's own errors.
"""

from __future__ import annotations

import argparse
import json
import sys

import engine
from engine.connect4 import PLY
from engine.solver import DEFAULT_TABLE_BITS, Solver, describe_score, ordinal
from engine.spec import IllegalMoveError, UnknownGameError

USAGE_ERROR = 2

DESCRIPTION = """\
zeroplay game engine: the rules of each registered game as numba kernels,
and an exact Connect Four solver.

commands:
  info    list the registered games: board, actions, input planes,
          symmetries, default search simulations and default network
  solve   solve a Connect Four position given as the columns played
          (1-7, left to right) from the empty board, e.g. 4453

Run `python -m engine <command> --help` for the options of a command."""

SOLVE_DESCRIPTION = """\
Solve a Connect Four position exactly (perfect play on both sides) and show
the score of every column.

Scores are from the point of view of the player to move: 0 is a draw; +N
means the player to move wins, completing four with its (22 - N)-th stone
(+18: with its 4th stone, the fastest possible); -N means it loses, the
opponent completing four with its (22 - N)-th stone. The score of a column
is the score after playing it, seen by the player who plays it, so the best
columns have the highest score, equal to the position's score.

Positions with few stones take longer (one core): after 4 stones a few
seconds, after 1 stone under a minute, the empty board a few minutes."""

SOLVE_EPILOG = """\
examples:
  python -m engine solve 4453
  python -m engine solve "4 4 5 3" --json
  python -m engine solve --game connect4 2252576253462244111563365343671351441"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="{info,solve}")
    commands.required = True

    commands.add_parser(
        "info",
        help="list the registered games and their defaults",
        description="Print a table of the registered games: name, board (rows x columns), "
        "number of actions, network input planes (C x H x W), number of board symmetries, "
        "default MCTS simulations per move and default network (bBLOCKScCHANNELS).",
    )

    solve = commands.add_parser(
        "solve",
        help="solve a Connect Four position exactly",
        description=SOLVE_DESCRIPTION,
        epilog=SOLVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    solve.add_argument(
        "moves", nargs="*", metavar="MOVES",
        help="the columns played from the empty board, 1-7, e.g. 4453 or '4 4 5 3' "
        "(nothing: the empty board)",
    )
    solve.add_argument("--game", default="connect4",
                       help="game name (only connect4 has a solver; default: connect4)")
    solve.add_argument("--json", action="store_true",
                       help='print one JSON object {"sequence", "score", "analysis"} '
                       "as in the solved data sets (null for a full column)")
    solve.add_argument("--table-bits", type=int, default=DEFAULT_TABLE_BITS, metavar="BITS",
                       help="transposition table of 2**BITS entries, 8 bytes each "
                       "(default: %(default)s = 64 MiB)")
    return parser


# ---- info -------------------------------------------------------------------


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table, columns padded to their widest cell (safe in any terminal)."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in [headers, ["-" * width for width in widths], *rows]]
    return "\n".join(lines)


def run_info() -> int:
    headers = ["game", "board", "actions", "planes", "symmetries", "solver", "GTP/SGF", "eval set",
               "CPU preset"]
    rows = []
    for name in engine.list_games():
        spec = engine.get_game(name)
        preset = spec.cpu_preset
        rows.append([
            spec.name,
            "x".join(map(str, spec.board_shape)),
            str(spec.num_actions),
            "x".join(map(str, spec.planes_shape)),
            str(spec.num_symmetries),
            "yes" if spec.make_solver else "-",
            "yes" if spec.gtp_size else "-",
            spec.eval_set or "-",
            f"{preset.net}, {preset.mcts['num_simulations']} sims" if preset else "-",
        ])
    print(format_table(headers, rows))
    return 0


# ---- solve ------------------------------------------------------------------


def side_names(ply: int) -> tuple[str, str]:
    """(player to move, opponent) as the board shows them: X moves first."""
    return ("X", "O") if ply % 2 == 0 else ("O", "X")


def score_meaning(score: int, ply: int, over: bool) -> str:
    """Plain words for ``score`` at a position with ``ply`` stones."""
    mover, opponent = side_names(ply)
    if over:
        if score == 0:
            return "the game is over: a draw (full board)"
        return f"the game is over: {opponent} won with its {ordinal(22 + score)} stone"
    return f"{mover} to move; with perfect play on both sides, " + describe_score(score, mover, opponent)


def format_analysis(analysis: list[int | None]) -> str:
    """Two aligned rows: column numbers and their scores ('-' for a full column)."""
    playable = [value for value in analysis if value is not None]
    best = max(playable) if playable else None
    cells = ["-" if value is None else f"{value:+d}" if value else "0" for value in analysis]
    marks = ["*" if value is not None and value == best else "" for value in analysis]
    width = max(4, *(len(cell) + 1 for cell in cells))
    lines = [
        "column " + "".join(str(col + 1).rjust(width) for col in range(len(analysis))),
        "score  " + "".join((cell + mark).rjust(width) for cell, mark in zip(cells, marks)),
    ]
    if best is not None:
        lines.append("(* = best; score after playing the column, for the player who plays it)")
    return "\n".join(lines)


def run_solve(args: argparse.Namespace) -> int:
    spec = engine.get_game(args.game)  # UnknownGameError for a name that is not registered
    if spec.name != "connect4":
        raise UsageError(f"the solver only knows connect4, not '{spec.name}'")
    text = " ".join(args.moves)
    state = engine.position_from_moves(spec, text)  # IllegalMoveError names the bad move
    sequence = "".join(spec.split_moves(text))

    try:
        solver = Solver(args.table_bits)
    except ValueError as error:
        raise UsageError(str(error)) from None
    analysis = solver.analyze(state)
    over = spec.status(state) != engine.ONGOING
    # the best column's score is the position's: no second search when ongoing
    score = solver.solve(state) if over else max(v for v in analysis if v is not None)
    if args.json:
        print(json.dumps({"sequence": sequence, "score": score, "analysis": analysis}))
        return 0
    print(spec.render(state))
    print()
    print(f"moves:    {sequence or '(none)'}")
    print(f"score:    {score:+d}" if score else "score:    0")
    print(f"meaning:  {score_meaning(score, int(state[PLY]), over)}")
    if not over:
        print()
        print(format_analysis(analysis))
    return 0


class UsageError(ValueError):
    """Input the command cannot use; reported as one line, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "info":
            return run_info()
        return run_solve(args)
    except (IllegalMoveError, UnknownGameError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
