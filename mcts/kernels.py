"""Game-specific search kernels, built per game from its engine kernels.

Selection, playing the selected move and encoding the new leaf happen in one
numba call per simulation step (crossing into numba costs microseconds, so a
step makes three calls in all: select, evaluate, back up). With an evaluator
that lives in numba (random playouts, uniform) the whole search is one call. Like
``engine.batch``, the kernels are closures over the game's kernels: numba
compiles and caches one copy per game.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import numba
import numpy as np

import engine
from engine.numba_cache import stable_identity
from engine.spec import ONGOING, GameSpec
from mcts.tree import PENDING, ROOT, UNVISITED
from mcts.evaluators import playout_kernel
from mcts.gumbel import gumbel_interior_action, gumbel_root_action
from mcts.tree_ops import (COLLISION, NO_LEAF, TERMINAL_LEAF, add_virtual_visit, backup_leaves, forced_root_action,
                           puct_action)


class TreeKernels(NamedTuple):
    set_root: Callable
    select_leaves: Callable
    run_playout_search: Callable
    root_wins: Callable


def tree_kernels(spec: GameSpec) -> TreeKernels:
    """The search kernels of ``spec``'s game (built once per game and process)."""
    return _tree_kernels_of(spec.name)


@functools.cache  # a cache by game name: building the closures again would compile them again
def _tree_kernels_of(game: str) -> TreeKernels:
    spec = engine.get_game(game)
    return _make_tree_kernels(game, spec.search_mask, spec.play_into, spec.status, spec.encode,
                              playout_kernel(spec), spec.final_margin or no_margin)


@numba.njit(cache=True)
def no_margin(state):
    """The final margin of a game without scores (GameSpec.final_margin None)."""
    return 0.0


