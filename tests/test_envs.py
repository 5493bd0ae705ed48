"""The Gymnasium environments: API conformance, rewards, masks, illegal moves, opponents."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import engine
from engine.envs import ENV_IDS
from engine.spec import ONGOING, IllegalMoveError
from tests.reference_games import reference_for

GAMES = engine.list_games()


def make(game: str, **kwargs):
    return gymnasium.make(ENV_IDS[game], **kwargs)


def first_legal_of(action: int):
    """An opponent policy: ``action`` while it is legal, else the lowest legal action."""
    def policy(state, legal_mask):
        return action if legal_mask[action] else int(np.flatnonzero(legal_mask)[0])
    return policy


def test_every_game_has_a_registered_env():
    assert sorted(ENV_IDS) == GAMES
    for env_id in ENV_IDS.values():
        assert env_id in gymnasium.registry


def test_gymnasium_makes_an_env_in_a_process_that_never_imports_engine():
    """``gymnasium.make("engine.envs:ID")`` imports the module that registers the ids itself;
    ``import engine`` alone neither imports Gymnasium nor registers anything."""
    make = ("import gymnasium\n"
            "env = gymnasium.make('engine.envs:zeroplay/Connect4-v0', opponent='random')\n"
            "obs, info = env.reset(seed=0)\n"
            "print(*obs.shape, int(info['action_mask'].sum()), 'zeroplay/TicTacToe-v0' in gymnasium.registry)\n")
    plain = "import sys, engine\nprint('gymnasium' in sys.modules, 'engine.envs' in sys.modules)\n"
    outputs = []
    for script in (make, plain):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1], timeout=300)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.split())
    assert outputs == [["3", "6", "7", "7", "True"], ["False", "False"]]


@pytest.mark.parametrize("first_player", ["agent", "opponent", "random"])
@pytest.mark.parametrize("game", GAMES)
def test_check_env(game, first_player):
    env = make(game, first_player=first_player)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker reports most problems as warnings
        check_env(env.unwrapped)
    env.close()


class RecordingRandomPolicy:
    """A uniformly random opponent that remembers its moves."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.moves: list[int] = []

    def __call__(self, state, legal_mask) -> int:
        self.moves.append(int(self.rng.choice(np.flatnonzero(legal_mask))))
        return self.moves[-1]


def planes_of(ref, mark: str) -> np.ndarray:
    """[1, H, W] float32: the cells of ``mark`` on a reference board."""
    return np.array([[[1.0 if cell == mark else 0.0 for cell in row] for row in ref.board]], dtype=np.float32)


def agent_view(ref, agent: str, other: str) -> np.ndarray:
    """[3, H, W]: the agent's stones, the opponent's, all ones if the agent is X (moved first)."""
    colour = np.full_like(planes_of(ref, agent), 1.0 if agent == "X" else 0.0)
    return np.concatenate([planes_of(ref, agent), planes_of(ref, other), colour])


