"""Connect Four, 7 columns x 6 rows, on bitboards (Pascal Pons' layout).

Bit ``7 * col + row`` of a bitboard is the cell in column ``col`` (0 = left)
and row ``row`` (0 = bottom); bit 7*col+6 is a sentinel that stays empty so
that shifted alignments never wrap from one column into the next::

     5 12 19 26 33 40 47      top row
     4 11 18 25 32 39 46
     3 10 17 24 31 38 45
     2  9 16 23 30 37 44
     1  8 15 22 29 36 43
     0  7 14 21 28 35 42      bottom row

State [S = 4] int64:

    CURRENT  stones of the side to move
    MASK     all stones
    PLY      number of moves played (the first player moves at even plies)
    STATUS   ONGOING, or the final value for the side to move (-1 or 0)

Actions are columns 0..6 (the human notation is 1..7). Planes [3, 6, 7],
row 0 = top: plane 0 the side to move's stones, plane 1 the opponent's, plane
2 all ones when the side to move is the first player (AlphaZero's colour
plane: Connect Four strategy turns on odd and even threats, so the network
must know which player it is, and a small conv net cannot count stones).
"""

from __future__ import annotations

import sys

import numba
import numpy as np

from engine.outcome import status_after_move
from engine.spec import ONGOING, IllegalMoveError, TrainingPreset, spec_from_module
from engine.symmetry import inverse_indices, mirror_cell_perms

WIDTH = 7
HEIGHT = 6
NUM_ACTIONS = WIDTH
NUM_PLANES = 3
MAX_MOVES = WIDTH * HEIGHT

CURRENT, MASK, PLY, STATUS = 0, 1, 2, 3
STATE_SIZE = 4

BOTTOM_ROW = sum(1 << (7 * col) for col in range(WIDTH))
"""One bit at the bottom of every column."""
BOARD = BOTTOM_ROW * ((1 << HEIGHT) - 1)
"""Every playable cell (sentinels excluded)."""


@numba.njit(cache=True, inline="always")
def column_bits(col):
    return np.int64(0x3F) << (7 * col)


@numba.njit(cache=True, inline="always")
def top_bit(col):
    return np.int64(1) << (7 * col + HEIGHT - 1)


@numba.njit(cache=True, inline="always")
def bottom_bit(col):
    return np.int64(1) << (7 * col)


@numba.njit(cache=True)
def has_four(stones):
    """True if the bitboard ``stones`` holds four in a row in any direction."""
    for shift in (1, 7, 6, 8):  # vertical, horizontal, diagonal /, diagonal \
        pairs = stones & (stones >> shift)
        if pairs & (pairs >> (2 * shift)):
            return True
    return False


@numba.njit(cache=True)
def initial_state():
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[STATUS] = ONGOING
    return state


@numba.njit(cache=True)
def legal_mask(state, out):
    ongoing = state[STATUS] == ONGOING
    for col in range(WIDTH):
        out[col] = ongoing and (state[MASK] & top_bit(col)) == 0


@numba.njit(cache=True)
def play_into(state, action, out):
    mask = state[MASK]
    move = (mask + bottom_bit(action)) & column_bits(action)
    mover = state[CURRENT] | move
    new_mask = mask | move
    ply = state[PLY] + 1
    out[CURRENT] = mover ^ new_mask
    out[MASK] = new_mask
    out[PLY] = ply
    out[STATUS] = status_after_move(has_four(mover), ply, MAX_MOVES)


@numba.njit(cache=True)
def status(state):
    return state[STATUS]


@numba.njit(cache=True)
def encode(state, out):
    own = state[CURRENT]
    other = state[MASK] ^ own
    first_to_move = 1.0 if state[PLY] % 2 == 0 else 0.0
    for row in range(HEIGHT):
        for col in range(WIDTH):
            bit = np.int64(1) << (7 * col + HEIGHT - 1 - row)
            out[0, row, col] = 1.0 if own & bit else 0.0
            out[1, row, col] = 1.0 if other & bit else 0.0
            out[2, row, col] = first_to_move


