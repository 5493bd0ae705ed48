"""AlphaGo Zero's gate: a trained candidate replaces the best network only after beating it.

The candidate and the best network so far play a match with the arena's match
runner (colours alternated, 2-ply random openings shared by each pair of
games), stopped by the SPRT (``arena.sprt``) as soon as it decides between
``elo0`` and ``elo1`` (``GatingConfig``). Undecided at the game cap, Leela
Zero's rule decides: a 55% score passes.
"""

from __future__ import annotations

from engine.spec import GameSpec
from mcts.evaluators import Evaluator
from selfplay.config import RunConfig

PASSING_SCORE = 0.55
"""Score that passes a match the SPRT left undecided at the cap (Leela Zero's gate)."""


def gate(spec: GameSpec, candidate: Evaluator, best: Evaluator, config: RunConfig, generation: int,
         best_generation: int) -> tuple[bool, dict]:
    """Whether the ``candidate`` network (trained in ``generation``) beats ``best`` (that of
    ``best_generation``), and the match's metrics: ``gating_score`` (the candidate's),
    ``gating_games`` and ``gating_accepted``."""
    from arena.match import play_match
    from arena.players import SearchPlayer
    from arena.sprt import H1, SPRT

    cfg = config.gating
    search_config = config.mcts.replace(num_simulations=cfg.simulations or config.mcts.num_simulations)
    players = (SearchPlayer(spec, f"gen{generation}", candidate, search_config, seed=generation),
               SearchPlayer(spec, f"gen{best_generation}", best, search_config, seed=generation + 1))
    sprt = SPRT(elo0=cfg.elo0, elo1=cfg.elo1)
    result = play_match(spec, *players, cfg.games, opening_plies=2, seed=config.seed * 100_003 + generation,
                        parallel=config.selfplay.games_in_parallel,
                        on_game=lambda record, so_far: sprt.update(record.result_for_a),
                        stop=lambda so_far: sprt.verdict is not None)
    accepted = sprt.verdict == H1 or (sprt.verdict is None and result.score >= PASSING_SCORE)
    return accepted, {"gating_score": result.score, "gating_games": result.played, "gating_accepted": int(accepted)}
