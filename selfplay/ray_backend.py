"""Distributed self-play on a Ray cluster: N actors play, the driver learns.

Placement only; the work is the same code as on one machine:

- The driver (the ``selfplay train`` process) is the learner: buffer, trainer,
  gating, checkpoints and resume, exactly as with the local backend, on a GPU
  when it has one.
- Each of N Ray actors holds a ``ShardPlayer``: a copy of the network and a
  ``SelfPlayActor`` (B games at once with the batched search) on CPU or a
  share of a GPU, run through ``selfplay.backends.play_shards``.
- Each generation the driver puts the self-play weights in the object store
  once (``ray.put`` of the state_dict, CPU tensors) and hands every actor the
  reference with its share of the games.
- Actors write their shards straight into ``<run-dir>/games/`` as
  ``genGGGGG-aAAA-KKKKK.npz`` (actor AAA's own index space), so the run
  directory must be on storage that every node sees at the same path
  (NFS, a shared volume); the driver reads them from there.

Fault tolerance. A shard is written atomically by the actor that played its
games, and an actor's work is a *target* ("actor a's shards of generation G
hold T games"), not a count still to play. An actor that dies is restarted
by Ray (``max_restarts``); the driver sees the failed call and sends the same
target again; the restarted actor counts its shards on disk and plays only the
difference. So only the games in flight are lost, and no game is counted
twice. Its seed includes its shard index, so the replayed games are new ones.

Per generation the metrics row gets ``actors`` and, per actor a,
``actor{a}_games`` (games it wrote this generation, restarts included),
``actor{a}_games_per_s`` and ``actor{a}_failures`` (calls lost to a dead
actor); ``selfplay status`` shows them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import torch

import engine
from nets import NetworkEvaluator, PolicyValueNet
from selfplay.backends import GenerationJob, PlayStats, TimeUp, play_shards
from selfplay.config import RunConfig
from selfplay.run_dir import RunError
from selfplay.shards import generation_prefix, read_shard, shard_actor, shard_paths


class ShardPlayer:
    """The body of one Ray actor: plays its share of each generation into shards.

    Plain class (``ray.remote`` wraps it at start), so it runs and tests without
    a cluster as well. Ray calls ``__init__`` again with the same arguments when
    it restarts the actor, and nothing here depends on earlier calls: all state
    that matters is on disk.
    """

    def __init__(self, run_dir: str, config_json: str, actor: int, device: str = "cpu", threads: int = 1):
        torch.set_num_threads(threads)
        self.config = RunConfig.from_json(config_json)
        self.spec = engine.get_game(self.config.game)
        self.games_dir = Path(run_dir) / "games"
        self.actor = actor
        # The weights arrive with each call; these random ones are never used to play.
        model = PolicyValueNet.from_spec(self.spec, self.config.net)
        self.evaluator = NetworkEvaluator(model, device=device)

    def describe(self) -> dict:
        """Who and where this actor is (for logs): actor number, process id, device."""
        return {"actor": self.actor, "pid": os.getpid(), "device": str(self.evaluator.device)}

    def play(self, weights: dict, generation: int, target_games: int, deadline: float | None) -> dict:
        """Load ``weights`` (a state_dict) and play until this actor's shards of
        ``generation`` hold ``target_games`` games; returns PlayStats as a dict
        (``time_up`` set when the deadline stopped it)."""
        self.evaluator.load_weights(weights)
        try:
            stats = play_shards(self.spec, self.evaluator, self.config, self.games_dir, generation,
                                target_games, actor=self.actor, deadline=deadline)
        except TimeUp as stop:
            stats = stop.stats or PlayStats(time_up=True)
        return dict(vars(stats))


class _DiskCounter:
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


class RayBackend:
    """Self-play on ``num_actors`` Ray actors; the calling process trains.

    ``address``: None starts a local Ray instance (when none is running in this
    process yet); ``"auto"`` joins the cluster started on this node with
    ``ray start``; ``"HOST:PORT"`` joins that cluster's head. If Ray is already
    initialised in this process, that connection is used as it is.
    ``cpus_per_actor`` / ``gpus_per_actor``: what each actor reserves (a GPU
    share below 1 packs several actors on one GPU); ``threads``: torch threads
    per actor. ``max_failures``: failed calls of one actor in one generation
    before the run gives up (a crash loop is not retried forever). ``poll_seconds``:
    how often the driver looks at the shards on disk for progress.
    """

    name = "ray"

    def __init__(self, num_actors: int = 2, address: str | None = None, cpus_per_actor: float = 1.0,
                 gpus_per_actor: float = 0.0, threads: int = 1, max_failures: int = 10,
                 log: Callable[[str], None] = print, init_kwargs: dict | None = None, poll_seconds: float = 0.5):
        if num_actors < 1:
            raise ValueError("--actors must be at least 1")
        self.num_actors = num_actors
        self.address = address
        self.cpus_per_actor = cpus_per_actor
        self.gpus_per_actor = gpus_per_actor
        self.threads = threads
        self.max_failures = max_failures
        self.log = log
        self.init_kwargs = init_kwargs or {}
        self.poll_seconds = poll_seconds
        self.actors: list = []
        self._owns_ray = False
        self._run_root: Path | None = None

    # ---- placement ---------------------------------------------------------------

    def start(self, config: RunConfig, games_dir: Path) -> None:
        """Connect to (or start) Ray and create the actors that play ``config``'s games into
        ``games_dir`` (the run's ``games/``)."""
        try:
            import ray
        except ImportError:
            raise RunError("the ray backend needs Ray: pip install 'zeroplay[ray]'") from None
        if not ray.is_initialized():
            kwargs = dict(self.init_kwargs)
            if self.address is None:
                kwargs.setdefault("include_dashboard", False)
            try:
                ray.init(address=self.address, **kwargs)
            except ConnectionError as error:  # no cluster there: one line for the CLI, not a traceback
                raise RunError(f"cannot join the Ray cluster at {self.address}: {error}") from None
            self._owns_ray = True
        # Actors on other nodes find the run directory at the same absolute path (shared storage).
        root = Path(games_dir).resolve().parent
        remote = ray.remote(ShardPlayer)
        device = "cuda" if self.gpus_per_actor > 0 else "cpu"
        # max_restarts=-1: Ray restarts a dead actor; max_task_retries=0: the call that died
        # fails here and is sent again by play_generation, which counts the failures.
        self.actors = [
            remote.options(num_cpus=self.cpus_per_actor, num_gpus=self.gpus_per_actor,
                           max_restarts=-1, max_task_retries=0)
            .remote(str(root), config.to_json(), a, device, self.threads)
            for a in range(self.num_actors)
        ]
        self._run_root = root
        described = ray.get([actor.describe.remote() for actor in self.actors])
        self.log(f"ray backend: {self.num_actors} self-play actors on "
                 f"{', '.join(sorted({d['device'] for d in described}))}; shards go to {root / 'games'}")

    def close(self) -> None:
        """Kill the actors, and shut down Ray if this backend started it."""
        if not self.actors and not self._owns_ray:
            return
        import ray

        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # already gone: nothing to release
                pass
        self.actors = []
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    # ---- one generation ------------------------------------------------------------

    def play_generation(self, job: GenerationJob, on_progress: Callable[[dict], None]) -> dict:
        """Split the generation's missing games over the actors and wait for them (see the module doc)."""
        import ray
        from ray.exceptions import RayActorError

        if not self.actors:
            self.start(job.config, job.games_dir)
        generation, deadline, total = job.generation, job.deadline, job.target_games
        counter = _DiskCounter(job.games_dir, generation)
        counter.refresh()
        done_before = {a: counter.games(a) for a in range(self.num_actors)}
        games_before, positions_before = counter.games(all_spaces=True), counter.positions()
        remaining = total - games_before
        if remaining <= 0:
            return {"games": 0, "positions": 0}
        # Shares differ by at most one game; a target counts the actor's games already on disk.
        shares = [remaining // self.num_actors + (a < remaining % self.num_actors) for a in range(self.num_actors)]
        targets = {a: done_before[a] + share for a, share in enumerate(shares) if share > 0}
        # One copy of the weights in the object store per generation, shared by all actors on a node.
        weights = ray.put(dict(job.weights))

        def submit(a: int):
            return self.actors[a].play.remote(weights, generation, targets[a], deadline)

        started = time.perf_counter()
        tasks = {submit(a): a for a in targets}
        failures = {a: 0 for a in range(self.num_actors)}
        finished_at: dict[int, float] = {}
        simulations = 0
        time_up = False
        while tasks:
            ready, _ = ray.wait(list(tasks), num_returns=1, timeout=self.poll_seconds)
            for ref in ready:
                a = tasks.pop(ref)
                try:
                    result = ray.get(ref)
                except RayActorError as error:
                    failures[a] += 1
                    if failures[a] > self.max_failures:
                        raise RunError(f"self-play actor {a} failed {failures[a]} times in generation "
                                       f"{generation}; last error: {str(error).splitlines()[0]}") from None
                    self.log(f"self-play actor {a} died (failure {failures[a]}); Ray restarts it and it "
                             "finishes its share from its shards on disk")
                    # A call sent while Ray is still restarting the actor can fail too:
                    # give the restart a moment, longer after each failure.
                    time.sleep(min(0.5 * failures[a], 5.0))
                    tasks[submit(a)] = a
                    continue
                simulations += result["simulations"]
                time_up = time_up or result["time_up"]
                finished_at[a] = time.perf_counter() - started
            counter.refresh()
            elapsed = time.perf_counter() - started
            played = counter.games(all_spaces=True) - games_before
            on_progress({"games": games_before + played, "games_total": total,
                         "games_per_s": played / elapsed if elapsed else 0.0,
                         "positions_per_s": (counter.positions() - positions_before) / elapsed if elapsed else 0.0})
        if time_up:
            raise TimeUp
        elapsed = time.perf_counter() - started
        counter.refresh()
        metrics = {"games": counter.games(all_spaces=True) - games_before,
                   "positions": counter.positions() - positions_before,
                   "simulations_per_s": simulations / elapsed if elapsed else 0.0,
                   "actors": self.num_actors}
        for a in range(self.num_actors):
            games = counter.games(a) - done_before[a]
            seconds = finished_at.get(a, elapsed)
            metrics[f"actor{a}_games"] = games
            metrics[f"actor{a}_games_per_s"] = games / seconds if seconds else 0.0
            metrics[f"actor{a}_failures"] = failures[a]
        return metrics
