"""Matches: many games between two players at once.

Games are numbered 0, 1, 2, ...; game ``2k`` and game ``2k + 1`` form pair
``k``: both start from the same random opening (``opening_plies`` uniformly
random legal moves drawn from ``(seed, k)``), player A moving first in the
even game and player B in the odd one. Deterministic players therefore never
replay one game, and neither colour nor opening luck favours a side.

Up to ``parallel`` games are in flight (one when a player is human or follows
one game at a time, as an external GTP engine does). Each round, player A gets
every position where it is to move as one batch ``states [B, S]`` with the moves
that led there, then player B gets its positions (the games A just moved in
among them); finished games free their slots for the next ones, so batches stay
full until the end.

A game ends by the rules, or when its player to move gives it up: a decision's
ending (a GTP engine's "resign", an answer that is not a move), or an illegal
move from an external player, which the referee (our engine) checks. It is then
lost by that player, and the record says why. An illegal move from one of our
own players is a bug and stops the match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from arena.elo import EloEstimate, count_result, elo_estimate
from arena.players import Decisions, Player
from arena.records import GameLog, MatchGame, SGFFolder
from engine.positions import legal_actions, random_opening
from engine.spec import ONGOING, GameSpec


@dataclass
class MatchResult:
    """Results of a match so far, from player A's side."""

    player_a: str
    player_b: str
    num_games: int
    """Games asked for."""
    wins: int = 0
    draws: int = 0
    losses: int = 0
    games: list[MatchGame] = field(default_factory=list)
    """Finished games in the order they ended."""
    stopped_early: bool = False
    """True when ``stop`` ended the match before ``num_games`` (games in flight are dropped)."""

    @property
    def played(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """A's mean score per game (0.5 before any game)."""
        return (self.wins + 0.5 * self.draws) / self.played if self.played else 0.5

    @property
    def elo(self) -> EloEstimate:
        """A's Elo advantage over B with its 95% interval."""
        return elo_estimate(self.wins, self.draws, self.losses)

    def count(self, record: MatchGame) -> None:
        self.games.append(record)
        count_result(self, record.result_for_a)


def opening_for_pair(spec: GameSpec, plies: int, seed: int, pair: int) -> list[int]:
    """The opening of pair ``pair``: the same for both of its games, different across pairs."""
    return random_opening(spec, plies, np.random.default_rng([seed, pair]))


@dataclass
class _Game:
    """A game in flight."""

    index: int
    opening_plies: int
    state: np.ndarray
    """[S] the current position."""
    moves: list[int]
    ending: str | None = None
    """Why the game ended before the rules ended it (the player to move gave it up); None otherwise."""

    def finished(self, spec: GameSpec) -> bool:
        return self.ending is not None or spec.status(self.state) != ONGOING

    @property
    def a_first(self) -> bool:
        return self.index % 2 == 0

    @property
    def a_to_move(self) -> bool:
        # Players alternate, so the first player is to move after an even number of moves.
        return (len(self.moves) % 2 == 0) == self.a_first


def play_match(
    spec: GameSpec,
    player_a: Player,
    player_b: Player,
    num_games: int,
    *,
    opening_plies: int = 4,
    seed: int = 0,
    parallel: int = 64,
    on_game: Callable[[MatchGame, MatchResult], None] | None = None,
    stop: Callable[[MatchResult], bool] | None = None,
    out: str | Path | None = None,
    sgf_dir: str | Path | None = None,
) -> MatchResult:
    """Play ``num_games`` games of A against B; returns the results from A's side.

    ``opening_plies``: random moves that open each pair of games (0 for none).
    ``parallel``: games in flight at once (1 when a player is human).
    ``on_game(record, result)``: called as each game ends (progress display).
    ``stop(result)``: checked after each game; True ends the match at once and
    drops the games in flight (SPRT). ``out``: a JSON-lines file the games are
    appended to as they end. ``sgf_dir``: a folder where each Go game is also
    saved as an SGF file as it ends (ValueError for other games).
    """
    if num_games < 1:
        raise ValueError("a match needs at least one game")
    if opening_plies < 0:
        raise ValueError("opening plies must not be negative")
    if not (player_a.batched and player_b.batched):
        parallel = 1
    parallel = max(1, min(parallel, num_games))
    result = MatchResult(player_a.name, player_b.name, num_games)
    sgf_folder = SGFFolder(sgf_dir, spec) if sgf_dir is not None else None
    log = GameLog(out, spec) if out is not None else None
    openings: dict[int, list[int]] = {}
    started = 0

    def start() -> _Game:
        nonlocal started
        index, pair = started, started // 2
        started += 1
        if pair not in openings:
            openings[pair] = opening_for_pair(spec, opening_plies, seed, pair)
        # The second game of a pair is the last to need the opening.
        moves = openings.pop(pair) if index % 2 else list(openings[pair])
        state = spec.initial_state()
        for action in moves:
            following = np.empty_like(state)
            spec.play_into(state, action, following)
            state = following
        return _Game(index, len(moves), state, list(moves))

    active = [start() for _ in range(parallel)]
    try:
        while active:
            for mover, is_a in ((player_a, True), (player_b, False)):
                to_move = [g for g in active if g.a_to_move == is_a and not g.finished(spec)]
                if to_move:
                    _move(spec, mover, to_move)
            still = []
            for game in active:
                if not game.finished(spec):
                    still.append(game)
                    continue
                # The player to move lost a game it gave up (-1 for the side to move).
                status = -1 if game.ending is not None else int(spec.status(game.state))
                record = _record(spec, game, player_a, player_b, status, seed)
                result.count(record)
                if log is not None:
                    log.write(record)
                if sgf_folder is not None:
                    sgf_folder.write(record)
                if on_game is not None:
                    on_game(record, result)
                if stop is not None and stop(result):
                    result.stopped_early = result.played < num_games
                    return result
            active = still
            while len(active) < parallel and started < num_games:
                active.append(start())
    finally:
        if log is not None:
            log.close()
    return result


def _move(spec: GameSpec, player: Player, games: list[_Game]) -> None:
    """Ask ``player`` for its moves in ``games`` (one batch), check them and play them."""
    states = np.stack([g.state for g in games])  # [B, S]
    decisions = player.play_games(states, [list(g.moves) for g in games])
    actions = np.asarray(decisions.actions, np.int64)
    playing = []
    for b, game in enumerate(games):
        ending = refereed_ending(spec, player, game.state, decisions, b)
        if ending is None:
            playing.append(b)
        else:
            game.ending = ending
    following = np.empty_like(states[playing])
    spec.play_batch(states[playing], actions[playing], following)
    for b, state in zip(playing, following):
        games[b].state = state
        games[b].moves.append(int(actions[b]))


def refereed_ending(spec: GameSpec, player: Player, state: np.ndarray, decisions: Decisions, b: int) -> str | None:
    """Why ``player`` gives up the game of ``state`` [S] with its decision ``b``, in words that
    name it ("gtp:gnugo resigned", "... played the illegal move E5 (E5 is occupied)"), or None
    when the move stands. An illegal move of one of our own players is a bug: RuntimeError."""
    ending = decisions.endings[b] if decisions.endings is not None else None
    action = int(decisions.actions[b])
    if ending is None and not (0 <= action < spec.num_actions and action in legal_actions(spec, state)):
        on_board = 0 <= action < spec.num_actions
        move = spec.format_move(action) if on_board else str(action)
        reason = spec.why_illegal(state, action) if on_board else "no such move"
        if not player.external:
            raise RuntimeError(f"player {player.name} chose the illegal move {move} ({reason})")
        ending = f"played the illegal move {move} ({reason})"
    return None if ending is None else f"{player.name} {ending}"


def _record(spec: GameSpec, game: _Game, player_a: Player, player_b: Player, status: int, seed: int) -> MatchGame:
    # status is the final value for the side to move; the first player is to move after an even number of moves.
    result_first = status if len(game.moves) % 2 == 0 else -status
    first, second = (player_a, player_b) if game.a_first else (player_b, player_a)
    return MatchGame(game=spec.name, first=first.name, second=second.name, moves=game.moves,
                      opening_plies=game.opening_plies, result=result_first, pair=game.index // 2,
                      a_first=game.a_first, seed=seed, ending=game.ending)
