"""Plain-Python reference rules, written independently of the numba kernels.

Boards are lists of rows (row 0 = top, as in the planes), cells 'X', 'O' or
'.'; win detection scans every cell in every direction by brute force. Go
(ReferenceGo) keeps its board as one string and every board seen in a set.
"""

from __future__ import annotations

DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


def has_line(board: list[list[str]], mark: str, length: int) -> bool:
    rows, cols = len(board), len(board[0])
    for r in range(rows):
        for c in range(cols):
            for dr, dc in DIRECTIONS:
                cells = [(r + i * dr, c + i * dc) for i in range(length)]
                if all(0 <= y < rows and 0 <= x < cols and board[y][x] == mark for y, x in cells):
                    return True
    return False


class ReferenceGame:
    """Connect Four (gravity=True, 6x7, 4 in a row) or tic-tac-toe (3x3, 3 in a row)."""

    def __init__(self, rows: int, cols: int, length: int, gravity: bool):
        self.rows, self.cols, self.length, self.gravity = rows, cols, length, gravity
        self.board = [["."] * cols for _ in range(rows)]
        self.moves = 0
        self.winner = None

    @property
    def to_move(self) -> str:
        return "X" if self.moves % 2 == 0 else "O"

    @property
    def over(self) -> bool:
        return self.winner is not None or self.moves == self.rows * self.cols

    def legal_actions(self) -> list[int]:
        if self.over:
            return []
        if self.gravity:
            return [c for c in range(self.cols) if self.board[0][c] == "."]
        return [i for i in range(self.rows * self.cols) if self.board[i // self.cols][i % self.cols] == "."]

    def play(self, action: int) -> None:
        mark = self.to_move
        if self.gravity:
            row = max(r for r in range(self.rows) if self.board[r][action] == ".")
            self.board[row][action] = mark
        else:
            self.board[action // self.cols][action % self.cols] = mark
        self.moves += 1
        if has_line(self.board, mark, self.length):
            self.winner = mark

    def value_for_side_to_move(self) -> int | None:
        """None while ongoing; -1 if the previous mover won; 0 for a draw."""
        if self.winner is not None:
            return -1
        return 0 if self.over else None

    def planes(self):
        """[3][rows][cols] of 0/1: side to move's stones, the opponent's, and all ones
        when X (the first player) is to move."""
        own, other = self.to_move, ("O" if self.to_move == "X" else "X")
        stones = [[[1.0 if cell == mark else 0.0 for cell in row] for row in self.board] for mark in (own, other)]
        colour = [[1.0 if own == "X" else 0.0 for _ in row] for row in self.board]
        return stones + [colour]


class ReferenceGo:
    """Go on a size x size board: captures, no suicide, positional superko (a set
    of every board seen), two passes or 2 * size * size moves end the game, area
    scoring with komi. A board is a string of 'X' (black), 'O' (white) and '.'
    cells, row 0 on top; actions are cells, and size * size is pass."""

    def __init__(self, size: int, komi: float = 7.5, history: int = 4):
        self.size, self.komi, self.history = size, komi, history
        self.board = "." * (size * size)
        self.boards = [self.board]  # the board after every move, passes included
        self.seen = {self.board}
        self.to_move = "X"
        self.passes = 0
        self.moves = 0
        self.neighbours = [
            [(r + dr) * size + c + dc for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
             if 0 <= r + dr < size and 0 <= c + dc < size]
            for r in range(size) for c in range(size)
        ]

    @property
    def over(self) -> bool:
        return self.passes >= 2 or self.moves >= 2 * self.size * self.size

    def _groups(self) -> tuple[list[int], list[set[int]], list[set[int]]]:
        """Group index of every stone (-1 on empty points), each group's stones and liberties."""
        group = [-1] * len(self.board)
        stones: list[set[int]] = []
        liberties: list[set[int]] = []
        for start, colour in enumerate(self.board):
            if colour == "." or group[start] >= 0:
                continue
            members, libs, frontier = {start}, set(), [start]
            group[start] = len(stones)
            while frontier:
                point = frontier.pop()
                for q in self.neighbours[point]:
                    if self.board[q] == ".":
                        libs.add(q)
                    elif self.board[q] == colour and group[q] < 0:
                        group[q] = len(stones)
                        members.add(q)
                        frontier.append(q)
            stones.append(members)
            liberties.append(libs)
        return group, stones, liberties

    def _after(self, point: int, groups) -> str | None:
        """The board after the side to move plays on the empty ``point``; None for suicide."""
        group, stones, liberties = groups
        me, other = self.to_move, ("O" if self.to_move == "X" else "X")
        captured: set[int] = set()
        for q in self.neighbours[point]:
            if self.board[q] == other and liberties[group[q]] == {point}:
                captured |= stones[group[q]]
        breathes = any(self.board[q] == "." for q in self.neighbours[point]) or any(
            self.board[q] == me and liberties[group[q]] != {point} for q in self.neighbours[point])
        if not captured and not breathes:
            return None
        cells = list(self.board)
        cells[point] = me
        for q in captured:
            cells[q] = "."
        return "".join(cells)

    def legal_actions(self) -> list[int]:
        if self.over:
            return []
        groups = self._groups()
        legal = []
        for point, cell in enumerate(self.board):
            if cell == ".":
                after = self._after(point, groups)
                if after is not None and after not in self.seen:
                    legal.append(point)
        return legal + [len(self.board)]

    def play(self, action: int) -> None:
        if action == len(self.board):
            self.passes += 1
        else:
            self.board = self._after(action, self._groups())
            self.seen.add(self.board)
            self.passes = 0
        self.boards.append(self.board)
        self.moves += 1
        self.to_move = "O" if self.to_move == "X" else "X"

    def area(self) -> int:
        """Black's area minus white's: stones, and empty regions reaching one colour only."""
        difference = self.board.count("X") - self.board.count("O")
        done: set[int] = set()
        for start, cell in enumerate(self.board):
            if cell != "." or start in done:
                continue
            region, reached, frontier = {start}, set(), [start]
            while frontier:
                point = frontier.pop()
                for q in self.neighbours[point]:
                    if self.board[q] == "." and q not in region:
                        region.add(q)
                        frontier.append(q)
                    elif self.board[q] != ".":
                        reached.add(self.board[q])
            done |= region
            if reached == {"X"}:
                difference += len(region)
            elif reached == {"O"}:
                difference -= len(region)
        return difference

    def value_for_side_to_move(self) -> int | None:
        if not self.over:
            return None
        margin = self.area() - self.komi
        black = (margin > 0) - (margin < 0)
        return black if self.to_move == "X" else -black

    def planes(self):
        """[2T + 7][size][size]: for t = 0..T-1 the side to move's stones t moves ago
        and the opponent's (empty before the game), then all ones when black is to move,
        then for k = 1, 2, 3 the side to move's stones whose group has exactly k liberties,
        and the opponent's."""
        me, other = self.to_move, ("O" if self.to_move == "X" else "X")
        n = self.size
        planes = []
        for t in range(self.history):
            board = self.boards[-1 - t] if t < len(self.boards) else "." * (n * n)
            for mark in (me, other):
                planes.append([[1.0 if board[r * n + c] == mark else 0.0 for c in range(n)] for r in range(n)])
        planes.append([[1.0 if me == "X" else 0.0] * n for _ in range(n)])
        group, _, liberties = self._groups()
        for count in (1, 2, 3):
            for mark in (me, other):
                planes.append([[1.0 if self.board[r * n + c] == mark and len(liberties[group[r * n + c]]) == count
                                else 0.0 for c in range(n)] for r in range(n)])
        return planes


def reference_for(name: str) -> ReferenceGame | ReferenceGo:
    if name == "connect4":
        return ReferenceGame(6, 7, 4, gravity=True)
    if name == "tictactoe":
        return ReferenceGame(3, 3, 3, gravity=False)
    if name.startswith("go"):
        return ReferenceGo(int(name[2:]))
    raise KeyError(name)
