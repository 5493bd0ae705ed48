"""The search tree: one tree per game, all trees in one struct of arrays.

Axes: B trees (one per concurrent game), N node slots per tree, A actions,
S state size. Node ``ROOT`` (0) is each tree's root; a child slot that has
never been visited holds ``UNVISITED``.

Sign convention (fixed here, used by every kernel): ``value_sums[b, n]`` is
the sum of backed-up values *from the point of view of the player who made
the move into node n* (the player to move at its parent). A parent therefore
picks the child with the highest ``value_sums / visits``, and the value of
node n for the player to move *at* n is ``-value_sums[b, n] / visits[b, n]``.
Evaluators and game status report values for the side to move at the
evaluated position, so a backup negates once before adding into the leaf.
``score_sums`` (score margins in points, where the evaluator predicts them) follow
the same convention.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ROOT = 0
"""Index of the root node of every tree."""
UNVISITED = -1
"""Child slot of an action that has never been selected (and parent of the root)."""
PENDING = 0
"""``expanded`` value of a node created by selection and waiting for its evaluation."""
EXPANDED = 1
"""``expanded`` value of a node whose priors are set."""


class Tree(NamedTuple):
    """Preallocated arrays for B trees of N node slots each.

    A NamedTuple of arrays (not a jitclass) so that numba kernels taking it are
    cached on disk.
    """

    visits: np.ndarray
    """[B, N] int32: visits, virtual visits of pending leaves included."""
    value_sums: np.ndarray
    """[B, N] float64: summed values, from the view of the player who moved into the node."""
    parents: np.ndarray
    """[B, N] int32: parent node, UNVISITED for the root."""
    actions: np.ndarray
    """[B, N] int32: the action that led from the parent to this node."""
    children: np.ndarray
    """[B, N, A] int32: child node of each action, or UNVISITED."""
    priors: np.ndarray
    """[B, N, A] float32: network priors over the node's actions, 0 for illegal ones."""
    legal: np.ndarray
    """[B, N, A] bool: the actions search considers at the node (``GameSpec.search_mask``)."""
    states: np.ndarray
    """[B, N, S] int64: the position at the node."""
    statuses: np.ndarray
    """[B, N] int64: game status at the node (ONGOING, or its exact value for the side to move)."""
    expanded: np.ndarray
    """[B, N] int8: PENDING or EXPANDED."""
    num_nodes: np.ndarray
    """[B] int32: node slots in use."""
    root_noise: np.ndarray
    """[B, A] float32: Dirichlet noise mixed into the root priors during selection (priors stay clean)."""
    raw_values: np.ndarray
    """[B, N] float32: the evaluator's value of the node for its side to move (the exact value
    of a finished game); Gumbel search completes unvisited actions' values with it."""
    score_sums: np.ndarray
    """[B, N] float64: summed final score margins (points), from the view of the player who
    moved into the node, like ``value_sums`` but never discounted; zero unless the search
    tracks scores (``BatchedSearch(..., scores=True)``)."""
    raw_scores: np.ndarray
    """[B, N] float32: the evaluator's score margin of the node for its side to move (the
    exact margin of a finished game: ``GameSpec.final_margin``)."""
    score_centre: np.ndarray
    """[B] float64: the root's mean score margin when the search began (its first evaluation
    for a new root; NaN until known), which the score utility is centred on."""
    gumbel: np.ndarray
    """[B, A] float32: Gumbel noise g(a) of the root's actions in Gumbel search (0: no noise)."""
    search_start: np.ndarray
    """[B, A] int32: visits of each root child when the search began (tree reuse keeps some);
    Gumbel search's sequential halving counts the visits made since."""


class SearchParams(NamedTuple):
    """The scalars that steer one search (see ``MCTSConfig`` for each)."""

    c_base: float
    c_init: float
    fpu_reduction: float
    noise_fraction: float
    """Share of Dirichlet noise in the root priors (0: none)."""
    virtual_loss: float
    gumbel: bool
    """Gumbel search (sequential halving at the root, the improved policy below) instead of PUCT."""
    max_considered: int
    c_visit: float
    c_scale: float
    discount: float
    """Value discount per ply (``MCTSConfig.value_discount``; 1: none)."""
    forced_playouts: float
    """k of KataGo's forced playouts at the root (0: none); only with noise_fraction > 0."""
    score_utility: float
    """Weight of the score utility in the backed-up values (0: none)."""
    score_scale: float
    """Points: the scale of the score utility's atan."""


def allocate_tree(batch_size: int, capacity: int, num_actions: int, state_size: int) -> Tree:
    """Zeroed arrays for ``batch_size`` trees of ``capacity`` nodes."""
    b, n, a, s = batch_size, capacity, num_actions, state_size
    return Tree(
        visits=np.zeros((b, n), np.int32),
        value_sums=np.zeros((b, n), np.float64),
        parents=np.full((b, n), UNVISITED, np.int32),
        actions=np.full((b, n), UNVISITED, np.int32),
        children=np.full((b, n, a), UNVISITED, np.int32),
        priors=np.zeros((b, n, a), np.float32),
        legal=np.zeros((b, n, a), np.bool_),
        states=np.zeros((b, n, s), np.int64),
        statuses=np.zeros((b, n), np.int64),
        expanded=np.zeros((b, n), np.int8),
        num_nodes=np.zeros(b, np.int32),
        root_noise=np.zeros((b, a), np.float32),
        raw_values=np.zeros((b, n), np.float32),
        score_sums=np.zeros((b, n), np.float64),
        raw_scores=np.zeros((b, n), np.float32),
        score_centre=np.zeros(b, np.float64),
        gumbel=np.zeros((b, a), np.float32),
        search_start=np.zeros((b, a), np.int32),
    )
