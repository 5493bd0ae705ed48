"""Go (engine/go.py): rules on hand-drawn positions, notation, helpers for GTP
and SGF, symmetries, random games against the plain-Python reference, and the
status convention (the side to move at the end of a Go game may have won)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import go, go_positions
from engine.batch import sample_legal
from engine.spec import ONGOING, IllegalMoveError, UnknownGameError
from tests.go_games import random_positions
from tests.reference_games import ReferenceGo

REPO = Path(__file__).resolve().parents[1]


def position(drawing: str, to_move: int = go.BLACK, komi: float = go.DEFAULT_KOMI) -> np.ndarray:
    """A position from rows of 'X' (black), 'O' (white) and '.', top row first."""
    rows = [line.split() for line in drawing.strip().splitlines()]
    size = len(rows)
    assert all(len(row) == size for row in rows)
    cells = [cell for row in rows for cell in row]
    black = [a for a, cell in enumerate(cells) if cell == "X"]
    white = [a for a, cell in enumerate(cells) if cell == "O"]
    return go_positions.position_from_stones(size, black, white, to_move, komi)


def play(state: np.ndarray, *moves: str) -> np.ndarray:
    spec = engine.get_game(f"go{go.board_size(state)}")
    for move in moves:
        state = engine.play_move(spec, state, move)
    return state


def legal(state: np.ndarray, move: str) -> bool:
    spec = engine.get_game(f"go{go.board_size(state)}")
    return spec.parse_move(move) in engine.legal_actions(spec, state)


def drawing_of(state: np.ndarray) -> list[str]:
    """The rows of the rendered board, without coordinates."""
    return [line[3:-2].replace(" ", "") for line in go.render(state).splitlines()[1:-1]]


# ---- registry and notation -----------------------------------------------------------


def test_registered_sizes_and_other_sizes_on_demand():
    assert {"go9", "go13", "go19"} <= set(engine.list_games())
    spec = engine.get_game("go7")
    assert spec is engine.get_game("go7")
    assert (spec.board_shape, spec.num_actions, spec.max_game_length) == ((7, 7), 50, 98)
    assert spec.planes_shape == (go.NUM_PLANES, 7, 7)
    for name in ("go4", "go20", "go0"):
        with pytest.raises(UnknownGameError, match="Go boards are 5x5 to 19x19"):
            engine.get_game(name)
    with pytest.raises(UnknownGameError, match="goN"):
        engine.get_game("gomoku")


def test_vertices_follow_gtp():
    assert go.parse_vertex("A1", 9) == 72  # bottom-left
    assert go.parse_vertex("j9", 9) == 8  # top-right: J, as I is skipped
    assert go.parse_vertex(" Pass ", 19) == 361
    assert go.parse_vertex("T19", 19) == 18
    for size in (5, 9, 19):
        for action in range(size * size + 1):
            assert go.parse_vertex(go.format_vertex(action, size), size) == action
    with pytest.raises(IllegalMoveError, match="GTP columns skip I"):
        go.parse_vertex("I5", 19)
    for text in ("K1", "A10", "D0", "", "resign", "D 4"):
        with pytest.raises(IllegalMoveError, match="not a point of the 9x9 board"):
            go.parse_vertex(text, 9)
    assert go.split_moves("D4 Q16, pass") == ["D4", "Q16", "pass"]


def test_render_draws_coordinates_as_showboard():
    state = play(engine.get_game("go19").initial_state(), "D4", "Q16")
    lines = go.render(state).splitlines()
    assert lines[0] == lines[-1] == "   " + " ".join("ABCDEFGHJKLMNOPQRST")
    assert lines[1].startswith("19 ") and lines[1].endswith(" 19")
    assert lines[-2].startswith(" 1 ") and lines[-2].endswith(" 1")
    assert lines[19 - 4 + 1][3:].split()[3] == "X"  # D4
    assert lines[19 - 16 + 1][3:].split()[15] == "O"  # Q16


# ---- rules on drawn positions ------------------------------------------------------------


def test_captures_of_a_stone_and_of_two_groups_at_once():
    state = position("""
        . O X . .
        O X . . .
        X . . . .
        . . . . .
        . . . . .""", to_move=go.BLACK)
    # A5 has no liberty of its own but takes both white stones: legal.
    after = play(state, "A5")
    assert drawing_of(after)[:2] == ["X.X..", ".X..."]
    assert go_positions.stones(after) == ([0, 2, 6, 10], [])
    state = position("""
        . . . . .
        . X X . .
        X O O X .
        X O . X .
        . X X . .""", to_move=go.BLACK)
    after = play(state, "C2")
    assert drawing_of(after)[2:4] == ["X..X.", "X.XX."]
    assert after[go.STONES] == 9


def test_suicide_of_one_stone_and_of_a_group_is_refused():
    state = position("""
        . O . . .
        O . . . .
        . . . . .
        O O O . .
        X X . O .""", to_move=go.BLACK)
    spec = engine.get_game("go5")
    for move in ("A5", "C1"):  # one stone; three stones (A1 B1 C1)
        assert not legal(state, move)
        assert spec.why_illegal(state, spec.parse_move(move)) == (
            f"{move} is suicide: the stone and its group would have no liberty")
        with pytest.raises(IllegalMoveError, match=f"illegal move {move}: {move} is suicide"):
            play(state, move)
    assert legal(state, "B4")


KO = """
    . . . . . . .
    . . X O . . .
    . X O . O . .
    . . X O . . .
    . . . . . . .
    . . . . . . .
    . . . . . . ."""


def test_ko_retake_is_refused_until_a_move_elsewhere():
    spec = engine.get_game("go7")
    state = play(position(KO), "D5")  # black takes the ko
    assert drawing_of(state)[2] == ".X.XO.."
    assert spec.why_illegal(state, spec.parse_move("C5")) == "C5 repeats the initial position (positional superko)"
    state = play(state, "G1", "G7")  # ko threat and answer
    state = play(state, "C5")  # white retakes
    assert drawing_of(state)[2] == ".XO.O.."
    assert spec.why_illegal(state, spec.parse_move("D5")) == (
        "D5 repeats the position after move 3 (positional superko)")


def test_snapback_recaptures_the_group():
    state = position("""
        . . . . . . .
        . . . . . . .
        . . . . . . .
        . . . . . . .
        O O O O O . .
        X X X X O . .
        X . . X O . .""", to_move=go.WHITE)
    state = play(state, "B1")  # the throw-in: in atari at once
    state = play(state, "C1")  # black takes it ...
    assert drawing_of(state)[6] == "X.XXO.."
    state = play(state, "B1")  # ... and white takes back seven stones: not a ko
    assert drawing_of(state)[5:] == ["....O..", ".O..O.."]
    assert go_positions.stones(state)[0] == []


TRIPLE_KO = """
    . . . . . . . . .
    . X O . . . O X .
    X O . O . O X . X
    . X O . . . O X .
    . . . . . . . . .
    . X O . . . . . .
    X O . O . . . . .
    . X O . . . . . .
    . . . . . . . . ."""


def test_triple_ko_cycle_is_stopped_by_positional_superko():
    spec = engine.get_game("go9")
    state = play(position(TRIPLE_KO), "C7", "H7", "C3", "B7", "G7")
    # Each move retook a ko that the opponent took at least two moves before,
    # which simple ko allows; the sixth would bring back the initial board.
    assert spec.why_illegal(state, spec.parse_move("B3")) == "B3 repeats the initial position (positional superko)"
    assert not legal(state, "B3") and legal(state, "pass")


def test_seki_points_are_neutral_and_eyes_count_for_their_owner():
    # Black (13 stones, eye A1) and white (9 stones, eye E1) share the liberty C1:
    # whoever fills it puts its own group in atari, so neither does (seki).
    state = position("""
        X X X O O
        X X X O O
        X X X O O
        X X X O O
        . X . O .""", to_move=go.BLACK)
    assert go.area_difference(state) == (13 + 1) - (9 + 1)  # C1 touches both colours: nobody's
    owners = np.zeros(25, np.int8)
    go.area_owners(state, owners)
    assert owners.reshape(5, 5).tolist() == [[1, 1, 1, -1, -1]] * 4 + [[1, 1, 0, -1, -1]]  # row 5 first
    assert go_positions.area_score(state) == 4 - 7.5 and go_positions.score_text(state) == "W+3.5"
    filled = play(state, "C1")  # black fills the shared liberty ...
    assert legal(filled, "A1")  # ... and white may now take the black group
    assert go_positions.stones(play(filled, "A1"))[0] == []


def test_two_passes_end_the_game_and_the_side_to_move_may_have_won():
    spec = engine.get_game("go9")
    state = play(go_positions.position_from_stones(9, black=[go.parse_vertex("E5", 9)]), "pass")
    assert spec.status(state) == ONGOING
    state = play(state, "pass")
    # Black (81 points against komi 7.5) passed first and is to move again: it won.
    assert spec.status(state) == 1 and go_positions.score_text(state) == "B+73.5"
    assert engine.legal_actions(spec, state).size == 0
    assert spec.why_illegal(state, 0) == "the game is over"
    # komi moves the result of a finished game too (GTP 'komi' after the end)
    assert spec.status(go_positions.set_komi(state, 90)) == -1 and go_positions.score_text(go_positions.set_komi(state, 81)) == "0"
    assert spec.status(go_positions.set_komi(state, 81)) == 0


def test_a_pass_between_moves_does_not_end_the_game_and_the_cap_does():
    spec = engine.get_game("go5")
    state = play(spec.initial_state(), "pass", "C3", "pass", "B2")
    assert spec.status(state) == ONGOING and state[go.PASSES] == 0
    rng = np.random.default_rng(3)
    state = spec.initial_state()
    for ply in range(spec.max_game_length):
        assert spec.status(state) == ONGOING, f"ended at ply {ply}"
        actions = engine.legal_actions(spec, state)
        stones_only = actions[actions != 25]
        # never two passes in a row: the game must reach the cap of 2 * 25 moves
        action = rng.choice(stones_only) if stones_only.size and state[go.PASSES] else rng.choice(actions)
        state = engine.play_action(spec, state, int(action))
    assert state[go.PLY] == 50 and spec.status(state) != ONGOING


# ---- helpers for GTP and SGF ------------------------------------------------------------------


def test_komi_and_setup_helpers():
    state = go_positions.position_from_stones(9, black=[go.parse_vertex("D4", 9)], white=[go.parse_vertex("E5", 9)],
                                    to_move=go.WHITE, komi=6.5)
    assert go_positions.komi(state) == 6.5 and go_positions.side_to_move(state) == go.WHITE
    assert [go.format_vertex(a, 9) for a in go_positions.stones(state)[0]] == ["D4"]
    assert go_positions.area_score(state) == -6.5
    assert go_positions.side_to_move(go_positions.with_side_to_move(state, go.BLACK)) == go.BLACK
    with pytest.raises(ValueError, match="multiple of 0.5"):
        go_positions.set_komi(state, 6.3)
    with pytest.raises(ValueError, match="given twice"):
        go_positions.position_from_stones(9, [1], [1])
    with pytest.raises(ValueError, match="off the 9x9 board"):
        go_positions.position_from_stones(9, [81])
    with pytest.raises(ValueError, match="no liberty"):
        go_positions.position_from_stones(5, [0], [1, 5])


# ---- symmetries, planes, and random games against the reference ------------------------------


def test_dihedral_source_is_the_symmetry_tables_arithmetic():
    from engine.symmetry import dihedral_cell_perms

    for n in (5, 8, 19):
        perms = dihedral_cell_perms(n)
        for k in range(8):
            sources = [go.dihedral_source(k, n, r, c) for r in range(n) for c in range(n)]
            assert [r * n + c for r, c in sources] == perms[k].tolist()


def test_moves_commute_with_symmetries_superko_included():
    """Playing a move and transforming gives the state of transforming and playing
    the transformed move: hashes and history stay exact under any symmetry (FRAME),
    so superko is too (the ko and triple-ko positions have a superko move)."""
    ko = play(position(KO), "D5")
    triple_ko = play(position(TRIPLE_KO), "C7", "H7", "C3", "B7", "G7")
    for state in random_positions(engine.get_game("go5"), 3, seed=11)[::5] + [ko, triple_ko]:
        spec = engine.get_game(f"go{go.board_size(state)}")
        out, moved, played, played_image = (np.empty(spec.state_size, np.int64) for _ in range(4))
        mask = np.zeros(spec.num_actions, np.bool_)
        spec.legal_mask(state, mask)
        for k in range(1, spec.num_symmetries):
            spec.transform_into(state, spec.cell_perms[k], out)
            for action in np.flatnonzero(mask)[:3]:
                image = int(np.flatnonzero(spec.action_perms[k] == action)[0])
                spec.play_into(out, image, moved)
                spec.play_into(state, action, played)
                spec.transform_into(played, spec.cell_perms[k], played_image)
                assert np.array_equal(moved, played_image)
            for action in np.flatnonzero(~mask[:-1]):  # superko stays superko
                image = int(np.flatnonzero(spec.action_perms[k] == action)[0])
                assert go.move_verdict(out, image) == go.move_verdict(state, action)


@pytest.mark.parametrize("size,num_games", [(5, 30), (7, 10)])
def test_random_games_agree_with_the_reference(size, num_games):
    """Whole random games (captures, ko, superko, seki-like ends, the cap): legal
    moves, verdicts, status, score and planes match the plain-Python rules."""
    spec = engine.get_game(f"go{size}")
    rng = np.random.default_rng(size)
    mask = np.zeros((1, spec.num_actions), np.bool_)
    planes = np.zeros(spec.planes_shape, np.float32)
    choice = np.zeros(1, np.int64)
    superko = 0
    for _ in range(num_games):
        reference, state = ReferenceGo(size), spec.initial_state()
        while True:
            spec.legal_mask(state, mask[0])
            expected = reference.legal_actions()
            assert np.flatnonzero(mask[0]).tolist() == expected
            value = reference.value_for_side_to_move()
            assert spec.status(state) == (ONGOING if value is None else value)
            assert go.area_difference(state) == reference.area()
            spec.encode(state, planes)
            assert np.array_equal(planes, np.array(reference.planes(), np.float32))
            if not expected:
                break
            verdicts = [go.move_verdict(state, a)[0] for a in range(spec.num_actions)]
            assert [a for a, v in enumerate(verdicts) if v == go.LEGAL] == expected
            superko += verdicts.count(go.SUPERKO)
            # pass rarely, so that games are long and crowded
            mask[0, -1] = mask[0, :-1].sum() == 0 or rng.random() < 0.02
            sample_legal(mask, rng.random(1), choice)
            reference.play(int(choice[0]))
            state = engine.play_action(spec, state, int(choice[0]))
    assert superko > 0


# ---- consumers of status: the side to move may have won ------------------------------------


GO5_MOVES = ["C3", "A1", "E5", "pass", "pass"]
"""Black C3, white A1, black E5, white passes, black passes: white, to move, wins
on komi (areas 2 to 1, the rest touches both): the status is +1."""


def test_arena_and_gymnasium_score_a_game_won_by_the_side_to_move():
    from arena.match import play_match
    from arena.players import Decisions, Player
    from engine.envs import GameEnv

    spec = engine.get_game("go5")
    final = play(spec.initial_state(), *GO5_MOVES)
    assert spec.status(final) == 1 and go_positions.side_to_move(final) == go.WHITE

    def scripted(state, _mask=None) -> int:
        return spec.parse_move(GO5_MOVES[int(state[go.PLY])])

    class Scripted(Player):
        def play(self, states):
            return Decisions(np.array([scripted(s) for s in states]), np.full(len(states), np.nan, np.float32))

    result = play_match(spec, Scripted(spec, "a"), Scripted(spec, "b"), 2, opening_plies=0)
    assert (result.wins, result.draws, result.losses) == (1, 0, 1)  # white won both games
    env = GameEnv(spec, opponent=scripted, first_player="agent")
    env.reset(seed=0)
    steps = [env.step(spec.parse_move(move)) for move in GO5_MOVES[0::2]]
    assert [step[1] for step in steps] == [0.0, 0.0, -1.0]  # the agent (black) ended the game by passing, and lost
    # The final observation is the agent's view although white is to move: its
    # stones in plane 0 (and 2, one move ago), white's in 1 (and 3), black's colour plane.
    final = steps[-1][0]
    black, white = np.zeros(25), np.zeros(25)
    black[[spec.parse_move("C3"), spec.parse_move("E5")]] = 1
    white[spec.parse_move("A1")] = 1
    for plane, stones in ((0, black), (1, white), (2, black), (3, white)):
        assert np.array_equal(final[plane].ravel(), stones)
    assert (final[go.COLOUR_PLANE] == 1).all() and not final[go.ATARI_PLANES:go.LIBERTY_PLANES].any()
    # Both corner stones have two liberties (black's E5 its own, white's A1 the opponent's),
    # C3 four: no stone has three.
    corner = {colour: np.zeros(25) for colour in "bw"}
    corner["b"][spec.parse_move("E5")] = corner["w"][spec.parse_move("A1")] = 1
    assert np.array_equal(final[go.LIBERTY_PLANES].ravel(), corner["b"])
    assert np.array_equal(final[go.LIBERTY_PLANES + 1].ravel(), corner["w"])
    assert not final[go.LIBERTY_PLANES + 2:].any()


def test_the_agents_view_swaps_the_liberty_planes_too():
    """White to move after the agent's (black's) last move: the view from black's side has black's
    stones of one, two and three liberties in the first plane of each pair, white's in the second."""
    from engine.envs import GameEnv

    spec = engine.get_game("go5")
    #   5 . . W W B    black E5: one liberty (E4); white C5-D5: three (B5, C4, D4)
    #   1 W B . . .    white A1: one (A2); black B1: two (C1, B2)
    black = [spec.parse_move(v) for v in ("B1", "E5")]
    white = [spec.parse_move(v) for v in ("A1", "C5", "D5")]
    state = go_positions.position_from_stones(5, black, white, to_move=go.WHITE)
    env = GameEnv(spec, opponent=lambda state, mask=None: spec.num_actions - 1, first_player="agent")
    env.reset(seed=0)
    env.unwrapped._state, env.unwrapped._agent_to_move = state, False
    view = env.unwrapped._observation()
    expected = {plane: np.zeros(25) for plane in range(go.ATARI_PLANES, go.NUM_PLANES)}
    for plane, points in ((go.ATARI_PLANES, ["E5"]), (go.ATARI_PLANES + 1, ["A1"]), (go.LIBERTY_PLANES, ["B1"]),
                          (go.LIBERTY_PLANES + 3, ["C5", "D5"])):
        expected[plane][[spec.parse_move(point) for point in points]] = 1
    for plane, stones in expected.items():
        assert np.array_equal(view[plane].ravel(), stones), plane
    assert (view[go.COLOUR_PLANE] == 1).all() and view[0].ravel()[black].all() and view[1].ravel()[white].all()


