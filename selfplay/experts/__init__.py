"""Expert sources for the supervised bootstrap (AlphaGo's stage 1).

An expert plays (or provides) whole games whose positions carry its policy
and value targets; ``selfplay.experts.generate`` writes them as replay shards
(``games/expert-KKKKK.npz``, ``selfplay.shards``) that ``selfplay pretrain``
learns from and ``selfplay train --expert-mix`` mixes into self-play batches.

On the command line a source is ``--expert KIND[:ARGUMENT]``:

    solver          exact play (``selfplay.experts.solver``: Connect Four, tic-tac-toe)
    sgf:PATH        Go game records: an .sgf file, a .zip, or a folder of them (``selfplay.experts.sgf``)
    gtp:"COMMAND"   an external Go engine playing itself over GTP (``selfplay.experts.gtp``)

Adding a source is adding one module ``selfplay/experts/KIND.py`` that
defines::

    def make_source(spec: GameSpec, argument: str | None, config: ExpertConfig, seed: int) -> ExpertSource

raising ValueError with a one-line message for an unusable argument (a
missing file, a game the source cannot play), and listing the kind in
``selfplay.config.EXPERT_KINDS`` (the grammar of the ``expert`` setting, which
the config checks without importing any source).

The contract every source keeps (``ExpertSource``):

- ``game(index)`` returns game number ``index`` as an ``ExpertGame``; it
  depends only on the settings, the seed and ``index`` (an SGF source: the
  index-th game of its files in a fixed order; a playing source: seeded by
  ``(seed, index)``). A resumed generation asks for the first index not on
  disk, so no game is ever written twice.
- Each labelled position has a policy target [A] (sums to 1, zero on illegal
  moves) and a value target for the side to move in [-1, 1]; positions that
  are only there to reach others (random openings, handicap placement) are
  simply not in the record.
- ``available()``: how many games the source can give (None: unbounded).
- A source that plays its games may also return each as SGF (``ExpertGame.sgf``);
  the generation saves it as ``<run-dir>/sgf/expert-NNNNNN.sgf``, NNNNNN the index.
- A source may have a ``summary`` (one line of text: what it read, what it
  skipped and why, which engine plays), which ``selfplay pretrain`` shows once.
- A source is created once per worker process (``--workers N``: N processes,
  started with "spawn", so ``make_source``'s arguments must pickle) and kept
  across games, so it may hold a solver's table or an engine process;
  ``close()`` releases them when the work is done (an interrupted run
  terminates its workers instead: an engine process then sees its pipes close).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.spec import GameSpec
from selfplay.config import ExpertConfig, parse_expert
from selfplay.shards import GameRecord


@dataclass
class ExpertGame:
    """One expert game as a source returns it."""

    record: GameRecord
    """The labelled positions (``values`` set; ``scores`` when an exact solver labelled them)."""
    opening: int = 0
    """Moves played before the first labelled position (random opening moves)."""
    seconds: float = 0.0
    """Time the source spent on the game."""
    sgf: bytes | None = None
    """The whole game (random opening included) as an SGF file, for sources that play their
    games; None for the others. Saved next to the run's shards (module docstring)."""


class ExpertSource(Protocol):
    label: str
    """Names the source in every shard it fills (``Shard.source``), e.g. "solver"."""

    def available(self) -> int | None:
        """Games this source can give at most; None when it can play any number."""
        ...

    def game(self, index: int) -> ExpertGame:
        """Game number ``index`` (0, 1, ...), a function of the settings, the seed and ``index`` only."""
        ...

    def close(self) -> None:
        """Release what the source holds (engine processes, files)."""
        ...


def make_source(spec: GameSpec, config: ExpertConfig, seed: int) -> ExpertSource:
    """The source ``config.expert`` names, for ``spec``'s game; ValueError (one line) when it
    cannot be made."""
    kind, argument = parse_expert(config.expert)
    module = importlib.import_module(f"{__name__}.{kind}")  # imported only when used: sgfmill, subprocesses
    return module.make_source(spec, argument, config, seed)


def players_to_move(offset: int, count: int) -> np.ndarray:
    """[count] int8: +1 where the first player is to move, -1 where the second is, in the
    ``count`` positions that follow ``offset`` moves of a game (the players alternate)."""
    return np.where((offset + np.arange(count)) % 2 == 0, 1, -1).astype(np.int8)


def record_of_moves(spec: GameSpec, states: np.ndarray, moves: np.ndarray, result: int, length: int,
                    offset: int = 0, **flags) -> GameRecord:
    """The record of positions [T, S] labelled with the moves played there [T]: policy targets
    one-hot on them, value targets ``result`` (+1 the first player won, -1 lost, 0 draw) for the
    side to move. ``offset``: moves played before ``states[0]`` (its parity says who is to move
    there); ``length``: moves in the whole game; ``flags``: other GameRecord fields (``resigned``)."""
    labelled = len(moves)
    policies = np.zeros((labelled, spec.num_actions), np.float32)
    policies[np.arange(labelled), moves] = 1.0
    players = players_to_move(offset, labelled)
    return GameRecord(states=np.asarray(states, np.int64).reshape(labelled, spec.state_size), policies=policies,
                      players=players, result=result, length=length,
                      values=(players * result).astype(np.float32), **flags)


def canonical_key(spec: GameSpec, state: np.ndarray) -> tuple[bytes, int]:
    """(key, k): the smallest byte string of ``state`` [S] under the game's symmetries, and the
    symmetry k that gives it. Two positions have the same key exactly when one is a symmetry of
    the other, whatever move orders reached them."""
    moved = np.empty_like(state)
    best, best_k = b"", -1
    for k in range(spec.num_symmetries):
        spec.transform_into(state, spec.cell_perms[k], moved)
        key = moved.tobytes()
        if best_k < 0 or key < best:
            best, best_k = key, k
    return best, best_k
