"""Exact Connect Four solver: null-window negamax with alpha-beta on bitboards.

The techniques are those of Pascal Pons' "Solving Connect Four" blog series
(blog.gamesolver.org); the code is written for this project's state layout
(``engine.connect4``: slots CURRENT, MASK, PLY, STATUS; bit ``7*col + row``).

Score convention (as in ``engine/data/connect4/README.md``)
------------------------------------------------------------------
The score of a position is its value for the side to move under perfect play
on both sides:

- ``0``: draw;
- ``+s``: the side to move wins, and ``22 - s`` is the number of stones it has
  played when its fourth in a row lands (``+18`` = a win with its 4th stone,
  ``+1`` = with its 21st, the last stone it owns);
- ``-s``: the side to move loses, the opponent completing four with its
  ``(22 - s)``-th stone.

Every score lies in ``[-18, +18]``.

Finished positions: ``solve`` of a position whose game is over returns the
score of the completed game from the side to move's point of view: a draw
(full board) is ``0``; a won game is lost for the side to move, so it gets
``-(22 - k)`` where ``k`` is the number of stones the winner had played when
its fourth landed (e.g. ``-18`` after X completes four with its 4th stone).
``analyze`` of a finished position has no playable column: all ``None``. A
column that wins at once gets its winning score ``22 - k``, the same value as
``-solve`` of the finished position it leads to.

Search
------
- Negamax with alpha-beta; scores are bounded by the number of stones left,
  which tightens the window at every node.
- Only *non-losing* moves are searched: a move that lets the opponent win at
  once (the cell just below an opponent threat) is skipped, and an opponent
  threat that is playable now must be blocked. Positions where the side to
  move can win at once never enter the search (callers check first).
- Move ordering: moves that create the most winning cells (threats) first,
  ties broken centre-first (columns 4, 3, 5, 2, 6, 1, 7); near the end of
  the game (``ORDER_PLY``) centre-first only.
- A transposition table of ``2**table_bits`` int64 entries keeps an upper or a
  lower bound per position (always replace); deep nodes use only a small,
  cache-resident part of it (see ``DEEP_PLY``). Before searching a node's
  moves, the table entries of its children are checked: for a cutoff
  (enhanced transposition cutoff) and for moves already known to be too weak.
- The root is solved by a sequence of null-window searches ``[med, med+1]``:
  a binary search on the score that first asks the cheap questions (is it a
  quick win? a quick loss?) before the close, costly ones.

All kernels are ``@numba.njit(cache=True)``; the table is passed in as an
array (no globals are mutated), and the ``Solver`` class owns it.
"""

from __future__ import annotations

import numba
import numpy as np

from engine.connect4 import (
    BOARD, BOTTOM_ROW, CURRENT, HEIGHT, MASK, PLY, STATE_SIZE, WIDTH, column_bits, has_four,
)
from engine.exact import best_actions

