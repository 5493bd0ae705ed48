"""Hand-drawn positions and the human-facing helpers (notation, errors, rendering)."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import IllegalMoveError, ONGOING, position_from_moves

C4 = engine.get_game("connect4")
TTT = engine.get_game("tictactoe")


def board_text(spec, state) -> str:
    """The rendered board without the coordinate line(s)."""
    lines = spec.render(state).splitlines()
    return "\n".join(lines[:-1])


# ---- Connect Four: a win along every direction, each drawn as a board ------

C4_WINS = {
    "vertical": (
        "1212121",
        """
        . . . . . . .
        . . . . . . .
        X . . . . . .
        X O . . . . .
        X O . . . . .
        X O . . . . .
        """,
    ),
    "horizontal": (
        "1122334",
        """
        . . . . . . .
        . . . . . . .
        . . . . . . .
        . . . . . . .
        O O O . . . .
        X X X X . . .
        """,
    ),
    "diagonal rising": (
        "12234334644",
        """
        . . . . . . .
        . . . . . . .
        . . . X . . .
        . . X O . . .
        . X O O . . .
        X O O X . X .
        """,
    ),
    "diagonal falling": (
        "76654554244",
        """
        . . . . . . .
        . . . . . . .
        . . . X . . .
        . . . O X . .
        . . . O O X .
        . X . X O O X
        """,
    ),
}


@pytest.mark.parametrize("direction", sorted(C4_WINS))
def test_connect4_win_on_every_line_direction(direction):
    moves, drawing = C4_WINS[direction]
    state = position_from_moves(C4, moves)
    expected = "\n".join(line.strip() for line in drawing.strip().splitlines())
    assert board_text(C4, state) == expected
    assert C4.status(state) == -1, "the side to move has lost"
    before_last = position_from_moves(C4, moves[:-1])
    assert C4.status(before_last) == ONGOING


def test_connect4_three_in_a_row_is_not_a_win():
    state = position_from_moves(C4, "112233")
    assert C4.status(state) == ONGOING


def test_connect4_no_win_across_the_board_edge():
    # X fills the top of column 1 and the bottom of column 2: adjacent bits in a
    # bitboard without the sentinel row, never four in a row on the board.
    state = position_from_moves(C4, "1111121222")
    assert C4.status(state) == ONGOING


def test_connect4_full_board_draw():
    # Columns filled in pairs (1,2), (3,4), (5,6) with a row offset that never
    # lines up four, then column 7: a known drawn filling.
    moves = "121212" "212121" "343434" "434343" "565656" "656565" "777777"
    state = position_from_moves(C4, moves)
    assert not engine.legal_actions(C4, state).size
    assert C4.status(state) == 0
    assert board_text(C4, state).count(".") == 0


def test_connect4_full_column_and_errors():
    state = position_from_moves(C4, "444444")
    assert 3 not in engine.legal_actions(C4, state)
    with pytest.raises(IllegalMoveError, match="column 4 is full"):
        engine.play_move(C4, state, "4")
    with pytest.raises(IllegalMoveError, match="Connect Four columns are 1-7"):
        engine.play_move(C4, state, "8")
    with pytest.raises(IllegalMoveError, match="move 3 \\('x'\\)"):
        position_from_moves(C4, "12x")
    won = position_from_moves(C4, "1212121")
    with pytest.raises(IllegalMoveError, match="game is over"):
        engine.play_move(C4, won, "3")


def test_connect4_render_shows_columns():
    assert C4.render(C4.initial_state()).splitlines()[-1] == "1 2 3 4 5 6 7"


# ---- tic-tac-toe ------------------------------------------------------------


@pytest.mark.parametrize(
    "moves, drawing",
    [
        ("a1 a2 b1 b2 c1", "3 . . .\n2 O O .\n1 X X X"),
        ("a1 b1 a2 b2 a3", "3 X . .\n2 X O .\n1 X O ."),
        ("a1 a2 b2 b1 c3", "3 . . X\n2 O X .\n1 X O ."),
        ("c1 a1 b2 b1 a3", "3 X . .\n2 . X .\n1 O O X"),
    ],
)
def test_tictactoe_wins(moves, drawing):
    state = position_from_moves(TTT, moves)
    assert board_text(TTT, state) == drawing
    assert TTT.status(state) == -1


def test_tictactoe_draw_and_errors():
    state = position_from_moves(TTT, "b2 a1 c1 a3 a2 c2 b1 b3 c3")
    assert TTT.status(state) == 0
    with pytest.raises(IllegalMoveError, match="b2 is occupied"):
        position_from_moves(TTT, "b2 b2")
    with pytest.raises(IllegalMoveError, match="a1-c3"):
        position_from_moves(TTT, "d4")
    with pytest.raises(IllegalMoveError, match="game is over"):
        position_from_moves(TTT, "a1 a2 b1 b2 c1 c2")


def test_unknown_game_lists_known_games():
    with pytest.raises(engine.UnknownGameError, match="connect4, go13, go19, go9, tictactoe"):
        engine.get_game("chess")


def test_states_are_plain_arrays():
    state = position_from_moves(C4, "4453")
    assert isinstance(state, np.ndarray) and state.dtype == np.int64
