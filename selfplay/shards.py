"""Replay shards: finished games as compact numpy files, written atomically.

A shard holds whole games. Per position (P rows):

    states    [P, S] int64    the position (compact engine state, not planes)
    policies  [P, A] float32  search visit distribution (the policy target)
    values    [P]    float32  the value target for the side to move there: in self-play the
                              game's final result (+1, 0, -1), unless the run discounts it per
                              ply or mixes in the search's value (``selfplay.actor``); stored as
                              "outcomes" in shards written before 2026-12, which still load
    game_ids  [P]    int32    which game of the shard the row belongs to

Per game (G rows): ``lengths`` (moves played), ``results`` (+1 first player
won, 0 draw, -1 lost), ``resign_disabled`` (bool: the game was not allowed to
resign), ``resigned`` (bool), ``would_resign`` (bool: a no-resign game in which
a player fell below the resignation threshold), ``false_resign`` (bool: such
a game that this player still did not lose), ``ownership_ended`` (bool: the game
ended when the ownership head settled the board and was scored by it), ``would_end``
(bool: a game that played on past such a settled board, to check it) and
``false_end`` (bool: such a game whose played-out result differed from the
ownership head's; these three are False in shards from before they existed),
``dropped`` (int: expert data's
labelled positions left out because they are evaluation positions; 0 in
self-play, and in shards from before it existed).
Plus ``generation`` (int), ``game`` (name) and ``source`` ("selfplay", or the
expert that played the games, e.g. "solver"; shards from before it existed
read as "selfplay").

Expert data (``selfplay.experts``, the supervised bootstrap) uses the same
layout, in shards named ``expert-KKKKK.npz`` that the self-play buffer never
reads, with two differences: ``values`` are not always the game's result (an
exact solver's result for the side to move, which differs from the game's
result after a move that was not optimal), and an optional

    scores    [P, A] float32  an exact solver's score of every move (NaN: illegal)

lets validation judge a move by its score whatever the policy target was.

Self-play of a run that trains auxiliary heads adds their targets (``selfplay.targets``),
each [P, ...] under its key, e.g.

    reply_policies [P, A] float32  the policy target of the position after this one (the
                                   opponent's reply; KataGo's auxiliary target), zeros where
                                   that position was not recorded or the game ended

Files are ``.npz`` written to a temporary name and renamed, so a shard is
either complete or absent: a killed run never leaves half a shard.
"""

from __future__ import annotations

import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from selfplay.targets import TARGETS_BY_KEY

SHARD_SUFFIX = ".npz"
EXPERT_PREFIX = "expert-"
SELFPLAY_SOURCE = "selfplay"


@dataclass
class GameRecord:
    """One finished game as the actor saw it."""

    states: np.ndarray
    """[T, S] int64: the positions whose search is recorded as a target."""
    policies: np.ndarray
    """[T, A] float32: visit distributions at those positions."""
    players: np.ndarray
    """[T] int8: +1 if the first player was to move at the position, else -1."""
    result: int
    """+1 first player won, 0 draw, -1 first player lost."""
    length: int
    """Moves played in the game (recorded or not)."""
    values: np.ndarray | None = None
    """[T] float32: value targets for the side to move at each position (expert data: the
    solved result); None: the game's result, ``players * result`` (self-play's z)."""
    scores: np.ndarray | None = None
    """[T, A] float32: exact scores of every move (NaN where illegal), when an exact solver played."""
    resign_disabled: bool = False
    resigned: bool = False
    would_resign: bool = False
    false_resign: bool = False
    ownership_ended: bool = False
    would_end: bool = False
    false_end: bool = False
    dropped: int = 0
    """Labelled positions left out of ``states`` because they are evaluation positions."""
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    """Auxiliary targets, each [T, ...] (``selfplay.targets``)."""


@dataclass
class Shard:
    states: np.ndarray
    policies: np.ndarray
    values: np.ndarray
    game_ids: np.ndarray
    lengths: np.ndarray
    results: np.ndarray
    resign_disabled: np.ndarray
    resigned: np.ndarray
    would_resign: np.ndarray
    false_resign: np.ndarray
    generation: int
    game: str
    dropped: np.ndarray
    """[G] int32 (see the module docstring)."""
    ownership_ended: np.ndarray
    would_end: np.ndarray
    false_end: np.ndarray
    """[G] bool each (see the module docstring)."""
    source: str = SELFPLAY_SOURCE
    scores: np.ndarray | None = None
    """[P, A] float32, or None (see the module docstring)."""
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    """Auxiliary targets, each [P, ...] (see the module docstring)."""
    path: Path | None = field(default=None, compare=False)

    @property
    def num_games(self) -> int:
        return len(self.lengths)

    @property
    def num_positions(self) -> int:
        return len(self.values)


