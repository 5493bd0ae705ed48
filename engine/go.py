"""Go on an n x n board, 5 <= n <= 19: ``go9``, ``go13`` and ``go19`` are
registered, ``engine.get_game("goN")`` builds any other size on demand.

Rules: Tromp-Taylor / Chinese area scoring without dead-stone removal.
Captures; suicide (of one stone or of a group) is illegal; positional superko
(a move may not recreate any earlier board of the game, whoever is to move);
pass is always legal; the game ends after two consecutive passes or after
``2 * n * n`` moves (passes included: OpenSpiel's cap, so ``max_game_length``
bounds the state). The score is each side's stones plus the empty regions
that touch only its stones; black wins if its score minus white's exceeds
komi (7.5 by default; 0, a draw, only when an integer komi ties). ``status``
is the value for the side to move, which after two passes may be the winner.

Points, actions and notation. Point ``a = n * row + col``, row 0 the top row,
as in the planes; action ``n * n`` is pass, so A = n * n + 1. Text uses GTP
vertices: a column letter (A-T without I) and a row number, A1 bottom-left::

    9 | 0  1  2  3  4  5  6  7  8        go9
    8 | 9 10 11 ...
    1 | 72 ...                  80
        A  B  C  D  E  F  G  H  J         pass = 81

State [S] int64, S = 11 + ceil((n+2)^2 / 8) + 10 W + 2 n^2 + 1 with
W = ceil((n+2)^2 / 64) (go9: 210, go13: 419, go19: 860)::

    SIZE        n
    TO_MOVE     BLACK (+1) or WHITE (-1)
    PLY         moves played, passes included
    PASSES      consecutive passes just played (2 ends the game)
    KOMI2       komi * 2, so that 7.5 is exact (GTP ``komi`` changes it: go_positions.set_komi)
    STATUS      ONGOING, or the final value for the side to move
    FRAME       which of the 8 symmetries maps this board to the one the hashes
                were computed on (0 unless transform_into made the state)
    HASH        Zobrist hash of the board (bits 19-63, as in HISTORY)
    STONES      stones on the board
    NUM_BOARDS  entries in HISTORY
    MORE_STONES index of the first HISTORY entry with more stones than now
                (play_into knows it, legal_mask needs it: no binary search there)
    CELLS       the (n+2) x (n+2) board with a border, one byte a cell (read it
                through ``state.view(np.int8)`` from byte CELL0), one bit set:
                BORDER 0, EMPTY 1, a stone FREE (its group has two liberties or
                more: 2 black, 4 white) or in ATARI (one liberty: 8 black, 16
                white). The flag makes legality local: an empty point is legal
                (superko aside) iff a neighbour is empty, an own stone not in
                atari, or an opponent stone in atari (a capture), one test on
                the OR of its neighbours.
    PACKED      T boards as bitsets over the padded cell index, W words per
                colour: [black][white] now, 1 move ago, ..., T-1 moves ago; then
                EVER, [black][white]: the points each colour has ever held
                (setup stones included)
    HISTORY     one int64 per distinct board of the game, sorted by (count, ply)
                (2 n^2 + 1 slots, the unused ones 0): bits 19-63 Zobrist hash,
                bits 10-18 stone count, bits 0-9 the ply after which it arose

Superko: a board with c stones can only come back through a move that leaves
c stones, so legal_mask looks at two kinds of blocks of the sorted HISTORY.
Boards with one stone more than now (from MORE_STONES on) are what a move that
captures nothing could repeat: the XOR of such a board's hash with the current
one is the key of the one stone they differ by, which KEY_TABLE turns into the
point to forbid. A capturing move can repeat a board only where the mover had
a stone before (EVER: most capturing moves are on fresh points); there it
hashes the stones it takes and looks in the block of ``count + 1 - captured``.
45 random hash bits and the exact count make a false repetition about 1 in
3e13 per comparison. Passes add no entry.

Symmetries: the 8 of the square on the points, pass fixed. Zobrist keys are
not symmetric, so a transformed state keeps its hashes and records the
symmetry in FRAME; hashing a point looks its key up through FRAME. Every
state played from the initial one has FRAME 0 and never pays for this.

Planes [2T + 7, n, n], T = 4 (AlphaGo Zero's layout, T = 8 there, and KataGo's
liberty features): for t = 0..T-1, plane 2t holds the side to move's stones t
moves ago and plane 2t+1 the opponent's (zeros before the game began); plane
2T is all ones when black is to move; then three pairs (the side to move's
stones, the opponent's) of the stones whose group has exactly one liberty
(atari: the cells' ATARI flag, a byte compare a point), exactly two, and
exactly three (one walk of each group not in atari, ``write_liberty_planes``).
A network learns captures, ladders' first steps and the life and death of
short-of-liberties groups from them far sooner than from stones alone. Every
plane but the colour plane is one of a (side to move, opponent) pair: the
Gymnasium view swaps the pairs to show the other side. Networks read a prefix
of the planes (``NetConfig.input_planes``; checkpoints made before the atari
planes read 2T + 1, those made before the two- and three-liberty planes
2T + 3), so planes are only ever added at the end. AlphaGo Zero keeps history because the stones
alone do not say which moves repetition forbids; here legal_mask applies
superko exactly, so the planes only need to show recent fights: T = 4 covers
a ko and its retake and the short cycles of a triple ko, while every plane
costs encode time and first-layer work for each sample on a CPU budget. Komi
is not an input: a network assumes the komi it was trained with.

Speed (about 3 million random moves per second on go9 on one core, about
three times OpenSpiel's C++; see benchmarks/engine_speed.py), from measurements:
the kernels allocate nothing (numba's np.empty costs about 100 ns here, as
much as a whole legal_mask: scratch lives on the stack, see ``stack_words``);
the cells are one-hot bytes, so that legal_mask's first pass is one OR of
four neighbours per cell, 64 cells per vector instruction; hot loops index
with unsigned integers, because numba wraps negative signed indices with a
select on every access, which blocks vectorisation; EVER keeps most
capturing moves out of the superko check, MORE_STONES the binary search out
of legal_mask; play_into copies the state in one loop and patches it (a
copy per region costs more in loop set-up than it saves). One kernel set
serves every size (the size is read from the state): a legal_mask with the
size a compile-time constant measured no faster.
"""

from __future__ import annotations

import functools
import re
import types

import numba
import numpy as np
from numba.core import cgutils
from numba.core import types as nbtypes
from numba.extending import intrinsic