@pytest.mark.parametrize("komi,passes", [(22.5, False), (19.5, True)])
def test_search_values_a_pass_that_ends_the_game(komi, passes):
    """White just passed. Black's pass ends the game: lost on komi 22.5 (the
    terminal has white to move with +1), won on komi 19.5 (white to move, -1).
    With no other information (uniform evaluator) search must avoid the first
    and take the second."""
    from mcts import MCTSConfig, UniformEvaluator
    from mcts.search import search_position

    spec = engine.get_game("go5")
    state = go_positions.set_komi(play(position("""
        . . . . .
        . . . . .
        . . . . .
        X X X . .
        O O . X .""", to_move=go.WHITE), "pass"), komi)
    assert spec.status(play(state, "pass")) == (-1 if passes else 1)
    result, _ = search_position(spec, UniformEvaluator(spec), MCTSConfig(num_simulations=200), state)
    visits = result.visit_counts[0]
    chose_pass = int(np.argmax(visits)) == spec.parse_move("pass")
    assert chose_pass == passes
    if not passes:
        assert visits[spec.parse_move("pass")] <= 2


# ---- the moves search considers ---------------------------------------------------------


def search_moves(state: np.ndarray) -> set[str]:
    spec = engine.get_game(f"go{go.board_size(state)}")
    mask = np.zeros(spec.num_actions, np.bool_)
    spec.search_mask(state, mask)
    return {spec.format_move(int(a)) for a in np.flatnonzero(mask)}


