"""Distributed self-play on a Ray cluster: N actors play, the driver learns.

Placement only; the work is the same code as on one machine:

- The driver (the ``selfplay train`` process) is the learner: buffer, trainer,
  gating, checkpoints and resume, exactly as with the local backend, on a GPU
  when it has one.
- Each of N Ray actors holds a ``selfplay.shard_actors.ShardPlayer``: a copy of the network and a
  ``SelfPlayActor`` (B games at once with the batched search) on CPU or a
  share of a GPU, run through ``selfplay.backends.play_shards``.
- Each generation the driver puts the self-play weights in the object store
  once (``ray.put`` of the state_dict, CPU tensors) and hands every actor the
  reference with its share of the games.
- Actors write their shards straight into ``<run-dir>/games/`` as
  ``genGGGGG-aAAA-KKKKK.npz`` (actor AAA's own index space), so the run
  directory must be on storage that every node sees at the same path
  (NFS, a shared volume); the driver reads them from there.

The driver's side of a generation (split, wait, retry, metrics) is
``selfplay.shard_actors.play_on_actors``, shared with the local worker
processes of ``selfplay.process_backend``.

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

from pathlib import Path
from typing import Callable

from selfplay.backends import GenerationJob
from selfplay.config import RunConfig
from selfplay.run_dir import RunError
from selfplay.shard_actors import ActorDied, ShardPlayer, play_on_actors


class RayBackend:
    """Self-play on ``num_actors`` Ray actors; the calling process trains.

    ``address``: None starts a local Ray instance (when none is running in this
    process yet); ``"auto"`` joins the cluster started on this node with
    ``ray start``; ``"HOST:PORT"`` joins that cluster's head. If Ray is already
    initialised in this process, that connection is used as it is.
    ``cpus_per_actor`` / ``gpus_per_actor``: what each actor reserves (a GPU
    share below 1 packs several actors on one GPU); ``threads``: torch threads
    per actor. ``max_failures``: failed calls of one actor in one generation
    before the run gives up (a crash loop is not retried forever); calls refused
    while Ray restarts the actor after a failure do not count, up to
    ``play_on_actors``' ``restart_seconds``. ``poll_seconds``:
    how often the driver looks at the shards on disk for progress.
    """

    name = "ray"
    local_players = 1

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
        """Split the generation's missing games over the actors and wait for them (``play_on_actors``)."""
        if not self.actors:
            self.start(job.config, job.games_dir)
        return play_on_actors(job, self.num_actors, _RayCalls(self.actors, job), on_progress, self.log,
                              self.max_failures, self.poll_seconds)


class _RayCalls:
    """``ActorCalls`` over Ray actors: one copy of the weights in the object store per
    generation, shared by all actors on a node; a dead actor is restarted by Ray."""

    def __init__(self, actors: list, job: GenerationJob):
        import ray

        self.actors = actors
        self.job = job
        self.weights = ray.put(dict(job.weights))

    def submit(self, actor: int, target_games: int):
        return self.actors[actor].play.remote(self.weights, self.job.generation, target_games, self.job.deadline)

    def wait(self, handles: list, timeout: float) -> list:
        import ray
        from ray.exceptions import ActorUnavailableError, RayActorError

        ready, _ = ray.wait(handles, num_returns=1, timeout=timeout)
        ended = []
        for ref in ready:
            try:
                ended.append((ref, ray.get(ref)))
            except ActorUnavailableError as error:  # Ray is still restarting it
                ended.append((ref, ActorDied(str(error).splitlines()[0], restarting=True)))
            except RayActorError as error:
                ended.append((ref, ActorDied(str(error).splitlines()[0])))
        return ended

    def live(self) -> tuple[int, int]:
        return 0, 0  # the shards on disk say it
