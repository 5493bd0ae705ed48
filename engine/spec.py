"""The game contract: status codes, the `GameSpec` every game registers, and errors.

Conventions shared by every game module:

- A position is a flat ``np.int64`` array of length ``spec.state_size``.
- ``status(state)`` returns ``ONGOING`` while the game goes on, else the final
  value for the side to move: ``+1`` won, ``0`` draw, ``-1`` lost. Any of the
  three can occur: in Connect Four and tic-tac-toe the last move wins, so a
  decisive result is ``-1`` there, but a Go game ends on a pass and is scored,
  so the side to move after the second pass may have won (``+1``).
- Actions are integers in ``[0, num_actions)``.
- Symmetries are *gather* tables: applying symmetry ``k`` to planes ``[C, H*W]``
  gives ``planes[:, cell_perms[k]]``; to a policy ``[A]`` gives
  ``policy[action_perms[k]]``. ``inverse[k]`` is the symmetry that undoes ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any, Callable, Mapping

import numpy as np

ONGOING = 2
"""Status code of a position whose game is not over (terminal values are -1, 0, +1)."""


class IllegalMoveError(ValueError):
    """A move or move sequence that cannot be played: malformed text, an
    occupied cell or full column, a suicide or superko repetition (Go), or a
    move after the game ended. The message says which."""


class UnknownGameError(ValueError):
    """A game name that is not registered; the message lists the known games."""


@dataclass(frozen=True)
class TrainingPreset:
    """Self-play settings that train a game well on one kind of machine.

    ``selfplay.config.preset`` turns a preset into a run config: each mapping
    overrides the fields of the config section of its name (``mcts``,
    ``selfplay``, ``train``; ``expert``, ``pretrain`` for the supervised
    bootstrap), and a name that is not a field there is an error. The engine
    holds them as plain data so that a game is described in one module.
    """

    net: str
    """Network shape, e.g. ``"b4c32"``."""
    eval_positions: int = 0
    """Solved positions scored per generation (games with an ``eval_set``; 0: none)."""
    eval_every: int = 1
    """Generations between two scorings of them (and the run's last generation)."""
    mcts: Mapping[str, Any] = field(default_factory=dict)
    selfplay: Mapping[str, Any] = field(default_factory=dict)
    train: Mapping[str, Any] = field(default_factory=dict)
    expert: Mapping[str, Any] = field(default_factory=dict)
    pretrain: Mapping[str, Any] = field(default_factory=dict)

    SECTIONS = ("mcts", "selfplay", "train", "expert", "pretrain")

    def __post_init__(self):
        for name in self.SECTIONS:  # read-only views: a preset is shared by every run of the game
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


@dataclass(frozen=True)
class GameSpec:
    """Everything the rest of zeroplay knows about one game.

    Kernels are numba-compiled; shapes use S = state_size, A = num_actions,
    (C, H, W) = planes_shape, B = batch, K = number of symmetries.
    """

    name: str
    """Registry name, e.g. ``"connect4"``."""
    board_shape: tuple[int, int]
    """(H, W): rows and columns of the board."""
    num_actions: int
    """A: size of the action space (and of policy vectors)."""
    planes_shape: tuple[int, int, int]
    """(C, H, W) of the network input; plane 0 always holds the side to move's stones."""
    state_size: int
    """S: length of the flat int64 state array."""
    max_game_length: int
    """Most moves a game can last (42 for Connect Four); buffers are sized from it."""

    # Single-position kernels (all @njit(cache=True)).
    initial_state: Callable
    """() -> state [S] int64."""
    legal_mask: Callable
    """(state [S], out [A] bool) -> None; all False once the game is over."""
    search_mask: Callable
    """(state [S], out [A] bool) -> None: the legal moves that search and self-play consider, a
    subset of legal_mask's. The same as legal_mask in every game but Go, which holds back the
    passes that would end a game on an unsettled board (``engine.go.search_mask``)."""
    play_into: Callable
    """(state [S], action, out [S]) -> None; never modifies ``state``; does not check legality."""
    status: Callable
    """(state [S]) -> int: ONGOING, or the final value (-1, 0, +1) for the side to move
    (+1 happens: see the module docstring)."""
    encode: Callable
    """(state [S], out [C, H, W] float32) -> None; plane 0 = side to move."""
    transform_into: Callable
    """(state [S], cell_perm [H*W], out [S]) -> None: the position under one symmetry."""

    # Batch kernels, built by ``engine.batch.make_batch_kernels``.
    legal_mask_batch: Callable
    """(states [B, S], out [B, A] bool) -> None."""
    search_mask_batch: Callable
    """(states [B, S], out [B, A] bool) -> None."""
    play_batch: Callable
    """(states [B, S], actions [B], out [B, S]) -> None."""
    status_batch: Callable
    """(states [B, S], out [B] int64) -> None."""
    encode_batch: Callable
    """(states [B, S], out [B, C, H, W] float32) -> None."""

    # Symmetry tables (gather convention, see the module docstring).
    cell_perms: np.ndarray
    """[K, H*W] int64."""
    action_perms: np.ndarray
    """[K, A] int64."""
    inverse: np.ndarray
    """[K] int64: index of the inverse of each symmetry."""

    # Human-facing helpers (plain Python).
    render: Callable[[np.ndarray], str]
    """state -> multi-line text board."""
    parse_move: Callable[[str], int]
    """move text -> action; raises IllegalMoveError on malformed text."""
    format_move: Callable[[int], str]
    """action -> move text (inverse of parse_move)."""
    split_moves: Callable[[str], list]
    """a move-sequence string -> list of move texts."""
    why_illegal: Callable[[np.ndarray, int], str]
    """(state, action) -> human reason the action is illegal there."""

    dirichlet_alpha: float
    """Root Dirichlet noise concentration (AlphaZero: about 10 / typical number of legal moves)."""
    colour_plane: int = -1
    """Index of the plane that is all ones when the first player is to move (-1: the last).
    Every other plane is one of a pair, the side to move's then the opponent's, in order: what
    seeing the position from the other side swaps (``engine.envs``)."""

    # What the rest of zeroplay offers for this game; None where the game has no such thing.
    # The arena, self-play and the experts ask these fields, never the game's name.
    make_solver: Callable[[], Any] | None = None
    """() -> a new exact solver: ``analyze(state [S]) -> [A] score or None`` (``engine.exact``);
    the solver player, the solver expert and the Gymnasium solver opponent need one."""
    gtp_size: int | None = None
    """N of the N x N board this game is in GTP and SGF (Go): the GTP engine, GTP players and
    experts, SGF records and experts need one."""
    final_ownership: Callable[[np.ndarray], tuple[np.ndarray, float]] | None = None
    """(state [S] of a finished game) -> (owners [H*W] int8: each point's final owner, +1 the
    first player, -1 the second, 0 neither; the first player's final score margin): the
    ownership and score targets (Go, area scoring)."""
    final_margin: Callable[[np.ndarray], float] | None = None
    """(state [S] of a finished game) -> float, a numba kernel: the side to move's final score
    margin (Go: area count and komi), which a search that tracks scores backs up from a
    finished game; None: a game without scores."""
    eval_set: str | None = None
    """The solved set (``engine.solved_sets``) that training scores this game's agents on."""
    cpu_preset: TrainingPreset | None = None
    """Training settings for a 2-core CPU; None: no preset (``selfplay train`` refuses the game)."""
    gpu_preset: TrainingPreset | None = None
    """Training settings for one GPU; None: the CPU preset serves there too."""

    @property
    def num_symmetries(self) -> int:
        """K: number of board symmetries (identity included)."""
        return int(self.cell_perms.shape[0])


KERNEL_NAMES = ("initial_state", "legal_mask", "play_into", "status", "encode", "transform_into")
"""The numba kernels every game module defines under these names (``search_mask`` is optional:
legal_mask stands in for it)."""
HELPER_NAMES = ("render", "parse_move", "format_move", "split_moves", "why_illegal")
"""The plain-Python helpers every game module defines under these names."""


def spec_from_module(module: ModuleType, **settings: Any) -> GameSpec:
    """The GameSpec of a game module: its kernels and helpers (found by their shared
    names), batch kernels built from them, and ``settings`` for the other fields."""
    from engine.batch import make_batch_kernels
    from engine.numba_cache import stable_identity

    kernels = {name: stable_identity(getattr(module, name), f"{module.__name__}.{name}") for name in KERNEL_NAMES}
    search_mask = getattr(module, "search_mask", None)
    kernels["search_mask"] = (kernels["legal_mask"] if search_mask is None
                              else stable_identity(search_mask, f"{module.__name__}.search_mask"))
    helpers = {name: getattr(module, name) for name in HELPER_NAMES}
    batch = make_batch_kernels(kernels["legal_mask"], kernels["search_mask"], kernels["play_into"],
                               kernels["status"], kernels["encode"], settings["name"])
    return GameSpec(**kernels, **helpers, **batch._asdict(), **settings)