def test_search_holds_back_a_pass_while_the_board_is_unsettled():
    state = position("""
        . . . . .
        . X . . .
        . . . O .
        . . . . .
        . . . . .""")
    assert legal(state, "pass")
    assert "pass" not in search_moves(state)
    assert search_moves(state) == {m for m in map(go.format_vertex, range(25), [5] * 25) if legal(state, m)}


@pytest.mark.parametrize("komi,passes", [(4.5, True), (5.5, False)])
def test_search_passes_after_the_opponent_only_when_that_wins(komi, passes):
    """White has just passed; black has 15 points of area and white 10: a pass ends the
    game, won by black on komi 4.5 and lost on komi 5.5."""
    state = play(position("""
        . . X O .
        . . X O .
        . . X O .
        . . X O .
        . . X O .""", to_move=go.WHITE, komi=komi), "pass")
    assert go.area_difference(state) == 5
    assert ("pass" in search_moves(state)) == passes


def test_search_passes_when_only_its_own_eyes_are_left():
    state = position("""
        . X . X .
        X X X X X
        X X X X X
        X X X X X
        X X X X X""")
    assert search_moves(state) == {"A5", "C5", "E5", "pass"}  # filling an eye stays legal
    assert search_moves(go_positions.with_side_to_move(state, go.WHITE)) == {"pass"}  # every point is suicide


