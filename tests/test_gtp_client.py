"""The GTP client and GTP players: conversations with real GNU Go (skipped where it is not
installed) and with fake engines (Python one-liners) that die, hang, answer out of protocol,
resign or play illegal moves; a match of random moves against GNU Go saved as SGF."""

from __future__ import annotations

import contextlib
import io
import shlex
import sys
import time

import numpy as np
import pytest
from rich.console import Console

import engine
from arena.cli import main
from arena.match import play_match
from arena.play import play_terminal
from arena.players import Decisions, GTPPlayer, Player, make_player
from arena.records import read_games
from arena.specs import PlayerSpecError
from engine import go, go_positions
from engine.gtp_client import (GTPClient, GTPEngineClosed, GTPEngineDied, GTPEngineNotFound, GTPFailure,
                               GTPProtocolError, GTPTimeout, find_gnugo)
from engine.sgf import read_sgf, replay

GNUGO = find_gnugo()
needs_gnugo = pytest.mark.skipif(GNUGO is None, reason="GNU Go is not installed (apt-get install gnugo; "
                                                       ".ci/run does it)")


def fake_engine(body: str) -> list[str]:
    """The argv of a Python engine running ``body`` once per line of input (``line`` and ``words``
    bound; ``say(text)`` writes text and flushes)."""
    program = ("import sys, time\n"
               "def say(text):\n"
               "    sys.stdout.write(text); sys.stdout.flush()\n"
               "for line in sys.stdin:\n"
               "    words = line.split()\n"
               + "".join(f"    {row}\n" for row in body.splitlines()))
    return [sys.executable, "-c", program]


ECHO = fake_engine("say(f'={words[0]} ' + ' '.join(words[1:]) + '\\n\\n')\n"
                   "if words[1:] == ['quit']: break")
"""Answers every command with its own words; quits on quit."""


# ---- real GNU Go -------------------------------------------------------------


@needs_gnugo
def test_gnugo_conversation():
    with GTPClient("gnugo --mode gtp --level 1") as gnugo:
        assert gnugo.send("protocol_version") == "2"
        assert gnugo.send("name") == "GNU Go"
        assert gnugo.send("boardsize 9") == ""
        gnugo.send("komi 7")
        gnugo.send("play black D4")
        gnugo.send("play white E5")
        assert gnugo.send("list_stones black") == "D4"
        assert gnugo.send("is_legal black D4") == "0"
        # A multi-line answer: the board, from its column letters to the last row.
        board = gnugo.send("showboard").splitlines()
        assert board[0].split() == list("ABCDEFGHJ") and len(board) == 11
        move = gnugo.send("genmove black")
        assert move == "PASS" or move[0] in "ABCDEFGHJ"
        with pytest.raises(GTPFailure, match="refused 'play black Z99': invalid color or coordinate") as failure:
            gnugo.send("play black Z99")
        assert failure.value.message == "invalid color or coordinate"
        assert gnugo.alive  # a failure leaves the engine usable
        assert "D4" in gnugo.send("list_stones black").split()
    assert not gnugo.alive
    assert gnugo._process.returncode == 0  # quit was sent and the process reaped


@needs_gnugo
def test_gnugo_by_path_and_unknown_command():
    with GTPClient([GNUGO, "--mode", "gtp"]) as gnugo:
        with pytest.raises(GTPFailure, match="unknown command"):
            gnugo.send("no_such_command")


# ---- fake engines ----------------------------------------------------------------


def test_missing_and_unstartable_engines(tmp_path):
    with pytest.raises(GTPEngineNotFound, match="'no-such-engine-xyz' not found .searched PATH and /usr/games"):
        GTPClient("no-such-engine-xyz --mode gtp")
    with pytest.raises(GTPEngineNotFound, match="not found"):
        GTPClient(str(tmp_path / "absent"))
    not_executable = tmp_path / "engine.txt"
    not_executable.write_text("not a program")
    with pytest.raises(GTPEngineNotFound, match="not found"):
        GTPClient(str(not_executable))
    bad_format = tmp_path / "engine"
    bad_format.write_bytes(b"\x00\x01 not a program")
    bad_format.chmod(0o755)
    with pytest.raises(GTPEngineNotFound, match="cannot be started: Exec format error"):
        GTPClient(str(bad_format))
    for command in ("", "   ", 'gnugo "unclosed'):
        with pytest.raises(GTPEngineNotFound):
            GTPClient(command)