def _make_tree_kernels(game, search_mask, play_into, status, encode, playout_values, final_margin) -> TreeKernels:
    # Closures captured by other closures get stable identities (engine.numba_cache).

    @numba.njit(cache=True)
    def init_node(tree, b, node, parent, action):
        """Fill node slot ``node`` with a fresh, unexpanded node (its state already written)."""
        tree.parents[b, node] = parent
        tree.actions[b, node] = action
        tree.visits[b, node] = 0
        tree.value_sums[b, node] = 0.0
        tree.raw_values[b, node] = 0.0
        tree.score_sums[b, node] = 0.0
        tree.statuses[b, node] = status(tree.states[b, node])
        # A finished game's exact margin; an evaluated leaf's comes from the evaluator.
        tree.raw_scores[b, node] = final_margin(tree.states[b, node]) if tree.statuses[b, node] != ONGOING else 0.0
        tree.expanded[b, node] = PENDING
        search_mask(tree.states[b, node], tree.legal[b, node])
        for a in range(tree.children.shape[2]):  # plain loops: slice assignment is slower on short rows
            tree.priors[b, node, a] = 0.0
            tree.children[b, node, a] = UNVISITED

    stable_identity(init_node, f"mcts.kernels.init_node[{game}]")

    @numba.njit(cache=True)
    def set_root(tree, b, state):
        """Clear tree ``b`` and make ``state [S]`` its (unexpanded) root."""
        tree.states[b, ROOT] = state
        init_node(tree, b, ROOT, UNVISITED, UNVISITED)
        tree.num_nodes[b] = 1
        tree.root_noise[b, :] = 0.0

    @numba.njit(cache=True)
    def gumbel_action(tree, b, node, num_simulations, params, scores):
        """Gumbel search's action at expanded ``node`` of tree ``b``."""
        if node == ROOT:
            return gumbel_root_action(tree, b, num_simulations, params.max_considered,
                                      params.c_visit, params.c_scale, scores)
        return gumbel_interior_action(tree, b, node, params.c_visit, params.c_scale, scores)

    stable_identity(gumbel_action, f"mcts.kernels.gumbel_action[{game}]")

    @numba.njit(cache=True)
    def select_leaves(tree, active, sims_target, sims_done, leaves_per_tree, params, encode_planes,
                      leaf_nodes, eval_slots, leaf_states, leaf_planes, scores):
        """Select up to ``leaves_per_tree`` leaves in every active tree.

        active [B] bool; sims_target, sims_done [B] int32; params a ``SearchParams``; scores [A]
        float64 scratch space (allocated by the caller: once per search, not per step). Writes leaf_nodes [B, L]
        and eval_slots [B, L] int32 (an index into the evaluation batch, or
        TERMINAL_LEAF / COLLISION / NO_LEAF), and for the M leaves to evaluate
        leaf_states [M, S] and, if ``encode_planes``, leaf_planes [M, C, H, W].
        Returns M, or -1 when every active tree has finished its simulations.
        """
        num_eval = 0
        any_work = False
        virtual_loss = params.virtual_loss
        forcing = params.forced_playouts > 0.0 and params.noise_fraction > 0.0
        for b in range(leaf_nodes.shape[0]):
            for l in range(leaves_per_tree):
                leaf_nodes[b, l] = NO_LEAF
                eval_slots[b, l] = NO_LEAF
            if not active[b] or tree.statuses[b, ROOT] != ONGOING:
                continue  # nothing to search in a finished game
            root_pending = tree.expanded[b, ROOT] == PENDING
            remaining = 1 if root_pending else sims_target[b] - sims_done[b]
            if remaining <= 0:
                continue
            any_work = True
            for l in range(min(leaves_per_tree, remaining)):
                node = ROOT
                while True:
                    if tree.statuses[b, node] != ONGOING:
                        add_virtual_visit(tree, b, node, virtual_loss)
                        eval_slots[b, l] = TERMINAL_LEAF
                        break
                    if tree.expanded[b, node] == PENDING:
                        add_virtual_visit(tree, b, node, virtual_loss)
                        if node == ROOT and l == 0:
                            eval_slots[b, l] = num_eval
                        else:
                            eval_slots[b, l] = COLLISION
                        break
                    # PUCT is called here directly: behind a shared helper the rollout search measured
                    # 1.5x slower (642 k against 434 k simulations/s, one core).
                    action = -1
                    if params.gumbel:
                        action = gumbel_action(tree, b, node, sims_target[b], params, scores)
                    elif forcing and node == ROOT:
                        action = forced_root_action(tree, b, params.noise_fraction, params.forced_playouts)
                    if action < 0:
                        action = puct_action(tree, b, node, params.c_base, params.c_init, params.fpu_reduction,
                                             params.noise_fraction)
                    # The virtual visit goes on after the node's own choice, so that the
                    # choice sees real statistics: with one leaf per tree per step this
                    # is sequential MCTS exactly; further leaves see the pending visits.
                    add_virtual_visit(tree, b, node, virtual_loss)
                    child = tree.children[b, node, action]
                    if child == UNVISITED:
                        child = tree.num_nodes[b]
                        if child >= tree.visits.shape[1]:
                            raise RuntimeError("search tree is full: capacity too small for the simulations")
                        tree.num_nodes[b] += 1
                        tree.children[b, node, action] = child
                        play_into(tree.states[b, node], action, tree.states[b, child])
                        init_node(tree, b, child, node, action)
                        add_virtual_visit(tree, b, child, virtual_loss)
                        node = child
                        if tree.statuses[b, node] != ONGOING:
                            eval_slots[b, l] = TERMINAL_LEAF
                        else:
                            eval_slots[b, l] = num_eval
                        break
                    node = child
                leaf_nodes[b, l] = node
                if eval_slots[b, l] >= 0:
                    leaf_states[num_eval] = tree.states[b, node]
                    if encode_planes:
                        encode(tree.states[b, node], leaf_planes[num_eval])
                    num_eval += 1
        return num_eval if any_work else -1

    stable_identity(select_leaves, f"mcts.kernels.select_leaves[{game}]")

    @numba.njit(cache=True)
    def run_playout_search(tree, active, sims_target, sims_done, leaves_per_tree, params,
                           leaf_nodes, eval_slots, leaf_states, leaf_planes,
                           num_playouts, seed, logits, values, leaf_scores):
        """A whole search with a playout evaluator, every step inside numba.

        Same steps as ``BatchedSearch.run``'s Python loop (select, evaluate, back up),
        so results are identical; it only saves the per-step crossing into numba.
        logits [B*L, A] float32 zeros (flat priors), values [B*L] float32 scratch,
        leaf_scores [B*L] float32 zeros (playouts predict no margins).
        """
        scores = np.empty(tree.children.shape[2])
        while True:
            num_eval = select_leaves(tree, active, sims_target, sims_done, leaves_per_tree, params, False,
                                     leaf_nodes, eval_slots, leaf_states, leaf_planes, scores)
            if num_eval < 0:
                break
            playout_values(leaf_states[:num_eval], num_playouts, seed, values[:num_eval])
            backup_leaves(tree, leaf_nodes, eval_slots, logits, values, leaf_scores, sims_done, params)

    @numba.njit(cache=True)
    def root_wins(tree, which, wins):
        """which [B] bool: the roots to look at; wins [B] int32: for each, the first action
        the root's mover may play (its search mask) that ends the game at once in the mover's
        win, or -1 (left unchanged where ``which`` is False). One move of lookahead per
        action: what the tree cannot tell, because search may never visit such a move."""
        scratch = np.empty(tree.states.shape[2], np.int64)
        for b in range(tree.states.shape[0]):
            if not which[b]:
                continue
            wins[b] = -1
            if tree.statuses[b, ROOT] != ONGOING:
                continue
            for a in range(tree.legal.shape[2]):
                if not tree.legal[b, ROOT, a]:
                    continue
                play_into(tree.states[b, ROOT], a, scratch)
                if status(scratch) == -1:  # the exact value for the opponent, who moves next
                    wins[b] = a
                    break

    # Named too, though nothing captures them: copies per game must not share symbols (engine.numba_cache).
    stable_identity(set_root, f"mcts.kernels.set_root[{game}]")
    stable_identity(run_playout_search, f"mcts.kernels.run_playout_search[{game}]")
    stable_identity(root_wins, f"mcts.kernels.root_wins[{game}]")
    return TreeKernels(set_root, select_leaves, run_playout_search, root_wins)