@pytest.mark.parametrize("game", [name for name in GAMES if not name.startswith("go")])  # Go: tests/test_go.py
def test_random_games_against_reference_rules(game):
    """Full random games, every step checked against the plain-Python rules:
    the observation from the agent's side, the action mask, reward and termination."""
    spec = engine.get_game(game)
    opponent = RecordingRandomPolicy(seed=3)
    env = make(game, opponent=opponent)
    agent_rng = np.random.default_rng(7)
    rewards = []
    for episode in range(60):
        opponent.moves.clear()
        obs, info = env.reset(seed=episode)
        agent, other = ("X", "O") if env.unwrapped.agent_first else ("O", "X")
        ref = reference_for(game)
        for move in opponent.moves:
            ref.play(move)
        while True:
            assert ref.to_move == agent
            assert obs.dtype == np.float32 and obs.shape == spec.planes_shape
            np.testing.assert_array_equal(obs, agent_view(ref, agent, other))
            mask = info["action_mask"]
            assert mask.dtype == np.int8 and mask.shape == (spec.num_actions,)
            assert np.flatnonzero(mask).tolist() == ref.legal_actions()
            np.testing.assert_array_equal(env.unwrapped.action_masks(), mask.astype(bool))

            action = int(agent_rng.choice(np.flatnonzero(mask)))
            num_replies = len(opponent.moves)
            obs, reward, terminated, truncated, info = env.step(action)
            ref.play(action)
            for move in opponent.moves[num_replies:]:
                ref.play(move)
            assert not truncated and not info["illegal_move"]
            assert terminated == ref.over
            assert type(reward) is float
            if not terminated:
                assert reward == 0.0
                continue
            assert reward == (0.0 if ref.winner is None else 1.0 if ref.winner == agent else -1.0)
            assert not info["action_mask"].any()
            # The final observation stays on the agent's side, whoever moved last.
            np.testing.assert_array_equal(obs, agent_view(ref, agent, other))
            rewards.append(reward)
            break
        with pytest.raises(RuntimeError, match="reset"):
            env.step(0)
    assert {-1.0, 1.0} <= set(rewards)


@pytest.mark.parametrize("game", GAMES)
def test_random_opponent_is_seeded_by_reset(game):
    """The built-in random opponent draws from the env's np_random: the same
    seed and agent moves replay the same game; games end with +-1 or 0."""
    def play(seed: int) -> list:
        env = make(game, opponent="random")
        obs, info = env.reset(seed=seed)
        trace = [env.unwrapped.state.tolist()]
        terminated = False
        while not terminated:
            action = int(np.flatnonzero(info["action_mask"])[-1])
            obs, reward, terminated, _, info = env.step(action)
            trace.append(env.unwrapped.state.tolist())
        assert reward in (-1.0, 0.0, 1.0)
        return trace + [reward]

    assert play(11) == play(11)
    assert len({str(play(seed)) for seed in range(8)}) > 1


@pytest.mark.parametrize("game", GAMES)
def test_first_player_option(game):
    initial = engine.get_game(game).initial_state().tolist()
    env = make(game, first_player="opponent")
    env.reset(seed=0)
    assert not env.unwrapped.agent_first and env.unwrapped.state.tolist() != initial
    env.reset(seed=0, options={"first_player": "agent"})
    assert env.unwrapped.agent_first and env.unwrapped.state.tolist() == initial
    env = make(game, first_player="random")
    firsts = set()
    for seed in range(20):
        env.reset(seed=seed)
        firsts.add(env.unwrapped.agent_first)
    assert firsts == {True, False}
    with pytest.raises(ValueError, match="first_player"):
        make(game, first_player="me")


def test_opening_option():
    env = make("connect4", first_player="agent")
    obs, info = env.reset(seed=0, options={"moves": "4453"})
    assert env.unwrapped.state.tolist() == engine.position_from_moves(engine.get_game("connect4"), "4453").tolist()
    assert obs[0].sum() == 2 and obs[1].sum() == 2
    with pytest.raises(IllegalMoveError):
        env.reset(options={"moves": "4444444"})
    with pytest.raises(RuntimeError, match="reset"):  # a failed reset leaves no game to play
        env.step(0)


def test_illegal_move_ends_the_episode_connect4():
    # Both sides drop into column 3 until it is full (no four: the colours alternate).
    env = make("connect4", opponent=first_legal_of(3), first_player="agent")
    env.reset(seed=0)
    for _ in range(3):
        _, reward, terminated, _, info = env.step(3)
        assert not terminated and reward == 0.0
    assert info["action_mask"].tolist() == [1, 1, 1, 0, 1, 1, 1]
    before = env.unwrapped.state
    obs, reward, terminated, truncated, info = env.step(3)
    assert (reward, terminated, truncated, info["illegal_move"]) == (-1.0, True, False, True)
    assert not info["action_mask"].any() and not env.unwrapped.action_masks().any()
    np.testing.assert_array_equal(env.unwrapped.state, before)
    assert obs[0].sum() == 3 and obs[1].sum() == 3
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_illegal_move_ends_the_episode_tictactoe():
    env = make("tictactoe", opponent=first_legal_of(0), first_player="agent")
    env.reset(seed=0)
    env.step(4)
    _, reward, terminated, _, info = env.step(0)  # taken by the opponent
    assert (reward, terminated, info["illegal_move"]) == (-1.0, True, True)