def test_ids_multiline_and_stray_blank_lines():
    engine = fake_engine("if words[1] == 'board': say(f'={words[0]}\\n . X\\n O .\\n\\n')\n"
                         "elif words[1] == 'noid': say('\\n= plain\\n\\n')\n"
                         "elif words[1] == 'crlf': say(f'={words[0]} windows\\r\\n\\r\\n')\n"
                         "else: say(f'?{words[0]} cannot {words[1]}\\n\\n')")
    with GTPClient(engine, timeout=10) as client:
        assert client.send("board") == " . X\n O ."
        assert client.send("noid") == "plain"
        assert client.send("crlf") == "windows"
        with pytest.raises(GTPFailure, match="refused 'fly': cannot fly"):
            client.send("fly")
        with pytest.raises(ValueError, match="one non-empty line"):
            client.send("play\nquit")


def test_engine_that_dies_reports_its_stderr():
    engine = fake_engine("sys.stderr.write('fatal: out of stones\\n'); sys.stderr.flush(); sys.exit(3)")
    client = GTPClient(engine, timeout=10)
    with pytest.raises(GTPEngineDied, match="exited with code 3 while answering 'name'; stderr: fatal: out of stones"):
        client.send("name")
    assert not client.alive
    with pytest.raises(GTPEngineClosed):
        client.send("name")
    client.close()  # nothing left to do, and no error


