"""Go games in SGF, one game at a time: written by the arena and the GTP expert, read and
replayed on our engine for the supervised bootstrap. ``engine.sgf_files`` reads sets of them
(files, folders, zips) and filters them by rank.

Where it lives: SGF is a record format of Go shared by ``arena`` and ``selfplay.experts``, so it
sits in ``engine`` beside the Go rules it replays on (as does the GTP client,
``engine.gtp_client``).

Conventions (those of sgfmill and GTP):

- A point is ``(row, col)`` with ``(0, 0)`` the bottom-left corner, so GTP's ``A1``;
  ``None`` is a pass. A move is ``(colour, point)`` with colour ``"b"`` or ``"w"``.
- ``SGFGame`` is one game's record: board size, komi, result, players and their
  ranks, handicap setup stones and the main line's moves. Variations (only the
  first child of each node is followed, as in SGF's "main line") and comments
  are dropped.

Reading never raises on a bad game: ``parse_sgf`` returns an ``SGFError`` with
one of SKIP_REASONS for every game it cannot use. A game is used when it is Go
(GM 1) on a square board that our engine plays (``engine.go``: 5x5 to 19x19),
its only setup stones are AB/AW in the root, its moves alternate colours, and
every move replays legally on our engine (ko by positional superko, no
suicide); a two-pass end followed by more moves counts as "moves after the end".
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sgfmill import sgf, sgf_grammar, sgf_moves

from engine import go, go_positions
from engine.spec import ONGOING, GameSpec, UnknownGameError

Point = tuple[int, int]
"""(row, col), (0, 0) = bottom left (GTP's A1)."""
Move = tuple[str, "Point | None"]
"""(colour "b" or "w", point or None for a pass)."""

SKIP_REASONS = {
    "unreadable": "the file or archive could not be read",
    "malformed": "not valid SGF, or a property with a value that makes no sense (SZ, KM, a point)",
    "not go": "the GM property names another game",
    "board size": "the board is not square or has a size our Go engine does not play",
    "komi": "a komi that is not a multiple of 0.5 (area scores count half points) or is out of range",
    "setup stones": "AE, or setup stones after the root: positions our records cannot hold",
    "out of turn": "two moves of one colour in a row (our games alternate)",
    "illegal move": "a move our rules forbid (occupied point, suicide, superko)",
    "moves after the end": "moves after two passes, or past the engine's cap of 2 * N * N moves",
    "rank unknown": "a minimum rank was asked and a player's rank is missing or unreadable",
    "below minimum rank": "a player ranks below the minimum asked",
}
"""Why a game was skipped: the key counted in engine.sgf_files.SGFSummary.skipped, and what it means."""


class SGFError(ValueError):
    """A game that cannot be used; ``reason`` is one of SKIP_REASONS, the message says more."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class SGFGame:
    """One Go game: what the supervised bootstrap needs, and what the arena writes."""

    board_size: int
    """N of the N x N board (the game is ``goN``)."""
    komi: float
    moves: tuple[Move, ...]
    """The main line: (colour, point or None for a pass), colours alternating."""
    result: str | None = None
    """The RE property as written: "B+R", "W+3.5", "0", "Void", ...; None when absent."""
    black: str | None = None
    """Black's name (PB)."""
    white: str | None = None
    """White's name (PW)."""
    black_rank: str | None = None
    """Black's rank as written (BR), e.g. "5d", "1k", "9p"."""
    white_rank: str | None = None
    handicap: int = 0
    """HA: the number of handicap stones (0 without handicap)."""
    setup_black: tuple[Point, ...] = ()
    """Black stones on the board before the first move (AB in the root: handicap stones)."""
    setup_white: tuple[Point, ...] = ()
    """White stones on the board before the first move (AW in the root)."""
    date: str | None = None
    """DT as written, e.g. "2024-05-01"."""
    application: str | None = None
    """AP, the program that wrote the file, as "name:version" (or "name")."""
    source: str = field(default="", compare=False)
    """Where the game was read from: a path, ``ARCHIVE.zip:MEMBER``, and ``#K`` for the K-th game
    (from 1) of a file holding several. Not part of the game: records compare equal without it."""

    @property
    def game(self) -> str:
        """The registered game this record replays on, e.g. "go9"."""
        return f"go{self.board_size}"

    @property
    def first_colour(self) -> str:
        """Who moves first: the colour of the first move; without moves, white after handicap stones."""
        if self.moves:
            return self.moves[0][0]
        return "w" if self.handicap and self.setup_black else "b"

    @property
    def winner(self) -> str | None:
        """"b" or "w" from the result, None for a draw, no result or an unknown one."""
        match = re.match(r"\s*([BW])\s*\+", self.result or "", re.IGNORECASE)
        return match.group(1).lower() if match else None

    @property
    def result_for_first(self) -> int | None:
        """The result from the first mover's side: +1 won, -1 lost, 0 draw (jigo); None unknown."""
        winner = self.winner
        if winner is not None:
            return 1 if winner == self.first_colour else -1
        if (self.result or "").strip().lower() in ("0", "draw", "jigo"):
            return 0
        return None


# ---- ranks ---------------------------------------------------------------------------

_RANK = re.compile(r"\s*(\d+)\s*(k|kyu|d|dan|p|pro)\b\s*(pro)?", re.IGNORECASE)


def rank_order(text: str | None) -> tuple[int, int] | None:
    """A sort key for a rank: kyu < dan < professional, 30k < 1k < 1d < 9d < 1p < 9p.

    Reads "5d", "1k", "9p", "3 dan", "2 kyu", "9d pro" and marks such as "4k*" or "2d?";
    None when ``text`` is empty or not a rank.
    """
    match = _RANK.match(text or "")
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()[0]
    if unit == "p" or match.group(3):
        return (2, number)
    return (1, number) if unit == "d" else (0, -number)


def check_rank(text: str) -> tuple[int, int]:
    """``rank_order`` of a rank the user typed; ValueError (one line) when it is not one."""
    order = rank_order(text)
    if order is None:
        raise ValueError(f"not a rank: {text!r} (write e.g. 5d, 1k or 3p)")
    return order


# ---- writing ---------------------------------------------------------------------------


def sgf_bytes(game: SGFGame) -> bytes:
    """The game as an SGF file (FF[4], UTF-8)."""
    record = sgf.Sgf_game(game.board_size)
    root = record.get_root()
    root.set("KM", float(game.komi))
    for identifier, value in (("PB", game.black), ("PW", game.white), ("BR", game.black_rank),
                              ("WR", game.white_rank), ("RE", game.result), ("DT", game.date)):
        if value:
            root.set(identifier, value)
    if game.application:
        name, _, version = game.application.partition(":")
        root.set("AP", (name, version))
    if game.handicap:
        root.set("HA", game.handicap)
    root.set_setup_stones(set(game.setup_black), set(game.setup_white))
    for colour, point in game.moves:
        record.extend_main_sequence().set_move(colour, point)
    if game.moves:
        sgf_moves.indicate_first_player(record)  # PL where the first mover is not the usual one
    return record.serialise()


def write_sgf(game: SGFGame, path: str | Path) -> Path:
    """Write ``game`` to ``path`` (folders made as needed); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sgf_bytes(game))
    return path


def today() -> str:
    """Today's date as SGF writes it (DT)."""
    return datetime.date.today().isoformat()


# ---- reading ---------------------------------------------------------------------------


def parse_sgf(data: bytes | str, source: str = "<sgf>") -> list[SGFGame | SGFError]:
    """Every game of one SGF file's content (a file may hold a collection): an SGFGame for each
    usable game, an SGFError saying why for each other one. Never raises for bad content."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        trees = sgf_grammar.parse_sgf_collection(data)
    except ValueError as error:
        return [SGFError("malformed", str(error) or "not SGF")]
    games: list[SGFGame | SGFError] = []
    for number, tree in enumerate(trees, start=1):
        label = source if len(trees) == 1 else f"{source}#{number}"
        try:
            games.append(_game_from_tree(tree, label))
        except SGFError as error:
            games.append(error)
    return games


def read_sgf(data: bytes | str, source: str = "<sgf>") -> SGFGame:
    """The one game of an SGF text; SGFError (with its reason) when there is not exactly one usable game."""
    games = parse_sgf(data, source)
    if len(games) != 1:
        raise SGFError("malformed", f"{source} holds {len(games)} games, not one")
    if isinstance(games[0], SGFError):
        raise games[0]
    return games[0]


def _game_from_tree(tree, source: str) -> SGFGame:
    """An SGFGame from one parsed game tree; SGFError when it cannot be used."""
    root_properties = tree.sequence[0]
    game_type = root_properties.get("GM", [b"1"])[0].strip()
    if game_type != b"1":
        raise SGFError("not go", f"GM[{game_type.decode('latin-1')}]")
    size_text = root_properties.get("SZ", [b"19"])[0].decode("latin-1").strip()
    if not size_text.isdigit():
        kind = "board size" if re.fullmatch(r"\d+\s*:\s*\d+", size_text) else "malformed"
        raise SGFError(kind, f"SZ[{size_text}]")
    _spec(int(size_text))
    try:
        record = sgf.Sgf_game.from_coarse_game_tree(tree)
        return _read_record(record, source)
    except SGFError:
        raise
    except (ValueError, LookupError) as error:  # bad property values, points off the board, unknown charset
        raise SGFError("malformed", str(error) or type(error).__name__) from None


def _spec(size: int) -> GameSpec:
    """The Go GameSpec of a ``size`` x ``size`` board; SGFError "board size" when the engine has none."""
    try:
        return go.spec_for_size(size)
    except UnknownGameError as error:
        raise SGFError("board size", str(error)) from None


def _read_record(record: sgf.Sgf_game, source: str) -> SGFGame:
    """The SGFGame of an sgfmill game whose size we support; ValueError on bad values."""
    root = record.get_root()
    size = record.get_size()
    black, white, empty = root.get_setup_stones()
    if empty:
        raise SGFError("setup stones", "AE (points made empty) in the root")
    moves: list[Move] = []
    for depth, node in enumerate(record.get_main_sequence()):
        if depth and node.has_setup_stones():
            raise SGFError("setup stones", f"setup properties at move {len(moves) + 1}")
        colour, point = node.get_move()
        if colour is None:
            continue
        if moves and moves[-1][0] == colour:
            raise SGFError("out of turn", f"{colour.upper()} plays twice in a row at move {len(moves) + 1}")
        moves.append((colour, point))
    application = _optional(root, "AP")
    game = SGFGame(
        board_size=size, komi=float(record.get_komi()), moves=tuple(moves), result=_optional(root, "RE"),
        black=_optional(root, "PB"), white=_optional(root, "PW"), black_rank=_optional(root, "BR"),
        white_rank=_optional(root, "WR"), handicap=int(_optional(root, "HA") or 0),
        setup_black=tuple(sorted(black)), setup_white=tuple(sorted(white)), date=_optional(root, "DT"),
        application=":".join(part for part in application if part) if application else None, source=source)
    _validate(game)
    return game


def _optional(node, identifier: str):
    """A root property's interpreted value, None when it is absent or empty."""
    if not node.has_property(identifier):
        return None
    try:
        value = node.get(identifier)
    except UnicodeDecodeError:  # a name in another charset than CA says: keep the game, mend the text
        value = node.get_raw(identifier).decode("utf-8", "replace")
    return value if value not in ("", b"") else None


def _validate(game: SGFGame) -> None:
    """Replay ``game`` on our engine; SGFError where a move is illegal or comes after the end."""
    replay(game)


# ---- replaying on the engine -----------------------------------------------------------------


@dataclass(frozen=True)
class Replay:
    """A game replayed on our engine: what training positions are made of."""

    spec: GameSpec
    """The game's GameSpec (``go9`` ...)."""
    states: np.ndarray
    """[T + 1, S] int64: the position before each move (the setup with the game's komi first), then
    the final position."""
    actions: np.ndarray
    """[T] int64: the move played in each position (pass = N * N)."""

    @property
    def final(self) -> np.ndarray:
        """[S] the position after the last move."""
        return self.states[-1]


def point_to_action(point: Point | None, size: int) -> int:
    """The engine's action for an SGF point (row 0 at the bottom; None = pass)."""
    if point is None:
        return size * size
    row, col = point
    return (size - 1 - row) * size + col


def action_to_point(action: int, size: int) -> Point | None:
    """The SGF point of an engine action (the engine's row 0 is the top; pass -> None)."""
    if action == size * size:
        return None
    return size - 1 - action // size, action % size


def moves_from_actions(actions, size: int, first: str = "b") -> tuple[Move, ...]:
    """SGF moves of engine actions played alternately, ``first`` ("b" or "w") moving first."""
    colours = (first, "w" if first == "b" else "b")
    return tuple((colours[k % 2], action_to_point(int(a), size)) for k, a in enumerate(actions))


def replay(game: SGFGame) -> Replay:
    """Play ``game`` on our engine from its setup stones, with its komi and its first mover.

    Raises SGFError: "board size" (the engine has no such board), "komi", "setup stones" (a
    group without liberty), "illegal move" (the engine's reason), "moves after the end".
    """
    size = game.board_size
    spec = _spec(size)
    black = [point_to_action(p, size) for p in game.setup_black]
    white = [point_to_action(p, size) for p in game.setup_white]
    to_move = go.BLACK if game.first_colour == "b" else go.WHITE
    try:
        state = go_positions.position_from_stones(size, black, white, to_move=to_move)
    except ValueError as error:  # a point given twice, a group without liberty
        raise SGFError("setup stones", str(error)) from None
    try:
        state = go_positions.set_komi(state, game.komi)
    except ValueError as error:
        raise SGFError("komi", str(error)) from None
    states = [state]
    actions = [point_to_action(point, size) for _, point in game.moves]
    legal = np.zeros(spec.num_actions, np.bool_)
    for number, action in enumerate(actions, start=1):
        if spec.status(state) != ONGOING:
            raise SGFError("moves after the end", f"move {number} comes after the end (two passes, or the "
                                                  f"cap of {spec.max_game_length} moves)")
        spec.legal_mask(state, legal)
        if not legal[action]:
            raise SGFError("illegal move", f"move {number}: {spec.why_illegal(state, action)}")
        following = np.empty_like(state)
        spec.play_into(state, action, following)
        state = following
        states.append(state)
    return Replay(spec, np.stack(states), np.array(actions, np.int64))


__all__ = [
    "Point", "Move", "SKIP_REASONS", "SGFError", "SGFGame", "Replay", "rank_order", "check_rank",
    "sgf_bytes", "write_sgf", "today", "parse_sgf", "read_sgf",
    "replay", "point_to_action", "action_to_point", "moves_from_actions",
]
