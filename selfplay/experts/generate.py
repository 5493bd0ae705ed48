"""Expert games into replay shards: resumable, optionally in worker processes,
without the positions kept for evaluation.

``generate_expert_games`` brings a run's ``games/`` folder up to a target
number of expert games. Game ``i`` is always the source's game ``i``, and
shards (``expert-KKKKK.npz``) are written in game order as games finish (every
``SHARD_GAMES`` games or ``FLUSH_SECONDS``), atomically: a kill loses only the
games not yet written, and the next call counts the games on disk and asks
the source for the next index, so no game is written twice.

A source that plays its games (gtp) also gives each as SGF, saved as
``<run-dir>/sgf/expert-NNNNNN.sgf`` (``expert_sgf_path``, NNNNNN the game's index)
before the game goes into a shard, so every game in a shard has its file; a
game played again after a kill is the same game and overwrites its file.

Exclusion: the positions of the solved Connect Four sets
(``engine.solved_sets``, all five, and a run's own --eval-set) are for evaluation only. Every labelled
position whose symmetry-reduced key equals one of theirs is dropped, so a
position reached by another move order, or its mirror image (which the
training augmentation would turn back into it), is dropped too.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import multiprocessing.util
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

import engine
from engine.solved_sets import SET_NAMES
from engine.spec import GameSpec
from selfplay.config import ExpertConfig
from selfplay.evaluation import load_solved_positions
from selfplay.experts import ExpertGame, canonical_key, make_source
from selfplay.shards import (
    GameRecord,
    PendingGames,
    expert_shard_name,
    expert_shard_paths,
    read_shard,
    shard_from_games,
    write_shard,
)

SHARD_GAMES = 100
"""Games per expert shard (fewer in the last one, and when FLUSH_SECONDS pass first)."""
SGF_FOLDER = "sgf"
"""Where the SGF files of played expert games go: this folder beside the games folder."""


@dataclass
class GenerationStats:
    """What one ``generate_expert_games`` call did."""

    games_before: int = 0
    """Expert games on disk when the call began."""
    games: int = 0
    """Games played (and written) by this call."""
    positions: int = 0
    """Labelled positions written."""
    dropped: int = 0
    """Labelled positions dropped as evaluation positions."""
    seconds: float = 0.0
    seconds_by_opening: dict[int, list[float]] = field(default_factory=dict)
    """Opening length -> the time of each game that had it."""


def evaluation_keys(spec: GameSpec, extra_set: str | None = None) -> frozenset[bytes]:
    """Symmetry-reduced keys (``canonical_key``) of every position of the five solved
    Connect Four sets shipped with the package, and of ``extra_set`` (a run's own --eval-set
    file) when given; empty for games that are not scored on solved sets (no ``spec.eval_set``)."""
    if spec.eval_set is None:
        return frozenset()
    keys = set()
    for name in dict.fromkeys([*SET_NAMES, *([extra_set] if extra_set else [])]):
        positions = load_solved_positions(spec, name)
        keys.update(canonical_key(spec, state)[0] for state in positions.states)
    return frozenset(keys)


def drop_positions(spec: GameSpec, record: GameRecord, keys: frozenset[bytes]) -> tuple[GameRecord, int]:
    """``record`` without the positions whose ``canonical_key`` is in ``keys``; and how many went."""
    if not keys:
        return record, 0
    keep = np.array([canonical_key(spec, state)[0] not in keys for state in record.states], np.bool_)
    if keep.all():
        return record, 0
    rows = {name: getattr(record, name) for name in ("states", "policies", "players", "values", "scores")}
    kept = {name: None if array is None else array[keep] for name, array in rows.items()}
    dropped = int((~keep).sum())
    return dataclasses.replace(record, **kept, dropped=record.dropped + dropped), dropped


def expert_sgf_path(games_dir: Path, index: int) -> Path:
    """``<run-dir>/sgf/expert-NNNNNN.sgf``: the SGF file of expert game ``index`` (from 0) of the
    run whose games folder is ``games_dir``."""
    return Path(games_dir).parent / SGF_FOLDER / f"expert-{index:06d}.sgf"


def expert_games_on_disk(games_dir: Path) -> tuple[int, int]:
    """(games, shards) of expert data in ``games_dir``."""
    shards = [read_shard(path) for path in expert_shard_paths(games_dir)]
    return sum(s.num_games for s in shards), len(shards)


@functools.cache  # one source per worker process, kept across its games (a solver's table, an engine process)
def _worker_source(game: str, config: ExpertConfig, seed: int):
    source = make_source(engine.get_game(game), config, seed)
    # Runs when the worker exits after pool.close(); a terminated worker's engine pipes just close.
    multiprocessing.util.Finalize(None, source.close, exitpriority=10)
    return source


def _start_worker(game: str, config: ExpertConfig, seed: int) -> None:
    """The pool's initializer: the worker's source is made before its first game."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker_source(game, config, seed)


def _worker_game(game: str, config: ExpertConfig, seed: int, index: int) -> ExpertGame:
    return _worker_source(game, config, seed).game(index)


def generate_expert_games(spec: GameSpec, config: ExpertConfig, seed: int, games_dir: Path, target: int,
                          workers: int = 1, excluded: frozenset[bytes] = frozenset(),
                          on_game: Callable[[GenerationStats], None] | None = None) -> GenerationStats:
    """Play expert games until ``games_dir`` holds ``target`` of them (see the module docstring).

    ``workers`` > 1 plays in that many processes, each with its own source;
    games are still written in index order. ``excluded``: keys of positions
    never to write (``evaluation_keys``). ``on_game(stats)`` is called after
    each game. Returns what this call did; a source with fewer games than
    ``target`` (``available()``) stops at its last.
    """
    games_before, shard_index = expert_games_on_disk(games_dir)
    stats = GenerationStats(games_before=games_before)
    source = make_source(spec, config, seed)  # also checks the source before any worker starts
    available = source.available()
    indices = range(games_before, target if available is None else min(target, available))
    if not len(indices):
        source.close()
        return stats
    started = time.perf_counter()

    def write(games: list[GameRecord], index: int) -> None:
        shard = shard_from_games(games, 0, spec.name, spec.num_actions, spec.state_size, source=source.label)
        write_shard(shard, Path(games_dir) / expert_shard_name(index))

    pending = PendingGames(write, SHARD_GAMES, shard_index)

    pool = None
    try:
        if workers > 1:
            source.close()  # the workers make their own
            pool = multiprocessing.get_context("spawn").Pool(
                workers, initializer=_start_worker, initargs=(spec.name, config, seed))
            games: Iterator[ExpertGame] = pool.imap(functools.partial(_worker_game, spec.name, config, seed), indices)
        else:
            games = map(source.game, indices)
        for index, game in zip(indices, games):  # in index order, whoever played them
            if game.sgf is not None:
                path = expert_sgf_path(games_dir, index)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(game.sgf)
            record, dropped = drop_positions(spec, game.record, excluded)
            pending.add(record)
            stats.games += 1
            stats.positions += len(record.states)
            stats.dropped += dropped
            stats.seconds_by_opening.setdefault(game.opening, []).append(game.seconds)
            stats.seconds = time.perf_counter() - started
            if on_game is not None:
                on_game(stats)
        if pool is not None:
            pool.close()  # every game is in: let the workers close their sources and exit
            pool.join()
    finally:
        pending.flush()  # an interrupted call keeps every finished game
        if pool is not None:
            pool.terminate()  # after join, a no-op
        else:
            source.close()
        stats.seconds = time.perf_counter() - started
    return stats
