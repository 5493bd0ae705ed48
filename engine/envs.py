"""Gymnasium environments: one agent against a built-in opponent, for every game.

Importing this module registers one environment id per game of ``ENV_IDS``, and
Gymnasium imports it itself when an id names it before a colon (its way to reach
the environments of another package since 1.0, which dropped the ``gymnasium.envs``
entry-point plugins), so nothing needs importing first::

    import gymnasium
    env = gymnasium.make("engine.envs:zeroplay/Connect4-v0", opponent="random", first_player="random")
    obs, info = env.reset(seed=0)
    while True:
        legal = np.flatnonzero(info["action_mask"])
        obs, reward, terminated, truncated, info = env.step(int(legal[0]))
        if terminated:
            break

``GameEnv`` is the single class behind every id; a ``GameSpec`` drives it, so a
newly registered game only needs an id in ``ENV_IDS``. Conventions (shapes use
(C, H, W) = ``spec.planes_shape`` and A = ``spec.num_actions``):

- Observation: the game's input planes, ``Box(0, 1, (C, H, W), float32)``,
  always from the agent's side: plane 0 holds the agent's stones, plane 1 the
  opponent's, the last plane is all ones when the agent moved first -- also in the final observation of a game the agent ended itself.
- Action mask: ``info["action_mask"]``, ``int8 [A]``, 1 where the action is
  legal (the ``mask=`` argument of ``Discrete.sample``, as in Gymnasium's own
  Taxi); all zeros once the episode is over. ``env.action_masks()`` returns the
  same as bool, the method sb3-contrib's ``MaskablePPO`` calls.
- Actions: ``Discrete(A)``, the engine's action numbering (Connect Four:
  column 0..6, left to right; tic-tac-toe: cell 3 * row + col, row 0 on top;
  Go: point n * row + col, row 0 on top, and n * n to pass).
- Reward: +1 when the agent wins, -1 when it loses, 0 for a draw and for
  every move before the end. Episodes terminate, never truncate.
- An illegal action (a full column, an occupied cell) ends the episode with
  reward -1 and ``info["illegal_move"] = True``, the position left as it was
  (PettingZoo's classic games treat illegal moves the same way). An action
  outside ``Discrete(A)`` raises ``ValueError``; ``step`` after the episode
  ended raises ``RuntimeError``.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import gymnasium
import numpy as np
from gymnasium import spaces

from engine.exact import best_actions, solver_for
from engine.positions import position_from_moves
from engine.spec import ONGOING, GameSpec, IllegalMoveError

ENV_IDS: dict[str, str] = {
    "connect4": "zeroplay/Connect4-v0",
    "tictactoe": "zeroplay/TicTacToe-v0",
    "go9": "zeroplay/Go9-v0",
    "go13": "zeroplay/Go13-v0",
    "go19": "zeroplay/Go19-v0",
}
"""Gymnasium id of each game's environment, keyed by registry name."""

Policy = Callable[[np.ndarray, np.ndarray], int]
"""``policy(state [S] int64, legal_mask [A] bool) -> action``: an opponent."""

FIRST_PLAYERS = ("agent", "opponent", "random")


def register_envs() -> None:
    """Register every id of ``ENV_IDS`` with Gymnasium (idempotent); done when this module is imported."""
    for game, env_id in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point="engine.envs:GameEnv", kwargs={"game": game})


