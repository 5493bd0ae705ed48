"""`arena gtp`: a scripted GTP session with its expected replies, ko through the
protocol, the clock, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
from arena.gtp_engine import GameClock, GTPCommandError, GTPEngine, TimedSearch, search_factory
from engine import go, go_positions
from engine.gtp_client import find_gnugo
from engine.sgf import read_sgf, replay
from engine.spec import ONGOING
from mcts import MCTSConfig
from mcts.evaluators import RolloutEvaluator

GO9 = engine.get_game("go9")
REPO = Path(__file__).resolve().parents[1]


class FirstLegalSearch:
    """A stand-in search that plays the first legal point (pass last), so replies are known."""

    def __init__(self, spec, value: float = 0.0):
        self.spec = spec
        self.value = value

    def best_move(self, state, seconds, after_step=None):
        legal = np.zeros(self.spec.num_actions, np.bool_)
        self.spec.legal_mask(state, legal)
        return int(np.flatnonzero(legal)[0]), self.value, 1


def scripted_engine(value: float = 0.0) -> GTPEngine:
    return GTPEngine(GO9, lambda spec: FirstLegalSearch(spec, value), version="test")


def converse(gtp: GTPEngine, script: list[str]) -> list[str | None]:
    return [gtp.respond(line) for line in script]


def test_scripted_session_gets_the_expected_replies():
    gtp = scripted_engine()
    script_and_replies = [
        ("protocol_version", "= 2\n\n"),
        ("7 name", "=7 zeroplay\n\n"),
        ("version", "= test\n\n"),
        ("known_command genmove", "= true\n\n"),
        ("known_command kgs-chat", "= false\n\n"),
        ("boardsize 9", "= \n\n"),
        ("clear_board", "= \n\n"),
        ("komi 6.5", "= \n\n"),
        ("play black D4", "= \n\n"),
        ("play white D4", "? illegal move\n\n"),
        ("play white Z9", "? syntax error\n\n"),
        ("play purple E5", "? syntax error\n\n"),
        ("play w", "? syntax error\n\n"),
        ("komi seven", "? syntax error\n\n"),
        ("genmove w", "= A9\n\n"),  # the stand-in's first legal point
        ("final_score", "= W+6.5\n\n"),  # one stone each, no territory (both touch the empty region)
        ("12 frobnicate", "?12 unknown command\n\n"),
        ("   ", None),
        ("# a comment line", None),
        ("3", "?3 syntax error\n\n"),
        ("undo", "= \n\n"),
        ("undo", "= \n\n"),
        ("undo", "? cannot undo\n\n"),
        ("boardsize 30", "? unacceptable size\n\n"),
        ("boardsize nine", "? syntax error\n\n"),
        ("time_settings 300 30 5", "= \n\n"),
        ("time_left black 12 x", "? syntax error\n\n"),
        ("quit", "= \n\n"),
    ]
    script = [line for line, _ in script_and_replies]
    assert converse(gtp, script) == [reply for _, reply in script_and_replies]
    assert gtp.quit


def test_list_commands_and_showboard():
    gtp = scripted_engine()
    listed = gtp.respond("list_commands")[2:-2].split("\n")
    required = {"protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
                "clear_board", "komi", "play", "genmove", "undo", "showboard", "final_score", "time_settings",
                "time_left"}
    assert required <= set(listed)
    assert all(gtp.respond(f"known_command {name}") == "= true\n\n" for name in listed)
    gtp.respond("play b C3")
    board = gtp.respond("showboard")
    assert board.startswith("= \n") and board.endswith("\n\n")
    rows = board.strip("= \n").split("\n")
    assert rows[0].split() == list("ABCDEFGHJ")
    assert rows[7].split() == ["3", ".", ".", "X", ".", ".", ".", ".", ".", ".", "3"]


def test_ko_through_the_protocol():
    gtp = scripted_engine()
    # Black surrounds C4 on three sides, white surrounds D4; black D4 is then captured by white C4.
    for move in ["b B4", "w D5", "b C5", "w D3", "b C3", "w E4", "b D4", "w C4"]:
        assert gtp.respond(f"play {move}") == "= \n\n", move
    assert gtp.respond("play b D4") == "? illegal move\n\n"  # the immediate retake repeats a position
    assert gtp.respond("play b J9") == "= \n\n"
    assert gtp.respond("play w J8") == "= \n\n"
    assert gtp.respond("play b D4") == "= \n\n"  # after a move elsewhere the retake is legal
    black, white = go_positions.stones(gtp.state)
    assert GO9.parse_move("C4") not in white and GO9.parse_move("D4") in black


def test_game_end_by_passes_and_resignation():
    gtp = scripted_engine()
    assert converse(gtp, ["play b pass", "play w pass"]) == ["= \n\n", "= \n\n"]
    assert gtp.respond("genmove b") == "= pass\n\n"  # the game is over
    assert gtp.respond("play b pass") == "= \n\n"
    assert gtp.respond("play b E5") == "? illegal move\n\n"
    assert gtp.respond("final_score") == "= W+7.5\n\n"
    losing = scripted_engine(value=-0.99)
    assert losing.respond("genmove b") == "= resign\n\n"
    assert len(losing.history) == 1  # resigning plays nothing


def test_a_network_plays_only_its_own_board_size():
    def only_go9(spec):
        if spec.name != "go9":
            raise GTPCommandError("unacceptable size")
        return FirstLegalSearch(spec)

    gtp = GTPEngine(GO9, only_go9)
    gtp.respond("play b E5")
    assert gtp.respond("boardsize 13") == "? unacceptable size\n\n"
    assert gtp.respond("boardsize 9") == "= \n\n"
    assert len(gtp.history) == 1  # boardsize clears the board


def test_clock_shares():
    clock = GameClock()
    assert clock.move_seconds(go.BLACK, 40) is None  # no time_settings: simulations only
    clock.settings(0, 10, 0)
    assert clock.move_seconds(go.BLACK, 40) is None  # byo-yomi time without stones: no limit
    clock.settings(400, 0, 0)
    assert clock.move_seconds(go.BLACK, 40) == pytest.approx(0.85 * 10 - 0.05)
    clock.left[go.BLACK] = (40.0, 0)
    assert clock.move_seconds(go.BLACK, 40) == pytest.approx(0.85 * 1 - 0.05)
    clock.settings(60, 30, 5)
    clock.left[go.WHITE] = (20.0, 4)  # in byo-yomi: 20 s for 4 stones
    assert clock.move_seconds(go.WHITE, 40) == pytest.approx(0.85 * 5 - 0.05)
    clock.left[go.WHITE] = (0.0, 1)
    assert clock.move_seconds(go.WHITE, 40) == 0.05  # never below the floor


def test_timed_search_stops_at_its_deadline_or_its_cap():
    search = TimedSearch(GO9, RolloutEvaluator(GO9, seed=1), MCTSConfig(num_simulations=48), chunk=16)
    state = GO9.initial_state()
    action, value, done = search.best_move(state, seconds=None)
    assert done == 48 and -1 <= value <= 1
    legal = np.zeros(GO9.num_actions, np.bool_)
    GO9.legal_mask(state, legal)
    assert legal[action]
    assert search.best_move(state, seconds=0.0)[2] == 16  # the deadline has passed after one chunk


def test_genmove_passes_when_a_pass_wins_on_the_count():
    # Black passes on the empty board: white's pass ends the game won by komi. With 16
    # simulations over 82 moves search hardly visits the pass; it is played all the same.
    gtp = GTPEngine(GO9, search_factory(GO9, None, simulations=16, seed=2), version="test")
    assert converse(gtp, ["play black pass", "genmove white", "genmove black"]) == [
        "= \n\n", "= pass\n\n", "= pass\n\n"]


def test_search_factory_refuses_other_sizes_for_a_network(tmp_path):
    from nets import PolicyValueNet, save_checkpoint

    model = PolicyValueNet(GO9.planes_shape, GO9.num_actions, "b1c8")
    save_checkpoint(tmp_path / "go9.pt", model, game="go9", step=0)
    make_search = search_factory(GO9, str(tmp_path / "go9.pt"), simulations=8)
    assert isinstance(make_search(GO9), TimedSearch)
    with pytest.raises(GTPCommandError, match="unacceptable size"):
        make_search(engine.get_game("go13"))
    # The default network of `arena gtp` leaves other boards to pure MCTS instead.
    fallback = search_factory(GO9, str(tmp_path / "go9.pt"), simulations=8, rollouts_elsewhere=True)
    assert isinstance(fallback(engine.get_game("go13")).search.evaluator, RolloutEvaluator)
    assert not isinstance(fallback(GO9).search.evaluator, RolloutEvaluator)


def run_arena(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arena", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_command_line_session_and_errors(tmp_path):
    done = run_arena("gtp", "--game", "go9", "--sims", "8", stdin="boardsize 9\nplay b E5\ngenmove w\nquit\nname\n")
    assert done.returncode == 0, done.stderr
    assert "the shipped network" in done.stderr and "go9.pt" in done.stderr  # no --model: the shipped one
    replies = done.stdout.split("\n\n")
    assert replies[:2] == ["= ", "= "] and replies[-2] == "= "  # nothing is answered after quit
    move = replies[2][2:]
    assert move == "pass" or move.upper() != "E5" and GO9.parse_move(move) < GO9.num_actions
    for args, message in [
        (("--game", "connect4"), "GTP plays Go"),
        (("--model", str(tmp_path / "missing.pt")), "missing.pt"),
        (("--game", "go4"), "unknown game 'go4'"),
    ]:
        failed = run_arena("gtp", *args)
        assert failed.returncode == 2 and failed.stdout == ""
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], failed.stderr


@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo)")
def test_arena_gtp_plays_gnu_go_through_the_arena(tmp_path):
    """Our engine as a GTP program, driven by the arena's GTP client, against GNU Go level 1;
    the referee checks every move and the SGF replays to the final position."""
    ours = f'gtp:"{sys.executable} -m arena gtp --game go9 --sims 16 --resign-threshold -2"'
    done = run_arena("match", "--game", "go9", ours, 'gtp:"gnugo --mode gtp --level 1"', "--games", "1",
                     "--sgf", str(tmp_path), "--out", str(tmp_path / "games.jsonl"))
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "games.jsonl").read_text().splitlines()[0])
    assert record["result"] in ("1-0", "0-1") and "ending" not in record  # played out: no resignation, no forfeit
    game = read_sgf((tmp_path / "game-00001.sgf").read_bytes())
    final = replay(game).states[-1]
    assert GO9.status(final) != ONGOING
