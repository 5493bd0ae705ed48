"""Random games of our Go replayed in OpenSpiel's ``go`` (C++; Tromp-Taylor
area scoring, no dead-stone removal), move by move: the same legal moves, the
same boards, the same end, the same final score.

Two known differences are allowed for: OpenSpiel forbids only the immediate
retake of a simple ko and ends the game as a draw when a move repeats an
earlier board, where we forbid that move (positional superko). So at every
position our legal moves must be OpenSpiel's minus exactly the moves that
OpenSpiel would end in such a draw, and our games, which never repeat a
board, are games OpenSpiel plays to the same end. OpenSpiel reports only who
won; the score is pinned down by replaying each game with komi just below
and just above our score. Used by tests/test_go_openspiel.py and by
benchmarks/engine_speed.py (more games there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import engine
from engine import go
from engine.spec import ONGOING


@dataclass
class CrossCheck:
    games: int = 0
    moves: int = 0
    superko_moves: int = 0
    """Moves we refused as superko that OpenSpiel allows (and ends as a draw)."""
    mismatches: list[str] = field(default_factory=list)
    """One line per disagreement: game, move, and what differed."""


def openspiel_action(action: int, size: int) -> int:
    """OpenSpiel numbers points from the bottom row; pass is size * size in both."""
    if action == size * size:
        return action
    return (size - 1 - action // size) * size + action % size


def openspiel_board(state) -> list[str]:
    """Rows of OpenSpiel's board, top first, as 'X', 'O' and '.'."""
    rows = [line.split()[1] for line in str(state).splitlines() if line.strip()[:1].isdigit()]
    return [row.replace("+", ".") for row in rows]


def our_board(state: np.ndarray) -> list[str]:
    return [line[3:-2].replace(" ", "") for line in go.render(state).splitlines()[1:-1]]


def _replay(pyspiel, size: int, komi: float, actions: list[int]):
    game = pyspiel.load_game("go", {"board_size": size, "komi": komi})
    state = game.new_initial_state()
    for action in actions:
        state.apply_action(openspiel_action(action, size))
    return state


def cross_check(num_games: int, size: int = 9, seed: int = 0, pass_share: float = 0.02) -> CrossCheck:
    """Play ``num_games`` random games with our engine and check each against
    OpenSpiel (see the module docstring). Moves are uniform over the legal
    points; pass only with probability ``pass_share`` (or when nothing else is
    legal), so that most games run to the move cap through crowded boards,
    captures and kos."""
    import pyspiel

    spec = engine.get_game(f"go{size}")
    theirs_game = pyspiel.load_game("go", {"board_size": size, "komi": go.DEFAULT_KOMI})
    to_ours = {openspiel_action(a, size): a for a in range(spec.num_actions)}
    rng = np.random.default_rng(seed)
    mask = np.zeros(spec.num_actions, np.bool_)
    check = CrossCheck()
    for number in range(num_games):
        state, theirs, actions = spec.initial_state(), theirs_game.new_initial_state(), []
        while spec.status(state) == ONGOING:
            spec.legal_mask(state, mask)
            ours = set(np.flatnonzero(mask).tolist())
            allowed = {to_ours[a] for a in theirs.legal_actions()}
            for action in allowed - ours:
                child = theirs.child(openspiel_action(action, size))
                repeats = child.is_terminal() and child.returns() == [0.0, 0.0]
                if not repeats or go.move_verdict(state, action)[0] != go.SUPERKO:
                    check.mismatches.append(f"game {number} move {len(actions) + 1}: OpenSpiel allows "
                                            f"{go.format_vertex(action, size)}, we do not")
                check.superko_moves += 1
            if ours - allowed:
                extra = sorted(go.format_vertex(a, size) for a in ours - allowed)
                check.mismatches.append(f"game {number} move {len(actions) + 1}: we allow {extra}, OpenSpiel does not")
            points = sorted(ours - {size * size})
            action = int(rng.choice(points)) if points and rng.random() >= pass_share else size * size
            actions.append(action)
            state = engine.play_action(spec, state, action)
            theirs.apply_action(openspiel_action(action, size))
            if our_board(state) != openspiel_board(theirs):
                check.mismatches.append(f"game {number} move {len(actions)}: the boards differ")
            if theirs.is_terminal() != (spec.status(state) != ONGOING):
                check.mismatches.append(f"game {number} move {len(actions)}: one engine ended the game, the other not")
                break
        check.games += 1
        check.moves += len(actions)
        difference = go.area_difference(state)
        below, above = (_replay(pyspiel, size, difference + shift, actions).returns()[0] for shift in (-0.5, 0.5))
        if (below, above) != (1.0, -1.0):
            check.mismatches.append(f"game {number}: our area difference is {difference}, OpenSpiel's returns "
                                    f"with komi {difference - 0.5} and {difference + 0.5} are {below} and {above}")
    return check
