"""N self-play actors, one generation: what every multi-actor backend shares.

An *actor* is a ``ShardPlayer`` somewhere (a Ray actor, a local worker
process) that plays into its own shard index space of the run's ``games/``
folder (``genGGGGG-aAAA-KKKKK.npz``). ``play_on_actors`` is the driver's side
of one generation, the same for every placement:

- the games not on disk yet are split over the actors (shares differ by at
  most one game); an actor's work is a *target* ("actor a's shards of
  generation G hold T games", its games already on disk included), so a call
  sent again after a crash plays only the difference and no game is counted
  twice;
- the driver waits for the calls, sends a failed call (a dead actor) again
  after the placement restarted it, and gives up after ``max_failures``
  failures of one actor in one generation (a crash loop is not retried
  forever); after a failure, calls refused because the actor is still
  restarting are not failures of their own (a restart can take long on a
  loaded machine: a new process imports torch and loads its kernels): they
  are sent again until the actor has been unavailable for
  ``restart_seconds``;
- progress comes from the shards on disk (they appear whole, by rename) or,
  sooner, from games the placement heard of;
- the metrics row gets ``actors`` and per actor a ``actor{a}_games`` (games
  it wrote this generation, restarts included), ``actor{a}_games_per_s`` and
  ``actor{a}_failures``; ``selfplay status`` shows them.

The placement hands ``play_on_actors`` an ``ActorCalls``: how to send actor a
its target, and how to wait for calls that ended.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

import torch

import engine
from nets import NetworkEvaluator, PolicyValueNet
from selfplay.backends import GenerationJob, PlayStats, TimeUp, play_shards
from selfplay.config import RunConfig
from selfplay.run_dir import RunError
from selfplay.shards import GameRecord, generation_prefix, read_shard, shard_actor, shard_paths


class ShardPlayer:
    """The body of one actor: plays its share of each generation into its own shards.

    Plain class: a Ray actor wraps it (``ray.remote``), a local worker process
    holds one, and it runs and tests without either. A restarted actor gets a
    new one with the same arguments, and nothing here depends on earlier calls:
    all state that matters is on disk.
    """

    def __init__(self, run_dir: str, config_json: str, actor: int, device: str = "cpu", threads: int = 1):
        torch.set_num_threads(threads)
        self.config = RunConfig.from_json(config_json)
        self.spec = engine.get_game(self.config.game)
        self.games_dir = Path(run_dir) / "games"
        self.actor = actor
        # The weights arrive with each call; these random ones are never used to play.
        model = PolicyValueNet.from_spec(self.spec, self.config.net_config)
        self.evaluator = NetworkEvaluator(model, device=device)

    def describe(self) -> dict:
        """Who and where this actor is (for logs): actor number, process id, device."""
        return {"actor": self.actor, "pid": os.getpid(), "device": str(self.evaluator.device)}

    def play(self, weights: Mapping[str, torch.Tensor], generation: int, target_games: int, deadline: float | None,
             on_game: Callable[[GameRecord, PlayStats, int], None] | None = None) -> dict:
        """Load ``weights`` (a state_dict) and play until this actor's shards of
        ``generation`` hold ``target_games`` games; returns PlayStats as a dict
        (``time_up`` set when the deadline stopped it). ``on_game``: as in ``play_shards``."""
        self.evaluator.load_weights(weights)
        try:
            stats = play_shards(self.spec, self.evaluator, self.config, self.games_dir, generation,
                                target_games, actor=self.actor, deadline=deadline, on_game=on_game)
        except TimeUp as stop:
            stats = stop.stats or PlayStats(time_up=True)
        return dict(vars(stats))


@dataclass
class ActorDied:
    """What a call's wait returns instead of its result when the actor died during the call."""

    error: str
    """One line: what the placement saw (an exit code, Ray's error)."""
    restarting: bool = False
    """The call was refused, not lost: the actor is being restarted and has not come back yet."""


class ActorCalls(Protocol):
    """How a placement runs calls of ``ShardPlayer.play`` for one generation."""

    def submit(self, actor: int, target_games: int) -> Any:
        """Send ``actor`` (restarted first if it died) its target; returns a handle for ``wait``."""
        ...

    def wait(self, handles: list, timeout: float) -> list[tuple[Any, dict | ActorDied]]:
        """The calls among ``handles`` that ended within ``timeout`` seconds, with their
        result (``ShardPlayer.play``'s dict) or ``ActorDied``; an error in the call raises."""
        ...

    def live(self) -> tuple[int, int]:
        """(games, positions) the placement heard of this generation beyond what is on disk,
        as a lower bound of what was played; (0, 0) when it hears of none."""
        ...


