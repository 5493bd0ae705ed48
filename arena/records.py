"""Finished games as records, saved as JSON lines (one game per line, appended).

A line looks like::

    {"game": "connect4", "first": "mcts:sims=200", "second": "random",
     "moves": "4 4 3 5 ...", "opening_plies": 4, "result": "1-0",
     "winner": "mcts:sims=200", "pair": 17, "seed": 0}

``moves`` are in the game's own notation (columns 1-7, cells like b2, Go
vertices like D4), the first ``opening_plies`` of them random opening moves. ``result`` is from the
first player's side as in PGN: "1-0", "0-1", "1/2-1/2", or "*" for a game
that was abandoned. A game that a player gave up (a resignation, an external
engine's illegal move) also has ``"ending"``, saying so in words.

Go games can also be saved one SGF file each (``SGFFolder``): black is the first
player, RE is the area score ("B+3.5") or, for a game given up, "W+R" after a
resignation and "W+F" (forfeit) after any other ending.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import re
from dataclasses import dataclass
from pathlib import Path

from engine import go_positions
from engine.sgf import SGFGame, moves_from_actions, replay, today, write_sgf
from engine.spec import GameSpec

RESIGNED = "resigned"
"""A player's ending when it resigns (a GTP engine's ``genmove`` answering "resign"); a record's
ending is then "PLAYER resigned"."""

RESULT_TEXT = {1: "1-0", 0: "1/2-1/2", -1: "0-1", None: "*"}
"""Result of the first player (+1 / 0 / -1, None when unfinished) in PGN notation."""


@dataclass
class MatchGame:
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
    ending: str | None = None
    """Why the game ended before the rules ended it, e.g. "gtp:gnugo resigned"; None when they did."""

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
        if self.ending is not None:
            data["ending"] = self.ending
        return json.dumps(data)


class GameLog:
    """Appends game records to a JSON-lines file, flushed after each game so a killed match keeps them."""

    def __init__(self, path: str | Path, spec: GameSpec):
        self.path = Path(path)
        self.spec = spec
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: MatchGame) -> None:
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



def _application() -> str:
    """The SGF AP of the games the arena saves: "zeroplay:VERSION" (just "zeroplay" when the package
    is not installed, e.g. run from a source tree)."""
    try:
        return f"zeroplay:{importlib.metadata.version('zeroplay')}"
    except importlib.metadata.PackageNotFoundError:
        return "zeroplay"


APPLICATION = _application()


def sgf_game(record: MatchGame, spec: GameSpec) -> SGFGame:
    """A finished Go game of a match as an SGF record (black = the first player; komi that of the
    game's initial position)."""
    size = spec.board_shape[0]
    game = SGFGame(board_size=size, komi=go_positions.komi(spec.initial_state()),
                   moves=moves_from_actions(record.moves, size), black=record.first, white=record.second,
                   date=today(), application=APPLICATION)
    if record.ending is None:
        result = go_positions.score_text(replay(game).final)
    else:
        winner, loser = ("B", record.second) if record.result == 1 else ("W", record.first)
        result = f"{winner}+{'R' if record.ending == f'{loser} {RESIGNED}' else 'F'}"
    return dataclasses.replace(game, result=result)


class SGFFolder:
    """Saves each finished Go game of a match as ``FOLDER/game-NNNNN.sgf``, numbered on from the
    highest number already there (so a second match adds to a folder instead of overwriting it)."""

    PATTERN = re.compile(r"game-(\d+)\.sgf")

    def __init__(self, folder: str | Path, spec: GameSpec):
        if spec.gtp_size is None:
            raise ValueError(f"only Go games are saved as SGF, not {spec.name}")
        self.folder = Path(folder)
        self.spec = spec
        self.folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in self.folder.iterdir() if (m := self.PATTERN.fullmatch(p.name))]
        self.next_number = max(numbers, default=0) + 1

    def write(self, record: MatchGame) -> Path:
        """Save one game; returns its path."""
        path = write_sgf(sgf_game(record, self.spec), self.folder / f"game-{self.next_number:05d}.sgf")
        self.next_number += 1
        return path
