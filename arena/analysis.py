"""Live analysis lines in the formats Go GUIs read: Leela Zero's ``lz-analyze`` and KataGo's
``kata-analyze`` (Sabaki, Lizzie, KaTrain; the format is KataGo's docs/GTP_Extensions.md).

A request's arguments are ``[colour] [interval] [key value ...]``: the colour to move
(default: the side to move), the interval between reports in centiseconds, and the keys
``interval``, ``minmoves``, ``maxmoves`` and ``ownership``. A report is one line: every
searched root move, best first, each as ``info move D4 visits 120 winrate ... pv D4 E5 ...``;
with ``ownership true`` kata-analyze ends it with ``ownership`` and one float per point
(row by row from the top left, for the colour analysed): the network's ownership head's
map of the position (none when the network has no such head, or without a network). With a
network that has a score head, kata-analyze also writes each move's ``scoreMean`` and
``scoreLead``: the search's mean final margin in points below that move, for the colour
analysed (the same figure twice: our score is the expected margin, KataGo's two differ
only in how they treat its self-play komi).

Values are for the colour analysed. lz-analyze writes winrate, prior and lcb as integers
out of 10000; kata-analyze writes floats (winrate in [0, 1], utility in [-1, 1]). Our search
keeps no value variance, so lcb is the normal approximation of a binomial bound:
winrate - 1.96 sqrt(winrate (1 - winrate) / visits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.spec import GameSpec
from mcts import BatchedSearch

LCB_Z = 1.96
"""The lcb's z: the lower end of a 95% interval."""

COLOUR_WORDS = ("b", "w", "black", "white")


@dataclass(frozen=True)
class AnalysisRequest:
    """What an analysis command asks for."""

    colour: str | None = None
    """"b", "w", "black" or "white" as given; None: the side to move."""
    interval: float = 1.0
    """Seconds between reports."""
    min_moves: int = 0
    """Report at least this many legal moves (unsearched ones at the root's value)."""
    max_moves: int | None = None
    """Report at most this many moves (None: all searched)."""
    ownership: bool = False


def parse_request(args: list[str]) -> AnalysisRequest:
    """The request of ``[colour] [interval] [key value ...]``; raises ValueError for anything
    else (a GTP syntax error)."""
    args = list(args)
    fields: dict = {}
    if args and args[0].lower() in COLOUR_WORDS:
        fields["colour"] = args.pop(0).lower()
    if args and _is_number(args[0]):
        fields["interval"] = _centiseconds(args.pop(0))
    if len(args) % 2:
        raise ValueError("keys and values must come in pairs")
    for key, value in zip(args[::2], args[1::2]):
        if key == "interval":
            fields["interval"] = _centiseconds(value)
        elif key in ("minmoves", "maxmoves"):
            count = int(value)
            if count < 0:
                raise ValueError(f"{key} must be >= 0")
            fields["min_moves" if key == "minmoves" else "max_moves"] = count
        elif key == "ownership":
            if value not in ("true", "false"):
                raise ValueError("ownership is true or false")
            fields["ownership"] = value == "true"
        else:
            raise ValueError(f"unknown key {key!r}")
    return AnalysisRequest(**fields)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _centiseconds(word: str) -> float:
    value = float(word)
    if not 0 <= value < 1e7:  # also NaN
        raise ValueError("the interval is centiseconds >= 0")
    return value / 100.0


@dataclass(frozen=True)
class MoveInfo:
    """One root move's analysis."""

    action: int
    visits: int
    value: float
    """Mean value in [-1, 1] for the side analysed."""
    prior: float
    pv: list[int]
    """The principal variation, starting with ``action``."""
    score: float | None = None
    """Mean final score margin (points) for the side analysed; None without a score head."""

    @property
    def winrate(self) -> float:
        return (self.value + 1.0) / 2.0

    @property
    def lcb(self) -> float:
        if self.visits == 0:
            return 0.0
        rate = self.winrate
        return max(0.0, rate - LCB_Z * math.sqrt(rate * (1.0 - rate) / self.visits))


def move_infos(search: BatchedSearch, request: AnalysisRequest, pv_length: int = 16) -> list[MoveInfo]:
    """The root moves of tree 0 of ``search`` to report, best first: searched moves by
    visits (then prior), then unsearched legal ones by prior up to ``request.min_moves``,
    the whole at most ``request.max_moves`` long."""
    stats = search.root_children(0)
    searched = np.flatnonzero(stats.visits > 0)
    searched = searched[np.lexsort((-stats.priors[searched], -stats.visits[searched]))]
    infos = [MoveInfo(int(a), int(stats.visits[a]), float(stats.values[a]), float(stats.priors[a]),
                      search.principal_variation(0, pv_length, first=int(a)),
                      None if stats.scores is None else float(stats.scores[a])) for a in searched]
    if len(infos) < request.min_moves:
        unsearched = np.flatnonzero(stats.legal & (stats.visits == 0))
        unsearched = unsearched[np.argsort(-stats.priors[unsearched], kind="stable")]
        infos += [MoveInfo(int(a), 0, stats.root_value, float(stats.priors[a]), [int(a)], stats.root_score)
                  for a in unsearched[:request.min_moves - len(infos)]]
    return infos[:request.max_moves]


def lz_analyze_line(infos: list[MoveInfo], format_move: Callable[[int], str]) -> str:
    """A report in Leela Zero's format (integers out of 10000)."""
    return _report(infos, format_move, lambda info: f"winrate {_per_10000(info.winrate)} "
                                                    f"prior {_per_10000(info.prior)} lcb {_per_10000(info.lcb)}")


def kata_analyze_line(infos: list[MoveInfo], format_move: Callable[[int], str]) -> str:
    """A report in KataGo's format (floats)."""
    return _report(infos, format_move, lambda info: f"utility {info.value:.6f} winrate {info.winrate:.6f} "
                                                    f"{_score_words(info.score)}prior {info.prior:.6f} "
                                                    f"lcb {info.lcb:.6f} utilityLcb {2.0 * info.lcb - 1.0:.6f}")


def _score_words(score: float | None) -> str:
    return "" if score is None else f"scoreMean {score:.6f} scoreLead {score:.6f} "


def _report(infos: list[MoveInfo], format_move: Callable[[int], str], figures: Callable[[MoveInfo], str]) -> str:
    """``info move M visits N <figures> order K pv M ...`` for each move, on one line."""
    return " ".join(f"info move {format_move(info.action)} visits {info.visits} {figures(info)} order {order} "
                    f"pv {' '.join(format_move(a) for a in info.pv)}" for order, info in enumerate(infos))


def predicted_ownership(evaluator, spec: GameSpec, state: np.ndarray) -> np.ndarray | None:
    """[H*W] float32 in [-1, 1]: each point's predicted final owner for the side to move at
    ``state`` [S] (+1 its own), from the network's ownership head; None when ``evaluator``
    has no network with one."""
    if not getattr(evaluator, "has_ownership", False):
        return None
    planes = np.zeros((1, *spec.planes_shape), np.float32)
    spec.encode(state, planes[0])
    return evaluator.evaluate_ownership(planes)[0]


def ownership_words(ownership: np.ndarray) -> str:
    """kata-analyze's ownership field: ``ownership`` and a float per point."""
    return "ownership " + " ".join(f"{owner:.4f}" for owner in ownership)


def _per_10000(share: float) -> int:
    return int(round(10000 * min(1.0, max(0.0, share))))
