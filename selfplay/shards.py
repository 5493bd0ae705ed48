"""Replay shards: finished games as compact numpy files, written atomically.

A shard holds whole games. Per position (P rows):

    states    [P, S] int64    the position (compact engine state, not planes)
    policies  [P, A] float32  search visit distribution (the policy target)
    outcomes  [P]    float32  final result for the side to move there (+1, 0, -1)
    game_ids  [P]    int32    which game of the shard the row belongs to

Per game (G rows): ``lengths`` (moves played), ``results`` (+1 first player
won, 0 draw, -1 lost), ``resign_disabled`` (bool: the game was not allowed to
resign), ``resigned`` (bool), ``would_resign`` (bool: a no-resign game in which
a player fell below the resignation threshold), ``false_resign`` (bool: such
a game that this player still did not lose).
Plus ``generation`` (int) and ``game`` (name).

Files are ``.npz`` written to a temporary name and renamed, so a shard is
either complete or absent: a killed run never leaves half a shard.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SHARD_SUFFIX = ".npz"


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
    resign_disabled: bool = False
    resigned: bool = False
    would_resign: bool = False
    false_resign: bool = False


@dataclass
class Shard:
    states: np.ndarray
    policies: np.ndarray
    outcomes: np.ndarray
    game_ids: np.ndarray
    lengths: np.ndarray
    results: np.ndarray
    resign_disabled: np.ndarray
    resigned: np.ndarray
    would_resign: np.ndarray
    false_resign: np.ndarray
    generation: int
    game: str
    path: Path | None = field(default=None, compare=False)

    @property
    def num_games(self) -> int:
        return len(self.lengths)

    @property
    def num_positions(self) -> int:
        return len(self.outcomes)


def shard_from_games(games: list[GameRecord], generation: int, game: str,
                     num_actions: int, state_size: int) -> Shard:
    """Pack finished games into one shard (outcomes seen from each position's side to move)."""
    states = [g.states for g in games if len(g.states)]
    return Shard(
        states=np.concatenate(states) if states else np.zeros((0, state_size), np.int64),
        policies=(np.concatenate([g.policies for g in games if len(g.states)])
                  if states else np.zeros((0, num_actions), np.float32)),
        outcomes=np.concatenate([g.players.astype(np.float32) * g.result for g in games]).astype(np.float32),
        game_ids=np.concatenate([np.full(len(g.states), i, np.int32) for i, g in enumerate(games)]),
        lengths=np.array([g.length for g in games], np.int32),
        results=np.array([g.result for g in games], np.int8),
        resign_disabled=np.array([g.resign_disabled for g in games], np.bool_),
        resigned=np.array([g.resigned for g in games], np.bool_),
        would_resign=np.array([g.would_resign for g in games], np.bool_),
        false_resign=np.array([g.false_resign for g in games], np.bool_),
        generation=generation,
        game=game,
    )


def write_shard(shard: Shard, path: Path) -> None:
    """Write ``shard`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SHARD_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle, states=shard.states, policies=shard.policies, outcomes=shard.outcomes,
                game_ids=shard.game_ids, lengths=shard.lengths, results=shard.results,
                resign_disabled=shard.resign_disabled, resigned=shard.resigned,
                would_resign=shard.would_resign, false_resign=shard.false_resign, generation=np.int64(shard.generation),
                game=np.str_(shard.game),
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ShardError(Exception):
    """A file in the games folder that is not a readable shard."""


def read_shard(path: Path) -> Shard:
    """Load a shard; ShardError says what is wrong with a bad file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            fields = {name: data[name] for name in data.files}
        return Shard(
            states=fields["states"], policies=fields["policies"], outcomes=fields["outcomes"],
            game_ids=fields["game_ids"], lengths=fields["lengths"], results=fields["results"],
            resign_disabled=fields["resign_disabled"], resigned=fields["resigned"],
            would_resign=fields["would_resign"], false_resign=fields["false_resign"], generation=int(fields["generation"]),
            game=str(fields["game"]), path=Path(path),
        )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ShardError(f"{path}: not a readable replay shard ({error})") from None


def shard_paths(games_dir: Path) -> list[Path]:
    """Complete shards in ``games_dir``, oldest first (names sort by generation then index)."""
    games_dir = Path(games_dir)
    if not games_dir.is_dir():
        return []
    return sorted(p for p in games_dir.glob(f"gen*{SHARD_SUFFIX}"))


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
