"""The GTP client: a conversation with real GNU Go (skipped where it is not installed),
and fake engines (Python one-liners) that die, hang, or answer out of protocol."""

from __future__ import annotations

import shlex
import sys
import time

import pytest

from arena.gtp_client import (GTPClient, GTPEngineClosed, GTPEngineDied, GTPEngineNotFound, GTPFailure,
                              GTPProtocolError, GTPTimeout, find_gnugo)

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
