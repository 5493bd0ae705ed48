"""Our Go rules against GNU Go's over random 9x9 games (benchmarks/go_gnugo_crosscheck.py runs
many more): the same stones after every move, the same legal points before every move, except
the points that only our positional superko forbids, each checked to repeat an earlier board."""

from __future__ import annotations

import pytest

from benchmarks.go_gnugo_crosscheck import crosscheck, gnugo_board, main, repeats_earlier_board
from engine.gtp_client import GTPClient, find_gnugo

pytestmark = pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo; "
                                                            ".ci/run does it)")

GAMES = 6
"""Random games per run (about a second each); with seed 0, game 2 meets a superko-only point."""


def test_rules_agree_with_gnugo():
    counts = crosscheck(GAMES, size=9, seed=0)
    assert counts["disagreements"] == 0, counts["examples"]
    # Every game runs to the cap of 2 * 81 moves; every point is compared before each move.
    assert counts["moves"] == counts["stone_checks"] == GAMES * 162
    assert counts["legality_checks"] == 81 * counts["moves"]
    assert counts["superko_only"] >= 1 and 2 in counts["superko_games"]


def test_repetition_check_takes_its_move_back():
    with GTPClient(f"{find_gnugo()} --mode gtp") as gnugo:
        gnugo.send("boardsize 9")
        empty = gnugo_board(gnugo)
        assert not repeats_earlier_board(gnugo, "black", "E5", {empty})
        assert repeats_earlier_board(gnugo, "black", "E5", {empty, (frozenset({"E5"}), frozenset())})
        assert gnugo_board(gnugo) == empty


def test_script_prints_one_json_line(capsys):
    assert main(["--games", "1", "--seed", "0"]) == 0
    assert capsys.readouterr().out.count("\n") == 1
    assert main(["--games", "0"]) == 2
