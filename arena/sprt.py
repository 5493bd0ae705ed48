"""Sequential probability ratio test (SPRT) on match results, as used to gate
networks in Leela Zero and patches in Stockfish's fishtest.

H0: the player is ``elo0`` Elo stronger than its opponent; H1: ``elo1`` Elo
stronger (elo0 < elo1; "is the new network at least elo1 better, or at most
elo0?"). After every game the log-likelihood ratio (LLR) of the results is
compared with Wald's bounds::

    lower = log(beta / (1 - alpha))       (-2.94 at alpha = beta = 0.05)
    upper = log((1 - beta) / alpha)       (+2.94)

LLR <= lower accepts H0, LLR >= upper accepts H1, anything between asks for
more games. alpha is the chance of accepting H1 when H0 holds, beta of
accepting H0 when H1 holds.

The LLR is the draw-aware normal approximation of the trinomial (win / draw /
loss) likelihood ratio under the logistic Elo model. With s0, s1 the expected
scores at elo0 and elo1, the observed mean score m over N games, and v the
variance of one game's score between the hypotheses,

    LLR ~= N * (s1 - s0) * (2 m - s0 - s1) / (2 v),
    v = s (1 - s) - d / 4     at s = (s0 + s1) / 2, d the observed share of draws

(a game scoring 1, 1/2 or 0 with mean s and draw share d has that variance).
Draws lower v, so drawish matches decide sooner. The draw share is smoothed
as (D + 1/2) / (N + 1) so that v stays positive.

fishtest's older formula puts the *observed* variance of the scores in place
of v. That estimate shrinks during a lucky streak (8 wins in 10 games have a
variance of 0.16, not 0.25), which inflates early LLRs: in simulations it
accepted a false H1 7-10% of the time at alpha = 0.05. Taking v between the
hypotheses keeps both error rates at their nominal 5% (tests/test_arena.py
checks this on simulated matches).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arena.elo import count_result, expected_score

H0 = "H0"
"""Verdict: the player is at most elo0 stronger (e.g. reject the new network)."""
H1 = "H1"
"""Verdict: the player is at least elo1 stronger (e.g. promote the new network)."""


def log_likelihood_ratio(wins, draws, losses, elo0: float, elo1: float):
    """LLR of H1 (``elo1``) against H0 (``elo0``) given W/D/L from the tested player's view.

    The counts may be numbers (-> float) or numpy arrays of one shape [...] (-> an
    array of LLRs, e.g. after every game of many simulated matches). 0 games give 0.
    """
    wins, draws, losses = (np.asarray(count, np.float64) for count in (wins, draws, losses))
    games = wins + draws + losses
    mean = (wins + 0.5 * draws) / np.maximum(games, 1.0)
    draw_share = (draws + 0.5) / (games + 1.0)
    s0, s1 = expected_score(elo0), expected_score(elo1)
    middle = 0.5 * (s0 + s1)
    variance = middle * (1.0 - middle) - 0.25 * draw_share
    llr = np.where(games > 0, games * (s1 - s0) * (2.0 * mean - s0 - s1) / (2.0 * variance), 0.0)
    return float(llr) if llr.ndim == 0 else llr


def parse_bounds(text: str) -> tuple[float, float]:
    """'elo0,elo1' (e.g. '0,35') -> (elo0, elo1); ValueError says what is wrong."""
    parts = [part.strip() for part in text.split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        elo0, elo1 = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"--sprt wants two Elo values 'elo0,elo1' such as '0,35', got {text!r}") from None
    if not (math.isfinite(elo0) and math.isfinite(elo1)) or elo0 >= elo1:
        raise ValueError(f"--sprt needs finite elo0 < elo1, got {text!r}")
    return elo0, elo1


@dataclass
class SPRT:
    """A running SPRT: feed it results with ``update`` and read ``verdict``."""

    elo0: float = 0.0
    elo1: float = 35.0
    alpha: float = 0.05
    beta: float = 0.05
    wins: int = 0
    draws: int = 0
    losses: int = 0

    def __post_init__(self):
        if not self.elo0 < self.elo1:
            raise ValueError(f"SPRT needs elo0 < elo1, got {self.elo0} and {self.elo1}")
        if not (0.0 < self.alpha < 0.5 and 0.0 < self.beta < 0.5):
            raise ValueError("SPRT alpha and beta must lie in (0, 0.5)")

    @property
    def lower(self) -> float:
        """LLR at or below which H0 is accepted."""
        return math.log(self.beta / (1.0 - self.alpha))

    @property
    def upper(self) -> float:
        """LLR at or above which H1 is accepted."""
        return math.log((1.0 - self.beta) / self.alpha)

    def update(self, result: int) -> str | None:
        """Count one game (+1 win, 0 draw, -1 loss for the tested player); returns the verdict."""
        count_result(self, result)
        return self.verdict

    @property
    def llr(self) -> float:
        return log_likelihood_ratio(self.wins, self.draws, self.losses, self.elo0, self.elo1)

    @property
    def verdict(self) -> str | None:
        """H0, H1, or None while undecided."""
        llr = self.llr
        if llr >= self.upper:
            return H1
        if llr <= self.lower:
            return H0
        return None

    def describe(self) -> str:
        """One line: the bounds, the LLR and the verdict."""
        llr = self.llr
        head = (f"SPRT elo0={self.elo0:g} elo1={self.elo1:g} (alpha={self.alpha:g}, beta={self.beta:g}): "
                f"LLR {llr:+.2f} in [{self.lower:.2f}, {self.upper:.2f}]")
        verdict = self.verdict
        if verdict == H1:
            return f"{head}: H1 accepted (stronger by at least ~{self.elo1:g} Elo)"
        if verdict == H0:
            return f"{head}: H0 accepted (stronger by at most ~{self.elo0:g} Elo)"
        return f"{head}: undecided, more games needed"