def game_metrics(shards: list[Shard]) -> dict[str, float]:
    """What the games of ``shards`` (at least one game) were like: mean length, the first
    player's win rate, the draw rate, and the share of would-be resignations that were wrong
    (in the games that never resign); where games ended on the ownership head's settled board,
    their share and the share of checked endings that were wrong."""
    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(s, name) for s in shards])

    lengths, results = joined("lengths"), joined("results")
    would, false = joined("would_resign"), joined("false_resign")
    metrics = {
        "mean_game_length": float(lengths.mean()),
        "first_player_win_rate": float((results > 0).mean()),
        "draw_rate": float((results == 0).mean()),
        "resign_false_positive_rate": float(false.sum() / would.sum()) if would.any() else 0.0,
    }
    ended, would_end, false_end = joined("ownership_ended"), joined("would_end"), joined("false_end")
    if ended.any() or would_end.any():
        metrics["ownership_end_share"] = float(ended.mean())
        metrics["ownership_end_false_rate"] = float(false_end.sum() / would_end.sum()) if would_end.any() else 0.0
    return metrics


def shard_from_games(games: list[GameRecord], generation: int, game: str,
                     num_actions: int, state_size: int, source: str = SELFPLAY_SOURCE) -> Shard:
    """Pack finished games into one shard (values seen from each position's side to move).

    The games of one shard either all carry ``scores`` or none does, and all carry the same
    auxiliary targets."""
    states = [g.states for g in games if len(g.states)]
    has_scores = [g.scores is not None for g in games]
    if any(has_scores) and not all(has_scores) or len({tuple(sorted(g.aux)) for g in games}) > 1:
        raise ValueError("games with and without solver scores (or auxiliary targets) cannot share a shard")
    return Shard(
        states=np.concatenate(states) if states else np.zeros((0, state_size), np.int64),
        policies=(np.concatenate([g.policies for g in games if len(g.states)])
                  if states else np.zeros((0, num_actions), np.float32)),
        values=np.concatenate([g.players.astype(np.float32) * g.result if g.values is None else g.values
                                 for g in games]).astype(np.float32),
        game_ids=np.concatenate([np.full(len(g.states), i, np.int32) for i, g in enumerate(games)]),
        lengths=np.array([g.length for g in games], np.int32),
        results=np.array([g.result for g in games], np.int8),
        resign_disabled=np.array([g.resign_disabled for g in games], np.bool_),
        resigned=np.array([g.resigned for g in games], np.bool_),
        would_resign=np.array([g.would_resign for g in games], np.bool_),
        false_resign=np.array([g.false_resign for g in games], np.bool_),
        dropped=np.array([g.dropped for g in games], np.int32),
        ownership_ended=np.array([g.ownership_ended for g in games], np.bool_),
        would_end=np.array([g.would_end for g in games], np.bool_),
        false_end=np.array([g.false_end for g in games], np.bool_),
        generation=generation,
        game=game,
        source=source,
        scores=(np.concatenate([g.scores for g in games]).astype(np.float32).reshape(-1, num_actions)
                if games and all(has_scores) else None),
        aux={key: np.concatenate([g.aux[key] for g in games]) for key in (games[0].aux if games else {})},
    )


