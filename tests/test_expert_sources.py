"""The sgf and gtp expert sources: SGF records (hand-written here) turned into labelled
positions, skipped games counted by reason, zips, the rank filter; GNU Go playing itself with
every move checked and every game saved as SGF; both through ``selfplay pretrain``; and the
one-line errors of unusable arguments."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import go, go_positions
from engine.gtp_client import find_gnugo
from engine.sgf import action_to_point, read_sgf, replay
from selfplay import cli
from selfplay.config import ExpertConfig
from selfplay.experts import make_source
from selfplay.experts.generate import expert_sgf_path
from selfplay.shards import expert_shard_paths, read_shard
from tests.test_pretrain import one_line_error

GO9 = engine.get_game("go9")
PASS = GO9.num_actions - 1
LETTERS = "abcdefghi"


def node(colour: str, vertex: str) -> str:
    """One SGF move node of the 9x9 board: ("B", "D4") -> ";B[df]"; "pass" -> ";B[]"."""
    point = action_to_point(GO9.parse_move(vertex), 9)
    if point is None:
        return f";{colour}[]"
    row, col = point  # row 0 at the bottom; SGF counts rows from the top
    return f";{colour}[{LETTERS[col]}{LETTERS[8 - row]}]"


def line(first: str, vertices: str) -> str:
    """Alternating move nodes from ``first`` ("B" or "W"): line("B", "E5 D5 pass")."""
    colours = (first, "W" if first == "B" else "B")
    return "".join(node(colours[k % 2], v) for k, v in enumerate(vertices.split()))


CAPTURE_MOVES = "E5 D5 C5 E4 D6 F5 D4 pass pass"
"""Black's D4 takes the white stone at D5 (its neighbours C5, E5, D6 are black)."""
HANDICAP_MOVES = "E5 D5 E4 D4"
"""White moves first, after black's two handicap stones at C7 and G3."""

FILES = {
    # Comments everywhere, and a variation after W F5 whose first child is the main line.
    "a_capture.sgf": "(;GM[1]FF[4]SZ[9]KM[7.5]PB[Alice]BR[3d]PW[Bob]WR[2d]RE[B+10.5]C[a test game]"
                     + line("B", "E5 D5 C5 E4 D6 F5") + "C[white threatens]"
                     + "(;B[df]C[takes D5];W[];B[])(;B[aa];W[bb]C[a variation, never learnt]))",
    "b_handicap.sgf": "(;GM[1]FF[4]SZ[9]KM[0.5]HA[2]AB[cc][gg]PB[Carol]BR[1k]PW[Dave]WR[1d]RE[W+R]"
                      + line("W", HANDICAP_MOVES) + ")",
    # A collection: a draw (used, values 0) and a void game (skipped: no result).
    "c_collection.sgf": "(;GM[1]FF[4]SZ[9]KM[7]RE[0]" + line("B", "E5 C7 G3") + ")"
                        "(;GM[1]FF[4]SZ[9]KM[7.5]RE[Void]" + line("B", "E5 C7") + ")",
    "d_malformed.sgf": "(;GM[1]SZ[9];B[ee];W[",
    "e_big.sgf": "(;GM[1]FF[4]SZ[13]KM[7.5]RE[B+R];B[gg];W[dd])",
}
SKIPPED = {"no result": 1, "malformed": 1, "other board size": 1}


@pytest.fixture
def records(tmp_path) -> Path:
    folder = tmp_path / "records"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    return folder


def sgf_source(path, **changes):
    return make_source(GO9, ExpertConfig(expert=f"sgf:{path}", **changes), 0)


def actions(vertices: str) -> list[int]:
    return [GO9.parse_move(v) for v in vertices.split()]


