"""Game rules as numba kernels over flat numpy states, and the game registry.

``get_game(name)`` returns a frozen ``GameSpec``; see ``engine.spec`` for the
contract every game module follows. Importing ``engine`` also registers the
Gymnasium environments (``zeroplay/Connect4-v0``, ``zeroplay/TicTacToe-v0``).
"""

from __future__ import annotations

from engine import connect4, tictactoe
from engine.envs import ENV_IDS, GameEnv, register_envs
from engine.positions import legal_actions, play_action, play_move, position_from_moves
from engine.spec import ONGOING, GameSpec, IllegalMoveError, UnknownGameError

_GAMES: dict[str, GameSpec] = {spec.name: spec for spec in (tictactoe.SPEC, connect4.SPEC)}


def list_games() -> list[str]:
    """Names of every registered game, sorted."""
    return sorted(_GAMES)


def get_game(name: str) -> GameSpec:
    """The GameSpec registered under ``name``; UnknownGameError lists the known names."""
    try:
        return _GAMES[name]
    except KeyError:
        raise UnknownGameError(
            f"unknown game '{name}'; known games: {', '.join(list_games())}"
        ) from None


register_envs()


__all__ = [
    "ONGOING", "GameSpec", "IllegalMoveError", "UnknownGameError", "get_game", "list_games",
    "ENV_IDS", "GameEnv",
    "legal_actions", "play_action", "play_move", "position_from_moves",
]
