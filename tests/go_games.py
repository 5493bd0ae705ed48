"""Uniformly random Go games, for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from engine.positions import legal_actions, play_action
from engine.spec import ONGOING


def random_positions(spec, num_games: int, seed: int) -> list[np.ndarray]:
    """Every position [S] of ``num_games`` uniformly random games of the Go ``spec`` that pass
    only when no point is legal (so they last until the board is full of eyes, like playouts),
    for tests and benchmarks (benchmarks/search_mask_cost.py)."""
    rng = np.random.default_rng(seed)
    states = []
    for _ in range(num_games):
        state = spec.initial_state()
        while spec.status(state) == ONGOING:
            states.append(state)
            actions = legal_actions(spec, state)  # pass, the last action, always among them
            state = play_action(spec, state, int(rng.choice(actions[:-1] if actions.size > 1 else actions)))
    return states
