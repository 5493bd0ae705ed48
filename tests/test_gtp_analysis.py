"""Live analysis over GTP (lz-analyze, kata-analyze and their genmove forms), driven as
Sabaki and Lizzie drive it and read with their grammar: ``info`` opens a move, keys take
one value, ``pv`` takes the rest up to the next ``info``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import engine
from arena.analysis import AnalysisRequest, parse_request
from arena.gtp_engine import GTPEngine, TimedSearch, search_factory
from arena.shipped import shipped_network
from mcts import MCTSConfig
from nets import NetConfig, NetworkEvaluator, PolicyValueNet

REPO = Path(__file__).resolve().parents[1]
GO5 = engine.get_game("go5")

# Black to move captures three white stones at E3 (white's last liberty):
#   5 . . . . .
#   4 . X X X .
#   3 X O O O .
#   2 . X X X .
#   1 . . . . .
CAPTURE_SETUP = ["boardsize 5", "komi 0.5", *[f"play b {v}" for v in ("B4", "C4", "D4", "A3", "B2", "C2", "D2")],
                 *[f"play w {v}" for v in ("B3", "C3", "D3")]]


def parse_report(line: str) -> list[dict]:
    """The moves of one report line, as Sabaki's parser reads them."""
    moves: list[dict] = []
    words = line.split()
    i = 0
    while i < len(words):
        assert words[i] == "info", line
        info, i = {}, i + 1
        while i < len(words) and words[i] != "info":
            if words[i] == "pv":
                j = i + 1
                while j < len(words) and words[j] != "info":
                    j += 1
                info["pv"], i = words[i + 1:j], j
            else:
                info[words[i]], i = words[i + 1], i + 2
        moves.append(info)
    return moves


def engine_for(analysis_simulations: int = 600) -> GTPEngine:
    return GTPEngine(GO5, search_factory(GO5, None, 200, seed=1), analysis_simulations=analysis_simulations)


def test_requests_parse_as_the_guis_send_them():
    assert parse_request([]) == AnalysisRequest()
    assert parse_request(["B", "50"]) == AnalysisRequest(colour="b", interval=0.5)  # Sabaki
    assert parse_request(["10"]) == AnalysisRequest(interval=0.1)  # Lizzie
    assert parse_request(["w", "interval", "20", "ownership", "true", "maxmoves", "4", "minmoves", "2"]) == \
        AnalysisRequest(colour="w", interval=0.2, ownership=True, max_moves=4, min_moves=2)
    for bad in (["x"], ["b", "10", "maxmoves"], ["interval", "-5"], ["ownership", "yes"], ["maxmoves", "two"],
                ["depth", "3"], ["nan"]):
        with pytest.raises(ValueError):
            parse_request(bad)


@pytest.mark.parametrize("command", ["lz-analyze", "kata-analyze"])
def test_analysis_finds_the_capture_and_reports_consistent_figures(command):
    gtp = engine_for()
    assert all(gtp.respond(line) == "= \n\n" for line in CAPTURE_SETUP)
    text = gtp.respond(f"7 {command} b 1000 minmoves 20")  # no input to stop it: runs to its cap
    assert text.startswith("=7\n") and text.endswith("\n\n")
    lines = text[3:-2].splitlines()
    # One report at the cap, or more if a cold numba cache made a step outlast the interval:
    # every line is a report, and the last one counts every simulation (checked below).
    assert lines and all(line.startswith("info move ") for line in lines)
    moves = parse_report(lines[-1])
    assert moves[0]["move"] == "E3"
    assert [int(m["order"]) for m in moves] == list(range(len(moves)))
    assert all(m["pv"][0] == m["move"] for m in moves)
    visits = [int(m["visits"]) for m in moves]
    assert visits == sorted(visits, reverse=True) and sum(visits) == 600  # every simulation
    # minmoves 20 > the 15 moves search considers: every empty point (search holds back a pass here)
    assert sorted(m["move"] for m in moves) == sorted(GO5.format_move(a) for a in range(25)
                                                      if GO5.format_move(a) not in " ".join(CAPTURE_SETUP))
    scale = 10000 if command == "lz-analyze" else 1.0
    rates = [float(m["winrate"]) / scale for m in moves if int(m["visits"]) > 0]
    assert rates[0] > 0.7 and rates[0] > rates[1] and all(0.0 <= r <= 1.0 for r in rates)
    assert all(float(m["lcb"]) / scale <= float(m["winrate"]) / scale for m in moves)
    assert abs(sum(float(m["prior"]) / scale for m in moves) - 1.0) < 0.01
    if command == "kata-analyze":
        assert all(abs(float(m["utility"]) - (2 * float(m["winrate"]) - 1)) < 1e-5 for m in moves)
    assert len(parse_report(gtp.respond(f"{command} b maxmoves 3")[2:-2].splitlines()[-1])) == 3


