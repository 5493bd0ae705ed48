"""Arena: Elo and SPRT against known values, maximum likelihood ratings, player
specs, batched matches (colours, openings, early stop), the solver never losing,
terminal play driven through standard input, and the command line's errors."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import arena
import engine
from arena.cli import main
from arena.elo import elo_estimate, elo_from_score, expected_score, fit_ratings
from arena.match import play_match
from arena.play import play_terminal
from arena.players import Decisions, Player, PolicyPlayer, make_player, sample_move
from arena.records import read_games
from arena.specs import PlayerSpecError, parse_player_spec
from mcts.search import SearchResult
from arena.sprt import H0, H1, SPRT, log_likelihood_ratio, parse_bounds
from nets import (CheckpointGameError, CheckpointNotFoundError, NetConfig, PolicyValueNet, load_checkpoint,
                  save_checkpoint)

C4 = engine.get_game("connect4")
TTT = engine.get_game("tictactoe")
REPO = Path(__file__).resolve().parents[1]




def tiny_checkpoint(path: Path, spec=C4, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    save_checkpoint(path, PolicyValueNet.from_spec(spec, "b1c8"), game=spec.name, step=0)
    return path


# ---- Elo -----------------------------------------------------------------------


def test_elo_of_known_scores():
    assert elo_from_score(0.75) == pytest.approx(190.85, abs=0.01)
    assert elo_from_score(0.25) == pytest.approx(-190.85, abs=0.01)
    assert elo_from_score(0.5) == 0.0
    assert elo_from_score(1.0) == math.inf and elo_from_score(0.0) == -math.inf
    assert expected_score(elo_from_score(0.64)) == pytest.approx(0.64)


def test_elo_interval():
    even = elo_estimate(40, 20, 40)
    assert even.elo == 0.0 and even.low < 0 < even.high and even.low == pytest.approx(-even.high)
    assert elo_estimate(75, 0, 25).elo == pytest.approx(190.85, abs=0.01)
    # Four times the games: about half the width. Draws (less spread) narrow it too.
    assert elo_estimate(300, 0, 100).margin == pytest.approx(elo_estimate(75, 0, 25).margin / 2, rel=0.1)
    assert elo_estimate(60, 30, 10).margin < elo_estimate(75, 0, 25).margin
    perfect = elo_estimate(20, 0, 0)
    assert perfect.elo == math.inf and math.isfinite(perfect.low) and perfect.low > 200
    assert elo_estimate(0, 0, 0).games == 0


# ---- SPRT ----------------------------------------------------------------------


def test_sprt_bounds_and_known_values():
    sprt = SPRT(0, 35)
    assert sprt.lower == pytest.approx(math.log(0.05 / 0.95)) == pytest.approx(-2.944, abs=1e-3)
    assert sprt.upper == pytest.approx(2.944, abs=1e-3)
    # 60 wins, 20 draws, 20 losses: m = 0.7, d smoothed = 20.5 / 101.
    s0, s1 = 0.5, expected_score(35)
    variance = 0.5 * (s0 + s1) * (1 - 0.5 * (s0 + s1)) - 0.25 * 20.5 / 101
    expected = 100 * (s1 - s0) * (1.4 - s0 - s1) / (2 * variance)
    assert log_likelihood_ratio(60, 20, 20, 0, 35) == pytest.approx(expected)
    assert log_likelihood_ratio(0, 0, 0, 0, 35) == 0.0
    # An even score is evidence for H0 = 0 Elo; symmetric bounds mirror the LLR.
    assert log_likelihood_ratio(50, 0, 50, -10, 10) == pytest.approx(0.0)
    assert log_likelihood_ratio(60, 0, 40, -10, 10) == pytest.approx(-log_likelihood_ratio(40, 0, 60, -10, 10))


def result_stream(elo: float, draw_share: float, size, seed: int) -> np.ndarray:
    """Games (+1 / 0 / -1) of a player ``elo`` stronger, as an array of ``size``."""
    score = expected_score(elo)
    win = score - draw_share / 2
    return np.random.default_rng(seed).choice([1, 0, -1], size=size, p=[win, draw_share, 1 - win - draw_share])


def run_sprt(results: np.ndarray, elo0=0.0, elo1=35.0) -> tuple[str | None, int]:
    sprt = SPRT(elo0, elo1)
    for played, result in enumerate(results, start=1):
        if sprt.update(int(result)) is not None:
            return sprt.verdict, played
    return None, len(results)


def test_sprt_decides_on_clear_streams_and_waits_on_short_ones():
    verdict, played = run_sprt(result_stream(150, 0.2, 2000, seed=1))
    assert verdict == H1 and played < 400
    verdict, played = run_sprt(result_stream(-100, 0.2, 2000, seed=2))
    assert verdict == H0 and played < 400
    # A handful of games never decides, even a perfect start.
    assert run_sprt(np.ones(5, int)) == (None, 5)
    assert run_sprt(-np.ones(3, int)) == (None, 3)
    assert run_sprt(result_stream(0, 0.3, 20, seed=3))[0] is None


@pytest.mark.parametrize("elo1, draw_share", [(35, 0.0), (35, 0.3), (100, 0.1)])
def test_sprt_error_rates_are_nominal(elo1, draw_share):
    """Simulate 400 matches at elo0 and 400 at elo1 (vectorised LLR after every game):
    wrong verdicts stay near alpha = beta = 0.05 (the 0.085 margin is sampling noise)."""
    runs, cap = 400, 4000
    sprt = SPRT(0, elo1)
    for true_elo, wrong in ((0.0, H1), (float(elo1), H0)):
        results = result_stream(true_elo, draw_share, (runs, cap), seed=int(elo1 * 10 + draw_share * 100 + true_elo))
        counts = [np.cumsum(results == kind, axis=1) for kind in (1, 0, -1)]
        llr = log_likelihood_ratio(*counts, 0, elo1)  # [runs, cap]
        outside = (llr >= sprt.upper) | (llr <= sprt.lower)
        assert outside.any(axis=1).all(), "every simulated match decides within the cap"
        first = outside.argmax(axis=1)
        verdicts = np.where(llr[np.arange(runs), first] >= sprt.upper, H1, H0)
        assert (verdicts == wrong).mean() <= 0.085


def test_parse_sprt_bounds():
    assert parse_bounds("0,35") == (0.0, 35.0)
    assert parse_bounds(" -5 , 5 ") == (-5.0, 5.0)
    for bad in ("35", "a,b", "10,0", "0,35,70", "0,inf"):
        with pytest.raises(ValueError, match="--sprt"):
            parse_bounds(bad)


# ---- maximum likelihood ratings ---------------------------------------------------


def test_ratings_recover_the_generating_strengths():
    truth = np.array([0.0, 100.0, 200.0, 400.0])
    rng = np.random.default_rng(0)
    results = []
    for i in range(4):
        for j in range(i + 1, 4):
            score = expected_score(truth[i] - truth[j])
            draws = min(0.2, score, 1 - score)  # a draw share the score allows
            win = score - draws / 2
            w, d, l = rng.multinomial(400, [win, draws, 1 - win - draws])
            results.append((i, j, w, d, l))
    names = ["p0", "p1", "p2", "p3"]
    anchored = fit_ratings(names, results, anchor="p0", prior_draws=0)
    assert anchored.elo[0] == 0.0 and anchored.error[0] == 0.0
    assert np.all(np.abs(anchored.elo - truth) <= np.maximum(anchored.error, 1e-9) * 1.5)
    assert np.all(np.abs(anchored.elo - truth) < 50)
    assert np.all(anchored.error[1:] > 10) and np.all(anchored.error[1:] < 80)
    centred = fit_ratings(names, results, prior_draws=0)
    assert centred.elo.mean() == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(centred.elo - centred.elo[0], anchored.elo, atol=1e-4)
    assert [row["name"] for row in centred.rows()] == ["p3", "p2", "p1", "p0"]
    assert centred.games.tolist() == [1200] * 4


def test_ratings_of_a_perfect_score_are_finite_and_disconnected_results_refused():
    ratings = fit_ratings(["a", "b", "c"], [(0, 1, 10, 0, 0), (1, 2, 5, 0, 5)], anchor="c")
    assert np.all(np.isfinite(ratings.elo)) and ratings.elo[0] > ratings.elo[1]
    with pytest.raises(ValueError, match="connect"):
        fit_ratings(["a", "b", "c", "d"], [(0, 1, 1, 0, 1), (2, 3, 1, 0, 1)])
    with pytest.raises(ValueError, match="anchor"):
        fit_ratings(["a", "b"], [(0, 1, 1, 0, 1)], anchor="z")


# ---- player specs ------------------------------------------------------------------


def test_player_specs_parse():
    assert parse_player_spec("random").kind == "random"
    mcts = parse_player_spec("mcts:sims=1000")
    assert mcts.kind == "mcts" and mcts.options == {"sims": 1000, "playouts": 1, "temp": 0.0}
    assert parse_player_spec("mcts").options["sims"] == 1000
    net = parse_player_spec("net:runs/c4/checkpoints/gen00003.pt,sims=0,temp=0.5")
    assert net.path == "runs/c4/checkpoints/gen00003.pt" and net.options["sims"] == 0
    assert net.options["temp"] == 0.5 and net.options["device"] == "auto"
    assert parse_player_spec("net:a,b.pt,sims=3").path == "a,b.pt"
    assert parse_player_spec("net:m.pt,search=Gumbel").options["search"] == "gumbel"
    assert parse_player_spec('gtp:"gnugo --mode gtp --level 10"').command == "gnugo --mode gtp --level 10"
    assert parse_player_spec("mcts").with_option("sims", 50).text == "mcts:sims=50"
    assert parse_player_spec("net:m.pt,temp=1").with_option("sims", 8).text == "net:m.pt,sims=8,temp=1"


@pytest.mark.parametrize("text, message", [
    ("alphabeta", "unknown player"),
    ("mcts:sims", "malformed option"),
    ("mcts:depth=3", "unknown option 'depth'"),
    ("mcts:sims=0", "must be a whole number >= 1"),
    ("mcts:sims=ten", "must be a whole number >= 1"),
    ("net:m.pt,temp=-1", "must be a number >= 0"),
    ("net:m.pt,search=alphabeta", "must be puct or gumbel"),
    ("net:", "names no checkpoint"),
    ("net:sims=3", "names no checkpoint"),
    ("random:sims=3", "options: none"),
    ("gtp:", "names no engine"),
    ('gtp:"unclosed', "malformed GTP command"),
])
def test_malformed_player_specs(text, message):
    with pytest.raises(PlayerSpecError, match=message) as caught:
        parse_player_spec(text)
    assert "\n" not in str(caught.value)


def test_players_that_cannot_be_built(tmp_path):
    with pytest.raises(PlayerSpecError, match="GTP players need a Go game"):
        make_player('gtp:"gnugo --mode gtp"', C4)
    with pytest.raises(PlayerSpecError, match="no exact solver for go9; there is one for connect4, tictactoe"):
        make_player("solver", engine.get_game("go9"))
    # Tic-tac-toe has a solver too: it never loses, and wins against a random player.
    result = play_match(TTT, make_player("solver", TTT), make_player("random", TTT), 40, opening_plies=0)
    assert result.losses == 0 and result.wins > 0
    with pytest.raises(CheckpointNotFoundError):
        make_player(f"net:{tmp_path / 'missing.pt'}", C4)
    with pytest.raises(CheckpointGameError, match="for tictactoe, not connect4"):
        make_player(f"net:{tiny_checkpoint(tmp_path / 'ttt.pt', TTT)}", C4)


def test_sample_move_in_log_space_at_any_temperature():
    rng = np.random.default_rng(0)
    # Log visit counts of 300, 290 and 5 visits: counts ** (1 / 0.001) overflows to inf / inf = NaN.
    log_counts = np.log([300.0, 290.0, 5.0])
    for temperature in (0.001, 1e-6, 1e-300):
        assert {sample_move(log_counts, temperature, rng) for _ in range(50)} == {0}
    # Log probabilities near 1/7: probabilities ** 1000 all underflow to 0, and 0 / 0 = NaN.
    log_policy = np.log(np.full(7, 1 / 7)) + np.arange(7) * 0.01
    assert sample_move(log_policy, 0.001, rng) == 6
    # Excluded moves (-inf: illegal or unvisited; NaN) are never drawn, even at a huge temperature.
    weights = np.array([-np.inf, 0.0, np.nan, -50.0, -np.inf])
    drawn = [sample_move(weights, 1e6, rng) for _ in range(400)]
    assert set(drawn) == {1, 3} and 100 < drawn.count(3) < 300
    # Temperature 0 plays the best move, equal best ones at random; T = 1 is proportional to the weights.
    assert {sample_move(np.log([1.0, 4.0, 4.0]), 0.0, rng) for _ in range(60)} == {1, 2}
    drawn = [sample_move(np.log([1.0, 3.0]), 1.0, rng) for _ in range(2000)]
    assert drawn.count(1) / 2000 == pytest.approx(0.75, abs=0.04)
    with pytest.raises(ValueError, match="no move to choose from"):
        sample_move(np.full(3, -np.inf), 1.0, rng)


class FixedLogits:
    """An evaluator whose policy logits are the same in every position (values 0)."""

    def __init__(self, logits):
        self.logits = np.asarray(logits, np.float32)

    def evaluate(self, states, planes):
        return np.tile(self.logits, (len(states), 1)), np.zeros(len(states), np.float32)


def test_small_temperatures_play_the_best_legal_move():
    # Column 7 (the largest logit) is full: the best legal move is column 6.
    states = np.stack([engine.position_from_moves(C4, moves) for moves in ("777777", "7777771")])
    logits = np.arange(7) * 0.01  # a near-uniform policy: every probability ** 1000 underflows
    for temperature in (0.001, 1e-5):
        policy = PolicyPlayer(C4, "policy", FixedLogits(logits), temperature=temperature, seed=1)
        assert policy.play(states).actions.tolist() == [5, 5]
    policy = PolicyPlayer(C4, "policy", FixedLogits(logits), temperature=1.0, seed=1)
    assert 6 not in {int(a) for _ in range(20) for a in policy.play(states).actions}
    # A search player samples its visit counts the same way: 300 ** 1000 overflows.
    search = make_player("mcts:sims=8,temp=0.001", C4, seed=1)
    counts = np.array([0, 300, 290, 0, 5, 1, 0], np.int32)
    search.search = lambda batch: SearchResult(np.tile(counts, (len(batch), 1)), np.zeros(len(batch), np.float32),
                                               np.tile(counts / counts.sum(), (len(batch), 1)))
    assert search.play(states).actions.tolist() == [1, 1]


def test_network_players_answer_a_batch_with_legal_moves(tmp_path):
    path = tiny_checkpoint(tmp_path / "c4.pt")
    states = np.stack([engine.position_from_moves(C4, moves) for moves in ("", "444444", "1234567", "4455")])
    legal = np.zeros((len(states), C4.num_actions), bool)
    C4.legal_mask_batch(states, legal)
    for spec in (f"net:{path},sims=0", f"net:{path},sims=16", f"net:{path},sims=16,leaves=4,temp=1",
                 f"net:{path},sims=16,search=gumbel", f"net:{path},sims=16,leaves=4,search=gumbel"):
        player = make_player(spec, C4, seed=1)
        decisions = player.play(states)
        assert decisions.actions.shape == (4,) and legal[np.arange(4), decisions.actions].all()
        assert np.all(np.abs(decisions.values) <= 1)
        analysis = player.analyse(states[1])
        assert analysis.shares[3] == 0 and analysis.shares.sum() == pytest.approx(1)
        assert np.isnan(analysis.values[3]) and np.all(np.abs(analysis.values[legal[1]]) <= 1)


def test_a_network_with_a_score_head_plays_with_the_score_utility(tmp_path):
    go5 = engine.get_game("go5")
    torch.manual_seed(0)
    scored = tmp_path / "scored.pt"
    save_checkpoint(scored, PolicyValueNet.from_spec(go5, NetConfig(blocks=1, channels=8, score_hidden=8)), game="go5",
                    step=0)
    states = np.stack([go5.initial_state()] * 2)
    player = make_player(f"net:{scored},sims=16,utility=0.3", go5, seed=1)
    assert player.config.score_utility == 0.3
    legal = np.zeros((2, go5.num_actions), bool)
    go5.legal_mask_batch(states, legal)
    assert legal[np.arange(2), player.play(states).actions].all()
    plain = tiny_checkpoint(tmp_path / "plain.pt", go5)
    with pytest.raises(PlayerSpecError, match="score head"):
        make_player(f"net:{plain},utility=0.3", go5)
    with pytest.raises(PlayerSpecError, match=">= 0"):
        parse_player_spec(f"net:{plain},utility=-1")


# ---- matches ------------------------------------------------------------------------


class FirstLegal(Player):
    """A deterministic player: the lowest legal action."""

    def play(self, states):
        masks = self._legal_masks(states)
        return Decisions(masks.argmax(axis=1).astype(np.int64), np.full(len(states), np.nan, np.float32))


class LastLegal(Player):
    """A deterministic player: the highest legal action."""

    def play(self, states):
        masks = self._legal_masks(states)[:, ::-1]
        actions = masks.shape[1] - 1 - masks.argmax(axis=1)
        return Decisions(actions.astype(np.int64), np.full(len(states), np.nan, np.float32))


def test_colours_alternate_and_pairs_share_their_opening(tmp_path):
    out = tmp_path / "games.jsonl"
    a, b = FirstLegal(C4, "first"), LastLegal(C4, "last")
    result = play_match(C4, a, b, 12, opening_plies=4, seed=7, parallel=5, out=out)
    assert result.played == 12 and result.wins + result.draws + result.losses == 12
    games = sorted(result.games, key=lambda g: (g.pair, not g.a_first))
    assert [g.pair for g in games] == [k // 2 for k in range(12)]
    assert [g.a_first for g in games] == [True, False] * 6
    for first, second in zip(games[::2], games[1::2]):
        assert first.moves[:4] == second.moves[:4] and first.opening_plies == 4
        assert (first.first, first.second) == ("first", "last") == (second.second, second.first)
    openings = {tuple(g.moves[:4]) for g in games}
    assert len(openings) == 6, "every pair has its own opening"
    # Deterministic players replay no game: openings differ across pairs, colours within one.
    assert len({tuple(g.moves) for g in games}) == 12
    saved = read_games(out)
    assert len(saved) == 12 and {row["game"] for row in saved} == {"connect4"}
    for row, record in zip(saved, result.games):
        assert row["moves"] == " ".join(str(a + 1) for a in record.moves)
        assert row["result"] in ("1-0", "0-1", "1/2-1/2")
        assert row["winner"] == {"1-0": row["first"], "0-1": row["second"]}.get(row["result"])


def test_results_are_counted_from_a_side():
    strong, weak = make_player("mcts:sims=200", C4, seed=1), make_player("random", C4, seed=2)
    result = play_match(C4, strong, weak, 8, seed=3)
    assert result.wins >= 7 and result.score > 0.85
    assert all(g.result_for_a == (1 if g.a_first else -1) * g.result for g in result.games)
    reverse = play_match(C4, weak, strong, 8, seed=3)
    assert reverse.losses >= 7


def test_stop_ends_the_match_early():
    a, b = make_player("random", TTT, seed=1), make_player("random", TTT, seed=2)
    seen = []
    result = play_match(TTT, a, b, 100, parallel=8, on_game=lambda record, res: seen.append(res.played),
                        stop=lambda res: res.played >= 10)
    assert result.played == 10 and result.stopped_early and seen == list(range(1, 11))


def test_solver_never_loses_to_random():
    solver, random = make_player("solver", C4, seed=1), make_player("random", C4, seed=2)
    result = play_match(C4, solver, random, 4, opening_plies=10, seed=11)
    assert result.played == 4 and result.losses == 0 and result.wins >= 3


# ---- terminal play ---------------------------------------------------------------------


def scripted(lines: list[str]):
    """read_line for play_terminal: the given lines, then end of input."""
    feed = iter(lines)

    def read_line(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read_line


def run_play_cli(monkeypatch, capsys, lines: list[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
    code = main(["play", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_play_through_stdin(monkeypatch, capsys, tmp_path):
    out = tmp_path / "play.jsonl"
    code, text, err = run_play_cli(monkeypatch, capsys, ["4", "9", "undo", "3", "hint", "quit"],
                                   "--opponent", "mcts:sims=50", "--out", str(out))
    assert code == 0 and err == ""
    assert "You are X (red) and move first" in text
    assert "bot plays" in text and "its win probability" in text
    assert "'9' is not a column: Connect Four columns are 1-7; try again" in text
    assert "took back 2 moves" in text
    assert "hint (50 simulations)" in text and "win prob." in text and "suggested move" in text
    assert "You left the game." in text and "(unfinished)" in text
    assert "1 2 3 4 5 6 7" in text and "last move: 3 (you" in text
    [row] = read_games(out)
    assert row["first"] == "human" and row["second"] == "mcts:sims=50" and row["result"] == "*"
    assert row["moves"].split()[0] == "3" and len(row["moves"].split()) == 2


def test_play_a_full_game_to_its_summary(tmp_path):
    """Tic-tac-toe against a random bot: every cell offered in turn, occupied ones re-asked."""
    console_file = io.StringIO()
    from rich.console import Console

    console = Console(file=console_file, width=100)
    cells = [f"{f}{r}" for r in "123" for f in "abc"]
    bot = make_player("random", TTT, seed=5)
    code = play_terminal(TTT, bot, human_first=False, console=console, read_line=scripted(["hint"] + cells * 2),
                         out=tmp_path / "g.jsonl")
    text = console_file.getvalue()
    assert code == 0 and "no hint: the random player does not analyse positions" in text
    assert any(line in text for line in ("You win!", "The bot wins.", "Draw."))
    assert "is occupied; try again" in text
    [row] = read_games(tmp_path / "g.jsonl")
    assert row["first"] == "random" and row["second"] == "human" and row["result"] != "*"


def test_undo_before_any_move_and_ctrl_c(tmp_path):
    from rich.console import Console

    console_file = io.StringIO()
    lines = iter(["undo", "2"])

    def read_line(prompt):
        try:
            return next(lines)
        except StopIteration:
            raise KeyboardInterrupt from None

    code = play_terminal(C4, make_player("mcts:sims=20", C4), console=Console(file=console_file),
                         read_line=read_line, out=tmp_path / "g.jsonl")
    text = console_file.getvalue()
    assert code == 130 and "nothing to undo" in text and "interrupted" in text
    assert read_games(tmp_path / "g.jsonl")[0]["result"] == "*"


def test_play_hint_with_a_network_and_a_missing_default(monkeypatch, capsys, tmp_path):
    path = tiny_checkpoint(tmp_path / "c4.pt")
    code, text, _ = run_play_cli(monkeypatch, capsys, ["hint", "quit"], "--opponent", f"net:{path}", "--sims", "8",
                                 "--out", str(tmp_path / "g.jsonl"))
    assert code == 0 and "hint (8 simulations)" in text and f"net:{path},sims=8" in text
    monkeypatch.setattr("arena.cli.shipped_network", lambda game: None)
    code, text, _ = run_play_cli(monkeypatch, capsys, [], "--sims", "20", "--first", "bot",
                                 "--out", str(tmp_path / "g.jsonl"))
    assert code == 0 and "pure MCTS (no network is shipped" in text and "bot plays" in text
    shipped = tiny_checkpoint(tmp_path / "shipped.pt")
    monkeypatch.setattr("arena.cli.shipped_network", lambda game: shipped)
    code, text, _ = run_play_cli(monkeypatch, capsys, [], "--sims", "4", "--out", str(tmp_path / "g.jsonl"))
    assert code == 0 and "the shipped network" in text


# ---- command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["match", "--game", "chess", "random", "random"], "unknown game 'chess'"),
    (["match", "random", "mcts:simz=3"], "unknown option 'simz'"),
    (["match", "random", "net:/no/such/file.pt"], "no such checkpoint file"),
    (["match", "random", "random", "--sprt", "35,0"], "--sprt needs finite elo0 < elo1"),
    (["match", "random", "random", "--sprt", "zero"], "--sprt wants two Elo values"),
    (["match", "random", 'gtp:"gnugo --mode gtp"'], "GTP players need a Go game"),
    (["match", "random", "random", "--games", "0"], "at least 1"),
    (["tournament", "random"], "at least two players"),
    (["tournament", "random", "random"], "listed twice"),
    (["ladder", "--run-dir", "/no/such/run"], "not a self-play run directory"),
    (["play", "--game", "go"], "unknown game 'go'"),
    (["play", "--opponent", "human"], "must be a bot"),
])
def test_cli_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("arena: error: ") and message in err and err.count("\n") == 1


def test_cli_as_a_process_without_traceback(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "arena", "match", "random", "net:missing.pt,sims=3"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == "arena: error: missing.pt: no such checkpoint file"
    helped = subprocess.run([sys.executable, "-m", "arena", "match", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--sprt" in helped.stdout and "net:PATH" in helped.stdout


def test_cli_match_with_sprt_stops_early(capsys, tmp_path):
    out = tmp_path / "m.jsonl"
    assert main(["match", "mcts:sims=100", "random", "--games", "60", "--sprt", "0,200", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "H1 accepted" in text and "(stopped early)" in text and "Elo difference: +" in text
    assert 0 < len(read_games(out)) < 60


def test_cli_tournament_writes_csv_and_json(capsys, tmp_path):
    argv = ["tournament", "random", "mcts:sims=10", "mcts:sims=100", "--games-per-pair", "4",
            "--csv", str(tmp_path / "r.csv"), "--json", str(tmp_path / "r.json"), "--anchor", "random"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "round robin" in text and "anchor" in text
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["anchor"] == "random" and len(document["matches"]) == 3
    assert {row["name"] for row in document["ratings"]} == {"random", "mcts:sims=10", "mcts:sims=100"}
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "rank,name,elo,error,low,high,games,score"


def test_cli_ladder_over_a_run_directory(capsys, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"game": "connect4"}))
    for generation in (0, 1, 2):
        tiny_checkpoint(run / "checkpoints" / f"gen{generation:05d}.pt", seed=generation)
    (run / "checkpoints" / "latest.pt").write_text("not a generation")
    png = tmp_path / "ladder.png"
    argv = ["ladder", "--run-dir", str(run), "--anchors", "random", "--games-per-pair", "4", "--sims", "4",
            "--png", str(png)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "gen00002" in text and "random" in text
    document = json.loads((run / "ladder" / "ratings.json").read_text())
    assert document["anchor"] == "random" and len(document["ratings"]) == 4
    assert len(document["matches"]) == 3 + 3  # neighbours 0-1, 0-2, 1-2; every generation against random
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_cli_match_with_a_human_who_quits_or_whose_input_ends(monkeypatch, capsys, tmp_path):
    out = tmp_path / "games.jsonl"
    for lines, reason in ((["quit"], "the human player quit"), ([], "end of input")):
        monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line + "\n" for line in lines)))
        code = main(["match", "--game", "tictactoe", "human", "random", "--games", "2", "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 0 and err == f"arena: {reason}; match abandoned\n"
    # The report's repro, as a process: no traceback.
    quit_ = subprocess.run([sys.executable, "-m", "arena", "match", "--game", "tictactoe", "human", "random",
                            "--games", "2"], input="quit\n", capture_output=True, text=True, cwd=REPO)
    assert quit_.returncode == 0 and "Traceback" not in quit_.stderr
    assert quit_.stderr == "arena: the human player quit; match abandoned\n"


def make_run(run: Path, generations=(0,)) -> Path:
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"game": "connect4"}))
    for generation in generations:
        tiny_checkpoint(run / "checkpoints" / f"gen{generation:05d}.pt", seed=generation)
    return run


@pytest.mark.parametrize("command, flag", [
    (["match", "--game", "tictactoe", "random", "random"], "--out"),
    (["tournament", "--game", "tictactoe", "random", "mcts:sims=5"], "--out"),
    (["tournament", "--game", "tictactoe", "random", "mcts:sims=5"], "--csv"),
    (["tournament", "--game", "tictactoe", "random", "mcts:sims=5"], "--json"),
    (["ladder", "--anchors", "random", "--sims", "2"], "--png"),
    (["ladder", "--anchors", "random", "--sims", "2"], "--csv"),
    (["play", "--game", "tictactoe", "--opponent", "random"], "--out"),
])
def test_cli_unwritable_outputs_fail_before_any_game(command, flag, monkeypatch, capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = blocker / "sub" / "result.out"
    argv = list(command) + ["--games-per-pair" if command[0] in ("tournament", "ladder") else "--games", "2"]
    if command[0] == "play":
        argv = list(command)
        monkeypatch.setattr(sys, "stdin", io.StringIO("a1\nb1\nc1\na2\nb2\nc2\na3\nb3\nc3\n"))
    if command[0] == "ladder":
        argv += ["--run-dir", str(make_run(tmp_path / "run"))]
    games = tmp_path / "games.jsonl"
    argv += [flag, str(bad)] + ([] if flag == "--out" else ["--out", str(games)])
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == f"arena: error: {flag} {bad}: cannot be written (Not a directory)\n"
    assert not games.exists() and not (tmp_path / "run" / "ladder").exists(), "no game was played"
    assert "bot plays" not in captured.out and "You are" not in captured.out


def test_cli_output_checks_leave_nothing_behind(capsys, tmp_path):
    new = tmp_path / "new" / "sub" / "games.jsonl"
    # The path is fine (folders are made when games are written); the checkpoint is not.
    assert main(["match", "random", "net:/no/such/file.pt", "--out", str(new)]) == 2
    assert "no such checkpoint file" in capsys.readouterr().err and not (tmp_path / "new").exists()
    assert main(["tournament", "--game", "tictactoe", "random", "mcts:sims=5", "--json", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"arena: error: --json {tmp_path}: is a directory\n"
    existing = tmp_path / "old.jsonl"
    existing.write_text("kept\n")
    assert main(["match", "--game", "tictactoe", "random", "random", "--games", "2", "--out", str(existing)]) == 0
    assert existing.read_text().startswith("kept\n") and len(existing.read_text().splitlines()) == 3


def test_cli_os_errors_are_one_line(monkeypatch, capsys, tmp_path):
    def refuse(path, *args):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("arena.tournament.write_csv", refuse)
    csv_path = tmp_path / "r.csv"
    assert main(["tournament", "--game", "tictactoe", "random", "mcts:sims=5", "--games-per-pair", "2",
                 "--csv", str(csv_path)]) == 2
    assert capsys.readouterr().err == f"arena: error: {csv_path}: Permission denied\n"


def test_shipped_networks_are_package_data():
    """The default bots are found inside the installed package, whatever the working directory."""
    from arena.shipped import shipped_network

    for game in ("connect4", "go9"):
        path = shipped_network(game)
        assert path is not None and path.is_relative_to(Path(arena.__file__).parent)
        assert load_checkpoint(path, game=game).config.name.startswith("b")
    assert shipped_network("tictactoe") is None


def test_match_errors_finds_the_move_that_gave_the_draw_away(tmp_path):
    """benchmarks/match_errors.py on a hand-judged tic-tac-toe game: after X b2, O a1, X c3 the
    draw needs a corner; O's edge b1 loses (X c1 threatens c2 and a3 at once). That move is
    O's one error, X made none, and an abandoned game is left out."""
    games = tmp_path / "games.jsonl"
    line = {"game": "tictactoe", "first": "x-player", "second": "o-player", "moves": "b2 a1 c3 b1 c1 c2 a3",
            "opening_plies": 0, "result": "1-0", "pair": 0, "seed": 0}
    games.write_text(json.dumps(line) + "\n" + json.dumps({**line, "moves": "b2", "result": "*"}) + "\n")
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "match_errors.py"
    done = subprocess.run([sys.executable, str(script), str(games)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    players = json.loads(done.stdout.strip().splitlines()[-1])["players"]
    assert players["x-player"] == {"games": 1, "score": 1.0, "score_without_errors": 0.5, "errors": 0,
                                   "games_with_an_error": 0, "openings_won": 0, "openings_lost": 0}
    assert players["o-player"]["errors"] == 1 and players["o-player"]["score_without_errors"] == 0.5
    missing = subprocess.run([sys.executable, str(script), str(tmp_path / "none.jsonl")], capture_output=True,
                             text=True, timeout=300)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "cannot read" in missing.stderr
    games.write_text(json.dumps({**line, "moves": "b2 b2"}) + "\n")  # b2 is taken: a record no match writes
    illegal = subprocess.run([sys.executable, str(script), str(games)], capture_output=True, text=True, timeout=300)
    assert illegal.returncode == 2 and illegal.stderr.count("\n") == 1 and "game 1 of" in illegal.stderr
