"""SGF: hand-written games (tests/data/sgf and strings here) read into records, every way a
game can be skipped counted by reason, folders, zips and collections, the rank filter, and
write -> read round trips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from engine import go, go_positions
from engine.sgf import (SKIP_REASONS, SGFError, SGFGame, action_to_point, check_rank, moves_from_actions,
                        parse_sgf, point_to_action, rank_order, read_sgf, replay, sgf_bytes, today, write_sgf)
from engine.sgf_files import iter_sgf_games, read_sgf_games
from engine.spec import ONGOING

DATA = Path(__file__).resolve().parent / "data" / "sgf"
COLUMNS = "ABCDEFGHJKLMNOPQRST"


def point(vertex: str) -> tuple[int, int]:
    """(row, col) of a GTP vertex such as "D4"."""
    return int(vertex[1:]) - 1, COLUMNS.index(vertex[0])


def moves(text: str) -> tuple:
    """Alternating moves from "b D5 E5 pass ...": the first word is the first mover's colour."""
    first, *vertices = text.split()
    other = {"b": "w", "w": "b"}
    colours = [first if k % 2 == 0 else other[first] for k in range(len(vertices))]
    return tuple((c, None if v == "pass" else point(v)) for c, v in zip(colours, vertices))


def stone_vertices(state) -> tuple[set[str], set[str]]:
    """Black's and white's stones of an engine position as GTP vertices."""
    size = go.board_size(state)
    black, white = go_positions.stones(state)
    return {go.format_vertex(a, size) for a in black}, {go.format_vertex(a, size) for a in white}


def skip_reason(text: str) -> str:
    """The reason the one game in ``text`` is skipped."""
    [game] = parse_sgf(text, "test.sgf")
    assert isinstance(game, SGFError), f"expected a skipped game, got {game}"
    assert game.reason in SKIP_REASONS
    return game.reason


# ---- reading one game --------------------------------------------------------------


def test_captures_ko_and_passes():
    game = read_sgf((DATA / "ko_fight.sgf").read_bytes(), "ko_fight.sgf")
    assert game.game == "go9" and game.board_size == 9 and game.komi == 7.0
    assert (game.black, game.black_rank, game.white, game.white_rank) == ("Alice", "3d", "Bob", "2d")
    assert game.result == "B+R" and game.winner == "b" and game.result_for_first == 1
    assert game.date == "2024-05-01" and game.handicap == 0 and game.setup_black == ()
    # Both pass spellings (W[] and B[tt]) are passes; comments are dropped.
    assert game.moves == moves("b D5 E5 C4 F4 D3 E3 E4 D4 G7 G3 E4 pass pass")
    # Replayed: W D4 took the stone at E4, which black took back after a ko threat (D4 captured).
    played = replay(game)
    assert played.spec.name == "go9" and played.states.shape == (14, played.spec.state_size)
    assert played.actions.tolist() == [point_to_action(p, 9) for _, p in game.moves]
    assert stone_vertices(played.states[8]) == ({"D5", "C4", "D3"}, {"E5", "F4", "E3", "D4"})
    assert stone_vertices(played.final) == ({"D5", "C4", "D3", "E4", "G7"}, {"E5", "F4", "E3", "G3"})
    assert go.status(played.final) != ONGOING and go_positions.komi(played.final) == 7.0


def test_handicap_setup_and_white_first():
    game = read_sgf((DATA / "handicap.sgf").read_bytes())
    assert game.handicap == 2 and set(game.setup_black) == {point("G7"), point("C3")} and game.setup_white == ()
    assert game.first_colour == "w" and game.moves == moves("w E5 E4 D5 D4 pass pass")
    assert game.result == "W+2.5" and game.result_for_first == 1 and game.komi == 0.5
    played = replay(game)
    assert stone_vertices(played.states[0]) == ({"G7", "C3"}, set())
    assert go_positions.side_to_move(played.states[0]) == go.WHITE and go_positions.komi(played.states[0]) == 0.5
    assert stone_vertices(played.final) == ({"G7", "C3", "E4", "D4"}, {"E5", "D5"})


def test_main_line_only():
    game = read_sgf((DATA / "variations.sgf").read_bytes())
    assert game.moves == moves("b E5 C7 G3")
    assert game.result == "0" and game.winner is None and game.result_for_first == 0