def test_genmove_analyze_plays_its_move():
    gtp = engine_for()
    for line in CAPTURE_SETUP:
        gtp.respond(line)
    text = gtp.respond("kata-genmove_analyze b 0")  # a report after every chunk
    lines = text[2:-2].splitlines()
    assert text.startswith("=\n") and lines[-1] == "play E3"
    reports = [parse_report(line) for line in lines[:-1]]
    assert len(reports) == 200 // 16 + 1
    totals = [sum(int(m["visits"]) for m in report) for report in reports]
    assert totals == sorted(totals) and totals[-1] == 200
    assert gtp.respond("play w E3") == "? illegal move\n\n"  # the capture is on the board
    reply = gtp.respond("lz-genmove_analyze")  # white, the side to move; no reports (1 s interval)
    assert reply.startswith("=\nplay ") and reply.endswith("\n\n") and reply.count("\n") == 3
    assert gtp.respond(f"play w {reply.split()[2]}") == "? illegal move\n\n"  # white has played there


def test_a_gui_session_streams_until_the_next_command():
    """Over pipes, as Sabaki runs an engine: analysis answers '=' at once, reports each
    interval, and the next command ends it with the blank line and is then answered."""
    process = subprocess.Popen([sys.executable, "-m", "arena", "gtp", "--game", "go9", "--model", "none",
                                "--sims", "64", "--analysis-sims", "50000"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, cwd=REPO, bufsize=1)
    try:
        process.stdin.write("list_commands\n")
        process.stdin.flush()
        listed = _read_response(process)
        assert {"lz-analyze", "kata-analyze", "kata-genmove_analyze"} <= set(listed)
        process.stdin.write("play b E5\nkata-analyze W 5\n")
        process.stdin.flush()
        assert _read_response(process) == [""]
        assert process.stdout.readline() == "=\n"
        reports = [parse_report(process.stdout.readline().strip()) for _ in range(3)]
        totals = [sum(int(m["visits"]) for m in report) for report in reports]
        assert totals == sorted(totals) and totals[0] > 0  # the search goes on between reports
        assert all(m["move"] != "E5" for report in reports for m in report)
        process.stdin.write("2 name\n")
        process.stdin.flush()
        tail = []
        while (line := process.stdout.readline()) != "\n":  # reports until the command arrived
            tail.append(line)
        assert all(line.startswith("info move ") for line in tail)
        assert _read_response(process) == ["=2 zeroplay"]
        process.stdin.write("quit\n")
        process.stdin.flush()
        assert _read_response(process) == [""] and process.wait(timeout=60) == 0
    finally:
        process.kill()


def _read_response(process) -> list[str]:
    """The lines of one response up to its blank line ('= ' stripped off the first)."""
    lines = []
    started = time.monotonic()
    while (line := process.stdout.readline()) != "\n":
        assert line and time.monotonic() - started < 120
        lines.append(line.rstrip("\n"))
    return [lines[0].removeprefix("= ")] + lines[1:] if lines and lines[0].startswith("= ") else lines


class OwnershipStub:
    """A network stand-in: uniform priors, value 0, and a fixed ownership map (logits, for
    the side to move) from its 'ownership head'."""

    needs_planes = True
    has_ownership = True

    def __init__(self, ownership_logits: np.ndarray):
        self.ownership_logits = ownership_logits

    def evaluate(self, states, planes):
        return np.zeros((len(planes), GO5.num_actions), np.float32), np.zeros(len(planes), np.float32)

    def evaluate_ownership(self, planes):
        return np.tanh(np.tile(self.ownership_logits, (len(planes), 1)))


def test_final_status_list_reads_the_ownership_head_from_the_side_to_move():
    # The stub's map, for whoever is to move: A1 -3, B1 +3, E5 and C3 0.
    logits = np.zeros(25, np.float32)
    logits[[GO5.parse_move(v) for v in ("A1", "B1", "E5")]] = [-3.0, 3.0, 0.0]
    gtp = GTPEngine(GO5, lambda spec: TimedSearch(spec, OwnershipStub(logits), MCTSConfig(num_simulations=8)))
    for line in ["boardsize 5", "play b A1", "play w E5", "play b B1", "play b C3"]:  # white to move
        assert gtp.respond(line) == "= \n\n"
    statuses = {status: sorted(gtp.respond(f"final_status_list {status}")[2:-2].split())
                for status in ("alive", "dead", "seki")}
    # White to move: the stub's map is white's, so A1 (black, -3 for white = owned by black)
    # is alive, B1 (black, +3 for white) dead, C3 (black, 0) and E5 (white, 0) seki.
    assert statuses == {"alive": ["A1"], "dead": ["B1"], "seki": ["C3", "E5"]}
    # final_score takes B1 off: black's A1 and C3 against white's E5 (the empty points touch
    # both colours), 2 - 1 - 7.5 komi; counted as it stands, B1 would make it W+5.5.
    assert gtp.respond("komi 7.5") == "= \n\n" and gtp.respond("final_score") == "= W+6.5\n\n"
    assert gtp.respond("final_status_list dead alive") == "? syntax error\n\n"
    rollouts = engine_for()
    rollouts.respond("boardsize 5")
    rollouts.respond("play b A1")
    assert rollouts.respond("final_status_list dead") == "= \n\n"  # no ownership head: all alive
    assert rollouts.respond("final_status_list alive") == "= A1\n\n"
    assert rollouts.respond("final_score") == "= B+17.5\n\n"  # the lone stone's area: 25 - 7.5


def test_kata_analyze_ownership_is_the_networks_map_for_the_colour_analysed():
    torch.manual_seed(0)
    model = PolicyValueNet.from_spec(GO5, NetConfig(blocks=1, channels=8, ownership_channels=4))
    evaluator = NetworkEvaluator(model, device="cpu")
    gtp = GTPEngine(GO5, lambda spec: TimedSearch(spec, evaluator, MCTSConfig(num_simulations=16)),
                    analysis_simulations=32)
    gtp.respond("boardsize 5")
    gtp.respond("play b C3")
    words = gtp.respond("kata-analyze w ownership true")[2:-2].splitlines()[-1].split()  # the last report
    ownership = [float(w) for w in words[words.index("ownership") + 1:]]
    planes = np.zeros((1, *GO5.planes_shape), np.float32)
    GO5.encode(gtp.state, planes[0])  # white to move after C3
    with torch.no_grad():
        expected = torch.tanh(model.eval().forward_heads(torch.from_numpy(planes))["ownership"][0]).numpy()
    assert len(ownership) == 25 and np.allclose(ownership, expected, atol=1e-4)
    assert "ownership" not in gtp.respond("lz-analyze w ownership true")  # Leela Zero's format has none


class ScoreStub:
    """A network stand-in with a score head: uniform priors but a strong one for the pass,
    value 0, and a margin of 3 points for whoever is to move."""

    needs_planes = True
    has_score = True

    def evaluate(self, states, planes):
        logits, values, _ = self.evaluate_scores(states, planes)
        return logits, values

    def evaluate_scores(self, states, planes):
        logits = np.zeros((len(planes), GO5.num_actions), np.float32)
        logits[:, GO5.num_actions - 1] = 3.0
        return logits, np.zeros(len(planes), np.float32), np.full(len(planes), 3.0, np.float32)


def test_kata_analyze_reports_the_searched_score_lead():
    gtp = GTPEngine(GO5, lambda spec: TimedSearch(spec, ScoreStub(), MCTSConfig(num_simulations=16)),
                    analysis_simulations=64)
    # Black D and E (10 points), white A to C (15 points), komi 7.5; black has passed, so
    # white's pass ends the game: white wins by 15 - 10 + 7.5 = 12.5, exactly, every visit.
    setup = ["boardsize 5", "komi 7.5", *[f"play {colour} {column}{row}" for row in range(1, 6)
                                          for colour, column in (("b", "D"), ("w", "C"))], "play b pass"]
    assert all(gtp.respond(line) == "= \n\n" for line in setup)
    report = gtp.respond("kata-analyze w 1000 minmoves 3")[2:-2].splitlines()[-1]
    moves = {m["move"]: m for m in parse_report(report)}
    passes = int(moves["pass"]["visits"])
    assert float(moves["pass"]["scoreLead"]) == pytest.approx(12.5) and passes > 0
    assert all(m["scoreLead"] == m["scoreMean"] for m in moves.values())
    # Moves never searched report the root's mean: its own evaluation (the stub's 3 for
    # white) and the visits below it.
    unsearched = [m for m in moves.values() if int(m["visits"]) == 0]
    root_score = (3.0 + (passes * 12.5 + sum(int(m["visits"]) * float(m["scoreLead"]) for move, m in moves.items()
                                              if move != "pass"))) / (sum(int(m["visits"]) for m in moves.values()) + 1)
    assert unsearched and all(float(m["scoreLead"]) == pytest.approx(root_score, abs=1e-5) for m in unsearched)
    assert "scoreLead" not in gtp.respond("lz-analyze w 1000")  # Leela Zero's format has no score


def test_the_shipped_go9_network_gives_guis_score_leads_and_an_ownership_map():
    """What a Sabaki user gets from `arena gtp --game go9` without --model: the shipped
    network has ownership and score heads (README: "The 9x9 presets")."""
    go9 = engine.get_game("go9")
    gtp = GTPEngine(go9, search_factory(go9, str(shipped_network("go9")), 50, seed=1), analysis_simulations=64)
    assert gtp.respond("play b E5") == "= \n\n"
    moves = parse_report(gtp.respond("kata-analyze w 1000 ownership true")[2:-2].splitlines()[-1])
    ownership = [float(w) for w in moves[-1]["pv"][moves[-1]["pv"].index("ownership") + 1:]]
    assert len(ownership) == 81 and all(-1.0 <= value <= 1.0 for value in ownership)
    assert all("scoreLead" in move for move in moves)
    # The stone just played is white's opponent's: the head gives its point to black.
    assert ownership[4 * 9 + 4] < 0
