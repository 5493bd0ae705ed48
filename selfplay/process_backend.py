"""Self-play on every core of this machine: N worker processes play, this process learns.

``selfplay train`` plays with one worker per core it may use
(``selfplay.config.usable_cores``) unless ``--workers`` says otherwise; ``--workers 1``
plays in the training process (``LocalBackend``). The search is fast beside the
network, so self-play runs at the network's speed times the cores it gets,
and one process per core beats torch threads in one process (1.4x on 2 cores
for ``b4c32``, the workers about 2x: BENCHMARKS.md).

- Each worker is a process started with multiprocessing's "spawn" (no Ray, no
  socket: one pipe per worker) that holds a ``ShardPlayer`` (its own network,
  one torch thread, ``games_in_parallel`` games at once) and plays its share of
  each generation into its own shard space ``genGGGGG-aAAA-KKKKK.npz``, as the
  Ray actors do; the split, the waiting, the retries and the per-actor
  metrics are ``selfplay.shard_actors.play_on_actors``, the Ray backend's too.
- Each generation the weights go down every pipe once (``torch.save`` bytes);
  a worker tells of each game it ends (progress) and returns its PlayStats.
- Workers die with the trainer. On Linux each asks the kernel for SIGKILL when
  its parent dies (``prctl(PR_SET_PDEATHSIG)``; the parent is the thread
  that started it, the trainer's main thread in ``selfplay train``);
  elsewhere a thread in the worker watches the parent's process id. An idle
  worker also ends when its pipe closes. So a trainer killed with SIGKILL
  leaves no worker writing shards behind it, and the same command resumes
  (shards are atomic, a worker's work is a target: no game counted twice).
- A worker that dies on its own (killed, out of memory) is started again and
  its call sent again; it plays only what its shards lack.
- Ctrl-C is the trainer's: workers ignore SIGINT; on close they get SIGTERM,
  which ends their play like an exception, so the finished games are written.
"""

from __future__ import annotations

import ctypes
import io
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

import torch

from nets import resolve_device
from selfplay.backends import GenerationJob
from selfplay.config import RunConfig
from selfplay.run_dir import RunError
from selfplay.shard_actors import ActorDied, ShardPlayer, play_on_actors

PR_SET_PDEATHSIG = 1
"""prctl option (linux/prctl.h): the signal this process gets when its parent dies."""
START_SECONDS = 300.0
"""Longest a worker may take to start (import torch, load numba's cache or compile) and say so."""


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (its parent) dies, however it dies (see the module doc)."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _worker_main(conn, parent_pid: int, run_dir: str, config_json: str, actor: int, device: str,
                 threads: int) -> None:
    """A worker process: build the ShardPlayer, then answer 'play' messages until the pipe closes."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the trainer's to handle
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))  # play's finally writes finished games
    try:
        player = ShardPlayer(run_dir, config_json, actor, device, threads)
        conn.send(("ready", player.describe()))
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the trainer closed the pipe (or died): nothing more to play
                return
            _, weights, generation, target, deadline = message
            state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)

            def on_game(record, stats, games_before) -> None:
                conn.send(("game", stats.games, stats.positions))

            conn.send(("done", player.play(state, generation, target, deadline, on_game)))
    except (BrokenPipeError, EOFError):
        return
    except Exception:
        conn.send(("error", traceback.format_exc()))


class ProcessBackend:
    """Self-play in ``num_workers`` local worker processes; the calling process trains.

    ``threads``: torch threads per worker. ``max_failures``: deaths of one worker
    in one generation before the run gives up. ``poll_seconds``: how often the
    trainer looks for progress.
    """

    name = "processes"

    def __init__(self, num_workers: int, threads: int = 1, max_failures: int = 10,
                 log: Callable[[str], None] = print, poll_seconds: float = 0.5):
        if num_workers < 1:
            raise ValueError("--workers must be at least 1")
        self.num_workers = num_workers
        self.threads = threads
        self.max_failures = max_failures
        self.log = log
        self.poll_seconds = poll_seconds
        self._context = multiprocessing.get_context("spawn")
        self._args: tuple | None = None
        self.processes: list = [None] * num_workers
        self.conns: list = [None] * num_workers
        self.device = "cpu"

    @property
    def local_players(self) -> int:
        """Self-play players on this machine at once (what ``check_memory`` counts)."""
        return self.num_workers

    def start(self, config: RunConfig, games_dir: Path) -> None:
        """Start the workers that play ``config``'s games into ``games_dir`` and wait until each is ready."""
        self.device = str(resolve_device(config.device))
        self._args = (str(Path(games_dir).resolve().parent), config.to_json(), self.device, self.threads)
        for a in range(self.num_workers):
            self._spawn(a)
        for a in range(self.num_workers):
            self._await_ready(a)
        self.log(f"self-play: {self.num_workers} worker processes on {self.device}, 1 torch thread each")

    def _spawn(self, a: int) -> None:
        run_dir, config_json, device, threads = self._args
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(target=_worker_main, name=f"selfplay-worker-{a}", daemon=True,
                                        args=(child_end, os.getpid(), run_dir, config_json, a, device, threads))
        process.start()
        child_end.close()  # the worker's end lives in the worker: its death closes the pipe
        self.processes[a], self.conns[a] = process, parent_end

    def _await_ready(self, a: int) -> None:
        conn, process = self.conns[a], self.processes[a]
        try:
            if not conn.poll(START_SECONDS):
                raise RunError(f"self-play worker {a} did not start within {START_SECONDS:.0f} s")
            kind, detail = conn.recv()
        except EOFError:
            raise RunError(f"self-play worker {a} died while starting (exit code {process.exitcode})") from None
        if kind == "error":
            raise RunError(f"self-play worker {a} failed to start: {detail.strip().splitlines()[-1]}")

    def _alive(self, a: int) -> bool:
        return self.processes[a] is not None and self.processes[a].is_alive()

    def restart(self, a: int) -> None:
        """Start worker ``a`` again (after it died)."""
        if self.conns[a] is not None:
            self.conns[a].close()
        if self.processes[a] is not None:
            self.processes[a].join(timeout=5)
        self._spawn(a)
        self._await_ready(a)

    def play_generation(self, job: GenerationJob, on_progress: Callable[[dict], None]) -> dict:
        """Split the generation's missing games over the workers and wait for them (``play_on_actors``)."""
        if self._args is None:
            self.start(job.config, job.games_dir)
        return play_on_actors(job, self.num_workers, _ProcessCalls(self, job), on_progress, self.log,
                              self.max_failures, self.poll_seconds)

    def close(self) -> None:
        """End the workers: idle ones at once (their pipe closes), busy ones by SIGTERM, then SIGKILL."""
        for conn in self.conns:
            if conn is not None:
                conn.close()
        deadline = time.time() + 2.0
        for process in self.processes:
            if process is not None:
                process.join(timeout=max(0.0, deadline - time.time()))
        for process in self.processes:
            if process is not None and process.is_alive():
                process.terminate()
        for process in self.processes:
            if process is not None:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join()
        self.processes = [None] * self.num_workers
        self.conns = [None] * self.num_workers
        self._args = None