class DiskCounter:
    """Games and positions per shard space of one generation, reading each shard once.

    The driver polls it for progress while actors write (shards appear whole,
    by rename, so a listed shard is always complete).
    """

    def __init__(self, games_dir: Path, generation: int):
        self.games_dir = games_dir
        self.prefix = generation_prefix(generation)
        self.counts: dict[str, tuple[int | None, int, int]] = {}  # name -> (actor, games, positions)

    def refresh(self) -> None:
        for path in shard_paths(self.games_dir):
            if path.name.startswith(self.prefix) and path.name not in self.counts:
                shard = read_shard(path)
                self.counts[path.name] = (shard_actor(path.name), shard.num_games, shard.num_positions)

    def games(self, actor: int | None = None, all_spaces: bool = False) -> int:
        return sum(g for a, g, _ in self.counts.values() if all_spaces or a == actor)

    def positions(self) -> int:
        return sum(p for _, _, p in self.counts.values())


def play_on_actors(job: GenerationJob, num_actors: int, calls: ActorCalls, on_progress: Callable[[dict], None],
                   log: Callable[[str], None], max_failures: int = 10, poll_seconds: float = 0.5,
                   restart_seconds: float = 600.0) -> dict:
    """Bring ``job.generation`` up to ``job.target_games`` games over ``num_actors`` actors (see
    the module doc); returns the generation's self-play metrics, raises TimeUp past the deadline."""
    generation, total = job.generation, job.target_games
    counter = DiskCounter(job.games_dir, generation)
    counter.refresh()
    done_before = {a: counter.games(a) for a in range(num_actors)}
    games_before, positions_before = counter.games(all_spaces=True), counter.positions()
    remaining = total - games_before
    if remaining <= 0:
        return {"games": 0, "positions": 0}
    # Shares differ by at most one game; a target counts the actor's games already on disk.
    shares = [remaining // num_actors + (a < remaining % num_actors) for a in range(num_actors)]
    targets = {a: done_before[a] + share for a, share in enumerate(shares) if share > 0}

    started = time.perf_counter()
    pending = {calls.submit(a, targets[a]): a for a in targets}
    failures = {a: 0 for a in range(num_actors)}
    unavailable_since: dict[int, float] = {}  # actor -> its last failure, until a call of it succeeds
    finished_at: dict[int, float] = {}
    simulations = evaluations = 0
    network_seconds = play_seconds = 0.0
    time_up = False
    while pending:
        for handle, result in calls.wait(list(pending), poll_seconds):
            a = pending.pop(handle)
            if isinstance(result, ActorDied):
                now = time.perf_counter()
                if result.restarting and a in unavailable_since:
                    # Still coming back from the failure already counted: wait, up to restart_seconds.
                    waited = now - unavailable_since[a]
                    if waited > restart_seconds:
                        raise RunError(f"self-play actor {a} has been restarting for {waited:.0f} s in "
                                       f"generation {generation}; last error: {result.error}")
                    time.sleep(min(1.0, restart_seconds - waited))
                    pending[calls.submit(a, targets[a])] = a
                    continue
                failures[a] += 1
                if failures[a] > max_failures:
                    raise RunError(f"self-play actor {a} failed {failures[a]} times in generation "
                                   f"{generation}; last error: {result.error}")
                log(f"self-play actor {a} died (failure {failures[a]}: {result.error}); it is restarted and "
                    "finishes its share from its shards on disk")
                unavailable_since[a] = now
                # A call sent while the actor is still restarting can fail too:
                # give the restart a moment, longer after each failure.
                time.sleep(min(0.5 * failures[a], 5.0))
                pending[calls.submit(a, targets[a])] = a
                continue
            unavailable_since.pop(a, None)
            simulations += result["simulations"]
            evaluations += result["evaluations"]
            network_seconds += result["network_seconds"]
            play_seconds += result["seconds"]
            time_up = time_up or result["time_up"]
            finished_at[a] = time.perf_counter() - started
        counter.refresh()
        elapsed = time.perf_counter() - started
        live_games, live_positions = calls.live()
        played = max(counter.games(all_spaces=True) - games_before, live_games)
        positions = max(counter.positions() - positions_before, live_positions)
        on_progress({"games": games_before + played, "games_total": total,
                     "games_per_s": played / elapsed if elapsed else 0.0,
                     "positions_per_s": positions / elapsed if elapsed else 0.0})
    if time_up:
        raise TimeUp
    elapsed = time.perf_counter() - started
    counter.refresh()
    metrics = {"games": counter.games(all_spaces=True) - games_before,
               "positions": counter.positions() - positions_before,
               "simulations_per_s": simulations / elapsed if elapsed else 0.0,
               "evaluations_per_s": evaluations / elapsed if elapsed else 0.0,
               "network_share": network_seconds / play_seconds if play_seconds else 0.0,
               "actors": num_actors}
    for a in range(num_actors):
        games = counter.games(a) - done_before[a]
        seconds = finished_at.get(a, elapsed)
        metrics[f"actor{a}_games"] = games
        metrics[f"actor{a}_games_per_s"] = games / seconds if seconds else 0.0
        metrics[f"actor{a}_failures"] = failures[a]
    return metrics
