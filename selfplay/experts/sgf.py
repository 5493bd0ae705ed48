"""Game records as the expert (``sgf:PATH``): the moves of Go games in SGF, learnt as played.

PATH is an .sgf file (one game or a collection), a .zip of them, or a folder
searched recursively for both. ``engine.sgf_files`` reads them: only each game's main
line counts (variations and comments are dropped), every game is replayed on
our engine, and the games it cannot use are skipped and counted by reason.
This source keeps the games of the run's board size in the reader's fixed order
(sorted paths, then the games of a file in file order): ``game(index)`` is the
index-th of them and ``available()`` their number, so a run can learn from all
of them (``--games`` at least that) or from the first N.

Labels, for every move of a game (passes included), in the position before it:

- policy target [A]: one-hot on the move the record played;
- value target: the game's result (RE) for the side to move, +1 won, -1 lost,
  however it was won (count, resignation, time: "B+T"), and 0 for a draw ("0",
  "Draw", "Jigo").

Handicap and other setup stones (AB/AW in the root) are placed, not played: the
first labelled position is the one after them (``ExpertGame.opening`` counts
them), with the record's first mover to move (white after handicap stones).
Every position holds its game's komi (engine state KOMI2), which the network
does not see: records of several komi teach values under each, so ``summary``
lists the komi and the players' ranks that the games have.

Skipped and counted, besides the reader's reasons (``engine.sgf.SKIP_REASONS``),
under the reasons of SOURCE_SKIP_REASONS; ``ExpertConfig.min_rank`` keeps the
games whose two players both rank at least that (the reader's filter).

Making the source reads and replays every record (once per process that makes
one: the pretrain check, the generation, each of ``--workers``), and keeps each
game as its moves, two bytes a move; ``game(index)`` replays one game.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from engine.sgf import SGFError, SGFGame, moves_from_actions, point_to_action, rank_order, replay
from engine.sgf_files import SGFSummary, iter_sgf_games
from engine.spec import GameSpec
from selfplay.config import ExpertConfig
from selfplay.experts import ExpertGame, record_of_moves

SOURCE_SKIP_REASONS = {
    "other board size": "a game on another board than the run's (a go9 run learns 9x9 games only)",
    "no result": "no RE, or one that names no winner and is no draw (\"Void\", \"?\"): no value to learn",
    "no moves": "setup stones only: no position to label",
}
"""Why this source skips a game the reader kept: the key counted in ``SGFSummary.skipped``."""


@dataclass(frozen=True)
class StoredGame:
    """One usable game, kept small: its record without the moves, and the moves as actions."""

    header: SGFGame
    """The record with ``moves`` emptied (they are ``actions``): setup stones, komi, result, players."""
    first: str
    """Who moved first ("b" or "w"), which ``header`` no longer tells when handicap is not marked."""
    actions: np.ndarray
    """[T] int16: the main line as engine actions (pass = N * N)."""
    result: int
    """The result for the first mover: +1 won, -1 lost, 0 draw."""

    def game(self) -> SGFGame:
        """The full record again."""
        size = self.header.board_size
        return dataclasses.replace(self.header, moves=moves_from_actions(self.actions, size, self.first))


class SGFSource:
    """The usable games of one path's SGF records for one Go board (see the module docstring)."""

    label = "sgf"

    def __init__(self, spec: GameSpec, path: str, config: ExpertConfig):
        size = spec.gtp_size
        if size is None:
            raise ValueError(f"the sgf expert reads Go games; {spec.name} is not Go (use go9, go13, go19...)")
        self.spec = spec
        self.counts = SGFSummary()
        """Files read, games used and games skipped by reason (the reader's and SOURCE_SKIP_REASONS)."""
        self.games: list[StoredGame] = []
        komi: Counter = Counter()
        ranks: list[str] = []
        unranked = 0
        # ValueError at once when the path does not exist (or min_rank is not a rank).
        for game in iter_sgf_games(path, min_rank=config.min_rank, summary=self.counts):
            stored = self._keep(game, size)
            if stored is None:
                continue
            self.games.append(stored)
            komi[game.komi] += 1
            readable = [rank for rank in (game.black_rank, game.white_rank) if rank_order(rank) is not None]
            ranks.extend(readable)
            unranked += len(readable) < 2
        if not self.games:
            raise ValueError(f"sgf:{path} holds no usable {spec.name} game ({self.counts})")
        kept = ", ".join(f"{value:g} ({count})" for value, count in komi.most_common())
        text = f"sgf: {self.counts}; komi {kept}"
        if ranks:
            ranks.sort(key=rank_order)
            text += f"; ranks {ranks[0]} to {ranks[-1]}"
        if unranked:
            text += f"; {unranked} game{'s' if unranked > 1 else ''} without both ranks"
        self.summary = text
        """One line for the user: what was read, what was skipped and why, komi and ranks."""

    def _keep(self, game: SGFGame, size: int) -> StoredGame | None:
        """``game`` as stored, or None when it is skipped (counted under SOURCE_SKIP_REASONS)."""
        if game.board_size != size:
            reason, detail = "other board size", f"{game.board_size}x{game.board_size}, not {self.spec.name}"
        elif game.result_for_first is None:
            reason, detail = "no result", f"RE[{game.result}]" if game.result is not None else "no RE"
        elif not game.moves:
            reason, detail = "no moves", "setup stones only"
        else:
            actions = np.array([point_to_action(point, size) for _, point in game.moves], np.int16)
            return StoredGame(dataclasses.replace(game, moves=()), game.first_colour, actions,
                              game.result_for_first)
        self.counts.games -= 1  # the reader counted it as used
        self.counts.skip(game.source, SGFError(reason, detail))
        return None

    def available(self) -> int:
        return len(self.games)

    def close(self) -> None:
        pass

    def game(self, index: int) -> ExpertGame:
        started = time.perf_counter()
        stored = self.games[index]
        played = replay(stored.game())  # legal: the reader replayed it already
        # The final position has no move to learn; the first player is the record's first mover.
        record = record_of_moves(self.spec, played.states[:-1], played.actions, stored.result, len(played.actions))
        setup = len(stored.header.setup_black) + len(stored.header.setup_white)
        return ExpertGame(record, opening=setup, seconds=time.perf_counter() - started)


def make_source(spec: GameSpec, argument: str | None, config: ExpertConfig, seed: int) -> SGFSource:
    """``seed`` is not used: a record is the same game whatever the seed."""
    return SGFSource(spec, argument, config)
