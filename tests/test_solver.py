"""The exact Connect Four solver against Pascal Pons' solved test sets, and the
``python -m engine`` command line.

The data ships inside the package (``engine/data/connect4``, read with
``engine.solved_sets``). Scores are checked on every
position of the two easy sets whose positions have many stones, on every
5th or 10th position of the three others, and the per-column analysis on a
smaller sample; the whole file takes about 15-25 s from a cold numba cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.solved_sets import read_solved_set
from engine.solver import MAX_SCORE, MIN_SCORE, Solver, describe_score

REPO = Path(__file__).resolve().parents[1]
C4 = engine.get_game("connect4")
LATE = "2252576253462244111563365343671351441"  # from the data: score -1, analysis [.., -1, -2]

# set name -> step of the score sample (1 = every position)
SCORE_SAMPLES = {
    "L3_R1_end_easy": 1,
    "L2_R1_middle_easy": 1,
    "L2_R2_middle_medium": 5,
    "L1_R1_begin_easy": 5,
    "L1_R2_begin_medium": 10,  # about 35 ms a position: the costly set
}
# set name -> step of the analysis sample (analyze solves up to 7 positions;
# the children of a begin position are begin positions that are often far
# from decided, so those sets get the smallest samples)
ANALYSIS_SAMPLES = {
    "L3_R1_end_easy": 4,
    "L2_R1_middle_easy": 4,
    "L2_R2_middle_medium": 10,
    "L1_R1_begin_easy": 100,
    "L1_R2_begin_medium": 50,
}



@pytest.fixture(scope="module")
def solver() -> Solver:
    """One solver (and table) for the whole module: entries stay valid across positions."""
    return Solver()


def state_of(sequence: str) -> np.ndarray:
    return engine.position_from_moves(C4, sequence)


# ---- scores and analyses against the data ------------------------------------


@pytest.mark.parametrize("name", SCORE_SAMPLES)
def test_score_matches_data(solver, name):
    entries = read_solved_set(name)[:: SCORE_SAMPLES[name]]
    wrong = [
        (entry["sequence"], entry["score"], score)
        for entry in entries
        if (score := solver.solve(state_of(entry["sequence"]))) != entry["score"]
    ]
    assert not wrong, f"{len(wrong)} of {len(entries)} wrong (sequence, expected, got): {wrong[:5]}"


@pytest.mark.parametrize("name", ANALYSIS_SAMPLES)
def test_analysis_matches_data(solver, name):
    entries = read_solved_set(name)[:: ANALYSIS_SAMPLES[name]]
    for entry in entries:
        state = state_of(entry["sequence"])
        analysis = solver.analyze(state)
        assert analysis == entry["analysis"], entry["sequence"]
        best = max(value for value in analysis if value is not None)
        assert best == entry["score"]
        expected_best = [col for col, value in enumerate(entry["analysis"]) if value == best]
        assert solver.best_actions(state).tolist() == expected_best


def test_fresh_and_tiny_tables_agree_with_data():
    """Correctness does not depend on the table: a 256-entry table (constant
    replacement) and a fresh table give the same scores."""
    entries = read_solved_set("L2_R1_middle_easy")[::50]
    for table_bits in (8, 12):
        solver = Solver(table_bits)
        for entry in entries:
            assert solver.solve(state_of(entry["sequence"])) == entry["score"], entry["sequence"]


# ---- conventions: immediate wins, finished games, bad input ------------------


def test_immediate_win_gets_its_winning_score(solver):
    # X (to move, 15 stones) completes four in column 4 with its 16th stone:
    # 22 - 16 = 6; every other column lets O win at once with its 16th
    state = state_of("663316116213177765352177625742")
    assert solver.analyze(state) == [None, -6, -6, 6, -6, None, None]
    assert solver.solve(state) == 6
    assert solver.best_actions(state).tolist() == [3]
    # the fastest win of all: the 4th stone scores 22 - 4 = 18
    assert solver.solve(state_of("121212")) == MAX_SCORE == 18


def test_forced_loss_in_one(solver):
    # O to move faces an open three on the bottom row: it cannot block both
    # ends, X wins with its 4th stone whatever O plays
    state = state_of("27374")  # X: 2, 3, 4 on the bottom row; O: 7, 7
    assert solver.solve(state) == -18 == MIN_SCORE
    assert all(value == -18 for value in solver.analyze(state) if value is not None)


def test_finished_games(solver):
    won = state_of("1212121")  # X completes four with its 4th stone
    assert solver.solve(won) == -18
    assert solver.analyze(won) == [None] * 7
    assert solver.best_actions(won).size == 0
    o_won = state_of("12321232")  # O completes column 2 with its 4th stone
    assert solver.solve(o_won) == -18
    # perfect play from LATE (score -1: X wins with its 21st stone) ends in a
    # finished game that scores the same for O, the side to move at the end
    state = state_of(LATE)
    while C4.status(state) == engine.ONGOING:
        state = engine.play_action(C4, state, int(solver.best_actions(state)[0]))
    assert state[2] == 41 and solver.solve(state) == -1


def test_full_board_draw_is_zero():
    # a drawn full board: fill columns in a pattern that never makes four
    sequence = "".join(str(c) for c in [1, 2, 1, 2, 1, 2, 2, 1, 2, 1, 2, 1,
                                          3, 4, 3, 4, 3, 4, 4, 3, 4, 3, 4, 3,
                                          5, 6, 5, 6, 5, 6, 6, 5, 6, 5, 6, 5,
                                          7, 7, 7, 7, 7, 7])
    state = state_of(sequence)
    assert C4.status(state) == 0 and state[2] == 42
    solver = Solver(10)
    assert solver.solve(state) == 0
    assert solver.analyze(state) == [None] * 7


def test_full_columns_are_none(solver):
    state = state_of(LATE)  # columns 1-5 are full
    assert solver.analyze(state) == [None] * 5 + [-1, -2]
    assert solver.best_actions(state).tolist() == [5]


def test_solve_does_not_modify_state(solver):
    state = state_of(LATE)
    before = state.copy()
    solver.solve(state)
    solver.analyze(state)
    np.testing.assert_array_equal(state, before)


@pytest.mark.parametrize("bad", [np.zeros(3, np.int64), np.array([1, 0, 0, 2]), np.array([0, 1, 5, 2])])
def test_malformed_state_is_rejected(bad):
    with pytest.raises(ValueError):
        Solver(8).solve(bad)


def test_table_bits_are_checked():
    with pytest.raises(ValueError):
        Solver(4)


def test_describe_score():
    assert describe_score(0) == "a draw"
    assert describe_score(18, "X", "O") == "X wins with its 4th stone"
    assert describe_score(-1, "O", "X") == "O loses: X wins with its 21st stone"
    assert describe_score(1, "X", "O") == "X wins with its 21st stone"


# ---- command line ----------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)



def test_cli_solve_prints_board_score_and_analysis():
    result = run_cli("solve", "--game", "connect4", LATE)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert C4.render(state_of(LATE)) in out
    assert "score:    -1" in out
    assert "O to move" in out and "X wins with its 21st stone" in out
    analysis_line = next(line for line in out.splitlines() if line.startswith("score  "))
    assert analysis_line.split() == ["score", "-", "-", "-", "-", "-", "-1*", "-2"]


def test_cli_json_matches_data_layout():
    entry = next(e for e in read_solved_set("L2_R1_middle_easy") if None in e["analysis"])
    result = run_cli("solve", entry["sequence"], "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == entry


def test_cli_json_of_finished_game():
    result = run_cli("solve", "1212121", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"sequence": "1212121", "score": -18, "analysis": [None] * 7}


def test_cli_bad_input_is_one_line_and_exit_2():
    result = run_cli("solve", "4485")  # column 8
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: move 3 ('8'): '8' is not a column: Connect Four columns are 1-7"
    ]


@pytest.mark.parametrize("args, words", [
    (["solve", "4485"], "not a column"),  # column 8
    (["solve", "44a5"], "not a column"),  # a letter
    (["solve", "4444444"], "column 4 is full"),
    (["solve", "12121212"], "the game is over"),
    (["solve", "--game", "chess", "44"], "unknown game"),
    (["solve", "--game", "tictactoe", "b2"], "only knows connect4"),
    (["solve", "--table-bits", "2", "44"], "table_bits"),
])
def test_cli_main_rejects_bad_input(capsys, args, words):
    """The same checks in-process (a subprocess per case would cost a second each)."""
    from engine.__main__ import main

    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], captured.err


def test_cli_info_lists_every_game():
    result = run_cli("info")
    assert result.returncode == 0, result.stderr
    for name in engine.list_games():
        spec = engine.get_game(name)
        row = next(line for line in result.stdout.splitlines() if line.startswith(name + " "))
        preset = spec.cpu_preset
        assert (f"{preset.net}, {preset.mcts['num_simulations']} sims" if preset else " -") in row
        assert ("yes" if spec.make_solver else "-") == row.split()[5]


def test_cli_help_explains_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "solve" in result.stdout and "info" in result.stdout
    result = run_cli("solve", "--help")
    assert result.returncode == 0
    assert "--json" in result.stdout and "22 - N" in result.stdout
