"""Gumbel search (Danihelka et al., "Policy improvement by planning with Gumbel", ICLR 2022).

At the root, Gumbel-top-k draws m actions without replacement (the m largest
g(a) + logits(a)) and sequential halving shares the simulations among them:
log2(m) phases, each visiting every remaining action equally, then keeping the
better half by g(a) + logits(a) + sigma(q(a)). Below the root, selection is
deterministic: the action whose visit share falls furthest behind the improved
policy. The improved policy softmax(logits + sigma(completed Q)) is the
training target; with enough simulations it improves on the prior.

The kernels work on one tree ``b`` of a ``Tree`` (see ``mcts.tree``: ``value_sums``
of a child are from the view of the player choosing at its parent, so a child's
Q is the chooser's). ``logits`` are the logs of the stored priors, which differ
from the network's logits by a constant per node: softmax and argmax are unchanged.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mcts.tree import ROOT, UNVISITED

LOG_FLOOR = 1e-30
"""Priors are floored here before the log, so a prior that underflowed to 0 stays finite."""


@numba.njit(cache=True)
def considered_visits(num_considered, num_simulations, index):
    """Visits every still-considered root action has when simulation ``index`` (0-based) starts.

    Sequential halving over ``num_simulations`` with m = ``num_considered`` actions:
    ceil(log2 m) phases; a phase with k actions gives each max(1, n // (ceil(log2 m) * k))
    more visits, one round of k simulations at a time, then k halves (never below 2).
    The simulation goes to the best-scoring action that has exactly this many visits,
    which keeps the better actions of each phase in the next.
    """
    if num_considered <= 1:
        return index
    phases = math.ceil(math.log2(num_considered))
    start, base, remaining = 0, 0, num_considered
    while True:
        extra = max(1, num_simulations // (phases * remaining))
        if index < start + extra * remaining:
            return base + (index - start) // remaining
        start += extra * remaining
        base += extra
        remaining = max(2, remaining // 2)


@numba.njit(cache=True)
def improved_logits(tree, b, node, c_visit, c_scale, out):
    """Write logits(a) + sigma(completed Q(a)) of ``node``'s actions into ``out [A]`` (-inf where
    an action is not searched); returns the largest visit count of a child.

    Completed Q is a visited child's mean value, else the node's mixed value: its raw value
    and the prior-weighted Q of the visited children, weighted as the paper's v_mix. With q
    mapped from [-1, 1] to [0, 1], sigma(q) = (c_visit + max_b N(b)) * c_scale * q.
    """
    num_actions = tree.children.shape[2]
    total_visits, max_visits = 0, 0
    visited_prior, visited_prior_q = 0.0, 0.0
    for a in range(num_actions):
        child = tree.children[b, node, a]
        if not tree.legal[b, node, a] or child == UNVISITED or tree.visits[b, child] <= 0:
            continue
        visits = tree.visits[b, child]
        total_visits += visits
        max_visits = max(max_visits, visits)
        visited_prior += tree.priors[b, node, a]
        visited_prior_q += tree.priors[b, node, a] * tree.value_sums[b, child] / visits
    mixed = float(tree.raw_values[b, node])
    if total_visits > 0 and visited_prior > 0.0:
        mixed = (mixed + total_visits * visited_prior_q / visited_prior) / (1.0 + total_visits)
    # Values lie in [-1, 1]: (q + 1) / 2 puts them in [0, 1] (min-max normalisation per node, as
    # mctx does for unbounded rewards, blows tiny differences of noisy values up to the full range).
    scale = (c_visit + max_visits) * c_scale * 0.5
    for a in range(num_actions):
        if not tree.legal[b, node, a]:
            out[a] = -np.inf
            continue
        child = tree.children[b, node, a]
        q = tree.value_sums[b, child] / tree.visits[b, child] if child != UNVISITED and tree.visits[b, child] > 0 \
            else mixed
        out[a] = math.log(max(tree.priors[b, node, a], LOG_FLOOR)) + scale * (q + 1.0)
    return max_visits


@numba.njit(cache=True)
def new_root_visits(tree, b, a):
    """Visits of root action ``a`` in tree ``b`` made by the current search."""
    child = tree.children[b, ROOT, a]
    return (tree.visits[b, child] if child != UNVISITED else 0) - tree.search_start[b, a]


@numba.njit(cache=True)
def num_considered(tree, b, max_considered, num_simulations):
    """m: the root actions sequential halving considers (at most every searched action and
    every simulation)."""
    legal = 0
    for a in range(tree.children.shape[2]):
        legal += tree.legal[b, ROOT, a]
    return max(1, min(max_considered, legal, num_simulations))


@numba.njit(cache=True)
def gumbel_root_action(tree, b, num_simulations, max_considered, c_visit, c_scale, scores):
    """The root action of tree ``b``'s next simulation under sequential halving: among the
    actions with the visit count the schedule asks for now, the one of highest
    g(a) + logits(a) + sigma(Q(a)). ``scores [A]`` float64 is scratch space."""
    num_actions = tree.children.shape[2]
    improved_logits(tree, b, ROOT, c_visit, c_scale, scores)
    done = 0
    for a in range(num_actions):
        if tree.legal[b, ROOT, a]:
            done += new_root_visits(tree, b, a)
    m = num_considered(tree, b, max_considered, num_simulations)
    wanted = considered_visits(m, num_simulations, done)
    best, best_score = -1, -np.inf
    fallback, fallback_visits = -1, 2**31 - 1
    for a in range(num_actions):
        if not tree.legal[b, ROOT, a]:
            continue
        visits = new_root_visits(tree, b, a)
        score = tree.gumbel[b, a] + scores[a]
        if visits == wanted and (best < 0 or score > best_score):
            best, best_score = a, score
        # Several leaves per step can outrun the schedule: then the least visited action.
        if visits < fallback_visits:
            fallback, fallback_visits = a, visits
    return best if best >= 0 else fallback


@numba.njit(cache=True)
def gumbel_interior_action(tree, b, node, c_visit, c_scale, scores):
    """The paper's deterministic choice below the root: argmax of pi'(a) - N(a) / (1 + sum N),
    pi' the improved policy of ``node``. ``scores [A]`` float64 is scratch space."""
    num_actions = tree.children.shape[2]
    improved_logits(tree, b, node, c_visit, c_scale, scores)
    top, total_visits = -np.inf, 0
    for a in range(num_actions):
        top = max(top, scores[a])
        child = tree.children[b, node, a]
        if tree.legal[b, node, a] and child != UNVISITED:
            total_visits += tree.visits[b, child]
    normaliser = 0.0
    for a in range(num_actions):
        if tree.legal[b, node, a]:
            scores[a] = math.exp(scores[a] - top)
            normaliser += scores[a]
    best, best_score = -1, -np.inf
    for a in range(num_actions):
        if not tree.legal[b, node, a]:
            continue
        child = tree.children[b, node, a]
        visits = tree.visits[b, child] if child != UNVISITED else 0
        score = scores[a] / normaliser - visits / (1.0 + total_visits)
        if score > best_score:
            best, best_score = a, score
    return best


