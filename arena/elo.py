"""Elo arithmetic: a score as an Elo difference with a 95% interval, and maximum
likelihood (Bradley-Terry) ratings of a round robin.

Conventions:

- The logistic Elo model: a player ``d`` Elo points stronger scores
  ``1 / (1 + 10 ** (-d / 400))`` per game on average; 75% is +190.8 Elo.
- A draw counts half a win for each side, in the score and in the ratings.
- Results of A against B are the triple ``(wins, draws, losses)`` from A's view.
- Intervals are normal approximations (``Z95 = 1.96`` standard errors); an
  interval that reaches a score of 0 or 1 is infinite on that side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

Z95 = 1.959963984540054
"""Two-sided 95% quantile of the standard normal distribution."""
ELO_PER_NAT = 400.0 / math.log(10.0)
"""Elo points per unit of natural-log strength (the Bradley-Terry scale): ~173.7."""


def count_result(tally, result: int) -> None:
    """Add one game (+1 win, 0 draw, -1 loss) to ``tally``'s wins, draws and losses."""
    if result > 0:
        tally.wins += 1
    elif result < 0:
        tally.losses += 1
    else:
        tally.draws += 1


def expected_score(elo: float) -> float:
    """Mean score per game of a player ``elo`` points stronger than its opponent."""
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


def elo_from_score(score: float) -> float:
    """Elo difference that gives the mean score ``score`` in [0, 1] (±inf at 0 and 1)."""
    if score <= 0.0:
        return -math.inf
    if score >= 1.0:
        return math.inf
    return -400.0 * math.log10(1.0 / score - 1.0)


@dataclass(frozen=True)
class EloEstimate:
    """An Elo difference measured from ``games`` results, with its 95% interval."""

    elo: float
    low: float
    high: float
    score: float
    """Mean score per game in [0, 1]."""
    games: int

    @property
    def margin(self) -> float:
        """Half the width of the interval (inf when either end is)."""
        return (self.high - self.low) / 2.0

    def __str__(self) -> str:
        if not self.games:
            return "no games"
        if math.isfinite(self.low) and math.isfinite(self.high):
            return f"{self.elo:+.1f} ± {self.margin:.1f} Elo (95%: {self.low:+.1f} to {self.high:+.1f})"
        return f"{self.elo:+.1f} Elo (95%: {self.low:+.1f} to {self.high:+.1f})"


def score_statistics(wins: float, draws: float, losses: float) -> tuple[float, float, float]:
    """(games, mean score per game, variance of one game's score) of a W/D/L count."""
    games = wins + draws + losses
    if games <= 0:
        return 0.0, 0.5, 0.0
    mean = (wins + 0.5 * draws) / games
    variance = (wins * (1.0 - mean) ** 2 + draws * (0.5 - mean) ** 2 + losses * mean ** 2) / games
    return games, mean, variance


def elo_estimate(wins: int, draws: int, losses: int) -> EloEstimate:
    """Elo difference of the player with these results, and its 95% interval.

    The interval is the normal interval of the mean score (standard error from
    the games' own spread, so draws narrow it) mapped through the Elo curve.
    While a kind of result has not occurred (e.g. 20 wins out of 20) the spread
    is taken with half a game of each kind added (Haldane-Anscombe), so a
    perfect score still gets a finite lower end.
    """
    games, mean, variance = score_statistics(wins, draws, losses)
    if not games:
        return EloEstimate(0.0, -math.inf, math.inf, 0.5, 0)
    if min(wins, draws, losses) == 0:
        variance = score_statistics(wins + 0.5, draws + 0.5, losses + 0.5)[2]
    error = math.sqrt(variance / games)
    return EloEstimate(
        elo=elo_from_score(mean),
        low=elo_from_score(mean - Z95 * error),
        high=elo_from_score(mean + Z95 * error),
        score=mean,
        games=int(games),
    )


# ---- maximum likelihood ratings ---------------------------------------------


@dataclass(frozen=True)
class Ratings:
    """Maximum likelihood Elo ratings of P players (Bradley-Terry with draws as half wins)."""

    names: list[str]
    elo: np.ndarray
    """[P] float64: ratings, the anchor at 0 (or their mean at 0)."""
    error: np.ndarray
    """[P] float64: 95% half-width of each rating relative to the anchor (0 for the anchor itself)."""
    games: np.ndarray
    """[P] int64: games each player played."""
    scores: np.ndarray
    """[P] float64: each player's mean score per game."""
    anchor: str | None
    """The player fixed at 0, or None when the mean is."""

    def rows(self) -> list[dict]:
        """One dict per player, best first: name, elo, error, low, high, games, score."""
        order = np.argsort(-self.elo, kind="stable")
        return [
            {
                "name": self.names[i], "elo": float(self.elo[i]), "error": float(self.error[i]),
                "low": float(self.elo[i] - self.error[i]), "high": float(self.elo[i] + self.error[i]),
                "games": int(self.games[i]), "score": float(self.scores[i]),
            }
            for i in order
        ]