from engine.numba_cache import stable_identity
from engine.spec import ONGOING, IllegalMoveError, TrainingPreset, UnknownGameError, spec_from_module
from engine.symmetry import dihedral_cell_perms, inverse_indices

MIN_SIZE, MAX_SIZE = 5, 19
REGISTERED_SIZES = (9, 13, 19)
DEFAULT_KOMI = 7.5
HISTORY_PLANES = 4
"""T: positions in the input planes (the current one included)."""
EVER = HISTORY_PLANES
"""Block of PACKED that holds the points each colour has ever occupied."""
COLOUR_PLANE = 2 * HISTORY_PLANES
ATARI_PLANES = COLOUR_PLANE + 1
"""The first of the two atari planes (the side to move's stones in atari, then the opponent's)."""
LIBERTY_PLANES = ATARI_PLANES + 2
"""The first of the four planes of stones whose group has exactly two liberties (the side to
move's, then the opponent's) and exactly three (the same pair)."""
NUM_PLANES = LIBERTY_PLANES + 4

BLACK, WHITE = 1, -1
"""Colours (TO_MOVE)."""
BORDER, EMPTY, BLACK_FREE, WHITE_FREE, BLACK_ATARI, WHITE_ATARI, BLACK_MARK, WHITE_MARK = 0, 1, 2, 4, 8, 16, 32, 64
"""Cell codes (see CELLS); a MARK labels a stone that a flood fill has visited, while it runs."""
BLACK_CODES, WHITE_CODES = BLACK_FREE | BLACK_ATARI | BLACK_MARK, WHITE_FREE | WHITE_ATARI | WHITE_MARK

SIZE, TO_MOVE, PLY, PASSES, KOMI2, STATUS, FRAME, HASH, STONES, NUM_BOARDS, MORE_STONES = range(11)
CELLS = 11
"""First word of the cells; byte CELL0 of ``state.view(np.int8)``."""
CELL0 = 8 * CELLS

PLY_BITS = 10
COUNT_BITS = 9
ORDER_MASK = (1 << (PLY_BITS + COUNT_BITS)) - 1
"""Low bits of a HISTORY entry: count and ply, the sort key."""
PLY_MASK = (1 << PLY_BITS) - 1
HASH_MASK = -(1 << (PLY_BITS + COUNT_BITS))
"""The hash bits of a HISTORY entry (and of every Zobrist key)."""

LEGAL, GAME_OVER, OFF_BOARD, OCCUPIED, SUICIDE, SUPERKO = range(6)
"""Codes of ``move_verdict``."""

U64 = numba.uint64
"""Index type of the hot loops (see the module docstring)."""
MAX_PADDED = (MAX_SIZE + 2) ** 2
"""Cells of the largest padded board: the size of the stack scratch buffers."""
_PAIR_WORDS = 2 * MAX_PADDED
"""captured_signature's stack of (cell, point) pairs."""
MAX_POINTS = MAX_SIZE * MAX_SIZE
"""Length of legal_mask's list of capturing moves that need a superko check."""

KEYS = np.random.default_rng(20240607).integers(1, 2**45, size=(2, MAX_PADDED), dtype=np.int64) << (
    PLY_BITS + COUNT_BITS)
"""[2, 441] Zobrist keys (black, white) of each padded cell index (a board of
size n uses the first (n+2)^2); hash bits only, so XORs keep the low bits free."""


def _compose_table() -> np.ndarray:
    perms = dihedral_cell_perms(5)
    table = np.zeros((8, 8), np.int64)
    for f in range(8):
        for k in range(8):
            table[f, k] = next(g for g in range(8) if np.array_equal(perms[g], perms[f][perms[k]]))
    return table


COMPOSE = _compose_table()
"""[8, 8]: the symmetry g with perm_g = perm_f[perm_k] (gather tables of
``engine.symmetry.dihedral_cell_perms``): a board in frame f transformed by k is in frame g."""
INVERSE_FRAME = np.array([int(np.flatnonzero(COMPOSE[f] == 0)[0]) for f in range(8)], np.int64)
"""[8]: the frame that undoes each frame."""

_KEY_SLOTS = 4096


def _key_table() -> np.ndarray:
    table = np.zeros((2, _KEY_SLOTS), np.int64)
    for colour_index in range(2):
        for local in range(MAX_PADDED):
            key = KEYS[colour_index, local]
            slot = (key >> 52) & (_KEY_SLOTS - 1)
            while table[0, slot] != 0:
                slot = (slot + 1) & (_KEY_SLOTS - 1)
            table[:, slot] = key, colour_index * MAX_PADDED + local
    return table


KEY_TABLE = _key_table()
"""[2, 4096] open-addressing table from a Zobrist key (row 0) to its owner (row 1:
colour index * 441 + padded cell index), so that superko needs no scan of the board."""


# ---- layout and small helpers ----------------------------------------------


@intrinsic
def stack_words(typingctx, length):
    """``voidptr`` to ``length`` (an integer literal) uninitialised 8-byte words
    in the stack frame of the calling kernel, to view with ``numba.carray``; the
    buffer dies with that call, so it must never be returned. numba puts every
    np.empty on the heap, at about 100 ns a call here."""
    if not isinstance(length, nbtypes.IntegerLiteral):
        return None

    def codegen(context, builder, signature, args):
        words = cgutils.alloca_once(builder, context.get_value_type(nbtypes.int64), size=length.literal_value)
        return builder.bitcast(words, cgutils.voidptr_t)

    return nbtypes.voidptr(length), codegen


@numba.njit(cache=True, inline="always")
def layout(n):
    """(stride, packed, words, history): the padded row length, the offsets of
    PACKED and HISTORY, and the words per colour of a packed board (PACKED holds
    T + 1 blocks of 2 * words: the T boards, then EVER)."""
    stride = n + 2
    packed = CELLS + ((stride * stride + 7) >> 3)
    words = (stride * stride + 63) >> 6
    return stride, packed, words, packed + (EVER + 1) * 2 * words


@numba.njit(cache=True, inline="always")
def copy_words(source, start, target, target_start, count):
    """target[target_start:][:count] = source[start:][:count] (count >= 0), on
    unsigned indices so that it compiles to a vector copy."""
    source_start, target_start = U64(start), U64(target_start)
    for i in range(U64(count)):
        target[target_start + i] = source[source_start + i]


