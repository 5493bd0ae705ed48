"""The solved-set evaluation: its two judgings against hand-read entries and the solver."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import engine
from engine.solver import Solver
from engine.solved_sets import SolvedSetError, read_solved_set, solved_set_source
from mcts import MCTSConfig
from selfplay.evaluation import load_solved_positions, optimal_move_shares

C4 = engine.get_game("connect4")


class FixedColumnEvaluator:
    """Logits that prefer one column per position (the network-alone path)."""

    needs_planes = True

    def __init__(self, columns: np.ndarray):
        self.columns = columns

    def evaluate(self, states, planes):
        logits = np.zeros((len(states), 7), np.float32)
        logits[np.arange(len(states)), self.columns[:len(states)]] = 1.0
        return logits, np.zeros(len(states), np.float32)


def test_masks_follow_the_analysis():
    positions = load_solved_positions(C4, limit=50)
    entries = read_solved_set("L1_R2_begin_medium")[:50]
    # Entry 0 reads "analysis": [-4, -3, -3, -5, -5, -9, -4]: a lost position where
    # columns 2 and 3 lose slowest; every column keeps the (lost) result.
    assert entries[0]["analysis"] == [-4, -3, -3, -5, -5, -9, -4]
    assert positions.optimal[0].tolist() == [False, True, True, False, False, False, False]
    assert positions.keeps_result[0].all()
    for entry, optimal, keeps in zip(entries, positions.optimal, positions.keeps_result):
        scores = entry["analysis"]
        best = max(s for s in scores if s is not None)
        assert optimal.tolist() == [s == best for s in scores]
        assert keeps.tolist() == [s is not None and np.sign(s) == np.sign(best) for s in scores]
        assert not (optimal & ~keeps).any()


def test_shares_of_a_fixed_player():
    positions = load_solved_positions(C4, limit=40)
    solver = Solver()
    best = np.array([solver.best_actions(state)[0] for state in positions.states])
    assert optimal_move_shares(FixedColumnEvaluator(best), positions) == (1.0, 1.0)
    # Always the first legal column that is not optimal (exactly): exact share 0,
    # result share the fraction of those columns that still keep the result.
    wrong = np.array([np.flatnonzero(legal & ~opt)[0] for legal, opt in
                      zip(_legal(positions.states), positions.optimal)])
    exact, result = optimal_move_shares(FixedColumnEvaluator(wrong), positions)
    assert exact == 0.0
    assert result == pytest.approx(positions.keeps_result[np.arange(40), wrong].mean())


class PreferredColumnEvaluator:
    """Logits +10 on one column in each of some positions (keyed by the position, so that
    search asks about them by state), flat elsewhere; every value 0."""

    needs_planes = False

    def __init__(self, states: np.ndarray, columns: np.ndarray):
        self.preferred = {state.tobytes(): int(column) for state, column in zip(states, columns)}

    def evaluate(self, states, planes):
        logits = np.zeros((len(states), 7), np.float32)
        for row, state in enumerate(states):
            if state.tobytes() in self.preferred:
                logits[row, self.preferred[state.tobytes()]] = 10.0
        return logits, np.zeros(len(states), np.float32)


@pytest.mark.parametrize("search", ["puct", "gumbel"])
def test_shares_with_search_score_the_searchs_own_choice(search):
    positions = load_solved_positions(C4, limit=40)
    best = np.array([np.flatnonzero(optimal)[0] for optimal in positions.optimal])
    wrong = np.array([np.flatnonzero(legal & ~opt)[0] for legal, opt in
                      zip(_legal(positions.states), positions.optimal)])
    config = MCTSConfig(search=search, value_discount=0.98)
    for columns, exact in ((best, 1.0), (wrong, 0.0)):
        evaluator = PreferredColumnEvaluator(positions.states, columns)
        shares = optimal_move_shares(evaluator, positions, simulations=8, batch_size=16, search=config)
        assert shares[0] == exact


def _legal(states):
    spec = engine.get_game("connect4")
    masks = np.zeros((len(states), spec.num_actions), np.bool_)
    spec.legal_mask_batch(states, masks)
    return masks


def test_a_file_in_the_layout_stands_in_for_a_shipped_set(tmp_path):
    entries = read_solved_set("L3_R1_end_easy")[:5]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(entries))
    assert solved_set_source(str(path)) == str(path.resolve())
    mine = load_solved_positions(C4, str(path))
    shipped = load_solved_positions(C4, "L3_R1_end_easy", limit=5)
    assert np.array_equal(mine.states, shipped.states) and np.array_equal(mine.optimal, shipped.optimal)


@pytest.mark.parametrize("content, message", [
    ("not json", "cannot be read"),
    ("[]", "non-empty list"),
    ('[{"sequence": "44", "score": 1}]', "'analysis' must list 7"),
    ('[{"sequence": "48", "score": 1, "analysis": [1, 1, 1, 1, 1, 1, 1]}]', "columns 1-7"),
    ('[{"sequence": "1111111", "score": 1, "analysis": [1, 1, 1, 1, 1, 1, 1]}]', "entry 0"),  # a full column
])
def test_a_broken_set_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(SolvedSetError, match=message):
        load_solved_positions(C4, str(path))


def test_unknown_sets_are_refused_by_name():
    with pytest.raises(SolvedSetError, match="neither one of the shipped sets"):
        solved_set_source("L9_hard")
    assert solved_set_source("L1_R1_begin_easy") == "L1_R1_begin_easy"


def test_train_refuses_a_broken_eval_set_before_writing_anything(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("[]")
    run_dir = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "selfplay", "train", "--game", "connect4", "--run-dir",
                           str(run_dir), "--eval-set", str(broken), "--generations", "1"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0
    assert "non-empty list" in done.stderr and not run_dir.exists()
