"""Plain-Python reference rules, written independently of the numba kernels.

Boards are lists of rows (row 0 = top, as in the planes), cells 'X', 'O' or
'.'; win detection scans every cell in every direction by brute force.
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


def reference_for(name: str) -> ReferenceGame:
    if name == "connect4":
        return ReferenceGame(6, 7, 4, gravity=True)
    if name == "tictactoe":
        return ReferenceGame(3, 3, 3, gravity=False)
    raise KeyError(name)