class _ProcessCalls:
    """``ActorCalls`` over the worker processes of one generation; handles are worker numbers."""

    def __init__(self, backend: ProcessBackend, job: GenerationJob):
        self.backend = backend
        self.job = job
        buffer = io.BytesIO()
        torch.save(dict(job.weights), buffer)  # already CPU tensors (GenerationJob.weights)
        self.weights = buffer.getvalue()
        self.ended: dict[int, tuple[int, int]] = {}    # worker -> games, positions of its calls that returned
        self.current: dict[int, tuple[int, int]] = {}  # worker -> games, positions of its call in flight
        self.broken: set[int] = set()                  # workers whose call failed as it was sent

    def submit(self, actor: int, target_games: int) -> int:
        backend = self.backend
        if not backend._alive(actor):
            backend.restart(actor)
        self.current[actor] = (0, 0)
        try:
            backend.conns[actor].send(("play", self.weights, self.job.generation, target_games, self.job.deadline))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self.broken.add(actor)
        return actor

    def wait(self, handles: list, timeout: float) -> list:
        """Reads progress messages until a call ends or ``timeout`` passes."""
        backend = self.backend
        ended = [(a, ActorDied("its pipe broke as the call was sent")) for a in handles if a in self.broken]
        self.broken.difference_update(handles)
        waiting = [a for a in handles if all(a != done for done, _ in ended)]
        until = time.monotonic() + timeout
        while waiting and not ended:
            by_object = {}
            for a in waiting:
                by_object[backend.conns[a]] = a
                by_object[backend.processes[a].sentinel] = a
            left = until - time.monotonic()
            if left <= 0:
                break
            for a in sorted({by_object[obj] for obj in multiprocessing.connection.wait(list(by_object), left)}):
                result = self._read(a)
                if result is not None:
                    ended.append((a, result))
        return ended

    def _read(self, a: int) -> dict | ActorDied | None:
        """Every message worker ``a`` has sent: its result when the call ended, ActorDied when
        its pipe reached its end (only a dead worker's does: the pipe's other end is its alone),
        else None."""
        conn, process = self.backend.conns[a], self.backend.processes[a]
        try:
            while conn.poll():
                kind, *detail = conn.recv()
                if kind == "game":
                    self.current[a] = (detail[0], detail[1])
                elif kind == "done":
                    result = detail[0]
                    games, positions = self.ended.get(a, (0, 0))
                    self.ended[a] = (games + result["games"], positions + result["positions"])
                    self.current[a] = (0, 0)
                    return result
                elif kind == "error":
                    raise RunError(f"self-play worker {a} failed:\n{detail[0].rstrip()}")
            return None  # only progress so far
        except (EOFError, OSError):  # OSError: it died in the middle of a message
            pass
        process.join(timeout=5)
        self.current[a] = (0, 0)
        return ActorDied(f"exit code {process.exitcode}")

    def live(self) -> tuple[int, int]:
        games = sum(g for g, _ in self.ended.values()) + sum(g for g, _ in self.current.values())
        positions = sum(p for _, p in self.ended.values()) + sum(p for _, p in self.current.values())
        return games, positions