NUM_CELLS = WIDTH * HEIGHT  # 42
MIN_SCORE = -(NUM_CELLS // 2) + 3  # -18: lost to the opponent's 4th stone
MAX_SCORE = (NUM_CELLS + 1) // 2 - 3  # +18: won with one's own 4th stone

COLUMN_ORDER = (3, 2, 4, 1, 5, 0, 6)
"""Centre columns first: they take part in more alignments."""

# ---- transposition table ----------------------------------------------------
# One int64 per entry, 0 = empty; key and bound share a word so that a probe
# costs one memory access:
#   bits  0..48  the position key, current + mask (unique per position, < 2**49)
#   bits 56..62  the bound code (below)
KEY_MASK = (1 << 49) - 1
CODE_SHIFT = 56
UPPER_CODES = MAX_SCORE - MIN_SCORE + 1  # 37
"""Bound codes: ``c`` in 1..37 means value <= c + MIN_SCORE - 1 (upper bound);
``c`` in 38..74 means value >= c - UPPER_CODES + MIN_SCORE - 1 (lower bound)."""
HASH_MULTIPLIER = 0x9E3779B97F4A7C15 - (1 << 64)  # golden-ratio constant as signed int64
DEEP_PLY = 24
DEEP_BITS = 17
"""Nodes with ``DEEP_PLY`` or more stones (about 95% of all nodes) use only the
first ``2**DEEP_BITS`` entries (1 MiB) of the table: that part stays in the L2
cache, and a cache miss in the whole 64 MiB table costs more than re-searching
such small subtrees. Shallower, costlier nodes use the whole table. Measured
on the begin-medium set: about 1.9x faster than one table for all nodes."""
ORDER_PLY = 28
"""Moves are ordered by threats only at nodes with fewer stones than this;
deeper, the subtrees are so small that counting threats for every move
costs more than it saves (plain centre-first order there: about 13% faster
on the begin-medium and middle-medium sets)."""
NO_SCORE = -1000
"""Marker of "no score": a full column in the ``analysis`` kernel's output,
no cutoff in ``transposition_cutoff``."""
DEFAULT_TABLE_BITS = 23


# ---- bitboard helpers -------------------------------------------------------


@numba.njit(cache=True)
def count_bits(bits):
    """Number of set bits of a non-negative int64 (few here: Kernighan's loop)."""
    count = 0
    while bits:
        bits &= bits - 1
        count += 1
    return count


@numba.njit(cache=True)
def column_of(move):
    """Column of the single cell set in ``move``."""
    col = 0
    while move >= np.int64(1) << (7 * col + 7):
        col += 1
    return col


@numba.njit(cache=True)
def playable_cells(mask):
    """The lowest empty cell of every column that is not full."""
    return (mask + BOTTOM_ROW) & BOARD


@numba.njit(cache=True)
def winning_cells(stones, mask):
    """Empty cells that would complete four in a row for ``stones``.

    A cell is winning when three stones lie next to it along one line, with the
    cell at an end or in one of the two inner places of the four. Bits shifted
    past the board are cut off by the final mask, and the empty sentinel row
    keeps horizontal and diagonal shifts from wrapping into the next column.
    """
    # vertical: only the cell on top of three stones
    result = (stones << 1) & (stones << 2) & (stones << 3)
    for shift in (7, 6, 8):  # horizontal, diagonal /, diagonal \
        pair = (stones << shift) & (stones << (2 * shift))
        result |= pair & (stones << (3 * shift))  # three on one side
        result |= pair & (stones >> shift)  # two on one side, one on the other
        pair = (stones >> shift) & (stones >> (2 * shift))
        result |= pair & (stones >> (3 * shift))
        result |= pair & (stones << shift)
    return result & (BOARD ^ mask)


@numba.njit(cache=True)
def can_win_next(current, mask):
    """True if the side to move completes four with one of its legal moves."""
    return (winning_cells(current, mask) & playable_cells(mask)) != 0


@numba.njit(cache=True)
def non_losing_moves(current, mask):
    """Moves (as one bitboard of cells) after which the opponent cannot win at once.

    Assumes the side to move cannot win at once. Returns 0 when every move
    loses: two opponent threats are playable, or all moves open one.
    """
    possible = playable_cells(mask)
    threats = winning_cells(current ^ mask, mask)
    forced = possible & threats
    if forced:
        if forced & (forced - 1):  # two threats to block: lost
            return 0
        possible = forced
    # never play right below an opponent threat
    return possible & ~(threats >> 1)


# ---- transposition table ----------------------------------------------------


@numba.njit(cache=True)
def table_slot(key, size_mask):
    """Index of ``key`` in a table of ``size_mask + 1`` (a power of two) entries."""
    mixed = key * HASH_MULTIPLIER  # wraps; low bits depend on low key bits only...
    mixed ^= mixed >> 31  # ...so fold the well-mixed high bits down
    return mixed & size_mask


@numba.njit(cache=True)
def table_lookup(table, ply, key):
    """(slot, code): where ``key`` lives in ``table`` and its bound code (0 = none)."""
    size_mask = table.shape[0] - 1
    if ply >= DEEP_PLY:
        size_mask = min(size_mask, (1 << DEEP_BITS) - 1)
    slot = table_slot(key, size_mask)
    entry = table[slot]
    if (entry & KEY_MASK) == key:
        return slot, entry >> CODE_SHIFT
    return slot, 0


@numba.njit(cache=True)
def table_store(table, slot, key, code):
    """Overwrite ``slot`` with ``key`` and its bound code (always replace)."""
    table[slot] = key | (np.int64(code) << CODE_SHIFT)


# ---- search -----------------------------------------------------------------


@numba.njit(cache=True)
def order_moves(current, mask, candidates):
    """The moves of ``candidates`` best first, packed into one int64, and their count.

    Returns ``(packed, count)``: byte ``i`` of ``packed`` (i < count) is
    ``score << 3 | column`` of the i-th move to try. A packed int64 lives in a
    register, where a scratch array would have to be passed down the
    recursion (every array argument costs a numba call several words).
    Moves that leave their player the most winning cells come first; the
    insertion is stable, so equal scores keep the centre-first order.
    """
    packed = np.int64(0)
    count = 0
    if candidates & (candidates - 1) == 0:  # a single move: nothing to order
        return np.int64(column_of(candidates)), 1
    for col in COLUMN_ORDER:
        move = candidates & column_bits(col)
        if move == 0:
            continue
        score = min(count_bits(winning_cells(current | move, mask | move)), 31)
        i = 0
        while i < count and ((packed >> (8 * i)) & 0xFF) >> 3 >= score:
            i += 1
        low = packed & ((np.int64(1) << (8 * i)) - 1)
        high = packed >> (8 * i)
        packed = low | (np.int64(score << 3 | col) << (8 * i)) | (high << (8 * i + 8))
        count += 1
    return packed, count


@numba.njit(cache=True)
def centre_first(candidates):
    """The moves of ``candidates`` in centre-first order, packed as in ``order_moves``."""
    packed = np.int64(0)
    count = 0
    for col in COLUMN_ORDER:
        if candidates & column_bits(col):
            packed |= np.int64(col) << (8 * count)
            count += 1
    return packed, count


@numba.njit(cache=True)
def transposition_cutoff(opponent, mask, candidates, ply, alpha, beta, table):
    """Use the table entries of the children before searching any of them.

    Returns ``(cutoff, useful)``. Enhanced transposition cutoff: an upper
    bound ``u`` stored for a child means that move is worth at least ``-u``
    to us; if that reaches ``beta``, ``cutoff`` is that score and the node
    fails high without a search (else ``cutoff`` is NO_SCORE). A lower bound
    ``l`` means the move is worth at most ``-l``: if that cannot beat
    ``alpha`` the move is dropped from ``useful`` (the candidates worth
    searching). Together about 20% faster on the begin-medium set.
    """
    rest = candidates
    useful = candidates
    while rest:
        move = rest & -rest
        rest ^= move
        _, code = table_lookup(table, ply + 1, opponent + (mask | move))
        if code > UPPER_CODES:
            if -(code - UPPER_CODES + MIN_SCORE - 1) <= alpha:
                useful ^= move
        elif code > 0:
            bound = -(code + MIN_SCORE - 1)
            if bound >= beta:
                return bound, useful
    return NO_SCORE, useful


@numba.njit(cache=True)
def negamax(current, mask, ply, alpha, beta, table):
    """Score of the position if it lies in ``(alpha, beta)``, else a bound on it.

    Returns ``v`` with: true <= v if v <= alpha, true >= v if v >= beta, else
    true == v. Precondition: the game is not over and the side to move cannot
    win at once.

    current, mask: bitboards of the side to move's stones and of all stones.
    ply: stones on the board. table [T] int64: transposition table, T a
    power of two. Only the table is an array: each array argument makes a
    numba call several machine words longer, which showed in the node rate.
    """
    candidates = non_losing_moves(current, mask)
    if candidates == 0:  # the opponent wins with its next stone
        return -((NUM_CELLS - ply) // 2)
    if ply >= NUM_CELLS - 2:  # neither side can complete four any more
        return 0

    # The opponent cannot win with its next stone, so the loss is at least
    # one move further away; nor can we win now, so our win is too.
    lowest = -((NUM_CELLS - 2 - ply) // 2)
    if alpha < lowest:
        alpha = lowest
        if alpha >= beta:
            return alpha
    highest = (NUM_CELLS - 1 - ply) // 2
    if beta > highest:
        beta = highest
        if alpha >= beta:
            return beta

    key = current + mask
    slot, code = table_lookup(table, ply, key)
    if code > UPPER_CODES:
        lower = code - UPPER_CODES + MIN_SCORE - 1
        if alpha < lower:
            alpha = lower
            if alpha >= beta:
                return alpha
    elif code > 0:
        upper = code + MIN_SCORE - 1
        if beta > upper:
            beta = upper
            if alpha >= beta:
                return beta

    opponent = current ^ mask
    cutoff, candidates = transposition_cutoff(opponent, mask, candidates, ply, alpha, beta, table)
    if cutoff != NO_SCORE:
        return cutoff
    if candidates == 0:  # every move is known to be no better than alpha
        return alpha

    if ply < ORDER_PLY:
        packed, count = order_moves(current, mask, candidates)
    else:
        packed, count = centre_first(candidates)
    for i in range(count):
        col = (packed >> (8 * i)) & 7
        move = candidates & column_bits(col)
        score = -negamax(opponent, mask | move, ply + 1, -beta, -alpha, table)
        if score >= beta:
            # a lower bound; clamping keeps the code in range and stays valid
            code = min(score, MAX_SCORE) - MIN_SCORE + 1 + UPPER_CODES
            table_store(table, slot, key, code)
            return score
        if score > alpha:
            alpha = score
    table_store(table, slot, key, max(alpha, MIN_SCORE) - MIN_SCORE + 1)
    return alpha


@numba.njit(cache=True)
def trunc_half(value):
    """value / 2 rounded towards zero."""
    return value // 2 if value >= 0 else -((-value) // 2)


@numba.njit(cache=True)
def solve_bitboards(current, mask, ply, table):
    """Exact score of an ongoing or finished position (arguments as in negamax)."""
    if has_four(current ^ mask):  # the previous mover has won
        return -((NUM_CELLS + 2 - ply) // 2)
    if ply >= NUM_CELLS:
        return 0
    if can_win_next(current, mask):
        return (NUM_CELLS + 1 - ply) // 2
    low = -((NUM_CELLS - ply) // 2)
    high = (NUM_CELLS + 1 - ply) // 2
    # Binary search on the score with null-window searches: each answers only
    # "above med or not?", but prunes far more than a wide window would.
    # While the interval is still wide, med is taken at half a bound instead
    # of the middle: those probes ask "is it a quick win / quick loss?",
    # which is cheap to settle, before the close, costly questions.
    while low < high:
        med = low + (high - low) // 2
        if med <= 0 and trunc_half(low) < med:
            med = trunc_half(low)
        elif med >= 0 and trunc_half(high) > med:
            med = trunc_half(high)
        result = negamax(current, mask, ply, med, med + 1, table)
        if result <= med:
            high = result
        else:
            low = result
    return low


@numba.njit(cache=True)
def solve_state(state, table):
    """Exact score of ``state`` [4] int64 for the side to move (see module docstring)."""
    return solve_bitboards(state[CURRENT], state[MASK], state[PLY], table)


@numba.njit(cache=True)
def analyze_state(state, table, out):
    """Score of every column of ``state`` [4] from the mover's point of view.

    out [WIDTH] int64 receives, per column, the score of the position after
    playing it, negated to the mover's view; NO_SCORE for a full column or
    when the game is already over.
    """
    current = state[CURRENT]
    mask = state[MASK]
    ply = state[PLY]
    over = has_four(current ^ mask) or ply >= NUM_CELLS
    possible = playable_cells(mask)
    wins = winning_cells(current, mask)
    for col in range(WIDTH):
        move = possible & column_bits(col)
        if over or move == 0:
            out[col] = NO_SCORE
        elif move & wins:  # four at once, with stone number ply // 2 + 1
            out[col] = (NUM_CELLS + 1 - ply) // 2
        else:
            out[col] = -solve_bitboards(current ^ mask, mask | move, ply + 1, table)


# ---- Python API -------------------------------------------------------------


def _checked_state(state: np.ndarray) -> np.ndarray:
    """``state`` as a contiguous int64 [4] array; ValueError if it cannot be one."""
    array = np.ascontiguousarray(state, dtype=np.int64)
    if array.shape != (STATE_SIZE,):
        raise ValueError(
            f"a Connect Four state is an int64 array of shape ({STATE_SIZE},), got shape {array.shape}"
        )
    current, mask = int(array[CURRENT]), int(array[MASK])
    if mask & ~BOARD or current & ~mask or bin(mask).count("1") != array[PLY]:
        raise ValueError("not a Connect Four position: stones outside the board or a wrong ply count")
    return array


class Solver:
    """Exact Connect Four solver with a transposition table reused across calls.

    Parameters
    ----------
    table_bits:
        The transposition table has ``2**table_bits`` int64 entries
        (23 -> 64 MiB). Entries stay valid across positions, so solving many
        positions of one game with the same Solver gets faster as it goes.

    Scores follow the module docstring (0 draw, ``22 - stones`` for a win).
    """

    def __init__(self, table_bits: int = DEFAULT_TABLE_BITS):
        if not 8 <= table_bits <= 32:
            raise ValueError(f"table_bits must be in 8..32, got {table_bits}")
        self.table_bits = table_bits
        self.table = np.zeros(1 << table_bits, dtype=np.int64)
        """[2**table_bits] int64: packed key and bound per entry, 0 = empty."""

    def reset(self) -> None:
        """Empty the transposition table (never needed for correctness)."""
        self.table[:] = 0

    def solve(self, state: np.ndarray) -> int:
        """Exact score of ``state`` [4] int64 for the side to move.

        A finished game scores ``0`` (draw) or ``-(22 - k)``, the side to move
        having lost to the opponent's ``k``-th stone.
        """
        return int(solve_state(_checked_state(state), self.table))

    def analyze(self, state: np.ndarray) -> list[int | None]:
        """Per column (7 entries): the score after playing it, from the mover's view.

        ``max`` of the non-None entries equals ``solve(state)``. None for a full
        column, and for every column once the game is over.
        """
        out = np.empty(WIDTH, dtype=np.int64)
        analyze_state(_checked_state(state), self.table, out)
        return [None if value == NO_SCORE else int(value) for value in out]

    def best_actions(self, state: np.ndarray) -> np.ndarray:
        """int64 [k]: the columns (0-based, ascending) achieving the best score.

        Empty once the game is over.
        """
        return best_actions(self.analyze(state))


def describe_score(score: int, mover: str = "the side to move", opponent: str = "the opponent") -> str:
    """Plain words for ``score``, seen by ``mover``, the player to move.

    >>> describe_score(18, "X", "O")
    'X wins with its 4th stone'
    """
    if score == 0:
        return "a draw"
    stones = 22 - abs(score)
    if score > 0:
        return f"{mover} wins with its {ordinal(stones)} stone"
    return f"{mover} loses: {opponent} wins with its {ordinal(stones)} stone"


def ordinal(number: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 22 -> '22nd'."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


__all__ = ["Solver", "describe_score", "MIN_SCORE", "MAX_SCORE", "NO_SCORE"]