@numba.njit(cache=True)
def gumbel_root_results(tree, active, c_visit, c_scale, policies, chosen):
    """For every active tree: ``policies [B, A]`` float32, the improved policy at the root (the
    training target), and ``chosen [B]`` int32, the action sequential halving ends on: of the
    most visited actions, the one of highest g(a) + logits(a) + sigma(Q(a))."""
    num_actions = tree.children.shape[2]
    scores = np.empty(num_actions)
    for b in range(tree.visits.shape[0]):
        chosen[b] = -1
        policies[b, :] = 0.0
        if not active[b] or tree.visits[b, ROOT] == 0:
            continue
        improved_logits(tree, b, ROOT, c_visit, c_scale, scores)
        top, most = -np.inf, -1
        for a in range(num_actions):
            if tree.legal[b, ROOT, a]:
                top = max(top, scores[a])
                most = max(most, new_root_visits(tree, b, a))
        total = 0.0
        best_score = -np.inf
        for a in range(num_actions):
            if not tree.legal[b, ROOT, a]:
                continue
            weight = math.exp(scores[a] - top)
            policies[b, a] = weight
            total += weight
            score = tree.gumbel[b, a] + scores[a]
            if new_root_visits(tree, b, a) == most and score > best_score:
                chosen[b], best_score = a, score
        for a in range(num_actions):
            policies[b, a] /= total