def test_eyes_true_and_false():
    board = """
        . X . . .
        X X . X O
        . X X . X
        X O {c2} X .
        . . . . ."""

    def eye(move: str, colour: int = go.BLACK, c2: str = ".") -> bool:
        state = position(board.format(c2=c2))
        return go.is_own_eye(state.view(np.int8), go.cell_of(go.parse_vertex(move, 5), 5), colour, 7)

    assert eye("A5") and not eye("A5", go.WHITE)  # a corner, no enemy diagonal
    assert not eye("A3")  # on the edge, and white holds a diagonal (B2): false
    assert eye("D3")  # inside, one enemy diagonal (E4)
    assert not eye("D3", c2="O")  # inside, two (E4, C2): false
    assert not eye("C4")  # a neighbour is empty


def test_search_moves_are_the_legal_ones_but_for_held_back_passes():
    spec = engine.get_game("go7")
    legal_mask, search_mask = (np.zeros(spec.num_actions, np.bool_) for _ in range(2))
    for state in random_positions(spec, 20, seed=5):
        spec.legal_mask(state, legal_mask)
        spec.search_mask(state, search_mask)
        assert np.array_equal(legal_mask[:-1], search_mask[:-1])
        assert legal_mask[-1] or not search_mask[-1]


# ---- numba's cache ----------------------------------------------------------------------


