"""The solved-set evaluation: its two judgings against hand-read entries and the solver."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.solver import Solver
from engine.solved_sets import read_solved_set
from selfplay.evaluation import load_solved_positions, optimal_move_shares


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
    positions = load_solved_positions(limit=50)
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
    positions = load_solved_positions(limit=40)
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


def _legal(states):
    spec = engine.get_game("connect4")
    masks = np.zeros((len(states), spec.num_actions), np.bool_)
    spec.legal_mask_batch(states, masks)
    return masks
