"""Tournaments: a set of pairings played as matches, then rated together.

``round_robin_pairs`` pairs everyone with everyone; ``ladder_pairs`` pairs each
checkpoint of a run with its next few successors and with every fixed anchor
(and the anchors with each other), which keeps a long run's ladder linear in
its length while every rating stays tied to the anchors. Every pair plays the
same openings (the same ``seed``), so no pairing gets easier openings.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from arena.elo import Ratings, fit_ratings
from arena.match import MatchResult, play_match
from arena.players import Player
from arena.records import MatchGame
from engine.spec import GameSpec


def round_robin_pairs(count: int) -> list[tuple[int, int]]:
    """Every pair (i, j), i < j, of ``count`` players."""
    return [(i, j) for i in range(count) for j in range(i + 1, count)]


def ladder_pairs(num_generations: int, num_anchors: int, neighbours: int = 2) -> list[tuple[int, int]]:
    """Pairs of a ladder: players 0..G-1 are generations in order, G..G+K-1 anchors.

    Each generation meets the next ``neighbours`` generations and every anchor;
    the anchors meet each other. The graph is connected whenever G + K >= 2.
    """
    anchors = range(num_generations, num_generations + num_anchors)
    pairs = [(g, h) for g in range(num_generations) for h in range(g + 1, min(g + 1 + neighbours, num_generations))]
    pairs += [(g, a) for g in range(num_generations) for a in anchors]
    pairs += [(a, b) for a in anchors for b in anchors if a < b]
    return pairs


@dataclass
class TournamentResult:
    """Every match played and the ratings fitted to them."""

    names: list[str]
    matches: list[tuple[int, int, MatchResult]]
    """(i, j, result of i against j) per pair."""
    ratings: Ratings

    def result_rows(self) -> list[tuple[int, int, int, int, int]]:
        """(i, j, wins_i, draws, wins_j) per pair, the input of ``fit_ratings``."""
        return [(i, j, r.wins, r.draws, r.losses) for i, j, r in self.matches]


def run_tournament(
    spec: GameSpec,
    players: Sequence[Player],
    pairs: Sequence[tuple[int, int]],
    games_per_pair: int,
    *,
    anchor: str | None = None,
    opening_plies: int = 4,
    seed: int = 0,
    parallel: int = 64,
    on_game: Callable[[int, int, MatchGame], None] | None = None,
    out: str | Path | None = None,
) -> TournamentResult:
    """Play ``games_per_pair`` games for each pair (i, j) of ``players`` and fit ratings.

    ``anchor``: the player name rated 0 (None: the mean is 0). ``on_game(i, j,
    record)`` is called as each game ends; ``out`` collects every game as JSON lines.
    """
    names = [player.name for player in players]
    if len(set(names)) != len(names):
        duplicate = next(name for name in names if names.count(name) > 1)
        raise ValueError(f"player {duplicate!r} is listed twice; every player of a tournament must differ")
    matches = []
    for i, j in pairs:
        def progress(record: MatchGame, _result: MatchResult, i=i, j=j) -> None:
            if on_game is not None:
                on_game(i, j, record)

        result = play_match(spec, players[i], players[j], games_per_pair, opening_plies=opening_plies,
                            seed=seed, parallel=parallel, on_game=progress, out=out)
        matches.append((i, j, result))
    rows = [(i, j, r.wins, r.draws, r.losses) for i, j, r in matches]
    return TournamentResult(names, matches, fit_ratings(names, rows, anchor=anchor))


def write_csv(path: str | Path, ratings: Ratings) -> None:
    """The ratings as CSV: rank, name, elo, error, low, high, games, score."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", "name", "elo", "error", "low", "high", "games", "score"])
        for rank, row in enumerate(ratings.rows(), start=1):
            writer.writerow([rank, row["name"], f"{row['elo']:.1f}", f"{row['error']:.1f}", f"{row['low']:.1f}",
                             f"{row['high']:.1f}", row["games"], f"{row['score']:.4f}"])


def write_json(path: str | Path, result: TournamentResult, extra: dict | None = None) -> None:
    """Ratings, anchor and every pair's W/D/L as one JSON document."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "anchor": result.ratings.anchor,
        "ratings": result.ratings.rows(),
        "matches": [
            {"a": result.names[i], "b": result.names[j], "wins": r.wins, "draws": r.draws, "losses": r.losses}
            for i, j, r in result.matches
        ],
        **(extra or {}),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
