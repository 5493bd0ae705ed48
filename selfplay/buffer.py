"""The replay buffer: the newest positions of the run's shards, sampled with a
random symmetry and encoded to planes on the fly.

The window grows with the run (KataGo-style, sublinearly): early networks train
on little, quickly replaced data; later ones on a larger, more stable window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.spec import GameSpec
from selfplay.shards import Shard, ShardError, read_shard, shard_paths
from selfplay.targets import moved, stacked


@dataclass(frozen=True)
class WindowConfig:
    """The window's sizes; a run takes them from its settings (``TrainConfig.window_min`` and
    ``window_max``, the one place that sets their defaults), so they have no defaults here."""

    min_positions: int
    """Window size while the run is young (all positions, when fewer)."""
    max_positions: int
    """Largest window."""
    growth: float = 0.75
    """Exponent of the growth: window = min_positions * (total / min_positions) ** growth."""

    def size(self, total_positions: int) -> int:
        """Positions in the window once ``total_positions`` have been played."""
        if total_positions <= self.min_positions:
            return total_positions
        grown = self.min_positions * (total_positions / self.min_positions) ** self.growth
        return int(min(self.max_positions, grown))


@dataclass
class Positions:
    """Stored training positions: compact states and their targets, P rows."""

    states: np.ndarray
    """[P, S] int64."""
    policies: np.ndarray
    """[P, A] float32: target distributions."""
    values: np.ndarray
    """[P] float32: value targets for the side to move."""
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    """Auxiliary targets, each [P, ...] (``selfplay.targets``)."""

    def __len__(self) -> int:
        return len(self.values)

    def take(self, rows: np.ndarray | slice) -> "Positions":
        """The rows ``rows``: an index array [k] (copies) or a slice (views)."""
        return Positions(self.states[rows], self.policies[rows], self.values[rows],
                         {key: rows_of[rows] for key, rows_of in self.aux.items()})

    def draw(self, count: int, rng: np.random.Generator) -> "Positions":
        """``count`` rows drawn uniformly with replacement."""
        if not len(self):
            raise ValueError("no positions to draw from")
        return self.take(rng.integers(len(self), size=count))

    @staticmethod
    def concat(parts: list["Positions"]) -> "Positions":
        return Positions(np.concatenate([p.states for p in parts]), np.concatenate([p.policies for p in parts]),
                         np.concatenate([p.values for p in parts]), stacked([p.aux for p in parts], [len(p) for p in parts]))

    @staticmethod
    def of_shards(shards: list[Shard]) -> "Positions":
        """Every position of ``shards`` (at least one), in order."""
        return Positions(np.concatenate([s.states for s in shards]), np.concatenate([s.policies for s in shards]),
                         np.concatenate([s.values for s in shards]),
                         stacked([s.aux for s in shards], [s.num_positions for s in shards]))


@dataclass
class Batch:
    planes: np.ndarray
    """[B, C, H, W] float32."""
    policies: np.ndarray
    """[B, A] float32: target distributions (rows sum to 1)."""
    values: np.ndarray
    """[B] float32: game outcome for the side to move."""
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    """Auxiliary targets, each [B, ...], moved with the planes (``selfplay.targets``)."""


class ReplayBuffer:
    """Positions of the newest shards of ``games_dir`` within the window."""

    def __init__(self, spec: GameSpec, games_dir: Path, window: WindowConfig):
        self.spec = spec
        self.games_dir = Path(games_dir)
        self.window = window
        self._shards: dict[Path, Shard] = {}
        # Shards that left the window, with their sizes: never read again. The
        # window's start only moves forward (it grows slower than the data), so
        # an evicted shard never comes back.
        self._evicted: dict[Path, int] = {}
        self.skipped: list[str] = []
        self.total_positions = 0
        self._window = Positions(np.zeros((0, spec.state_size), np.int64),
                                 np.zeros((0, spec.num_actions), np.float32), np.zeros(0, np.float32))

    def refresh(self) -> list[Shard]:
        """Read new shards from disk and rebuild the window from the newest ones; returns the
        shards read by this call (in order), whether or not they stay in the window."""
        paths = shard_paths(self.games_dir)
        read = []
        for path in paths:
            if path not in self._shards and path not in self._evicted and str(path) not in self.skipped:
                try:
                    shard = read_shard(path)
                except ShardError as error:
                    self.skipped.append(str(path))
                    print(f"warning: {error}; skipped")
                    continue
                if shard.game != self.spec.name:
                    raise ShardError(f"{path}: a {shard.game} shard in a {self.spec.name} run")
                self._shards[path] = shard
                read.append(shard)
        ordered = [self._shards[p] for p in paths if p in self._shards]
        self.total_positions = sum(self._evicted.values()) + sum(s.num_positions for s in ordered)
        wanted = self.window.size(self.total_positions)
        newest, count = [], 0
        for shard in reversed(ordered):
            if count >= wanted:
                self._shards.pop(shard.path)  # out of the window for good: free it
                self._evicted[shard.path] = shard.num_positions
                continue
            newest.append(shard)
            count += shard.num_positions
        newest.reverse()
        if newest:
            self._window = Positions.of_shards(newest).take(slice(-wanted, None))
        return read

    def __len__(self) -> int:
        return len(self._window)

    def draw(self, count: int, rng: np.random.Generator) -> Positions:
        """``count`` positions drawn uniformly from the window."""
        if not len(self):
            raise ValueError("the replay buffer is empty")
        return self._window.draw(count, rng)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """``batch_size`` positions drawn uniformly from the window, each under a random symmetry."""
        return augmented_batch(self.spec, self.draw(batch_size, rng), rng)


def encoded_batch(spec: GameSpec, positions: Positions, symmetries: np.ndarray | None = None) -> Batch:
    """``positions`` (B rows) as network input, row b under symmetry ``symmetries[b]``
    ([B] int64; None: as stored). Planes and policies move together."""
    size = len(positions)
    planes = np.zeros((size, *spec.planes_shape), np.float32)
    spec.encode_batch(positions.states, planes)
    if symmetries is None:
        return Batch(planes, positions.policies, positions.values, positions.aux)
    flat = planes.reshape(size, spec.planes_shape[0], -1)
    cell_perms = spec.cell_perms[symmetries][:, None, :]  # [B, 1, H*W], gathers every plane
    planes = np.take_along_axis(flat, cell_perms, axis=2).reshape(planes.shape)
    policies = np.take_along_axis(positions.policies, spec.action_perms[symmetries], axis=1)
    aux = {key: moved(key, rows, spec, symmetries) for key, rows in positions.aux.items()}
    return Batch(planes, policies, positions.values, aux)


def augmented_batch(spec: GameSpec, positions: Positions, rng: np.random.Generator) -> Batch:
    """``positions`` as network input, each under a symmetry drawn at random: the replay
    buffer's augmentation, also used by the supervised bootstrap."""
    return encoded_batch(spec, positions, rng.integers(spec.num_symmetries, size=len(positions)))
