"""Game rules as numba kernels over flat numpy states, and the game registry.

``get_game(name)`` returns a frozen ``GameSpec``; see ``engine.spec`` for the
contract every game module follows. Go is registered as ``go9``, ``go13`` and
``go19``; ``get_game("goN")`` builds any other board size from 5 to 19.
The Gymnasium environments are ``engine.envs``'s: importing ``engine`` neither
imports Gymnasium nor registers them (see ``engine.envs``).
"""

from __future__ import annotations

from engine import connect4, go, tictactoe
from engine.positions import legal_actions, play_action, play_move, position_from_moves
from engine.spec import ONGOING, GameSpec, IllegalMoveError, UnknownGameError

_GAMES: dict[str, GameSpec] = {spec.name: spec for spec in (tictactoe.SPEC, connect4.SPEC, *go.SPECS)}


def list_games() -> list[str]:
    """Names of every registered game, sorted."""
    return sorted(_GAMES)


def get_game(name: str) -> GameSpec:
    """The GameSpec registered under ``name``, or Go on an N x N board for
    ``goN``; UnknownGameError lists the known names."""
    if name in _GAMES:
        return _GAMES[name]
    size = go.size_from_name(name)
    if size is not None:
        return go.spec_for_size(size)  # UnknownGameError outside 5..19
    raise UnknownGameError(
        f"unknown game '{name}'; known games: {', '.join(list_games())} "
        f"(and goN for Go on any board from {go.MIN_SIZE}x{go.MIN_SIZE} to {go.MAX_SIZE}x{go.MAX_SIZE})"
    )


__all__ = [
    "ONGOING", "GameSpec", "IllegalMoveError", "UnknownGameError", "get_game", "list_games",
    "legal_actions", "play_action", "play_move", "position_from_moves",
]