@pytest.mark.parametrize("game", GAMES)
def test_actions_outside_the_space_raise(game):
    env = make(game)
    env.reset(seed=0)
    for action in (-1, engine.get_game(game).num_actions, 1.5):
        with pytest.raises(ValueError):
            env.step(action)


def test_opponent_policy_returning_an_illegal_move_raises():
    env = make("tictactoe", opponent=lambda state, legal: 4, first_player="agent")
    env.reset(seed=0)
    with pytest.raises(IllegalMoveError, match="opponent"):
        env.step(4)


@pytest.mark.parametrize("game", GAMES)
def test_render_modes(game, capsys):
    spec = engine.get_game(game)
    env = make(game, render_mode="ansi", first_player="agent")
    env.reset(seed=0)
    assert env.render() == spec.render(spec.initial_state())
    env = make(game, render_mode="human", first_player="agent")
    env.reset(seed=0)
    assert spec.render(spec.initial_state()) in capsys.readouterr().out


def test_solver_opponent_in_every_game_with_a_solver():
    with pytest.raises(ValueError, match="no exact solver for go9; there is one for connect4, tictactoe"):
        make("go9", opponent="solver")
    # Tic-tac-toe's solver opponent never loses: a random agent at best draws.
    env = make("tictactoe", opponent="solver", first_player="agent")
    rewards = []
    for seed in range(30):
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            action = env.action_space.sample(mask=info["action_mask"])
            obs, reward, done, truncated, info = env.step(action)
        rewards.append(reward)
    assert max(rewards) <= 0 and min(rewards) == -1


@pytest.mark.skipif(importlib.util.find_spec("engine.solver") is None, reason="engine.solver not written yet")
def test_solver_opponent_never_loses_to_random():
    """From random 12-move openings where the solver's side is not lost, the
    solver opponent never loses to a random agent, and wins every won one."""
    from engine.batch import sample_legal
    from engine.solver import Solver

    spec = engine.get_game("connect4")
    judge = Solver()
    rng = np.random.default_rng(5)
    env = make("connect4", opponent="solver")
    mask = np.zeros((1, spec.num_actions), dtype=np.bool_)
    action = np.zeros(1, dtype=np.int64)
    games = 0
    while games < 10:
        moves = []
        state = spec.initial_state()
        while len(moves) < 12 and spec.status(state) == ONGOING:
            spec.legal_mask(state, mask[0])
            sample_legal(mask, rng.random(1), action)
            moves.append(int(action[0]))
            state = engine.play_action(spec, state, moves[-1])
        if spec.status(state) != ONGOING or wins_at_once(spec, state):
            continue
        score = judge.solve(state)  # for the side to move
        # The solver takes the side that is not lost.
        first_player, solver_score = ("opponent", score) if score >= 0 else ("agent", -score)
        obs, info = env.reset(seed=games, options={
            "moves": [spec.format_move(m) for m in moves], "first_player": first_player})
        terminated = False
        while not terminated:
            obs, reward, terminated, _, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        assert reward <= 0.0
        if solver_score > 0:
            assert reward == -1.0
        games += 1


def wins_at_once(spec, state) -> bool:
    """Whether the side to move has a move that ends the game."""
    after = np.empty_like(state)
    for action in engine.legal_actions(spec, state):
        spec.play_into(state, action, after)
        if spec.status(after) != ONGOING:
            return True
    return False
