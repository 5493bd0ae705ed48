"""Batched Monte Carlo tree search over many games at once (PUCT, Dirichlet noise,
virtual loss, tree reuse); see ``mcts.search`` for the loop and ``mcts.tree``
for the tree layout and sign convention."""

from mcts.config import MCTSConfig
from mcts.evaluators import Evaluator, RolloutEvaluator, UniformEvaluator
from mcts.search import BatchedSearch, SearchResult, choose_action, choose_move, greedy_moves, search_position

__all__ = [
    "MCTSConfig", "Evaluator", "RolloutEvaluator", "UniformEvaluator",
    "BatchedSearch", "SearchResult", "choose_action", "choose_move", "greedy_moves", "search_position",
]
