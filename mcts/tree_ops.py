"""Game-independent tree kernels: PUCT choice, expansion, backup, statistics, reuse.

All work on one tree ``b`` of a ``Tree`` (see ``mcts.tree`` for shapes and the
sign convention) and are compiled with ``cache=True``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from mcts.tree import EXPANDED, ROOT, UNVISITED

NO_LEAF = -1
"""``eval_slots`` / ``leaf_nodes`` entry of a leaf slot that selected nothing."""
TERMINAL_LEAF = -2
"""``eval_slots`` entry of a leaf whose exact value is known (game over there)."""
COLLISION = -3
"""``eval_slots`` entry of a descent that hit a leaf still waiting for its evaluation."""


@numba.njit(cache=True)
def puct_action(tree, b, node, c_base, c_init, fpu_reduction, noise_fraction):
    """The legal action maximising the PUCT score at ``node`` of tree ``b``.

    score = Q + c(N) * P * sqrt(N) / (1 + n), with Q from the chooser's view,
    unvisited children valued by first-play urgency, and at the root the prior
    mixed with ``tree.root_noise`` by ``noise_fraction``.

    One pass over the children: unvisited children all share the FPU value, so
    the best of them is the one with the highest prior, and it is compared with
    the best visited child once the FPU value (which needs the summed prior of
    the visited children) is known.
    """
    parent_visits = tree.visits[b, node]
    exploration = (math.log((1.0 + parent_visits + c_base) / c_base) + c_init) * math.sqrt(parent_visits)
    mix_noise = node == ROOT and noise_fraction > 0.0
    visited_prior = 0.0
    best_visited, best_visited_score = -1, -np.inf
    best_unvisited, best_unvisited_prior = -1, -1.0
    for a in range(tree.children.shape[2]):
        if not tree.legal[b, node, a]:
            continue
        prior = tree.priors[b, node, a]
        child = tree.children[b, node, a]
        if child != UNVISITED:
            visited_prior += prior  # FPU counts the network's prior, not the noise
        if mix_noise:
            prior = (1.0 - noise_fraction) * prior + noise_fraction * tree.root_noise[b, a]
        if child == UNVISITED:
            if prior > best_unvisited_prior:
                best_unvisited, best_unvisited_prior = a, prior
            continue
        child_visits = tree.visits[b, child]
        score = tree.value_sums[b, child] / child_visits + exploration * prior / (1.0 + child_visits)
        if score > best_visited_score:
            best_visited, best_visited_score = a, score
    if best_unvisited < 0:
        return best_visited
    parent_value = -tree.value_sums[b, node] / parent_visits if parent_visits > 0 else 0.0
    fpu_score = parent_value - fpu_reduction * math.sqrt(visited_prior) + exploration * best_unvisited_prior
    if best_visited < 0 or fpu_score > best_visited_score or (
            fpu_score == best_visited_score and best_unvisited < best_visited):
        return best_unvisited
    return best_visited


@numba.njit(cache=True)
def add_virtual_visit(tree, b, node, virtual_loss):
    """Count a visit on ``node`` before its value is known; it counts as a loss meanwhile."""
    tree.visits[b, node] += 1
    tree.value_sums[b, node] -= virtual_loss


@numba.njit(cache=True)
def forced_root_action(tree, b, noise_fraction, forced_k):
    """KataGo's forced playouts: the root child of tree ``b`` furthest below its
    sqrt(forced_k * P * sum n) forced visits (P the noise-mixed prior), or -1 when none is below,
    so that moves the noise favours get seen. Apart from ``puct_action``, which it precedes at the
    root, because a longer ``puct_action`` measured 1.7x slower in the rollout search."""
    total_visits = tree.visits[b, ROOT] - 1
    forced, forced_deficit = -1, 0.0
    for a in range(tree.children.shape[2]):
        if not tree.legal[b, ROOT, a]:
            continue
        prior = (1.0 - noise_fraction) * tree.priors[b, ROOT, a] + noise_fraction * tree.root_noise[b, a]
        child = tree.children[b, ROOT, a]
        visits = tree.visits[b, child] if child != UNVISITED else 0
        deficit = math.sqrt(forced_k * prior * total_visits) - visits
        if deficit > forced_deficit:
            forced, forced_deficit = a, deficit
    return forced


@numba.njit(cache=True)
def expand(tree, b, node, logits):
    """Set the priors of ``node`` to the softmax of ``logits [A]`` over its legal actions."""
    num_actions = logits.shape[0]
    top, bottom, count = -np.inf, np.inf, 0
    for a in range(num_actions):
        if tree.legal[b, node, a]:
            top = max(top, logits[a])
            bottom = min(bottom, logits[a])
            count += 1
    if top == bottom:  # flat logits (playout evaluators): uniform priors without exp()
        for a in range(num_actions):
            tree.priors[b, node, a] = 1.0 / count if tree.legal[b, node, a] else 0.0
    else:
        total = 0.0
        for a in range(num_actions):
            if tree.legal[b, node, a]:
                p = math.exp(logits[a] - top)
                tree.priors[b, node, a] = p
                total += p
            else:
                tree.priors[b, node, a] = 0.0
        for a in range(num_actions):
            tree.priors[b, node, a] /= total
    tree.expanded[b, node] = EXPANDED


@numba.njit(cache=True)
def backup(tree, b, leaf, leaf_value, leaf_score, virtual_loss, discount):
    """Add ``leaf_value`` and ``leaf_score`` (for the side to move at ``leaf``) up the path to
    the root, replacing the virtual losses that selection put there; each ply up multiplies
    the value by ``discount`` (1: none), so that a nearer win is worth more (a score margin
    is the same at any distance)."""
    value = -leaf_value
    score = -leaf_score
    node = leaf
    while node != UNVISITED:
        tree.value_sums[b, node] += value + virtual_loss
        tree.score_sums[b, node] += score
        value = -value * discount
        score = -score
        node = tree.parents[b, node]


@numba.njit(cache=True)
def revert_virtual_visits(tree, b, leaf, virtual_loss):
    """Undo the virtual visits of a descent that ended in a collision."""
    node = leaf
    while node != UNVISITED:
        tree.visits[b, node] -= 1
        tree.value_sums[b, node] += virtual_loss
        node = tree.parents[b, node]


@numba.njit(cache=True)
def backup_leaves(tree, leaf_nodes, eval_slots, logits, values, scores, sims_done, params):
    """Expand and back up every leaf selected in one step.

    leaf_nodes [B, L] int32 and eval_slots [B, L] int32 as written by selection;
    logits [M, A] float32, values [M] float32 and scores [M] float32 (score margins; zeros
    when the search does not track them) are the evaluator's output for the
    M leaves with ``eval_slots >= 0``; sims_done [B] int32 is advanced by the
    simulations completed (the root's own first evaluation is not a simulation);
    params a ``SearchParams``.
    """
    virtual_loss = params.virtual_loss
    for b in range(leaf_nodes.shape[0]):
        for l in range(leaf_nodes.shape[1]):
            leaf = leaf_nodes[b, l]
            slot = eval_slots[b, l]
            if leaf == NO_LEAF:
                continue
            if slot == COLLISION:
                revert_virtual_visits(tree, b, leaf, virtual_loss)
                continue
            if slot == TERMINAL_LEAF:
                value = float(tree.statuses[b, leaf])
            else:
                expand(tree, b, leaf, logits[slot])
                value = float(values[slot])
                tree.raw_scores[b, leaf] = scores[slot]
            if params.score_utility > 0.0:
                value += score_utility(tree, b, leaf, params.score_utility, params.score_scale)
            tree.raw_values[b, leaf] = value
            backup(tree, b, leaf, value, float(tree.raw_scores[b, leaf]), virtual_loss, params.discount)
            if leaf != ROOT:
                sims_done[b] += 1


@numba.njit(cache=True)
def score_utility(tree, b, leaf, weight, scale):
    """KataGo's score utility of ``leaf`` for its side to move: weight * (2 / pi) *
    atan((margin - centre) / scale), with the centre (the root's margin, for the root's side
    to move) turned to the leaf's side; the root's own first evaluation sets the centre."""
    if leaf == ROOT and np.isnan(tree.score_centre[b]):
        tree.score_centre[b] = tree.raw_scores[b, ROOT]
    centre = tree.score_centre[b]
    node = leaf
    while node != ROOT:  # one side's centre is the other's negated, ply by ply
        centre = -centre
        node = tree.parents[b, node]
    return weight * (2.0 / math.pi) * math.atan((tree.raw_scores[b, leaf] - centre) / scale)


@numba.njit(cache=True)
def root_statistics(tree, visit_counts, root_values):
    """visit_counts [B, A] int32: visits of each root child; root_values [B] float32:
    the root's mean value for its side to move (0 before any visit)."""
    for b in range(tree.visits.shape[0]):
        for a in range(tree.children.shape[2]):
            child = tree.children[b, ROOT, a]
            visit_counts[b, a] = tree.visits[b, child] if child != UNVISITED else 0
        n = tree.visits[b, ROOT]
        root_values[b] = -tree.value_sums[b, ROOT] / n if n > 0 else 0.0


@numba.njit(cache=True)
def pruned_root_policies(tree, active, c_base, c_init, noise_fraction, forced_k, policies):
    """KataGo's policy target pruning after a search with forced playouts: ``policies [B, A]``
    float32, the root's visit shares once every child but the most visited one c* loses the
    forced visits it did not earn, i.e. as many visits (at most sqrt(forced_k * P * sum n)) as
    keep its PUCT score below c*'s; a child left with a single visit is dropped."""
    num_actions = tree.children.shape[2]
    for b in range(tree.visits.shape[0]):
        policies[b, :] = 0.0
        if not active[b]:
            continue
        parent_visits = tree.visits[b, ROOT]
        exploration = (math.log((1.0 + parent_visits + c_base) / c_base) + c_init) * math.sqrt(parent_visits)
        best, best_visits = -1, 0
        for a in range(num_actions):
            child = tree.children[b, ROOT, a]
            if child != UNVISITED and tree.visits[b, child] > best_visits:
                best, best_visits = a, tree.visits[b, child]
        if best < 0:
            continue
        total = 0.0
        for a in range(num_actions):
            child = tree.children[b, ROOT, a]
            if child == UNVISITED or tree.visits[b, child] <= 0:
                continue
            visits = tree.visits[b, child]
            kept = float(visits)
            if a != best:
                prior = (1.0 - noise_fraction) * tree.priors[b, ROOT, a] + noise_fraction * tree.root_noise[b, a]
                best_prior = (1.0 - noise_fraction) * tree.priors[b, ROOT, best] + \
                    noise_fraction * tree.root_noise[b, best]
                best_child = tree.children[b, ROOT, best]
                best_score = (tree.value_sums[b, best_child] / best_visits
                              + exploration * best_prior / (1.0 + best_visits))
                q = tree.value_sums[b, child] / visits
                if best_score > q:
                    # The fewest visits that keep q + E * P / (1 + n) below c*'s score.
                    earned = math.floor(exploration * prior / (best_score - q) - 1.0) + 1.0
                    floor_forced = visits - math.sqrt(forced_k * prior * (parent_visits - 1))
                    kept = min(float(visits), max(earned, math.ceil(floor_forced), 0.0))
                    if kept <= 1.0:
                        kept = 0.0
            policies[b, a] = kept
            total += kept
        for a in range(num_actions):
            policies[b, a] /= total


@numba.njit(cache=True)
def principal_variation(tree, b, node, out):
    """Write the most-visited line below ``node`` of tree ``b`` into ``out [D]``;
    returns its length."""
    length = 0
    while length < out.shape[0]:
        best, best_visits = -1, 0
        for a in range(tree.children.shape[2]):
            child = tree.children[b, node, a]
            if child != UNVISITED and tree.visits[b, child] > best_visits:
                best, best_visits = a, tree.visits[b, child]
        if best < 0:
            break
        out[length] = best
        length += 1
        node = tree.children[b, node, best]
    return length


@numba.njit(cache=True)
def _forget_subtree(tree, b, parent, top, child, discount):
    """Take the statistics of ``child``'s subtree out of ``parent`` and its ancestors up
    to ``top``, so that visits still add up (N = 1 + sum of the children's N) once the
    subtree is dropped. Value and score sums alternate sign (values are discounted) from one
    level to the next."""
    visits = tree.visits[b, child]
    value = tree.value_sums[b, child]
    score = tree.score_sums[b, child]
    node = parent
    while True:
        value = -value * discount
        score = -score
        tree.visits[b, node] -= visits
        tree.value_sums[b, node] -= value
        tree.score_sums[b, node] -= score
        if node == top:
            break
        node = tree.parents[b, node]


@numba.njit(cache=True)
def reuse_subtree(tree, b, new_root, keep_limit, order, remap, discount):
    """Make node ``new_root`` of tree ``b`` the root, keeping its subtree and statistics.

    The subtree is collected breadth first, at most ``keep_limit`` nodes, so that
    the next search has room: deeper nodes beyond the limit are dropped, their
    actions become unvisited again, and their statistics are taken out of their
    ancestors (discounted by ``discount`` per ply, as backed up), so that every kept node's visits
    still add up. Kept nodes are then renumbered in creation
    order: a node is always created after its parent, so the new root gets index
    0, parents keep smaller indices than their children, and the j-th kept node
    has an old index >= j, which makes the copy below safe in place. order [N]
    and remap [N] int32 are scratch space.
    """
    capacity = tree.visits.shape[1]
    for n in range(capacity):
        remap[n] = UNVISITED
    order[0] = new_root
    remap[new_root] = 0
    head, tail = 0, 1
    while head < tail:
        node = order[head]
        head += 1
        for a in range(tree.children.shape[2]):
            child = tree.children[b, node, a]
            if child == UNVISITED:
                continue
            if tail < keep_limit:
                remap[child] = 0
                order[tail] = child
                tail += 1
            else:
                _forget_subtree(tree, b, node, new_root, child, discount)
    order[:tail] = np.sort(order[:tail])
    for new in range(tail):
        remap[order[new]] = new
    for new in range(tail):
        old = order[new]
        tree.visits[b, new] = tree.visits[b, old]
        tree.value_sums[b, new] = tree.value_sums[b, old]
        tree.raw_values[b, new] = tree.raw_values[b, old]
        tree.score_sums[b, new] = tree.score_sums[b, old]
        tree.raw_scores[b, new] = tree.raw_scores[b, old]
        tree.priors[b, new] = tree.priors[b, old]
        tree.legal[b, new] = tree.legal[b, old]
        tree.states[b, new] = tree.states[b, old]
        tree.statuses[b, new] = tree.statuses[b, old]
        tree.expanded[b, new] = tree.expanded[b, old]
        tree.actions[b, new] = tree.actions[b, old]
        parent = tree.parents[b, old]
        tree.parents[b, new] = remap[parent] if new > 0 else UNVISITED
        for a in range(tree.children.shape[2]):
            child = tree.children[b, old, a]
            tree.children[b, new, a] = remap[child] if child != UNVISITED else UNVISITED
    tree.actions[b, 0] = UNVISITED
    tree.num_nodes[b] = tail
