"""One conformance check over every registered game (in the spirit of
Gymnasium's env checker), plus property tests against plain-Python rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import engine
from engine.batch import sample_legal
from engine.spec import ONGOING
from tests.reference_games import reference_for

GAMES = engine.list_games()


def random_positions(spec, num_games: int, seed: int) -> list[np.ndarray]:
    """Every position of ``num_games`` random games, terminal ones included."""
    rng = np.random.default_rng(seed)
    positions = []
    for _ in range(num_games):
        state = spec.initial_state()
        positions.append(state)
        mask = np.zeros((1, spec.num_actions), dtype=np.bool_)
        action = np.zeros(1, dtype=np.int64)
        while spec.status(state) == ONGOING:
            spec.legal_mask(state, mask[0])
            sample_legal(mask, rng.random(1), action)
            nxt = np.empty_like(state)
            spec.play_into(state, action[0], nxt)
            state = nxt
            positions.append(state)
    return positions


def num_random_games(spec) -> int:
    """30 games, fewer for long games (Go 19x19: 722 moves), so that every game
    checks a few thousand positions at most."""
    return max(3, min(30, 4000 // spec.max_game_length))


@pytest.fixture(scope="module", params=GAMES)
def game(request):
    spec = engine.get_game(request.param)
    return spec, random_positions(spec, num_random_games(spec), seed=1)


def legal(spec, state):
    mask = np.zeros(spec.num_actions, dtype=np.bool_)
    spec.legal_mask(state, mask)
    return mask


def planes(spec, state):
    out = np.zeros(spec.planes_shape, dtype=np.float32)
    spec.encode(state, out)
    return out


def test_spec_is_consistent(game):
    spec, _ = game
    assert spec.planes_shape[1:] == spec.board_shape
    state = spec.initial_state()
    assert state.shape == (spec.state_size,) and state.dtype == np.int64
    assert spec.cell_perms.shape == (spec.num_symmetries, spec.board_shape[0] * spec.board_shape[1])
    assert spec.action_perms.shape == (spec.num_symmetries, spec.num_actions)
    assert np.array_equal(spec.cell_perms[0], np.arange(spec.cell_perms.shape[1])), "symmetry 0 is the identity"


def test_random_games_end_within_max_length(game):
    spec, positions = game
    plies = [p for p in positions if spec.status(p) != ONGOING]
    num_games = num_random_games(spec)
    assert len(plies) == num_games
    assert all(spec.status(p) in (-1, 0, 1) for p in plies)
    assert len(positions) <= num_games * (spec.max_game_length + 1)


def test_legal_mask_empty_exactly_when_terminal(game):
    spec, positions = game
    for state in positions:
        assert legal(spec, state).any() == (spec.status(state) == ONGOING)


def test_play_into_leaves_input_untouched(game):
    spec, positions = game
    for state in positions:
        if spec.status(state) != ONGOING:
            continue
        before = state.copy()
        out = np.empty_like(state)
        for action in np.flatnonzero(legal(spec, state)):
            spec.play_into(state, action, out)
            assert np.array_equal(state, before)


def test_symmetry_tables_compose_with_inverse_to_identity(game):
    spec, _ = game
    identity_cells = np.arange(spec.cell_perms.shape[1])
    identity_actions = np.arange(spec.num_actions)
    for k in range(spec.num_symmetries):
        inv = spec.inverse[k]
        assert np.array_equal(spec.cell_perms[k][spec.cell_perms[inv]], identity_cells)
        assert np.array_equal(spec.action_perms[k][spec.action_perms[inv]], identity_actions)


def test_symmetries_map_states_legal_moves_and_planes(game):
    spec, positions = game
    out = np.empty(spec.state_size, dtype=np.int64)
    back = np.empty_like(out)
    num_cells = spec.cell_perms.shape[1]
    for state in positions[::3]:
        for k in range(spec.num_symmetries):
            spec.transform_into(state, spec.cell_perms[k], out)
            spec.transform_into(out, spec.cell_perms[spec.inverse[k]], back)
            assert np.array_equal(back, state), "a symmetry composed with its inverse is the identity"
            assert spec.status(out) == spec.status(state)
            # legal moves map to legal moves through the action table
            assert np.array_equal(legal(spec, out), legal(spec, state)[spec.action_perms[k]])
            # encoding commutes with the symmetry
            flat = planes(spec, state).reshape(spec.planes_shape[0], num_cells)
            expected = flat[:, spec.cell_perms[k]].reshape(spec.planes_shape)
            assert np.array_equal(planes(spec, out), expected)


def test_batch_kernels_equal_single_ones(game):
    spec, positions = game
    states = np.stack(positions)
    batch_size = len(states)
    masks = np.zeros((batch_size, spec.num_actions), dtype=np.bool_)
    spec.legal_mask_batch(states, masks)
    statuses = np.zeros(batch_size, dtype=np.int64)
    spec.status_batch(states, statuses)
    encoded = np.zeros((batch_size, *spec.planes_shape), dtype=np.float32)
    spec.encode_batch(states, encoded)
    actions = np.array([np.flatnonzero(m)[0] if m.any() else 0 for m in masks], dtype=np.int64)
    ongoing = statuses == ONGOING
    played = np.zeros((int(ongoing.sum()), spec.state_size), dtype=np.int64)
    spec.play_batch(states[ongoing], actions[ongoing], played)
    for b, state in enumerate(states):
        assert np.array_equal(masks[b], legal(spec, state))
        assert statuses[b] == spec.status(state)
        assert np.array_equal(encoded[b], planes(spec, state))
    for row, b in enumerate(np.flatnonzero(ongoing)):
        single = np.empty_like(states[b])
        spec.play_into(states[b], actions[b], single)
        assert np.array_equal(played[row], single)


def test_encoding_shape_dtype_and_side_to_move_first(game):
    spec, positions = game
    for state in positions:
        p = planes(spec, state)
        assert p.shape == spec.planes_shape and p.dtype == np.float32
        assert set(np.unique(p)) <= {0.0, 1.0}
        own, other = p[0].sum(), p[1].sum()
        # the side to move has played as many stones as the opponent, or one
        # fewer (not in Go: captures remove stones and a pass adds none)
        assert own in (other, other - 1) or spec.name.startswith("go")


def test_move_notation_round_trips(game):
    spec, _ = game
    for action in range(spec.num_actions):
        assert spec.parse_move(spec.format_move(action)) == action


@pytest.mark.parametrize("name", GAMES)
@settings(max_examples=60, deadline=None)
@given(choices=st.lists(st.integers(min_value=0, max_value=10_000), max_size=45))
def test_kernels_agree_with_reference_rules(name, choices):
    """Any move sequence: legal moves, status and planes match a plain-Python implementation."""
    spec = engine.get_game(name)
    reference = reference_for(name)
    state = spec.initial_state()
    for choice in choices:
        assert list(np.flatnonzero(legal(spec, state))) == reference.legal_actions()
        expected = reference.value_for_side_to_move()
        assert spec.status(state) == (ONGOING if expected is None else expected)
        assert np.array_equal(planes(spec, state), np.array(reference.planes(), dtype=np.float32))
        actions = reference.legal_actions()
        if not actions:
            break
        action = actions[choice % len(actions)]
        reference.play(action)
        state = engine.play_action(spec, state, action)