CACHE_PROBE = """
import numpy as np, engine
from engine import go
from mcts.evaluators import playout_kernel
spec = engine.get_game("go9")
states = np.stack([spec.initial_state()] * 2)
masks = np.zeros((2, spec.num_actions), np.bool_)
spec.legal_mask_batch(states, masks)
after = np.empty_like(states)
spec.play_batch(states, np.array([0, 81]), after)
spec.status_batch(after, np.zeros(2, np.int64))
spec.encode_batch(after, np.zeros((2, *spec.planes_shape), np.float32))
playout_kernel(spec)(states, 1, 0, np.zeros(2, np.float32))
go.why_illegal(after[0], 0)
kernels = [spec.legal_mask_batch, spec.play_batch, spec.status_batch, spec.encode_batch, spec.initial_state,
           playout_kernel(spec), go.move_verdict]
print(sum(sum(k.stats.cache_misses.values()) for k in kernels))
"""
"""Closures over the Go kernels (the batch kernels, the rollout kernel of search;
tests/test_numba_cache.py covers the search tree's closures) and plain kernels."""


def test_a_second_process_compiles_no_go_kernel():
    def misses() -> int:
        done = subprocess.run([sys.executable, "-c", CACHE_PROBE], cwd=REPO, capture_output=True, text=True, check=True)
        return int(done.stdout.strip().splitlines()[-1])

    misses()  # fills the cache if this checkout's is cold
    assert misses() == 0