def test_timeout_stops_the_engine():
    with GTPClient(fake_engine("time.sleep(60)"), timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(GTPTimeout, match="did not answer 'genmove black' within 0.3 s"):
            client.send("genmove black")
        assert time.monotonic() - started < 5
        assert not client.alive
        with pytest.raises(GTPEngineClosed, match="is closed"):
            client.send("name")
    assert client._process.poll() is not None  # killed and reaped


def test_malformed_and_mismatched_responses():
    with GTPClient(fake_engine("say('hello there\\n\\n')"), timeout=10) as client:
        with pytest.raises(GTPProtocolError, match="answered 'name' with 'hello there': not a GTP response"):
            client.send("name")
        assert not client.alive
    with GTPClient(fake_engine("say('=999 late\\n\\n')"), timeout=10) as client:
        with pytest.raises(GTPProtocolError, match="a response to another command"):
            client.send("name")


def test_close_sends_quit_and_per_command_timeout():
    with GTPClient(ECHO, timeout=10) as client:
        assert client.send("version", timeout=1) == "version"
    assert client._process.returncode == 0  # it read quit and left on its own
    # An engine that ignores quit is killed after the grace period.
    stubborn = GTPClient(fake_engine("say(f'={words[0]}\\n\\n')\nif words[1:] == ['quit']: time.sleep(60)"))
    started = time.monotonic()
    stubborn.close(timeout=0.5)
    assert time.monotonic() - started < 5 and stubborn._process.returncode is not None


def test_command_words_are_quoted_in_messages():
    client = GTPClient(f"{shlex.quote(sys.executable)} -c 'import sys; sys.exit(0)'")
    with pytest.raises(GTPEngineDied, match="exited with code 0 while answering 'name'; nothing on stderr"):
        client.send("name")


# ---- GTP players in the arena ---------------------------------------------------------------

GO9 = engine.get_game("go9")


RESIGN = "say(f'={words[0]} resign\\n\\n')"


def go_engine(genmove: str) -> str:
    """The command line of a fake Go engine that answers genmove by running ``genmove`` (``words``
    bound) and '=' to every other command."""
    return shlex.join(fake_engine(f"if words[1] == 'genmove': {genmove}\nelse: say(f'={{words[0]}}\\n\\n')"))


def gtp_player(genmove: str) -> GTPPlayer:
    return GTPPlayer(GO9, "gtp:fake", go_engine(genmove))


def final_position(spec, actions) -> np.ndarray:
    state = spec.initial_state()
    for action in actions:
        state = engine.play_action(spec, state, action)
    return state


@needs_gnugo
def test_random_against_gnugo_saved_as_sgf(tmp_path):
    gnugo = make_player('gtp:"gnugo --mode gtp --level 1"', GO9)
    try:
        # Two games (colours swapped) sharing a random opening: the second starts the engine's board over.
        result = play_match(GO9, make_player("random", GO9), gnugo, 2, opening_plies=4, seed=3,
                            out=tmp_path / "games.jsonl", sgf_dir=tmp_path / "sgf")
    finally:
        gnugo.close()
    assert not gnugo.client.alive
    assert result.played == 2 and result.losses == 2  # GNU Go does not lose to random moves
    assert sorted(p.name for p in (tmp_path / "sgf").iterdir()) == ["game-00001.sgf", "game-00002.sgf"]
    for number, record in enumerate(result.games, start=1):
        saved = read_sgf((tmp_path / "sgf" / f"game-{number:05d}.sgf").read_bytes())
        assert (saved.black, saved.white) == (record.first, record.second) and saved.komi == 7.5
        played = final_position(GO9, record.moves)
        assert np.array_equal(replay(saved).final, played)
        if record.ending is None:  # ended by two passes or the move cap: scored by area
            assert saved.result == go_positions.score_text(played) and saved.winner == ("w" if record.first == "random" else "b")
        else:
            assert record.ending == f"{gnugo.name} resigned" and saved.result.endswith("+R")
    # GNU Go reads the saved file back to the same stones.
    with GTPClient("gnugo --mode gtp") as check:
        check.send(f"loadsgf {tmp_path / 'sgf' / 'game-00002.sgf'}")
        black, white = go_positions.stones(final_position(GO9, result.games[1].moves))
        for colour, points in (("black", black), ("white", white)):
            assert set(check.send(f"list_stones {colour}").split()) == {go.format_vertex(p, 9) for p in points}


@pytest.mark.parametrize("body, ending, sgf_result", [
    (RESIGN, "gtp:fake resigned", "+R"),
    ("say(f'={words[0]} Z99\\n\\n')", "gtp:fake answered genmove with 'Z99', not a point of the board", "+F"),
    ("say(f'={words[0]} E5\\n\\n')", "gtp:fake played the illegal move E5 (E5 is occupied)", "+F"),
])
def test_gtp_player_giving_a_game_up_loses_it(tmp_path, body, ending, sgf_result):
    with contextlib.closing(gtp_player(body)) as player:
        result = play_match(GO9, make_player("random", GO9), player, 2, opening_plies=0, seed=1,
                            sgf_dir=tmp_path)
        again = play_match(GO9, make_player("random", GO9), player, 1, opening_plies=0, seed=2)
    assert result.wins == 2 and again.wins == 1  # one engine serves match after match
    # The player always answering E5 gets it once (or never, if random took it), then E5 is occupied.
    assert [record.ending for record in result.games + again.games] == [ending] * 3
    black_won, white_won = (tmp_path / "game-00001.sgf").read_text(), (tmp_path / "game-00002.sgf").read_text()
    assert f"RE[B{sgf_result}]" in black_won and f"RE[W{sgf_result}]" in white_won


def test_gtp_player_whose_engine_refuses_a_legal_move():
    argv = fake_engine("if words[1] == 'play': say(f'?{words[0]} illegal move\\n\\n')\n"
                       "elif words[1] == 'genmove': say(f'={words[0]} pass\\n\\n')\n"
                       "else: say(f'={words[0]}\\n\\n')")
    with contextlib.closing(GTPPlayer(GO9, "gtp:fussy", shlex.join(argv))) as player:
        result = play_match(GO9, make_player("random", GO9), player, 2, opening_plies=2, seed=0)
    assert result.wins == 2
    assert result.games[0].ending.startswith("gtp:fussy refused the legal move black ")
    assert result.games[0].ending.endswith("(illegal move)")


def test_gtp_players_need_go_and_an_engine():
    with pytest.raises(PlayerSpecError, match="GTP players need a Go game .* not tictactoe"):
        make_player("gtp:gnugo", engine.get_game("tictactoe"))
    with pytest.raises(PlayerSpecError, match="'no-such-engine-xyz' not found"):
        make_player("gtp:no-such-engine-xyz", GO9)


def test_our_own_players_illegal_moves_stop_the_match():
    class Stubborn(Player):
        def play(self, states):
            return Decisions(np.zeros(len(states), np.int64), np.zeros(len(states), np.float32))

    with pytest.raises(RuntimeError, match="player stubborn chose the illegal move"):
        play_match(GO9, Stubborn(GO9, "stubborn"), make_player("random", GO9), 2, opening_plies=1)


def test_arena_match_cli_with_gtp_and_sgf(tmp_path, capsys):
    assert main(["match", "--game", "connect4", "random", "random", "--sgf", str(tmp_path / "sgf")]) == 2
    assert "--sgf saves Go games; connect4 is not Go" in capsys.readouterr().err
    assert main(["match", "--game", "go9", "random", "gtp:no-such-engine-xyz", "--games", "1"]) == 2
    error = capsys.readouterr().err
    assert "GTP engine 'no-such-engine-xyz' not found" in error and error.count("\n") == 1
    (tmp_path / "file").write_text("")
    assert main(["match", "--game", "go9", "random", "random", "--sgf", str(tmp_path / "file")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["match", "--game", "go9", "random", f"gtp:{go_engine(RESIGN)}", "--games", "2",
                 "--sgf", str(tmp_path / "sgf"), "--out", str(tmp_path / "games.jsonl")]) == 0
    assert sorted(p.name for p in (tmp_path / "sgf").iterdir()) == ["game-00001.sgf", "game-00002.sgf"]
    assert all(game["ending"].endswith(" resigned") for game in read_games(tmp_path / "games.jsonl"))
    # An engine that dies stops the match with one line (the games finished before it are kept).
    dies = go_engine("sys.stderr.write('segfault\\n'); sys.exit(139)")
    assert main(["match", "--game", "go9", "random", f"gtp:{dies}", "--games", "2"]) == 2
    error = capsys.readouterr().err
    assert "exited with code 139 while answering 'genmove" in error and "stderr: segfault" in error
    assert error.count("\n") == 1


@needs_gnugo
def test_terminal_play_against_gnugo(tmp_path):
    """`arena play --game go9 --opponent gtp:...`: the engine follows the game and answers moves."""
    console = io.StringIO()
    lines = iter(["E5", "A1", "quit"])  # A1 is refused and asked again if GNU Go took it
    with contextlib.closing(make_player('gtp:"gnugo --mode gtp --level 1"', GO9)) as gnugo:
        code = play_terminal(GO9, gnugo, console=Console(file=console, width=100),
                             read_line=lambda prompt: next(lines), out=tmp_path / "g.jsonl")
    [record] = read_games(tmp_path / "g.jsonl")
    moves = record["moves"].split()
    assert code == 0 and moves[0] == "E5" and (moves[2:3] == ["A1"] and len(moves) == 4 or len(moves) == 2)
    assert all(GO9.parse_move(move) < GO9.num_actions for move in moves[1::2])  # GNU Go's answers
    assert "bot plays" in console.getvalue()


def test_terminal_play_against_an_engine_that_resigns(tmp_path):
    console = io.StringIO()
    with contextlib.closing(gtp_player(RESIGN)) as player:
        code = play_terminal(GO9, player, console=Console(file=console, width=100),
                             read_line=lambda prompt: "E5", out=tmp_path / "g.jsonl")
    [record] = read_games(tmp_path / "g.jsonl")
    assert code == 0 and "the bot gives up: gtp:fake resigned" in console.getvalue()
    assert record["result"] == "1-0" and record["ending"] == "gtp:fake resigned" and record["moves"] == "E5"