@numba.njit(cache=True)
def transform_into(state, cell_perm, out):
    """cell_perm [42] gathers cells in plane order (row 0 = top), see spec."""
    out[CURRENT] = 0
    out[MASK] = 0
    for cell in range(HEIGHT * WIDTH):
        source = cell_perm[cell]
        src_bit = np.int64(1) << (7 * (source % WIDTH) + HEIGHT - 1 - source // WIDTH)
        dst_bit = np.int64(1) << (7 * (cell % WIDTH) + HEIGHT - 1 - cell // WIDTH)
        if state[CURRENT] & src_bit:
            out[CURRENT] |= dst_bit
        if state[MASK] & src_bit:
            out[MASK] |= dst_bit
    out[PLY] = state[PLY]
    out[STATUS] = state[STATUS]


# ---- human-facing helpers -------------------------------------------------


def stones_of_first_player(state: np.ndarray) -> int:
    """Bitboard of the first player's (X's) stones."""
    own, mask = int(state[CURRENT]), int(state[MASK])
    return own if state[PLY] % 2 == 0 else own ^ mask


def render(state: np.ndarray) -> str:
    """The board as text, X for the first player, O for the second."""
    first = stones_of_first_player(state)
    mask = int(state[MASK])
    lines = []
    for row in reversed(range(HEIGHT)):
        cells = []
        for col in range(WIDTH):
            bit = 1 << (7 * col + row)
            cells.append("." if not mask & bit else ("X" if first & bit else "O"))
        lines.append(" ".join(cells))
    lines.append(" ".join(str(col + 1) for col in range(WIDTH)))
    return "\n".join(lines)


def parse_move(text: str) -> int:
    text = text.strip()
    # Only short ASCII digit strings reach int(): it refuses other digits ('²') and numbers
    # of thousands of digits with a ValueError, not a reason the player can act on.
    column = text.lstrip("0")
    if not (text.isascii() and text.isdigit() and len(column) == 1 and 1 <= int(column) <= WIDTH):
        raise IllegalMoveError(f"'{text}' is not a column: Connect Four columns are 1-{WIDTH}")
    return int(column) - 1


def format_move(action: int) -> str:
    return str(int(action) + 1)


def split_moves(text: str) -> list[str]:
    """'4453' or '4 4 5 3' -> ['4', '4', '5', '3']."""
    return [ch for ch in text if not ch.isspace() and ch != ","]


def why_illegal(state: np.ndarray, action: int) -> str:
    if status(state) != ONGOING:
        return "the game is over"
    if not 0 <= action < WIDTH:
        return f"column {action + 1} does not exist"
    return f"column {action + 1} is full"


_CELL_PERMS = mirror_cell_perms(HEIGHT, WIDTH)
_ACTION_PERMS = np.stack([np.arange(WIDTH), np.arange(WIDTH)[::-1]]).astype(np.int64)

def _make_solver():
    """The exact solver (``engine.solver``, which reads this module's bitboard layout: imported
    here, not at the top, and only when asked for, as it allocates a 64 MiB table)."""
    from engine.solver import Solver

    return Solver()


SPEC = spec_from_module(
    sys.modules[__name__],
    name="connect4",
    board_shape=(HEIGHT, WIDTH),
    num_actions=NUM_ACTIONS,
    planes_shape=(NUM_PLANES, HEIGHT, WIDTH),
    state_size=STATE_SIZE,
    max_game_length=MAX_MOVES,
    cell_perms=_CELL_PERMS,
    action_perms=_ACTION_PERMS,
    inverse=inverse_indices(_CELL_PERMS),
    dirichlet_alpha=1.0,
    make_solver=_make_solver,
    eval_set="L1_R2_begin_medium",
    # 2 CPU cores, by the ablations in BENCHMARKS.md (docs/ablations_c4.jsonl):
    # Gumbel search with 32 simulations learns more per minute than PUCT with
    # 100; values discounted by 0.98 a ply tell a fast win from a slow one;
    # 50 training steps a generation learn as much as 100 in less time; and
    # b6c48, slower per game than b4c32, leads it in every column after an hour.
    # Scoring 200 positions with 800 simulations takes longer than a generation's
    # self-play: every 10th generation it costs about a tenth of the run.
    cpu_preset=TrainingPreset(
        net="b6c48", eval_positions=200, eval_every=10,
        mcts={"num_simulations": 32, "search": "gumbel", "value_discount": 0.98},
        # 12 sampled opening moves, not 8: with 8 the second 65-minute run's
        # self-play collapsed into 70% draws of 38 moves by generation 55.
        # The value target is half the result, half the root's search value (ablation pair 7:
        # +4 to +9 points exact with search at 30 minutes).
        selfplay={"games_in_parallel": 64, "games_per_generation": 128, "temperature_moves": 12,
                  "value_target_search": 0.5},
        # The learning rate decays over the ~350 generations a 2-hour run reaches
        # (14 s a generation at first, about 22 s once games last 30 moves). AdamW at 0.002,
        # not SGD at 0.02 (ablation pairs 8 and 9: +4 to +7 points exact for the network alone).
        train={"batch_size": 256, "steps_per_generation": 50, "lr_decay_generations": 350,
               "optimizer": "adamw", "learning_rate": 0.002,
               "window_min": 20_000, "window_max": 300_000},
    ),
    gpu_preset=TrainingPreset(
        net="b10c128", eval_positions=200,
        mcts={"num_simulations": 400},
        selfplay={"games_in_parallel": 512, "games_per_generation": 2048},
        train={"batch_size": 1024, "steps_per_generation": 400, "window_min": 100_000, "window_max": 1_000_000},
    ),
)
