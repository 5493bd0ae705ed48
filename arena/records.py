"""Finished games as records, saved as JSON lines (one game per line, appended).

A line looks like::

    {"game": "connect4", "first": "mcts:sims=200", "second": "random",
     "moves": "4 4 3 5 ...", "opening_plies": 4, "result": "1-0",
     "winner": "mcts:sims=200", "pair": 17, "seed": 0}

``moves`` are in the game's own notation (columns 1-7, cells like b2), the
first ``opening_plies`` of them random opening moves. ``result`` is from the
first player's side as in PGN: "1-0", "0-1", "1/2-1/2", or "*" for a game
that was abandoned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.spec import GameSpec

RESULT_TEXT = {1: "1-0", 0: "1/2-1/2", -1: "0-1", None: "*"}
"""Result of the first player (+1 / 0 / -1, None when unfinished) in PGN notation."""


@dataclass
class GameRecord:
    """One game of a match."""

    game: str
    first: str
    """The first player's spec."""
    second: str
    moves: list[int]
    """Actions in the order played, opening included."""
    opening_plies: int
    result: int | None
    """+1 the first player won, 0 draw, -1 the second won; None if abandoned."""
    pair: int = 0
    """Index of the opening pair: games 2k and 2k+1 of a match share opening k."""
    a_first: bool = True
    """Whether player A of the match moved first."""
    seed: int = 0

    @property
    def result_for_a(self) -> int | None:
        """The result from player A's side (+1 / 0 / -1)."""
        if self.result is None:
            return None
        return self.result if self.a_first else -self.result

    def to_json(self, spec: GameSpec) -> str:
        """One JSON line (without the newline)."""
        winner = {1: self.first, -1: self.second}.get(self.result) if self.result is not None else None
        data = {
            "game": self.game, "first": self.first, "second": self.second,
            "moves": " ".join(spec.format_move(a) for a in self.moves),
            "opening_plies": self.opening_plies, "result": RESULT_TEXT[self.result],
            "winner": winner, "pair": self.pair, "seed": self.seed,
        }
        return json.dumps(data)


class GameLog:
    """Appends game records to a JSON-lines file, flushed after each game so a killed match keeps them."""

    def __init__(self, path: str | Path, spec: GameSpec):
        self.path = Path(path)
        self.spec = spec
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: GameRecord) -> None:
        self._file.write(record.to_json(self.spec) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "GameLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_games(path: str | Path) -> list[dict]:
    """The game dicts of a JSON-lines file (moves stay text in the game's notation)."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]