@numba.njit(cache=True, inline="always")
def cell_of(action, n):
    """Byte index (into ``state.view(np.int8)``) of the cell of point ``action``."""
    return CELL0 + (action // n + 1) * (n + 2) + action % n + 1


@numba.njit(cache=True)
def dihedral_source(frame, n, row, col):
    """(row, col) that symmetry ``frame`` gathers into (row, col): the cell
    arithmetic of ``engine.symmetry.dihedral_cell_perms(n)[frame]``."""
    turns = frame & 3
    if turns == 0:
        a, b = row, col
    elif turns == 1:
        a, b = col, n - 1 - row
    elif turns == 2:
        a, b = n - 1 - row, n - 1 - col
    else:
        a, b = n - 1 - col, row
    if frame >= 4:
        return b, a
    return a, b


@numba.njit(cache=True, inline="always")
def point_key(frame, colour, q, n, stride):
    """Zobrist key of a stone of ``colour`` on cell ``q``, in the frame of the hashes."""
    local = q - CELL0
    if frame != 0:
        row, col = dihedral_source(frame, n, local // stride - 1, local % stride - 1)
        local = (row + 1) * stride + col + 1
    return KEYS[(1 - colour) >> 1, local]


@numba.njit(cache=True, inline="always")
def key_owner(key):
    """Colour index * 441 + padded cell index of the Zobrist key ``key``, or -1."""
    slot = (key >> 52) & (_KEY_SLOTS - 1)
    while KEY_TABLE[0, slot] != 0:
        if KEY_TABLE[0, slot] == key:
            return KEY_TABLE[1, slot]
        slot = (slot + 1) & (_KEY_SLOTS - 1)
    return -1


@numba.njit(cache=True)
def cell_in_frame(frame, local, n, stride):
    """The cell whose key is the one of padded index ``local`` in the frame of the hashes."""
    if frame != 0:
        row, col = dihedral_source(INVERSE_FRAME[frame], n, local // stride - 1, local % stride - 1)
        local = (row + 1) * stride + col + 1
    return CELL0 + local


@numba.njit(cache=True, inline="always")
def codes(colour):
    """(FREE, ATARI, MARK) cell codes of ``colour``."""
    if colour == BLACK:
        return BLACK_FREE, BLACK_ATARI, BLACK_MARK
    return WHITE_FREE, WHITE_ATARI, WHITE_MARK


@numba.njit(cache=True, inline="always")
def neighbours(cells, q, stride):
    """The OR of the codes of the 4 neighbours of cell ``q``."""
    return cells[q - 1] | cells[q + 1] | cells[q - stride] | cells[q + stride]


@numba.njit(cache=True, inline="always")
def lower_bound(state, history, num_boards, key):
    """First HISTORY index whose (count, ply) sort key is >= ``key`` (a binary
    search written to compile to conditional moves, not branches)."""
    lo, remaining = 0, num_boards
    while remaining > 0:
        step = remaining >> 1
        less = (state[history + lo + step] & ORDER_MASK) < key
        lo = lo + step + 1 if less else lo
        remaining = remaining - step - 1 if less else step
    return lo


@numba.njit(cache=True)
def find_repeat(state, board_hash, count):
    """The ply after which the board with ``board_hash`` and ``count`` stones arose
    in this game, or -1 if it never did."""
    history = layout(state[SIZE])[3]
    num_boards = state[NUM_BOARDS]
    for i in range(lower_bound(state, history, num_boards, count << PLY_BITS), num_boards):
        entry = state[history + i]
        if (entry & ORDER_MASK) >> PLY_BITS != count:
            break
        if ((entry ^ board_hash) & HASH_MASK) == 0:
            return entry & PLY_MASK
    return -1


# ---- flood fills over the cells (int8) -----------------------------------------
# ``scratch`` is an int64 array of at least (n+2)^2, usually on the stack.


@numba.njit(cache=True)
def flood_set(cells, start, old, new, stride, scratch):
    """Recolour the connected cells equal to ``old`` around ``start`` (itself ``old``) to ``new``."""
    cells[start] = new
    scratch[0] = start
    top = 1
    while top > 0:
        top -= 1
        cell = scratch[top]
        for u in (cell - 1, cell + 1, cell - stride, cell + stride):
            if cells[u] == old:
                cells[u] = new
                scratch[top] = u
                top += 1


@numba.njit(cache=True)
def settle_group(cells, start, stride, colour, scratch, early_exit):
    """Count the liberties (0, 1, or 2 for two or more) of the group of ``colour``
    at ``start`` and set its stones' atari flag; returns the count.

    With ``early_exit`` the fill stops at the second liberty and puts back the
    stones it marked, which is right only if every stone of the group is FREE
    already.
    """
    free, atari, mark = codes(colour)
    cells[start] = mark
    scratch[0] = start
    head, end = 0, 1
    first, liberties = -1, 0
    while head < end:
        cell = scratch[head]
        head += 1
        for u in (cell - 1, cell + 1, cell - stride, cell + stride):
            v = cells[u]
            if v == free or v == atari:
                cells[u] = mark
                scratch[end] = u
                end += 1
            elif v == EMPTY and u != first and liberties < 2:
                first = u if liberties == 0 else first
                liberties += 1
                if liberties == 2 and early_exit:
                    for i in range(end):
                        cells[scratch[i]] = free
                    return 2
    final = free if liberties >= 2 else atari
    for i in range(end):
        cells[scratch[i]] = final
    return liberties


@numba.njit(cache=True)
def captured_signature(cells, frame, q, point, mover, n, stride, marks, stack):
    """(XOR of the Zobrist keys, number) of the opponent stones a move on cell
    ``q`` (point ``point``) would capture: the groups in atari next to it.

    ``marks`` [A] bool must be False on those stones (legal_mask passes its own
    output: they are occupied points); it is used while they are walked and
    left as it was. ``stack`` [2 (n+2)^2] int64 is scratch for (cell, point)
    pairs, so that no point costs a division.
    """
    prey = codes(-mover)[1]
    steps = ((-1, -1), (1, 1), (-stride, -n), (stride, n))
    signature, size, end = 0, 0, 0
    for cell_step, point_step in steps:
        t = q + cell_step
        if cells[t] != prey:
            continue
        if (cells[t - 1] != prey) & (cells[t + 1] != prey) & (cells[t - stride] != prey) & (cells[t + stride] != prey):
            signature ^= point_key(frame, -mover, t, n, stride)  # a lone stone, the common case
            size += 1
            continue
        if marks[point + point_step]:
            continue  # a group met from another side of q
        marks[point + point_step] = True
        stack[2 * end], stack[2 * end + 1] = t, point + point_step
        head = end
        end += 1
        while head < end:
            cell, cell_point = stack[2 * head], stack[2 * head + 1]
            head += 1
            signature ^= point_key(frame, -mover, cell, n, stride)
            size += 1
            for u_step, u_point_step in steps:
                u, u_point = cell + u_step, cell_point + u_point_step
                if cells[u] == prey and not marks[u_point]:
                    marks[u_point] = True
                    stack[2 * end], stack[2 * end + 1] = u, u_point
                    end += 1
    for i in range(end):
        marks[stack[2 * i + 1]] = False
    return signature, size


@numba.njit(cache=True)
def _area_count(state, owners, with_owners):
    """Black's area minus white's under area scoring as the board stands (stones plus empty
    regions that touch only that colour's stones), without komi; with ``with_owners``, also
    each point's owner into ``owners [N*N]`` int8 (+1 black, -1 white, 0 neither). One
    flood fill serves both; the count alone skips the bookkeeping (search_mask calls it)."""
    n = state[SIZE]
    stride = n + 2
    cells = state.view(np.int8)
    visited = np.zeros(cells.shape[0], np.bool_)
    stack = numba.carray(stack_words(MAX_PADDED), MAX_PADDED, np.int64)
    region = numba.carray(stack_words(MAX_PADDED), MAX_PADDED, np.int64)
    difference = 0
    for r in range(n):
        for c in range(n):
            q = CELL0 + (r + 1) * stride + c + 1
            v = cells[q]
            if v != EMPTY:
                colour = 1 if v & BLACK_CODES else -1
                difference += colour
                if with_owners:
                    owners[r * n + c] = colour
                continue
            if visited[q]:
                continue
            visited[q] = True
            stack[0] = q
            top, size, touches = 1, 0, 0  # touches: bit 0 black, bit 1 white
            while top > 0:
                top -= 1
                cell = stack[top]
                if with_owners:
                    region[size] = cell
                size += 1
                for u in (cell - 1, cell + 1, cell - stride, cell + stride):
                    w = cells[u]
                    if w == EMPTY:
                        if not visited[u]:
                            visited[u] = True
                            stack[top] = u
                            top += 1
                    elif w != BORDER:
                        touches |= 1 if w & BLACK_CODES else 2
            owner = 1 if touches == 1 else -1 if touches == 2 else 0
            difference += owner * size
            if with_owners:
                for i in range(size):
                    offset = region[i] - CELL0
                    owners[(offset // stride - 1) * n + offset % stride - 1] = owner
    return difference


@numba.njit(cache=True)
def area_owners(state, out):
    """state [S], out [N*N] int8 (points as actions): each point's owner under area
    scoring as the board stands, +1 black, -1 white, 0 neither: a stone's colour, or the
    colour of the only stones an empty region touches (none or both: 0). Dead stones
    count as alive (the game is played out: see ``search_mask``)."""
    _area_count(state, out, True)


@numba.njit(cache=True)
def area_difference(state):
    """Black's area minus white's (stones plus empty regions that touch only that colour's
    stones), without komi: ``area_owners`` summed."""
    return _area_count(state, numba.carray(stack_words(1), 0, np.int8), False)


def ownership_and_score(state: np.ndarray) -> tuple[np.ndarray, float]:
    """``GameSpec.final_ownership``: (owners [N*N] int8, black's area margin after komi) of
    the board as it stands."""
    n = int(state[SIZE])
    owners = np.zeros(n * n, np.int8)
    area_owners(state, owners)
    return owners, float(owners.sum()) - state[KOMI2] / 2.0


@numba.njit(cache=True)
def final_margin(state):
    """``GameSpec.final_margin``: the side to move's area margin after komi, as the board stands."""
    return (area_difference(state) - state[KOMI2] / 2.0) * state[TO_MOVE]


@numba.njit(cache=True)
def final_status(state):
    """The value for the side to move if the game ended now (area score and komi)."""
    black_margin = 2 * area_difference(state) - state[KOMI2]
    black_value = 1 if black_margin > 0 else -1 if black_margin < 0 else 0
    return black_value * state[TO_MOVE]


# ---- the kernels of the game contract ------------------------------------------


@numba.njit(cache=True)
def empty_state(n):
    """The empty n x n board, black to move, komi 7.5."""
    stride, packed, words, history = layout(n)
    state = np.zeros(history + 2 * n * n + 1, np.int64)
    state[SIZE] = n
    state[TO_MOVE] = BLACK
    state[KOMI2] = 15
    state[STATUS] = ONGOING
    state[NUM_BOARDS] = 1  # the empty board: hash 0, no stones, ply 0 (entry 0)
    state[MORE_STONES] = 1
    cells = state.view(np.int8)  # BORDER is 0: only the points need a code
    for a in range(n * n):
        cells[cell_of(a, n)] = EMPTY
    return state


def _make_initial_state(n: int):
    def initial_state():
        return empty_state(n)

    # A name of its own per size (stable_identity: closures of one factory loaded
    # from the cache into one process must not share symbols; seen as "'descr' is NULL").
    return stable_identity(numba.njit(cache=True)(initial_state), f"engine.go.initial_state[{n}]")


_FLAG_WORDS = 64
"""legal_mask's per-cell flags, bytes in words: 512 >= the (n-1)(n+2) + n cells it scans."""


@numba.njit(cache=True)
def legal_mask(state, out):
    """state [S], out [A] bool: empty points that are neither suicide nor a
    superko repetition, and pass; all False once the game is over."""
    n = state[SIZE]
    num_points = n * n
    if state[STATUS] != ONGOING:
        for a in range(num_points + 1):
            out[a] = False
        return
    # First pass, over every cell from the first point to the last (the border
    # cells between rows too: one long loop vectorises, n-cell rows do not):
    # bit 0 empty and not suicide, bit 1 empty and capturing. uint8 throughout:
    # numba widens arithmetic on small integers to 64 bits, a quarter as many
    # lanes per vector unless each result is cast back.
    cells = state.view(np.uint8)
    prey = np.uint8(codes(-state[TO_MOVE])[1])
    breathe = np.uint8(EMPTY | codes(state[TO_MOVE])[0] | prey)  # a neighbour that leaves a liberty
    flags = numba.carray(stack_words(_FLAG_WORDS), 8 * _FLAG_WORDS, np.uint8)
    stride = U64(n + 2)
    first = U64(CELL0) + stride + U64(1)
    for i in range(U64(n - 1) * stride + U64(n)):
        q = first + i
        around = np.uint8(cells[q - U64(1)] | cells[q + U64(1)] | cells[q - stride] | cells[q + stride])
        empty = np.uint8(cells[q] == np.uint8(EMPTY))
        breathes = np.uint8(np.uint8(around & breathe) != np.uint8(0))
        captures = np.uint8(np.uint8(around & prey) != np.uint8(0))
        flags[i] = np.uint8(np.uint8(empty & breathes) | np.uint8(np.uint8(empty & captures) << np.uint8(1)))
    # A capturing move can repeat an earlier board only on a point where the
    # mover had a stone before (EVER): most capturing moves are not there.
    packed, words, history = layout(n)[1:]
    ever = packed + EVER * 2 * words + (0 if state[TO_MOVE] == BLACK else words)
    suspects = numba.carray(stack_words(MAX_POINTS), MAX_POINTS, np.int64)
    num_suspects = 0
    legal = out.view(np.uint8)
    for r in range(n):
        row, start = U64(r) * stride, U64(r * n)
        seen = np.uint8(0)
        for c in range(U64(n)):
            flag = flags[row + c]
            legal[start + c] = np.uint8(flag & np.uint8(1))
            seen |= flag
        if seen & 2:  # a capturing move in this row
            for c in range(n):
                local = (r + 1) * (n + 2) + c + 1
                if flags[row + U64(c)] & 2 and (state[ever + (local >> 6)] >> (local & 63)) & 1:
                    suspects[num_suspects] = r * n + c
                    num_suspects += 1
    out[num_points] = True
    # A move that captures nothing can only repeat a board with one stone more
    # than now; the block of those in HISTORY is often empty.
    lo = state[MORE_STONES]
    if num_suspects or (lo < state[NUM_BOARDS] and (state[history + lo] & ORDER_MASK) >> PLY_BITS == state[STONES] + 1):
        exclude_repeats(state, out, suspects, num_suspects, lo)


@numba.njit(cache=True)
def exclude_repeats(state, out, suspects, num_suspects, lo):
    """Second pass of legal_mask: clear the moves in ``out`` that recreate an
    earlier board. The block of HISTORY from ``lo`` holds the boards with one
    stone more than now; ``suspects[:num_suspects]`` are the capturing moves
    on points where the mover had a stone before."""
    n = state[SIZE]
    stride = n + 2
    history = layout(n)[3]
    cells = state.view(np.int8)
    mover = state[TO_MOVE]
    prey = codes(-mover)[1]
    frame = state[FRAME]
    current = state[HASH]
    stones = state[STONES]
    # Moves that capture nothing: such a board differs from this one by one
    # stone, whose key the XOR of the two hashes is.
    for i in range(lo, state[NUM_BOARDS]):
        entry = state[history + i]
        if (entry & ORDER_MASK) >> PLY_BITS != stones + 1:
            break
        owner = key_owner((entry ^ current) & HASH_MASK)
        if owner < 0 or owner // MAX_PADDED != (1 - mover) >> 1:
            continue
        q = cell_in_frame(frame, owner % MAX_PADDED, n, stride)
        if cells[q] == EMPTY and not neighbours(cells, q, stride) & prey:
            out[(q - CELL0) // stride * n - n + (q - CELL0) % stride - 1] = False
    # Moves that capture: hash the stones they take.
    stack = numba.carray(stack_words(_PAIR_WORDS), _PAIR_WORDS, np.int64)
    for i in range(num_suspects):
        a = suspects[i]
        q = cell_of(a, n)
        signature, size = captured_signature(cells, frame, q, a, mover, n, stride, out, stack)
        after = current ^ signature ^ point_key(frame, mover, q, n, stride)
        out[a] = find_repeat(state, after, stones + 1 - size) < 0


@numba.njit(cache=True, inline="always")
def is_own_eye(cells, q, mover, stride):
    """Whether the empty cell ``q`` is an eye of ``mover``: its neighbours are all the
    mover's stones (or the edge), and the opponent holds at most one of its diagonal
    points, none when ``q`` is on the edge (the usual test of random-playout
    programs: it calls a few false eyes true, never a point the mover needs to play)."""
    own = codes(mover)[0] | codes(mover)[1]
    for u in (q - 1, q + 1, q - stride, q + stride):
        if cells[u] != BORDER and not cells[u] & own:
            return False
    theirs = codes(-mover)[0] | codes(-mover)[1]
    enemies, edge = 0, False
    for u in (q - stride - 1, q - stride + 1, q + stride - 1, q + stride + 1):
        if cells[u] == BORDER:
            edge = True
        elif cells[u] & theirs:
            enemies += 1
    return enemies == 0 or (enemies == 1 and not edge)


@numba.njit(cache=True)
def search_mask(state, out):
    """state [S], out [A] bool: legal_mask without the passes that would end the
    game on an unsettled board, for search and self-play (the rules still allow
    them, and an opponent's pass is always accepted). Pass stays only when

    - the opponent has just passed and the area count now wins (or draws) for
      the mover: passing ends the game with that result; or
    - the mover has no legal point left but its own eyes (``is_own_eye``).

    Why: area scoring counts whatever stands on the board, so a game ended by
    two early passes is scored on stones that are neither alive nor dead yet.
    Self-play of a young network passed early and learnt from those scores
    (black won 94-100% of 25-move games). Under this mask a game ends only once
    one side has run out of useful moves, so dead stones have been captured
    and the count is the game's true result, which the value targets need."""
    legal_mask(state, out)
    n = state[SIZE]
    num_points = n * n
    if not out[num_points]:  # the game is over
        return
    if state[PASSES] == 1 and final_status(state) >= 0:
        return
    cells = state.view(np.int8)
    mover = state[TO_MOVE]
    for a in range(num_points):
        if out[a] and not is_own_eye(cells, cell_of(a, n), mover, n + 2):
            out[num_points] = False
            return


@numba.njit(cache=True)
def place_stone(out, q, mover, n, stride, packed, words):
    """Put a stone of ``mover`` on the empty cell ``q`` of ``out``: remove the
    groups it captures and update the atari flags, the packed board of now
    (PACKED block 0), HASH and STONES."""
    cells = out.view(np.int8)
    removed = numba.carray(stack_words(MAX_PADDED), MAX_PADDED, np.int64)
    scratch = numba.carray(stack_words(MAX_PADDED), MAX_PADDED, np.int64)
    frame = out[FRAME]
    opponent = -mover
    free, atari, _ = codes(mover)
    prey = codes(opponent)[1]
    board_hash = out[HASH]
    own_words = packed + (0 if mover == BLACK else words)
    opponent_words = packed + (words if mover == BLACK else 0)
    # Captures: the opponent's groups in atari next to q (their last liberty is q).
    captured = 0
    for t in (q - 1, q + 1, q - stride, q + stride):
        if cells[t] != prey:
            continue
        cells[t] = EMPTY
        removed[captured] = t
        head = captured
        captured += 1
        while head < captured:
            cell = removed[head]
            head += 1
            board_hash ^= point_key(frame, opponent, cell, n, stride)
            local = cell - CELL0
            out[opponent_words + (local >> 6)] &= ~(1 << (local & 63))
            for u in (cell - 1, cell + 1, cell - stride, cell + stride):
                if cells[u] == prey:
                    cells[u] = EMPTY
                    removed[captured] = u
                    captured += 1
    cells[q] = free
    board_hash ^= point_key(frame, mover, q, n, stride)
    local = q - CELL0
    out[own_words + (local >> 6)] |= 1 << (local & 63)
    out[own_words + EVER * 2 * words + (local >> 6)] |= 1 << (local & 63)
    # An own group next to a captured stone gains that point and keeps its old
    # liberty (not q, or it would be part of q's group): two liberties at least.
    for i in range(captured):
        cell = removed[i]
        for u in (cell - 1, cell + 1, cell - stride, cell + stride):
            if cells[u] == atari:
                flood_set(cells, u, atari, free, stride, scratch)
    # The new group: two empty neighbours of q are two liberties; otherwise count.
    empties, in_atari = 0, False
    for u in (q - 1, q + 1, q - stride, q + stride):
        empties += cells[u] == EMPTY
        in_atari |= cells[u] == atari
    if empties >= 2:
        for u in (q - 1, q + 1, q - stride, q + stride):
            if cells[u] == atari:
                flood_set(cells, u, atari, free, stride, scratch)
    else:
        settle_group(cells, q, stride, mover, scratch, not in_atari)
    # Opponent groups next to q lost a liberty (they had two or more, or were captured).
    opponent_free = codes(opponent)[0]
    for u in (q - 1, q + 1, q - stride, q + stride):
        if cells[u] == opponent_free:  # two empty neighbours: two liberties, no walk
            empties = ((cells[u - 1] == EMPTY) + (cells[u + 1] == EMPTY)
                       + (cells[u - stride] == EMPTY) + (cells[u + stride] == EMPTY))
            if empties < 2:
                settle_group(cells, u, stride, opponent, scratch, True)
    out[HASH] = board_hash
    out[STONES] += 1 - captured


@numba.njit(cache=True)
def play_into(state, action, out):
    """state [S], action (a point or pass), out [S]: the position after the move."""
    n = state[SIZE]
    num_points = n * n
    stride, packed, words, history = layout(n)
    board_words = 2 * words
    # One copy of everything, then the changes: a copy per region costs more
    # in loop set-up than the words it saves (measured).
    copy_words(state, 0, out, 0, state.shape[0])
    copy_words(state, packed, out, packed + board_words, (HISTORY_PLANES - 1) * board_words)  # boards age
    ply = state[PLY] + 1
    out[PLY] = ply
    out[TO_MOVE] = -state[TO_MOVE]
    if action == num_points:
        out[PASSES] = state[PASSES] + 1
    else:
        out[PASSES] = 0
        place_stone(out, cell_of(action, n), state[TO_MOVE], n, stride, packed, words)
        count = out[STONES]
        # Insert the new board at the end of its count's block (its ply is the
        # largest); the unused slots after the last entry stay 0. Without a
        # capture that block starts at MORE_STONES and is short.
        num_boards = state[NUM_BOARDS]
        if count == state[STONES] + 1:
            position = state[MORE_STONES]
            while position < num_boards and (state[history + position] & ORDER_MASK) >> PLY_BITS == count:
                position += 1
        else:
            position = lower_bound(state, history, num_boards, (count + 1) << PLY_BITS)
        out[history + position] = out[HASH] | (count << PLY_BITS) | ply
        copy_words(state, history + position, out, history + position + 1, num_boards - position)
        out[NUM_BOARDS] = num_boards + 1
        out[MORE_STONES] = position + 1
    if out[PASSES] >= 2 or ply >= 2 * num_points:
        out[STATUS] = final_status(out)


@numba.njit(cache=True)
def status(state):
    return state[STATUS]


@numba.njit(cache=True)
def encode(state, out):
    """state [S], out [2T + 7, n, n] float32 (see the module docstring)."""
    n = state[SIZE]
    stride, packed, words, history = layout(n)
    black_to_move = state[TO_MOVE] == BLACK
    own_atari, other_atari = (BLACK_ATARI, WHITE_ATARI) if black_to_move else (WHITE_ATARI, BLACK_ATARI)
    cells = state.view(np.int8)
    for t in range(HISTORY_PLANES):
        black = packed + 2 * words * t
        own = black if black_to_move else black + words
        other = black + words if black_to_move else black
        for r in range(n):
            for c in range(n):
                local = (r + 1) * stride + c + 1
                word, bit = local >> 6, local & 63
                out[2 * t, r, c] = (state[own + word] >> bit) & 1
                out[2 * t + 1, r, c] = (state[other + word] >> bit) & 1
    colour = 1.0 if black_to_move else 0.0
    for r in range(n):
        for c in range(n):
            out[COLOUR_PLANE, r, c] = colour
            cell = cells[CELL0 + (r + 1) * stride + c + 1]
            out[ATARI_PLANES, r, c] = 1.0 if cell == own_atari else 0.0
            out[ATARI_PLANES + 1, r, c] = 1.0 if cell == other_atari else 0.0
    write_liberty_planes(state, n, stride, black_to_move, out)


@numba.njit(cache=True)
def write_liberty_planes(state, n, stride, black_to_move, out):
    """Planes LIBERTY_PLANES .. + 3 of ``out`` [2T + 7, n, n]: the stones of each group with
    exactly two liberties (the side to move's plane, then the opponent's) and exactly three
    (the next pair); zeros elsewhere. Each group not in atari is walked once, counting its
    distinct liberties up to four."""
    cells = state.view(np.int8)
    for plane in range(LIBERTY_PLANES, LIBERTY_PLANES + 4):
        for r in range(n):
            for c in range(n):
                out[plane, r, c] = 0.0
    seen = numba.carray(stack_words(MAX_PADDED), MAX_PADDED, np.int64)
    group = numba.carray(stack_words(MAX_PADDED), MAX_PADDED, np.int64)
    for i in range(stride * stride):
        seen[i] = 0
    own_free = BLACK_FREE if black_to_move else WHITE_FREE
    for r in range(n):
        for c in range(n):
            local = (r + 1) * stride + c + 1
            code = cells[CELL0 + local]
            if (code != BLACK_FREE and code != WHITE_FREE) or seen[local]:
                continue
            # A breadth-first walk of the group; the first three liberties found are kept to
            # tell a new one from one seen before (a fourth only needs counting).
            seen[local] = 1
            group[0] = local
            head, end = 0, 1
            liberties, first, second, third = 0, -1, -1, -1
            while head < end:
                cell = group[head]
                head += 1
                for u in (cell - 1, cell + 1, cell - stride, cell + stride):
                    v = cells[CELL0 + u]
                    if v == code and not seen[u]:
                        seen[u] = 1
                        group[end] = u
                        end += 1
                    elif v == EMPTY and liberties < 4 and u != first and u != second and u != third:
                        if liberties == 0:
                            first = u
                        elif liberties == 1:
                            second = u
                        elif liberties == 2:
                            third = u
                        liberties += 1
            if liberties == 2 or liberties == 3:
                plane = LIBERTY_PLANES + 2 * (liberties - 2) + (0 if code == own_free else 1)
                for i in range(end):
                    out[plane, group[i] // stride - 1, group[i] % stride - 1] = 1.0


@numba.njit(cache=True)
def transform_into(state, cell_perm, out):
    """cell_perm [n*n]: one of ``dihedral_cell_perms(n)``; moves the board and the
    packed boards, composes FRAME, and keeps HASH and HISTORY (see the docstring)."""
    n = state[SIZE]
    stride, packed, words, history = layout(n)
    symmetry = -1
    for k in range(8):
        r0, c0 = dihedral_source(k, n, 0, 0)
        r1, c1 = dihedral_source(k, n, 0, 1)
        if cell_perm[0] == r0 * n + c0 and cell_perm[1] == r1 * n + c1:
            symmetry = k
            break
    if symmetry < 0:
        raise ValueError("transform_into: cell_perm is not a symmetry of the square board")
    copy_words(state, 0, out, 0, state.shape[0])
    out[FRAME] = COMPOSE[state[FRAME], symmetry]
    for i in range(packed, packed + (EVER + 1) * 2 * words):
        out[i] = 0
    cells, out_cells = state.view(np.int8), out.view(np.int8)
    for a in range(n * n):
        q, q_source = cell_of(a, n), cell_of(cell_perm[a], n)
        out_cells[q] = cells[q_source]
        local, local_source = q - CELL0, q_source - CELL0
        for block in range((EVER + 1) * 2):
            base = packed + block * words
            bit = (state[base + (local_source >> 6)] >> (local_source & 63)) & 1
            out[base + (local >> 6)] |= bit << (local & 63)


# ---- kernels behind the helpers ------------------------------------------------


@numba.njit(cache=True)
def move_verdict(state, action):
    """(code, ply): LEGAL, GAME_OVER, OFF_BOARD, OCCUPIED, SUICIDE, or SUPERKO with
    the ply after which the repeated board arose (-1 for the other codes)."""
    n = state[SIZE]
    if state[STATUS] != ONGOING:
        return GAME_OVER, -1
    if action < 0 or action > n * n:
        return OFF_BOARD, -1
    if action == n * n:
        return LEGAL, -1
    stride = n + 2
    cells = state.view(np.int8)
    q = cell_of(action, n)
    mover = state[TO_MOVE]
    if cells[q] != EMPTY:
        return OCCUPIED, -1
    if not neighbours(cells, q, stride) & (EMPTY | codes(mover)[0] | codes(-mover)[1]):
        return SUICIDE, -1
    marks = np.zeros(n * n + 1, np.bool_)
    stack = np.empty(2 * stride * stride, np.int64)
    signature, size = captured_signature(cells, state[FRAME], q, action, mover, n, stride, marks, stack)
    after = state[HASH] ^ signature ^ point_key(state[FRAME], mover, q, n, stride)
    ply = find_repeat(state, after, state[STONES] + 1 - size)
    if ply >= 0:
        return SUPERKO, ply
    return LEGAL, -1


@numba.njit(cache=True)
def settle_setup(state):
    """Complete a state whose cells hold stones as FREE codes and whose history is empty:
    atari flags, HASH, STONES, packed board, HISTORY entry 0 (ply 0) and NUM_BOARDS.
    Returns False if a group has no liberty."""
    n = state[SIZE]
    stride, packed, words, history = layout(n)
    cells = state.view(np.int8)
    scratch = np.empty(stride * stride, np.int64)
    board_hash, stones = 0, 0
    for a in range(n * n):
        q = cell_of(a, n)
        if cells[q] == EMPTY:
            continue
        colour = BLACK if cells[q] & BLACK_CODES else WHITE
        if settle_group(cells, q, stride, colour, scratch, False) == 0:
            return False
        board_hash ^= point_key(state[FRAME], colour, q, n, stride)
        stones += 1
        local = q - CELL0
        for base in (packed, packed + EVER * 2 * words):  # the board of now, and EVER
            base += 0 if colour == BLACK else words
            state[base + (local >> 6)] |= 1 << (local & 63)
    state[HASH] = board_hash
    state[STONES] = stones
    state[history] = board_hash | (stones << PLY_BITS)
    state[NUM_BOARDS] = 1
    return True


# ---- the game's notation (GTP vertices) and its board drawing -------------------
# Reading and editing positions outside play (komi, setup stones, scores) is engine.go_positions.

COLUMNS = "ABCDEFGHJKLMNOPQRST"
"""GTP column letters: I is skipped."""


def board_size(state: np.ndarray) -> int:
    return int(state[SIZE])


def point_colours(state: np.ndarray) -> np.ndarray:
    """[n*n] int: the colour on every point (BLACK, WHITE, or 0 when empty)."""
    n = board_size(state)
    stride = n + 2
    padded = state.view(np.int8)[CELL0: CELL0 + stride * stride].reshape(stride, stride)
    points = padded[1:-1, 1:-1].ravel()
    return np.where(points & BLACK_CODES, BLACK, np.where(points & WHITE_CODES, WHITE, 0))


def parse_vertex(text: str, size: int) -> int:
    """A GTP vertex ('D4', 'd4', 'pass'; A1 is bottom-left, letters skip I) -> action."""
    word = text.strip().upper()
    if word == "PASS":
        return size * size
    match = re.fullmatch(r"([A-Z])(\d{1,2})", word)
    last = COLUMNS[size - 1]
    if match is None or match.group(1) not in COLUMNS[:size] or not 1 <= int(match.group(2)) <= size:
        hint = " (GTP columns skip I)" if match is not None and match.group(1) == "I" else ""
        raise IllegalMoveError(f"'{text.strip()}' is not a point of the {size}x{size} board{hint}: "
                               f"columns A-{last} without I, rows 1-{size}, or pass")
    col = COLUMNS.index(match.group(1))
    return (size - int(match.group(2))) * size + col


def format_vertex(action: int, size: int) -> str:
    """Action -> GTP vertex ('D4', or 'pass' for action size*size)."""
    action = int(action)
    if action == size * size:
        return "pass"
    return f"{COLUMNS[action % size]}{size - action // size}"


def split_moves(text: str) -> list[str]:
    """'D4 Q16, pass' -> ['D4', 'Q16', 'pass']."""
    return text.replace(",", " ").split()


def render(state: np.ndarray) -> str:
    """The board as GTP showboard draws it: X black, O white, column letters and row numbers."""
    n = board_size(state)
    cells = point_colours(state)
    letters = "   " + " ".join(COLUMNS[:n])
    lines = [letters]
    for r in range(n):
        row = " ".join("X" if v > 0 else "O" if v < 0 else "." for v in cells[r * n: r * n + n])
        lines.append(f"{n - r:2d} {row} {n - r}")
    lines.append(letters)
    return "\n".join(lines)


def why_illegal(state: np.ndarray, action: int) -> str:
    """Which rule forbids ``action``: game over, off the board, occupied, suicide or superko."""
    n = board_size(state)
    code, ply = move_verdict(state, int(action))
    if code == GAME_OVER:
        return "the game is over"
    if code == OFF_BOARD:
        return f"action {action} is off the board (actions are 0-{n * n}, {n * n} = pass)"
    vertex = format_vertex(action, n)
    if code == OCCUPIED:
        return f"{vertex} is occupied"
    if code == SUICIDE:
        return f"{vertex} is suicide: the stone and its group would have no liberty"
    if code == SUPERKO:
        earlier = "the initial position" if ply == 0 else f"the position after move {ply}"
        return f"{vertex} repeats {earlier} (positional superko)"
    return f"{vertex} is legal"


# ---- game specs, one per board size ------------------------------------------------


def size_from_name(name: str) -> int | None:
    """N for a name 'goN' (any digits), else None."""
    match = re.fullmatch(r"go(\d+)", name)
    return int(match.group(1)) if match else None


def _training_presets(size: int) -> dict[str, TrainingPreset]:
    """The cpu_preset and gpu_preset of a board size: only 9x9 has been trained and measured."""
    if size != 9:
        return {}
    # 2 CPU cores: b4c32 with PUCT and 64 simulations, the first 2-hour run's settings, plus
    # KataGo's ownership and score targets with its loss weights (most of that run's losses
    # against GNU Go were a whole group dying). Measured against the alternative (BENCHMARKS.md):
    # b6c48 with Gumbel search and 32 simulations, 128 games a generation, made a third as
    # many generations in 2 hours and lost 24 of 25 games to the first run's network.
    # Never resign (-2): with -0.9, a 35-minute run collapsed by generation 20 into one-move
    # games (white resigned after black's first stone; the 10% of games that never resign
    # saw a weak white lose too, so the false-resignation rate stayed at 0).
    cpu = TrainingPreset(
        net="b4c32",
        mcts={"num_simulations": 64},
        selfplay={"games_in_parallel": 64, "games_per_generation": 64, "temperature_moves": 20,
                  "resign_threshold": -2.0},
        # 50-75 s a generation, measured: 8,000 positions at 140-210/s on two cores, then 100
        # steps (3 samplings of each new position); the decay spans about 2 hours.
        train={"batch_size": 256, "steps_per_generation": 100, "lr_decay_generations": 120,
               "window_min": 20_000, "window_max": 300_000, "ownership_weight": 1.5, "score_weight": 0.5},
    )
    gpu = TrainingPreset(
        net="b10c128",
        mcts={"num_simulations": 400},
        selfplay={"games_in_parallel": 512, "games_per_generation": 1024, "temperature_moves": 20,
                  "resign_threshold": -2.0},
        train={"batch_size": 1024, "steps_per_generation": 400, "window_min": 200_000, "window_max": 2_000_000,
               "ownership_weight": 1.5, "score_weight": 0.5},
    )
    return {"cpu_preset": cpu, "gpu_preset": gpu}


@functools.cache
def spec_for_size(size: int):
    """The GameSpec of Go on a ``size`` x ``size`` board (built once per size)."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise UnknownGameError(f"unknown game 'go{size}': Go boards are {MIN_SIZE}x{MIN_SIZE} to "
                               f"{MAX_SIZE}x{MAX_SIZE} (go{MIN_SIZE} ... go{MAX_SIZE})")
    num_points = size * size
    cell_perms = dihedral_cell_perms(size)
    action_perms = np.concatenate([cell_perms, np.full((8, 1), num_points, np.int64)], axis=1)
    game = types.SimpleNamespace(
        __name__=__name__, initial_state=_make_initial_state(size),
        legal_mask=legal_mask, search_mask=search_mask, play_into=play_into, status=status, encode=encode, transform_into=transform_into,
        render=render, parse_move=functools.partial(parse_vertex, size=size),
        format_move=functools.partial(format_vertex, size=size), split_moves=split_moves, why_illegal=why_illegal)
    return spec_from_module(
        game,
        name=f"go{size}",
        board_shape=(size, size),
        num_actions=num_points + 1,
        planes_shape=(NUM_PLANES, size, size),
        state_size=layout(size)[3] + 2 * num_points + 1,
        max_game_length=2 * num_points,
        cell_perms=cell_perms,
        action_perms=action_perms,
        inverse=inverse_indices(cell_perms),
        dirichlet_alpha=round(10.0 / num_points, 3),  # AlphaZero's 0.03 on 19x19
        colour_plane=COLOUR_PLANE,
        gtp_size=size,
        final_ownership=ownership_and_score,
        final_margin=final_margin,
        **_training_presets(size),
    )


SPECS = tuple(spec_for_size(size) for size in REGISTERED_SIZES)
"""The registered sizes' specs (go9, go13, go19)."""