def test_encodings():
    # Without CA the charset is ISO-8859-1 (FF[4]); with CA it is the one named.
    latin = read_sgf("(;GM[1]SZ[9]PB[Jürgen];B[ee])".encode("latin-1"))
    utf8 = read_sgf("(;GM[1]CA[UTF-8]SZ[9]PB[Jürgen];B[ee])".encode("utf-8"))
    assert latin.black == utf8.black == "Jürgen"
    # A name that is not in the charset CA names is mended, not a reason to lose the game.
    assert read_sgf(b"(;GM[1]CA[UTF-8]SZ[9]PB[J\xfcrgen];B[ee])").black == "J\ufffdrgen"
    assert skip_reason("(;GM[1]CA[no-such-charset]SZ[9];B[ee])") == "malformed"


@pytest.mark.parametrize("text, reason", [
    ("not SGF at all", "malformed"),
    ("(;GM[1]SZ[9];B[ee];W[cc", "malformed"),                    # unterminated
    ("(;GM[1]SZ[9]KM[seven];B[ee])", "malformed"),
    ("(;GM[1]SZ[9];B[ee];W[zz])", "malformed"),                   # off the board
    ("(;GM[1]SZ[nine];B[ee])", "malformed"),
    ("(;GM[2]SZ[8];B[ee])", "not go"),                            # Othello
    ("(;GM[1]SZ[19:13];B[dd])", "board size"),
    ("(;GM[1]SZ[21];B[dd])", "board size"),
    ("(;GM[1]SZ[4];B[bb])", "board size"),
    ("(;GM[1]SZ[9]KM[6.25];B[ee])", "komi"),
    ("(;GM[1]SZ[9]KM[1000];B[ee])", "komi"),
    ("(;GM[1]SZ[9]AE[ee];B[dd])", "setup stones"),
    ("(;GM[1]SZ[9]AB[aa]AW[aa];W[ee])", "setup stones"),          # one point, two colours
    ("(;GM[1]SZ[9]AB[ba][ab]AW[aa];W[ee])", "setup stones"),      # a white stone without liberty
    ("(;GM[1]SZ[9];B[ee];W[cc]AB[gg];B[dd])", "setup stones"),
    ("(;GM[1]SZ[9];B[ee];AW[cc];B[dd])", "setup stones"),
    ("(;GM[1]SZ[9];B[ee];B[cc])", "out of turn"),
    ("(;GM[1]SZ[9];B[ee];W[ee])", "illegal move"),               # occupied
    ("(;GM[1]SZ[9];B[ba];W[ee];B[ab];W[aa])", "illegal move"),   # suicide in the corner
    ((DATA / "bad" / "ko_retaken_at_once.sgf").read_text(), "illegal move"),
    ("(;GM[1]SZ[9];B[ee];W[];B[];W[cc])", "moves after the end"),
])
def test_skip_reasons(text, reason):
    assert skip_reason(text) == reason


def test_points_and_actions():
    # SGF rows count from the bottom (GTP's A1 = (0, 0)); the engine's from the top.
    for size in (5, 9, 19):
        for action in range(size * size + 1):
            assert point_to_action(action_to_point(action, size), size) == action
    assert go.format_vertex(point_to_action(point("C7"), 9), 9) == "C7"
    assert action_to_point(81, 9) is None and point_to_action(None, 19) == 361
    assert moves_from_actions([40, 81, 0], 9) == (("b", (4, 4)), ("w", None), ("b", (8, 0)))


def test_read_sgf_wants_one_usable_game():
    with pytest.raises(SGFError, match="not go: GM.2."):
        read_sgf("(;GM[2]SZ[8])")
    with pytest.raises(SGFError, match="holds 2 games, not one"):
        read_sgf("(;GM[1]SZ[9])(;GM[1]SZ[9])")


# ---- ranks ----------------------------------------------------------------------------------


def test_rank_order():
    ladder = ["30k", "2 kyu", "1k", "1d", "3 dan", "7d*", "9d", "1p", "5 dan pro", "9p"]
    assert sorted(ladder, key=rank_order) == ladder
    assert rank_order("4k?") == rank_order("4k") and rank_order("2D") == rank_order("2d")
    assert rank_order("") is None and rank_order(None) is None and rank_order("insei") is None
    with pytest.raises(ValueError, match="not a rank: 'strong'"):
        check_rank("strong")


