"""Self-play backends: who plays a generation's games, and where.

The training loop (``selfplay.loop.TrainingRun``) hands its backend a
``GenerationJob``: the self-play weights, the run's settings, the shard folder
and a target ("generation G holds T games"), and nothing else of the run. The
backend plays the games not on disk yet and writes them as shards there.
Everything else (buffer, trainer, gating, checkpoints, resume) is the loop's
and does not depend on the backend.

- ``LocalBackend`` (the default) plays in the training process with one
  ``SelfPlayActor`` and a network of its own.
- ``selfplay.ray_backend.RayBackend`` spreads the games over N Ray actors, each
  running the same ``play_shards`` below against the same run directory.

``play_shards`` is the one place where games become shards. A shard is the
unit of work that survives a crash: it is written atomically once its games
are complete, so a kill loses only the games in flight and those finished
in the last ``FLUSH_SECONDS``, and the games already
done are found again by listing the folder. Its work is given as a *target*
("this shard space must hold T games of generation G"), not as "play n more",
so running it again after a crash, or twice, never plays a game too many.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Protocol

import numpy as np
import torch

import engine
from engine.spec import GameSpec
from mcts.evaluators import Evaluator
from nets import NetworkEvaluator, PolicyValueNet, resolve_device
from selfplay.actor import SelfPlayActor
from selfplay.config import RunConfig
from selfplay.shards import (
    GameRecord,
    PendingGames,
    generation_prefix,
    read_shard,
    shard_from_games,
    shard_name,
    shard_paths,
    write_shard,
)


@dataclass(frozen=True)
class GenerationJob:
    """One generation of self-play: everything a backend is handed."""

    config: RunConfig
    """The run's settings (game, network shape, search, self-play, seed)."""
    weights: Mapping[str, torch.Tensor]
    """The self-play network's state_dict, on the CPU: the newest network (AlphaZero), or the
    best one so far (with gating)."""
    games_dir: Path
    """Where the shards go (``<run-dir>/games``)."""
    generation: int
    target_games: int
    """Games the generation holds once played, those already on disk included."""
    deadline: float | None = None
    """``time.time()`` past which play stops (TimeUp); None: no limit."""


class TimeUp(Exception):
    """Raised inside self-play when the run's time budget is spent; ``stats``: what was played."""

    def __init__(self, stats: "PlayStats | None" = None):
        super().__init__("time up")
        self.stats = stats


@dataclass
class PlayStats:
    """What one ``play_shards`` call did (not what was on disk before it)."""

    games: int = 0
    positions: int = 0
    simulations: int = 0
    evaluations: int = 0
    """Positions the network evaluated (an evaluator without a count: 0)."""
    network_seconds: float = 0.0
    """Of ``seconds``, the time spent in the network (transfers included)."""
    seconds: float = 0.0
    shards: int = 0
    time_up: bool = False


def games_in_space(games_dir: Path, generation: int, actor: int | None) -> tuple[int, int]:
    """(games, shards) already on disk in one shard space of ``generation``.

    ``actor=None`` is the one-process space, which counts *every* shard of the
    generation (whoever wrote it), as a one-process run always has.
    """
    prefix = generation_prefix(generation, actor)
    shards = [read_shard(p) for p in shard_paths(games_dir) if p.name.startswith(prefix)]
    return sum(s.num_games for s in shards), len(shards)