def write_shard(shard: Shard, path: Path) -> None:
    """Write ``shard`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SHARD_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle, states=shard.states, policies=shard.policies, values=shard.values,
                game_ids=shard.game_ids, lengths=shard.lengths, results=shard.results,
                resign_disabled=shard.resign_disabled, resigned=shard.resigned,
                would_resign=shard.would_resign, false_resign=shard.false_resign, generation=np.int64(shard.generation),
                game=np.str_(shard.game), source=np.str_(shard.source),
                dropped=shard.dropped, ownership_ended=shard.ownership_ended, would_end=shard.would_end,
                false_end=shard.false_end,
                **({} if shard.scores is None else {"scores": shard.scores}),
                **shard.aux,
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


FLUSH_SECONDS = 30.0
"""Longest a finished game waits in memory before its shard is written."""


class PendingGames:
    """Finished games waiting to be written: a shard every ``max_games`` games, or
    as soon as the oldest has waited ``FLUSH_SECONDS``, so that a kill loses little.

    ``write(games, index)`` writes the shard numbered ``index`` (counting on
    from ``first_index``); ``shards`` counts the shards this object wrote.
    """

    def __init__(self, write: Callable[[list[GameRecord], int], None], max_games: int, first_index: int):
        self.write = write
        self.max_games = max_games
        self.next_index = first_index
        self.shards = 0
        self.games: list[GameRecord] = []
        self._oldest_at = 0.0

    def add(self, record: GameRecord) -> None:
        if not self.games:
            self._oldest_at = time.perf_counter()
        self.games.append(record)
        if len(self.games) >= self.max_games or time.perf_counter() - self._oldest_at > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the waiting games now (nothing when none wait)."""
        if self.games:
            self.write(self.games, self.next_index)
            self.next_index += 1
            self.shards += 1
            self.games = []


FORMER_VALUES_KEY = "outcomes"
"""The name the value targets had in shards written before 2026-12."""


class ShardError(Exception):
    """A file in the games folder that is not a readable shard."""


def read_shard(path: Path) -> Shard:
    """Load a shard; ShardError says what is wrong with a bad file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = {name: data[name] for name in data.files}
        absent = np.zeros(len(fields["lengths"]), np.bool_)
        return Shard(
            states=fields["states"], policies=fields["policies"],
            values=fields["values"] if "values" in fields else fields[FORMER_VALUES_KEY],
            game_ids=fields["game_ids"], lengths=fields["lengths"], results=fields["results"],
            resign_disabled=fields["resign_disabled"], resigned=fields["resigned"],
            would_resign=fields["would_resign"], false_resign=fields["false_resign"],
            generation=int(fields["generation"]),
            game=str(fields["game"]), dropped=fields.get("dropped", np.zeros(len(fields["lengths"]), np.int32)),
            ownership_ended=fields.get("ownership_ended", absent), would_end=fields.get("would_end", absent),
            false_end=fields.get("false_end", absent),
            source=str(fields.get("source", SELFPLAY_SOURCE)), scores=fields.get("scores"),
            aux={key: fields[key] for key in TARGETS_BY_KEY if key in fields}, path=Path(path),
        )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ShardError(f"{path}: not a readable replay shard ({error})") from None


def shard_paths(games_dir: Path) -> list[Path]:
    """Complete shards in ``games_dir``, oldest first (names sort by generation then index)."""
    games_dir = Path(games_dir)
    if not games_dir.is_dir():
        return []
    return sorted(p for p in games_dir.glob(f"gen*{SHARD_SUFFIX}"))


def expert_shard_paths(games_dir: Path) -> list[Path]:
    """Expert shards (``expert-KKKKK.npz``) in ``games_dir``, in the order their games were played."""
    games_dir = Path(games_dir)
    return sorted(games_dir.glob(f"{EXPERT_PREFIX}*{SHARD_SUFFIX}")) if games_dir.is_dir() else []


def expert_shard_name(index: int) -> str:
    """``expert-KKKKK.npz``: the ``index``-th expert shard of a run."""
    return f"{EXPERT_PREFIX}{index:05d}{SHARD_SUFFIX}"


def shard_name(generation: int, index: int, actor: int | None = None) -> str:
    """``genGGGGG-KKKKK.npz`` (one process), or ``genGGGGG-aAAA-KKKKK.npz`` for distributed
    actor ``actor``: each actor has its own index space, so actors never pick the same name."""
    if actor is None:
        return f"gen{generation:05d}-{index:05d}{SHARD_SUFFIX}"
    return f"gen{generation:05d}-a{actor:03d}-{index:05d}{SHARD_SUFFIX}"


def generation_prefix(generation: int, actor: int | None = None) -> str:
    """The name prefix of a generation's shards (all of them, or actor ``actor``'s)."""
    return f"gen{generation:05d}-" if actor is None else f"gen{generation:05d}-a{actor:03d}-"


def shard_actor(name: str) -> int | None:
    """The distributed actor that wrote shard ``name`` (None: a one-process shard)."""
    parts = name.split("-")
    if len(parts) == 3 and parts[1].startswith("a") and parts[1][1:].isdigit():
        return int(parts[1][1:])
    return None
