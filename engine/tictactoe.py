"""Tic-tac-toe on a 3x3 board of cells.

Cell index ``3 * r + c``, r = 0 the top row, c = 0 the left column; human
notation is a file letter and a rank number with a1 bottom-left::

    3 | 0 1 2
    2 | 3 4 5
    1 | 6 7 8
        a b c

State [S = 11] int64: cells 0..8 (+1 the first player X, -1 the second
player O, 0 empty), then PLY (moves played; X moves at even plies) and STATUS
(ONGOING, or the final value for the side to move: -1 or 0).

Actions are cells 0..8. Planes [3, 3, 3]: the side to move's stones, the
opponent's, and all ones when the side to move is X (the colour plane).
"""

from __future__ import annotations

import sys

import numba
import numpy as np

from engine.outcome import status_after_move
from engine.spec import ONGOING, IllegalMoveError, TrainingPreset, spec_from_module
from engine.symmetry import dihedral_cell_perms, inverse_indices

SIZE = 3
NUM_CELLS = SIZE * SIZE
NUM_ACTIONS = NUM_CELLS
NUM_PLANES = 3
PLY, STATUS = NUM_CELLS, NUM_CELLS + 1
STATE_SIZE = NUM_CELLS + 2

LINES = np.array(
    [[0, 1, 2], [3, 4, 5], [6, 7, 8],  # rows
     [0, 3, 6], [1, 4, 7], [2, 5, 8],  # columns
     [0, 4, 8], [2, 4, 6]],  # diagonals
    dtype=np.int64,
)
"""[8, 3]: the cells of every winning line."""

LINE_BITS = np.array([sum(1 << int(cell) for cell in line) for line in LINES], dtype=np.int64)
"""[8]: each winning line as a bit mask over cells (bit ``cell``)."""


@numba.njit(cache=True)
def initial_state():
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[STATUS] = ONGOING
    return state


@numba.njit(cache=True)
def legal_mask(state, out):
    ongoing = state[STATUS] == ONGOING
    for cell in range(NUM_CELLS):
        out[cell] = ongoing and state[cell] == 0


@numba.njit(cache=True)
def side_to_move(state):
    """+1 when X is to move, -1 when O is."""
    return 1 if state[PLY] % 2 == 0 else -1


@numba.njit(cache=True)
def play_into(state, action, out):
    # The mover's cells as a bit mask make each line one test, without
    # branches; the copy is an explicit loop because numba's ``out[:] = state``
    # measured at several times the cost of everything else here.
    mover = side_to_move(state)
    own = np.int64(0)
    for cell in range(NUM_CELLS):
        out[cell] = state[cell]
        own |= np.int64(state[cell] == mover) << cell
    out[action] = mover
    own |= np.int64(1) << action
    ply = state[PLY] + 1
    out[PLY] = ply
    won = False
    for line in range(LINE_BITS.shape[0]):
        won |= (own & LINE_BITS[line]) == LINE_BITS[line]
    out[STATUS] = status_after_move(won, ply, NUM_CELLS)


@numba.njit(cache=True)
def status(state):
    return state[STATUS]


@numba.njit(cache=True)
def encode(state, out):
    mover = side_to_move(state)
    for cell in range(NUM_CELLS):
        r, c = cell // SIZE, cell % SIZE
        out[0, r, c] = 1.0 if state[cell] == mover else 0.0
        out[1, r, c] = 1.0 if state[cell] == -mover else 0.0
        out[2, r, c] = 1.0 if mover == 1 else 0.0


@numba.njit(cache=True)
def transform_into(state, cell_perm, out):
    for cell in range(NUM_CELLS):
        out[cell] = state[cell_perm[cell]]
    out[PLY] = state[PLY]
    out[STATUS] = state[STATUS]


# ---- human-facing helpers -------------------------------------------------

FILES = "abc"


def render(state: np.ndarray) -> str:
    marks = {1: "X", -1: "O", 0: "."}
    lines = []
    for r in range(SIZE):
        row = " ".join(marks[int(state[SIZE * r + c])] for c in range(SIZE))
        lines.append(f"{SIZE - r} {row}")
    lines.append("  " + " ".join(FILES))
    return "\n".join(lines)


def parse_move(text: str) -> int:
    text = text.strip().lower()
    if len(text) != 2 or text[0] not in FILES or text[1] not in "123":
        raise IllegalMoveError(f"'{text}' is not a cell: tic-tac-toe cells are a1-c3")
    return SIZE * (SIZE - int(text[1])) + FILES.index(text[0])


def format_move(action: int) -> str:
    return f"{FILES[action % SIZE]}{SIZE - action // SIZE}"


def split_moves(text: str) -> list[str]:
    """'b2 a1,c3' -> ['b2', 'a1', 'c3']; 'b2a1c3' works too."""
    compact = "".join(ch for ch in text if not ch.isspace() and ch != ",")
    return [compact[i:i + 2] for i in range(0, len(compact), 2)]


def why_illegal(state: np.ndarray, action: int) -> str:
    if status(state) != ONGOING:
        return "the game is over"
    if not 0 <= action < NUM_CELLS:
        return f"cell {action} does not exist"
    return f"{format_move(action)} is occupied"


_CELL_PERMS = dihedral_cell_perms(SIZE)

def _make_solver():
    """The exact solver (``engine.exact``, which reads this module's layout: imported when asked for)."""
    from engine.exact import TicTacToeSolver

    return TicTacToeSolver(SPEC)


_PRESET = TrainingPreset(
    net="b2c32",
    mcts={"num_simulations": 50},
    selfplay={"games_in_parallel": 64, "games_per_generation": 128, "temperature_moves": 4,
              "resign_threshold": -2.0},
    train={"batch_size": 128, "steps_per_generation": 60, "learning_rate": 0.02, "lr_decay_generations": 20,
           "window_min": 2_000, "window_max": 20_000},
    # From the empty board on: the solver is instant here, and the empty board is a position to learn.
    expert={"opening_min": 0, "opening_max": 4},
    pretrain={"batch_size": 128, "learning_rate": 0.1, "max_epochs": 30},
)
"""One preset for every machine: tic-tac-toe learns in a minute on a CPU."""

SPEC = spec_from_module(
    sys.modules[__name__],
    name="tictactoe",
    board_shape=(SIZE, SIZE),
    num_actions=NUM_ACTIONS,
    planes_shape=(NUM_PLANES, SIZE, SIZE),
    state_size=STATE_SIZE,
    max_game_length=NUM_CELLS,
    cell_perms=_CELL_PERMS,
    action_perms=_CELL_PERMS.copy(),
    inverse=inverse_indices(_CELL_PERMS),
    dirichlet_alpha=1.0,
    make_solver=_make_solver,
    cpu_preset=_PRESET,
)
