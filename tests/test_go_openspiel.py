"""Our Go against OpenSpiel's on random games: legal moves (superko aside),
boards, game ends and final area scores, move by move (see tests/go_openspiel.py).
benchmarks/engine_speed.py runs the same check on more games."""

from __future__ import annotations

import pytest

from tests.go_openspiel import cross_check

try:
    import pyspiel  # noqa: F401
except ImportError:  # the dev extra installs it
    pyspiel = None

NUM_GAMES = 100
"""Random games per board size and run of the suite (9x9: about 1 s)."""


@pytest.mark.skipif(pyspiel is None, reason="OpenSpiel (pyspiel) cannot be imported: pip install -e '.[dev]'")
@pytest.mark.parametrize("size", [9, 5])
def test_random_games_match_openspiel(size):
    check = cross_check(NUM_GAMES, size=size, seed=size)
    assert check.mismatches == []
    assert check.games == NUM_GAMES
    if size == 5:  # small boards fill up and fight kos: superko moves come up
        assert check.superko_moves > 0, "no superko move met: that part of the check did not run"
