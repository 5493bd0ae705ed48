"""Connect Four strength against solved positions (``engine.solved_sets``).

The share of positions where a player picks an optimal column, for the network
alone (argmax of its legal logits) and for the network with search, judged two
ways (engine/data/connect4/README.md):

- exact: the column's solved score equals the position's best, so a won
  position needs the fastest win and a lost one the slowest loss;
- result: the column keeps the position's game-theoretic result (any winning
  column in a won position, any drawing one in a drawn position; every column
  in a lost one). This is what an AlphaZero agent, whose values are win, draw
  or loss, is trained to get right.

These positions are for evaluation only: nothing here writes training data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine
from engine.solved_sets import DEFAULT_SET, SolvedSetError, read_solved_set
from engine.spec import GameSpec
from mcts import BatchedSearch, MCTSConfig, greedy_moves
from selfplay.config import CommonConfig


@dataclass
class SolvedPositions:
    spec: GameSpec
    """The game of the positions."""
    states: np.ndarray
    """[P, S] int64."""
    optimal: np.ndarray
    """[P, A] bool: moves whose solved score is the best (exact judging)."""
    keeps_result: np.ndarray
    """[P, A] bool: moves whose solved result (sign of the score) is the best's (result judging)."""
    sequences: list[str]


def load_solved_positions(spec: GameSpec, source: str = DEFAULT_SET,
                          limit: int | None = None) -> SolvedPositions:
    """The first ``limit`` positions of a solved set of ``spec``'s game: a shipped set's name (e.g.
    "L1_R2_begin_medium") or the path of a JSON file in that layout (SolvedSetError otherwise)."""
    entries = read_solved_set(source)[:limit]
    states, optimal, keeps_result = [], [], []
    for index, entry in enumerate(entries):
        try:
            states.append(engine.position_from_moves(spec, entry["sequence"]))
        except engine.IllegalMoveError as error:
            raise SolvedSetError(f"solved set '{source}', entry {index}: {error}") from None
        legal = np.array([s is not None for s in entry["analysis"]])
        scores = np.array([s if s is not None else 0 for s in entry["analysis"]])
        best = scores[legal].max()
        optimal.append(legal & (scores == best))
        keeps_result.append(legal & (np.sign(scores) == np.sign(best)))
    return SolvedPositions(spec, np.stack(states), np.stack(optimal), np.stack(keeps_result),
                           [e["sequence"] for e in entries])


def optimal_move_shares(evaluator, positions: SolvedPositions, simulations: int = 0,
                        batch_size: int = 256, search: MCTSConfig | None = None) -> tuple[float, float]:
    """(exact, result): shares of positions where the chosen column is optimal, judged both ways.

    ``simulations`` 0 plays the network's best legal logit; otherwise the move of a search
    with that many simulations (no noise; ``search``'s other settings, default PUCT):
    ``mcts.greedy_moves``, the most visited one or Gumbel search's own choice, a winning one first. All positions are searched together in
    batches of ``batch_size``.
    """
    spec = positions.spec
    states = positions.states
    chosen = np.zeros(len(states), np.int64)
    if simulations == 0:
        planes = np.zeros((len(states), *spec.planes_shape), np.float32)
        spec.encode_batch(states, planes)
        masks = np.zeros((len(states), spec.num_actions), np.bool_)
        spec.legal_mask_batch(states, masks)
        logits, _ = evaluator.evaluate(states, planes)
        chosen[:] = np.where(masks, logits, -np.inf).argmax(axis=1)
    else:
        config = (search or MCTSConfig()).replace(num_simulations=simulations, reuse_tree=False, root_noise=False)
        for start in range(0, len(states), batch_size):
            chunk = states[start:start + batch_size]
            tree = BatchedSearch(spec, evaluator, config, batch_size=len(chunk))
            tree.set_roots(chunk)
            result = tree.run()
            chosen[start:start + len(chunk)] = greedy_moves(result)
    rows = np.arange(len(states))
    return float(positions.optimal[rows, chosen].mean()), float(positions.keeps_result[rows, chosen].mean())


def load_eval_positions(config: CommonConfig) -> SolvedPositions | None:
    """The solved positions a run is scored on: ``config.eval_set``, else its game's own
    (``GameSpec.eval_set``); None for a game without solved positions or with the evaluation
    turned off. SolvedSetError for a set that cannot be read."""
    spec = engine.get_game(config.game)
    source = config.eval_set or spec.eval_set
    if source is None or config.eval_positions == 0:
        return None
    return load_solved_positions(spec, source, limit=config.eval_positions)


def solved_set_metrics(evaluator, positions: SolvedPositions, simulations: int) -> dict:
    """Shares of optimal moves of the network alone and with ``simulations`` of search. The
    optimal_moves_* keys judge exact scores (the older, stricter figure); optimal_result_*
    judge only the game-theoretic result."""
    net_exact, net_result = optimal_move_shares(evaluator, positions)
    search_exact, search_result = optimal_move_shares(evaluator, positions, simulations=simulations)
    return {"optimal_moves_net": net_exact, "optimal_moves_search": search_exact,
            "optimal_result_net": net_result, "optimal_result_search": search_result}