# ---- files, folders, zips -------------------------------------------------------------------

FOLDER_SKIPS = {"malformed": 2, "not go": 1, "board size": 1, "illegal move": 1, "setup stones": 1}
"""How the files of tests/data/sgf/bad are skipped."""


def test_folder_recursively():
    games, summary = read_sgf_games(DATA)
    assert summary.files == 10 and summary.games == len(games) == 5
    assert dict(summary.skipped) == FOLDER_SKIPS and summary.num_skipped == 6
    assert summary.examples["not go"].endswith("chess.sgf: GM[3]")
    # Sorted order; a file holding two games labels them #1 and #2.
    assert [Path(g.source.split("#")[0]).name for g in games] == \
        ["handicap.sgf", "ko_fight.sgf", "collection.sgf", "collection.sgf", "variations.sgf"]
    assert games[2].source.endswith("collection.sgf#1") and games[3].game == "go19"
    assert str(summary).startswith("5 games from 10 files; skipped 2 malformed")


def test_zip_and_unreadable_archives(tmp_path):
    archive = tmp_path / "games.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(DATA.rglob("*.sgf")):
            out.write(file, file.relative_to(DATA).as_posix())
        out.writestr("README.txt", "not a game, not read")
    games, summary = read_sgf_games(archive)
    assert summary.files == 10 and len(games) == 5 and dict(summary.skipped) == FOLDER_SKIPS
    assert games[0].source == f"{archive}:handicap.sgf"
    # A folder holding the zip, a damaged zip and a file that vanished is read as far as it goes.
    (tmp_path / "damaged.zip").write_bytes(b"PK\x03\x04 this archive was cut short")
    games, summary = read_sgf_games(tmp_path)
    assert len(games) == 5 and summary.skipped["unreadable"] == 1
    # A member whose bytes were damaged is counted; the archive's other members are still read.
    data = bytearray(archive.read_bytes())
    start = data.index(b"(;GM[1]FF[4]SZ[9]KM[0.5]")  # handicap.sgf, stored uncompressed
    data[start + 1] ^= 0xFF
    (tmp_path / "damaged.zip").write_bytes(bytes(data))
    games, summary = read_sgf_games(tmp_path / "damaged.zip")
    assert len(games) == 4 and summary.skipped["unreadable"] == 1 and summary.files == 9
    with pytest.raises(ValueError, match="no such file or folder"):
        iter_sgf_games(tmp_path / "absent")


def test_min_rank_filter():
    def kept(min_rank):
        games, summary = read_sgf_games(DATA, min_rank=min_rank)
        return sorted(g.black for g in games), summary

    names, summary = kept("1k")
    assert names == ["Alice", "Carol", "Gina", "Ivan"]  # variations.sgf has no ranks
    assert summary.skipped["rank unknown"] == 1
    names, summary = kept("2d")
    assert names == ["Alice", "Gina", "Ivan"] and summary.skipped["below minimum rank"] == 1
    names, summary = kept("3d")
    assert names == ["Gina"] and summary.skipped["below minimum rank"] == 3  # Alice's opponent is 2d
    assert kept("1p")[0] == []
    with pytest.raises(ValueError, match="not a rank"):
        iter_sgf_games(DATA, min_rank="10x")


# ---- writing ----------------------------------------------------------------------------------


def test_write_read_round_trip(tmp_path):
    game = SGFGame(board_size=9, komi=0.5, moves=moves("w E5 E4 D5 D4 pass C6 pass pass"), result="W+R",
                   black="random", white="gtp:gnugo --mode gtp --level 1", black_rank="20k", white_rank="5k",
                   handicap=2, setup_black=(point("C3"), point("G7")), date=today(),
                   application="zeroplay:0.1.0")
    path = write_sgf(game, tmp_path / "game.sgf")
    text = path.read_text("utf-8")
    assert "HA[2]" in text and "AB[cg][gc]" in text and "AP[zeroplay:0.1.0]" in text and "W[tt]" in text
    assert read_sgf(path.read_bytes(), str(path)) == game
    # Black first, no handicap, no optional fields: nothing but the essentials written.
    plain = SGFGame(board_size=19, komi=7.5, moves=moves("b Q16 D4 pass"))
    assert read_sgf(sgf_bytes(plain)) == plain
    assert b"PL[" not in sgf_bytes(plain) and b"PB[" not in sgf_bytes(plain)