def test_sgf_positions_are_labelled_with_the_moves_and_results(records):
    source = sgf_source(records)
    assert source.label == "sgf" and source.available() == 3
    assert dict(source.counts.skipped) == SKIPPED and source.counts.files == 5 and source.counts.games == 3
    assert source.summary.startswith("sgf: 3 games from 5 files; skipped 1 ")
    assert "1 other board size" in source.summary and "komi 7.5 (1), 0.5 (1), 7 (1)" in source.summary
    assert "ranks 1k to 3d" in source.summary and "1 game without both ranks" in source.summary

    capture = source.game(0)
    record = capture.record
    assert capture.opening == 0 and record.length == 9 and record.result == 1
    np.testing.assert_array_equal(record.policies.argmax(1), actions(CAPTURE_MOVES))  # the main line only
    np.testing.assert_array_equal(record.policies.sum(1), 1.0)
    np.testing.assert_array_equal(record.values, [1, -1, 1, -1, 1, -1, 1, -1, 1])  # black won
    np.testing.assert_array_equal(record.players, [1, -1, 1, -1, 1, -1, 1, -1, 1])
    assert GO9.parse_move("D5") in go_positions.stones(record.states[6])[1]
    assert GO9.parse_move("D5") not in go_positions.stones(record.states[7])[1], "D4 took D5"
    assert record.policies[7, PASS] == 1.0 and record.policies[8, PASS] == 1.0
    legal = np.zeros((9, GO9.num_actions), np.bool_)
    GO9.legal_mask_batch(record.states, legal)
    assert legal[np.arange(9), record.policies.argmax(1)].all()

    handicap = source.game(1)
    record = handicap.record
    assert handicap.opening == 2, "the handicap stones are placed, not labelled"
    black, white = go_positions.stones(record.states[0])
    assert black == sorted(actions("C7 G3")) and white == [] and go_positions.side_to_move(record.states[0]) == go.WHITE
    assert go_positions.komi(record.states[0]) == 0.5
    np.testing.assert_array_equal(record.policies.argmax(1), actions(HANDICAP_MOVES))
    # White, the first mover, won by resignation: +1 where white is to move.
    assert record.result == 1
    np.testing.assert_array_equal(record.values, [1, -1, 1, -1])

    draw = source.game(2).record
    assert draw.result == 0 and (draw.values == 0).all() and len(draw.states) == 3
    assert go_positions.komi(draw.states[0]) == 7.0

    again = sgf_source(records).game(1).record
    np.testing.assert_array_equal(again.states, source.game(1).record.states)


def test_sgf_zip_gives_the_same_games(records, tmp_path):
    archive = tmp_path / "records.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(records.iterdir()):
            handle.write(path, f"games/{path.name}")
    folder, zipped = sgf_source(records), sgf_source(archive)
    assert zipped.available() == 3 and dict(zipped.counts.skipped) == SKIPPED
    for index in range(3):
        np.testing.assert_array_equal(zipped.game(index).record.states, folder.game(index).record.states)
        np.testing.assert_array_equal(zipped.game(index).record.values, folder.game(index).record.values)


def test_sgf_min_rank(records, capsys):
    source = sgf_source(records, min_rank="2d")
    assert source.available() == 1 and source.game(0).record.length == 9
    # The reader filters ranks first: the unranked 13x13 and void games count as "rank unknown".
    assert dict(source.counts.skipped) == {"rank unknown": 3, "below minimum rank": 1, "malformed": 1}
    with pytest.raises(ValueError, match="holds no usable go9 game"):
        sgf_source(records, min_rank="3d")  # Alice's opponent is 2d
    with pytest.raises(ValueError, match="not a rank: '2x'"):
        ExpertConfig(expert="sgf:x", min_rank="2x")
    with pytest.raises(ValueError, match="needs an sgf expert"):
        ExpertConfig(min_rank="1d")
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["pretrain", "--help"])
    assert "--min-rank TEXT" in capsys.readouterr().out


def pretrain_args(run_dir: Path, expert: str, games: int) -> list[str]:
    """A tiny go9 pretrain run: the smallest network, two epochs."""
    return ["pretrain", "--game", "go9", "--expert", expert, "--games", str(games), "--run-dir", str(run_dir),
            "--net", "b1c16", "--device", "cpu", "--batch-size", "8", "--max-epochs", "2"]


def test_pretrain_on_sgf_records(records, tmp_path, capsys):
    run_dir = tmp_path / "sl"
    assert cli.main(pretrain_args(run_dir, f"sgf:{records}", 10)) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("sgf: 3 games from 5 files; skipped") == 1, "the summary is shown once"
    assert (run_dir / "checkpoints" / "best.pt").exists()
    shards = [read_shard(path) for path in expert_shard_paths(run_dir / "games")]
    assert sum(s.num_games for s in shards) == 3 and {s.source for s in shards} == {"sgf"}
    assert sum(s.num_positions for s in shards) == 9 + 4 + 3
    assert json.loads((run_dir / "logs" / "summary.json").read_text())["games"] == 3
    assert not (run_dir / "sgf").exists(), "records are not written again"