class GameEnv(gymnasium.Env):
    """A two-player game seen by one agent; the opponent moves inside ``step``.

    Args:
        game: registry name (``"connect4"``, ``"tictactoe"``) or a ``GameSpec``.
        opponent: ``"random"`` (uniform over legal moves, drawn from the env's
            ``np_random``), ``"solver"`` (Connect Four only: perfect play,
            uniform among the best columns, from ``engine.solver``; a move
            within the first few plies can take the solver minutes, so for
            quick games start from an opening of ten or more moves with
            ``reset(options={"moves": ...})``), or any callable
            ``policy(state [S] int64, legal_mask [A] bool) -> int``. A policy
            that returns an illegal action raises ``IllegalMoveError``.
        first_player: who makes the first move: ``"agent"``, ``"opponent"``
            or ``"random"`` (a fair coin from ``np_random`` at every reset).
        render_mode: ``None``, ``"ansi"`` (``render()`` returns the board as
            text) or ``"human"`` (the board is printed after every reset and step).

    ``reset(seed=..., options=...)`` accepts the options ``"first_player"``
    (overrides the constructor's for this episode) and ``"moves"`` (an opening
    in the game's notation, e.g. ``"4453"`` or ``"b2 a1"``, played before the
    episode starts; ``first_player`` then says who moves after it).

    See the module docstring for the observation, action mask, reward and
    illegal-move conventions. ``env.unwrapped.state`` is a copy of the
    position (``[S] int64``), for solvers and tests.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(
        self,
        game: str | GameSpec = "connect4",
        opponent: str | Policy = "random",
        first_player: str = "random",
        render_mode: str | None = None,
    ):
        # Imported here: the package's __init__ imports this module while it registers envs.
        from engine import get_game

        self.game: GameSpec = get_game(game) if isinstance(game, str) else game
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.first_player = _check_first_player(first_player)
        self._opponent = self._make_opponent(opponent)

        self.observation_space = spaces.Box(0.0, 1.0, self.game.planes_shape, dtype=np.float32)
        self.action_space = spaces.Discrete(self.game.num_actions)

        self._state: np.ndarray | None = None  # [S] int64; None until the first reset
        self._next_state = np.empty(self.game.state_size, dtype=np.int64)
        self._mask = np.zeros(self.game.num_actions, dtype=np.bool_)  # scratch [A]
        self._agent_to_move = True
        self._over = False
        self.agent_first = True
        """Whether the agent made the first move of this episode (after any opening)."""

    # ---- Gymnasium API ----------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._over = True  # until the new episode is set up: a failed reset leaves no playable game
        options = options or {}
        first = _check_first_player(options.get("first_player", self.first_player))
        if "moves" in options:
            self._state = position_from_moves(self.game, options["moves"])
            if self.game.status(self._state) != ONGOING:
                raise ValueError(f"the opening {options['moves']!r} already ends the game")
        else:
            self._state = self.game.initial_state()
        self.agent_first = first == "agent" or (first == "random" and bool(self.np_random.integers(2)))
        self._agent_to_move = True
        if not self.agent_first:
            self._agent_to_move = False
            self._opponent_moves()
            if self.game.status(self._state) != ONGOING:  # only possible after an opening
                raise ValueError(f"the opponent's first move after the opening {options['moves']!r} ends the game")
        self._over = False
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info(illegal_move=False)

    def step(self, action):
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if self._over:
            raise RuntimeError("the episode is over; call reset() before step()")
        try:
            action = operator.index(action)
        except TypeError:
            raise ValueError(f"action must be an integer, got {action!r}") from None
        if not 0 <= action < self.game.num_actions:
            raise ValueError(f"action {action} is outside Discrete({self.game.num_actions})")

        reward, illegal = 0.0, False
        if not self._legal_mask()[action]:
            self._over, reward, illegal = True, -1.0, True
        else:
            self._play(action)
            value = self.game.status(self._state)  # for the side to move: the opponent
            if value != ONGOING:
                self._over, reward = True, float(-value)
            else:
                self._opponent_moves()
                value = self.game.status(self._state)  # for the agent again
                if value != ONGOING:
                    self._over, reward = True, float(value)
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, self._over, False, self._info(illegal_move=illegal)

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'human'")
            return None
        if self._state is None:
            raise RuntimeError("call reset() before render()")
        text = self.game.render(self._state)
        if self.render_mode == "ansi":
            return text
        print(text + "\n")
        return None

    # ---- extras -----------------------------------------------------------

    def action_masks(self) -> np.ndarray:
        """[A] bool: ``info["action_mask"]`` of the last step (sb3-contrib's MaskablePPO calls this)."""
        if self._state is None:
            raise RuntimeError("call reset() before action_masks()")
        return self._action_mask(np.bool_)

    @property
    def state(self) -> np.ndarray:
        """A copy of the current position, [S] int64."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state.copy()

    # ---- internals ----------------------------------------------------------

    def _legal_mask(self) -> np.ndarray:
        """[A] bool scratch array, valid until the next call."""
        self.game.legal_mask(self._state, self._mask)
        return self._mask

    def _play(self, action: int) -> None:
        # play_into never writes its input, so ping-pong between two buffers.
        self.game.play_into(self._state, action, self._next_state)
        self._state, self._next_state = self._next_state, self._state
        self._agent_to_move = not self._agent_to_move

    def _opponent_moves(self) -> None:
        legal = self._legal_mask()
        action = operator.index(self._opponent(self._state.copy(), legal.copy()))
        if not (0 <= action < self.game.num_actions and legal[action]):
            raise IllegalMoveError(
                f"the opponent chose the illegal action {action}: "
                f"{self.game.why_illegal(self._state, action)}"
            )
        self._play(action)

    def _observation(self) -> np.ndarray:
        """[C, H, W] float32 planes with the agent's stones in plane 0."""
        planes = np.zeros(self.game.planes_shape, dtype=np.float32)
        self.game.encode(self._state, planes)
        if not self._agent_to_move:
            # Only after the agent's own final move: the encoding is from the
            # opponent's side, so exchange the planes of each (side to move,
            # opponent) pair and turn the colour plane (GameSpec.colour_plane).
            colour = self.game.colour_plane % len(planes)
            pairs = np.delete(np.arange(len(planes)), colour).reshape(-1, 2)
            planes[pairs.ravel()] = planes[pairs[:, ::-1].ravel()]
            planes[colour] = 1.0 - planes[colour]
        return planes

    def _action_mask(self, dtype) -> np.ndarray:
        """[A] new array: 1 for each legal action, all 0 once the episode is over."""
        mask = np.zeros(self.game.num_actions, dtype=dtype)
        if not self._over:
            mask[:] = self._legal_mask()
        return mask

    def _info(self, illegal_move: bool) -> dict[str, Any]:
        return {"action_mask": self._action_mask(np.int8), "illegal_move": illegal_move}

    def _uniform(self, actions: np.ndarray) -> int:
        """One of ``actions`` [k], uniformly, from the env's seeded generator."""
        return int(actions[self.np_random.integers(len(actions))])

    def _make_opponent(self, opponent: str | Policy) -> Policy:
        if callable(opponent):
            return opponent
        if opponent == "random":
            return lambda state, legal: self._uniform(np.flatnonzero(legal))
        if opponent == "solver":
            solver = solver_for(self.game)  # ValueError names the games that have one
            return lambda state, legal: self._uniform(best_actions(solver.analyze(state)))
        raise ValueError(f"opponent must be 'random', 'solver' or a callable policy(state, legal_mask), got {opponent!r}")


def _check_first_player(first_player: str) -> str:
    if first_player not in FIRST_PLAYERS:
        raise ValueError(f"first_player must be one of {FIRST_PLAYERS}, got {first_player!r}")
    return first_player


# What ``gymnasium.make("engine.envs:ID")`` relies on: importing this module registers the ids.
register_envs()