def play_shards(spec: GameSpec, evaluator: Evaluator, config: RunConfig, games_dir: Path, generation: int,
                target_games: int, actor: int | None = None, deadline: float | None = None,
                on_game: Callable[[GameRecord, PlayStats, int], None] | None = None) -> PlayStats:
    """Play until shard space (``generation``, ``actor``) of ``games_dir`` holds ``target_games`` games.

    Games are written in shards of ``games_in_parallel`` games, or fewer once
    the oldest unwritten game has waited ``FLUSH_SECONDS`` (so a kill loses at
    most the games in flight and half a minute of finished ones), named
    ``shard_name(generation, k, actor)`` with k counting on
    from the shards already there. The random stream is seeded by
    (seed, generation[, actor], first new shard index): a resumed or restarted
    player starts a fresh stream, so games on disk are never played again.

    ``on_game(record, stats, games_before)`` is called as each game ends
    (``games_before``: games of the space on disk when the call began).
    Past ``deadline`` (``time.time()``), the games finished so far are written
    and TimeUp is raised. Returns what this call played.
    """
    cfg = config.selfplay
    games_done, shard_index = games_in_space(games_dir, generation, actor)
    remaining = target_games - games_done
    stats = PlayStats()
    if remaining <= 0:
        return stats
    started = time.perf_counter()

    def write(games: list[GameRecord], index: int) -> None:
        shard = shard_from_games(games, generation, spec.name, spec.num_actions, spec.state_size)
        write_shard(shard, Path(games_dir) / shard_name(generation, index, actor))

    pending = PendingGames(write, cfg.games_in_parallel, shard_index)

    def game_ended(record: GameRecord) -> None:
        pending.add(record)
        stats.games += 1
        stats.positions += len(record.states)
        stats.seconds = time.perf_counter() - started
        if on_game is not None:
            on_game(record, stats, games_done)
        if deadline is not None and time.time() > deadline:
            stats.time_up = True
            raise TimeUp(stats)

    # The one-process seed key stays (seed, generation, shard) as it always was;
    # an actor's adds its number, so no two actors share a stream.
    key = [config.seed, generation, shard_index] if actor is None else [config.seed, generation, actor, shard_index]
    player = SelfPlayActor(spec, evaluator, config.mcts, cfg, np.random.default_rng(key),
                           aux_targets=frozenset(config.train.aux_weights))
    evaluations, network_seconds = (getattr(evaluator, "positions_evaluated", 0),
                                    getattr(evaluator, "seconds_evaluating", 0.0))
    try:
        player.play(remaining, on_game=game_ended)
    finally:
        pending.flush()  # past the deadline, or a crash in one game: the finished games are kept
        stats.shards = pending.shards
        stats.simulations = player.stats.simulations
        stats.evaluations = getattr(evaluator, "positions_evaluated", 0) - evaluations
        stats.network_seconds = getattr(evaluator, "seconds_evaluating", 0.0) - network_seconds
        stats.seconds = time.perf_counter() - started
    return stats


class SelfPlayBackend(Protocol):
    """Plays a generation's missing games into the run's ``games/`` folder."""

    local_players: int
    """Self-play players whose search trees ``selfplay.resources.check_memory`` counts against
    this machine's memory: 1 in the training process, N local workers; the Ray backend counts
    1 (its actors may be on other nodes, which Ray places by their own resources)."""

    def play_generation(self, job: GenerationJob, on_progress: Callable[[dict], None]) -> dict:
        """Bring ``job.generation`` up to ``job.target_games`` games on disk in ``job.games_dir``.

        Calls ``on_progress`` with ``games``, ``games_total``, ``games_per_s`` and
        ``positions_per_s``; raises TimeUp past ``job.deadline``. Returns the
        generation's self-play metrics that only the backend knows: ``games``,
        ``positions`` (played by this call), and optionally ``simulations_per_s``,
        ``evaluations_per_s`` (positions the networks evaluated), ``network_share``
        (share of the players' time spent in the network) and per-actor figures.
        """
        ...

    def close(self) -> None:
        """Release what the backend holds (processes, cluster connections)."""
        ...


class LocalBackend:
    """Self-play in the training process, with a network of its own that takes each job's weights."""

    name = "local"
    local_players = 1

    def __init__(self):
        self.evaluator = None
        """The self-play network (``nets.NetworkEvaluator``), made at the first job."""

    def play_generation(self, job: GenerationJob, on_progress: Callable[[dict], None]) -> dict:
        spec = engine.get_game(job.config.game)
        if self.evaluator is None:
            self.evaluator = NetworkEvaluator(PolicyValueNet.from_spec(spec, job.config.net_config),
                                              device=resolve_device(job.config.device))
        self.evaluator.load_weights(job.weights)
        total = job.target_games

        def on_game(record: GameRecord, stats: PlayStats, games_before: int) -> None:
            elapsed = stats.seconds
            on_progress({"games": games_before + stats.games, "games_total": total,
                         "games_per_s": stats.games / elapsed if elapsed else 0.0,
                         "positions_per_s": stats.positions / elapsed if elapsed else 0.0})

        stats = play_shards(spec, self.evaluator, job.config, job.games_dir, job.generation, total,
                            deadline=job.deadline, on_game=on_game)
        result = {"games": stats.games, "positions": stats.positions}
        if stats.games and stats.seconds:
            result["simulations_per_s"] = stats.simulations / stats.seconds
            result["evaluations_per_s"] = stats.evaluations / stats.seconds
            result["network_share"] = stats.network_seconds / stats.seconds
        return result

    def close(self) -> None:
        pass