def test_unusable_sources_are_one_line_errors(records, tmp_path, capsys):
    run_dir = tmp_path / "sl"
    go9 = pretrain_args(run_dir, "", 10)
    expert = go9.index("--expert") + 1

    def error(source: str, *more: str) -> str:
        return one_line_error(capsys, go9[:expert] + [source] + go9[expert + 1:] + list(more))

    assert "no such file or folder" in error(f"sgf:{tmp_path / 'missing'}")
    assert "holds no usable go9 game (0 games from 1 files; skipped 1 other board size)" in \
        error(f"sgf:{records / 'e_big.sgf'}")
    assert "not a rank" in error(f"sgf:{records}", "--min-rank", "strong")
    assert "GTP engine 'no-such-engine' not found" in error("gtp:no-such-engine --mode gtp")
    connect4 = ["pretrain", "--run-dir", str(run_dir), "--games", "10"]
    assert "the gtp expert plays Go; connect4 is not Go" in one_line_error(
        capsys, connect4 + ["--expert", "gtp:gnugo --mode gtp"])
    assert "the sgf expert reads Go games; connect4 is not Go" in one_line_error(
        capsys, connect4 + ["--expert", f"sgf:{records}"])
    assert not run_dir.exists(), "nothing is written before the source is checked"


@pytest.mark.skipif(find_gnugo() is None, reason="GNU Go is not installed (apt-get install gnugo; CI installs it)")
def test_pretrain_on_gnugo_games(tmp_path, capsys):
    run_dir = tmp_path / "sl"
    expert = 'gtp:"gnugo --mode gtp --level 1"'
    assert cli.main(pretrain_args(run_dir, expert, 2) + ["--opening-min", "2", "--opening-max", "6"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("gtp: GNU Go") == 1 and "plays go9, komi 7.5" in out
    assert (run_dir / "checkpoints" / "best.pt").exists()
    [shard] = [read_shard(path) for path in expert_shard_paths(run_dir / "games")]
    assert shard.num_games == 2 and shard.source == "gtp"
    legal = np.zeros((shard.num_positions, GO9.num_actions), np.bool_)
    GO9.legal_mask_batch(shard.states, legal)
    moves = shard.policies.argmax(1)
    assert (shard.policies.max(1) == 1.0).all() and legal[np.arange(len(moves)), moves].all()
    for index in range(2):
        # The SGF holds the whole game; the labelled positions are those after the opening.
        game = read_sgf(expert_sgf_path(run_dir / "games", index).read_bytes())
        rows = shard.game_ids == index
        labelled = int(rows.sum())
        played = replay(game)
        assert game.board_size == 9 and game.komi == 7.5 and game.black.startswith("GNU Go")
        assert 2 <= len(game.moves) - labelled <= 6 and shard.lengths[index] == len(game.moves)
        np.testing.assert_array_equal(moves[rows], played.actions[-labelled:])
        np.testing.assert_array_equal(shard.states[rows], played.states[-labelled - 1:-1])
        to_move = np.array([go_positions.side_to_move(state) for state in shard.states[rows]])  # +1: black
        assert shard.results[index] == game.result_for_first != 0
        np.testing.assert_array_equal(shard.values[rows], to_move * game.result_for_first)


KO_ENGINE = """\
import sys
moves = iter("B5 C5 A4 D4 B3 C3 E1 B4 C4 B4".split())  # the last retakes a ko: a repetition
for line in sys.stdin:
    number, command = line.split()[:2]
    answer = {"genmove": lambda: next(moves), "final_score": lambda: "B+3.5",
              "name": lambda: "ko", "version": lambda: "1"}.get(command, lambda: "")()
    print(f"={number} {answer}\\n", flush=True)
    if command == "quit":
        break
"""


def test_a_repetition_ends_the_engine_game_before_it(tmp_path):
    """An engine that knows only simple ko may repeat a board our positional superko forbids;
    the game ends before that move and is scored by the engine, and the generation goes on."""
    script = tmp_path / "ko_engine.py"
    script.write_text(KO_ENGINE)
    spec = engine.get_game("go5")
    source = make_source(spec, ExpertConfig(expert=f"gtp:{sys.executable} {script}", opening_min=0,
                                            opening_max=0), seed=0)
    try:
        game = source.game(0)
    finally:
        source.close()
    assert game.record.length == 9 and len(game.record.states) == 9  # the retake is not played
    assert game.record.result == 1  # B+3.5 from the engine's final_score
    assert len(read_sgf(game.sgf).moves) == 9