def fit_ratings(
    names: Sequence[str],
    results: Sequence[tuple[int, int, int, int, int]],
    anchor: str | None = None,
    prior_draws: float = 1.0,
    iterations: int = 100,
) -> Ratings:
    """Maximum likelihood ratings of a round robin (or any connected set of matches).

    ``results``: rows ``(i, j, wins_i, draws, wins_j)`` of player indices into
    ``names``; a pair may appear several times. ``anchor``: the name fixed at
    0 Elo; None fixes the mean at 0. ``prior_draws``: virtual draws added to
    every pair that played, so that a player who won (or lost) every game still
    gets a finite rating (BayesElo uses a similar prior); 0 turns it off.

    Newton's method on the log-likelihood in natural-log strengths r (P(i
    scores against j) = sigmoid(r_i - r_j)); the inverse of the Hessian, with
    the anchor's row and column removed (or its pseudo-inverse for a mean
    anchor), is the covariance that gives the intervals.
    """
    count = len(names)
    if count < 2:
        raise ValueError("ratings need at least two players")
    if anchor is not None and anchor not in names:
        raise ValueError(f"anchor {anchor!r} is not one of the players")
    games = np.zeros((count, count))   # [P, P] games between i and j (prior included)
    points = np.zeros((count, count))  # [P, P] points of i against j (prior included)
    played = np.zeros(count, np.int64)
    real_points = np.zeros(count)
    for i, j, wins, draws, losses in results:
        if i == j:
            raise ValueError("a player cannot play itself in a rating list")
        total = wins + draws + losses
        games[i, j] += total
        games[j, i] += total
        points[i, j] += wins + 0.5 * draws
        points[j, i] += losses + 0.5 * draws
        played[i] += total
        played[j] += total
        real_points[i] += wins + 0.5 * draws
        real_points[j] += losses + 0.5 * draws
    pairs = games > 0
    games = games + prior_draws * pairs
    points = points + 0.5 * prior_draws * pairs
    if not _connected(pairs):
        raise ValueError("the results do not connect every player: some ratings cannot be compared")

    free = np.array([name != anchor for name in names]) if anchor is not None else np.ones(count, bool)
    strengths = np.zeros(count)  # [P] natural-log strengths
    for _ in range(iterations):
        gradient, hessian = _derivatives(strengths, games, points)
        step = _newton_step(gradient, hessian, free)
        strengths[free] += step
        if anchor is None:
            strengths -= strengths.mean()
        if np.max(np.abs(step)) < 1e-10:
            break
    _, hessian = _derivatives(strengths, games, points)
    variance = np.zeros(count)
    if anchor is None:
        # The likelihood ignores a common shift; the pseudo-inverse is the covariance
        # of ratings constrained to mean 0.
        variance = np.diag(np.linalg.pinv(-hessian))
    else:
        variance[free] = np.diag(np.linalg.inv(-hessian[np.ix_(free, free)]))
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(played > 0, real_points / np.maximum(played, 1), np.nan)
    return Ratings(
        names=list(names),
        elo=strengths * ELO_PER_NAT,
        error=Z95 * np.sqrt(np.maximum(variance, 0.0)) * ELO_PER_NAT,
        games=played,
        scores=scores,
        anchor=anchor,
    )


def _derivatives(strengths: np.ndarray, games: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient [P] and Hessian [P, P] of the log-likelihood at ``strengths`` [P]."""
    p = 1.0 / (1.0 + np.exp(-(strengths[:, None] - strengths[None, :])))  # [P, P] expected score of i vs j
    gradient = (points - games * p).sum(axis=1)
    weights = games * p * (1.0 - p)
    hessian = weights - np.diag(weights.sum(axis=1))
    return gradient, hessian


def _newton_step(gradient: np.ndarray, hessian: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The Newton step of the free strengths; lstsq tolerates the shift-invariance
    of the mean-anchored problem."""
    step, *_ = np.linalg.lstsq(-hessian[np.ix_(free, free)], gradient[free], rcond=None)
    # Damped: far from the optimum (lopsided results) a full step can overshoot.
    return np.clip(step, -2.0, 2.0)


def _connected(pairs: np.ndarray) -> bool:
    """Whether the graph of pairs [P, P] that played links every player."""
    seen = {0}
    frontier = [0]
    while frontier:
        node = frontier.pop()
        for other in np.flatnonzero(pairs[node]):
            if int(other) not in seen:
                seen.add(int(other))
                frontier.append(int(other))
    return len(seen) == pairs.shape[0]
