"""Where a match's games were decided, judged by the game's exact solver (Connect Four, tic-tac-toe).

Replays every game that ``arena match --out FILE`` saved and solves each position from the end
of the random opening on: the game-theoretic result after the opening, and every move that
gave a result away (a won position left for a drawn or lost one, a drawn one for a lost one),
by player. A match's losses then split into openings that were lost before either player chose
a move and errors of the player; "score without errors" is what each player would have scored
had both played every opening perfectly (a won opening won, a drawn one drawn). Prints a table,
then one JSON line.

    arena match --game connect4 net:runs/c4/checkpoints/gen00100.pt mcts:sims=10000 --games 200 --out games.jsonl
    python benchmarks/match_errors.py games.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

import engine  # noqa: E402
from arena.records import read_games  # noqa: E402
from engine.exact import solver_for  # noqa: E402
from engine.positions import play_move  # noqa: E402


def position_values(spec, solver, moves: list[str], start: int) -> list[int]:
    """The result (+1 win, 0 draw, -1 loss, for the side to move) of each position from ply
    ``start`` to the end of the game: [len(moves) - start + 1] ints, the last the final position's.
    ``moves`` are in the game's notation; IllegalMoveError names one that cannot be played."""
    state = spec.initial_state()
    values = []
    for ply in range(len(moves) + 1):
        if ply >= start:
            values.append(int(np.sign(solver.solve(state))))
        if ply < len(moves):
            state = play_move(spec, state, moves[ply])
    return values


def judge_game(spec, solver, record: dict) -> dict:
    """For one saved game: its players (first, second), the opening's result for the first player,
    the game's result for the first player, and the plies of each player's errors."""
    moves = record["moves"].split()
    start = min(int(record["opening_plies"]), len(moves))
    values = position_values(spec, solver, moves, start)
    errors: list[int] = []
    for index in range(len(values) - 1):
        # The mover's result before its move, against after it (the next position's, negated).
        if -values[index + 1] < values[index]:
            errors.append(start + index)
    first_view = 1 if start % 2 == 0 else -1
    result = {"1-0": 1, "0-1": -1, "1/2-1/2": 0}.get(record["result"])
    return {"players": (record["first"], record["second"]), "opening": first_view * values[0],
            "result": result, "errors": errors}


def summarize(judged: list[dict]) -> dict:
    """Per player: games, score, score without errors, errors, games with an error, and the
    openings won and lost before the first choice."""
    players: dict[str, Counter] = {}
    for game in judged:
        if game["result"] is None:
            continue  # an abandoned game: no result to explain
        for seat, name in enumerate(game["players"]):
            sign = 1 if seat == 0 else -1
            row = players.setdefault(name, Counter())
            mine = [ply for ply in game["errors"] if ply % 2 == seat]
            row["games"] += 1
            row["score"] += (1 + sign * game["result"]) / 2
            row["score_without_errors"] += (1 + sign * game["opening"]) / 2
            row["errors"] += len(mine)
            row["games_with_an_error"] += bool(mine)
            row["openings_won"] += sign * game["opening"] > 0
            row["openings_lost"] += sign * game["opening"] < 0
    return {name: dict(row) for name, row in players.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("games", type=Path, help="the JSON-lines file of arena match --out")
    args = parser.parse_args()
    try:
        records = read_games(args.games)
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: cannot read {args.games}: {error}", file=sys.stderr)
        return 2
    if not records:
        print(f"error: {args.games} holds no games", file=sys.stderr)
        return 2
    try:
        spec = engine.get_game(records[0]["game"])
        solver = solver_for(spec)
    except KeyError:
        print(f"error: {args.games}: its first game names no game", file=sys.stderr)
        return 2
    except (engine.UnknownGameError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    started = time.time()
    judged = []
    for number, record in enumerate(records, start=1):
        try:
            judged.append(judge_game(spec, solver, record))
        except (KeyError, ValueError) as error:  # a missing field, a move that cannot be played
            print(f"error: game {number} of {args.games}: {error}", file=sys.stderr)
            return 2
    players = summarize(judged)
    print(f"{len(judged)} games of {spec.name}, judged by its exact solver in {time.time() - started:.0f} s")
    print(f"{'player':<60}{'games':>6}{'score':>8}{'no errors':>11}{'won/lost openings':>19}"
          f"{'errors':>8}{'games w/ error':>16}")
    for name, row in players.items():
        print(f"{name[-60:]:<60}{row['games']:>6}{row['score']:>8.1f}{row['score_without_errors']:>11.1f}"
              f"{row['openings_won']:>10}/{row['openings_lost']:<8}{row['errors']:>8}{row['games_with_an_error']:>16}")
    print(json.dumps({"benchmark": "match_errors", "game": spec.name, "games": len(judged), "players": players}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
