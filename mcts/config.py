"""Search settings: one frozen dataclass, a docstring (and the usual value) on every field."""

from __future__ import annotations

from dataclasses import dataclass, replace

SEARCHES = ("puct", "gumbel")
"""The selection rules: AlphaZero's PUCT, and Gumbel search (``mcts.gumbel``)."""

MAX_TREE_NODES = 2**31 - 1
"""Most node slots of one search tree: node indices are int32."""


@dataclass(frozen=True)
class MCTSConfig:
    search: str = "puct"
    """puct: AlphaZero's PUCT selection, Dirichlet noise at the root, visit counts as the policy
    target. gumbel: Gumbel AlphaZero (Danihelka et al. 2022): Gumbel-top-k and sequential halving
    at the root, the improved policy softmax(logits + sigma(completed Q)) as the target; it keeps
    improving the policy with few simulations."""
    num_simulations: int = 800
    """New simulations (leaf evaluations) per search; visits kept by tree reuse come on top.
    AlphaZero: 800. Our game presets use fewer on a CPU."""
    c_base: float = 19652.0
    """PUCT exploration schedule c(s) = log((1 + N + c_base) / c_base) + c_init (AlphaZero: 19652)."""
    c_init: float = 1.25
    """PUCT exploration constant at small visit counts (AlphaZero: 1.25)."""
    fpu_reduction: float = 0.25
    """First-play urgency: an unvisited child is valued at the parent's value minus
    fpu_reduction * sqrt(summed prior of the visited children) (Leela Zero: 0.25;
    0 values unvisited children as the parent)."""
    root_noise: bool = False
    """Exploration noise at the root (on in self-play, off in matches and play): Dirichlet noise
    mixed into the priors (PUCT) or Gumbel noise on the logits (Gumbel search)."""
    dirichlet_alpha: float | None = None
    """Dirichlet concentration; None takes the game's GameSpec.dirichlet_alpha (chess 0.3, Go 0.03)."""
    dirichlet_fraction: float = 0.25
    """Share of the root prior replaced by noise (AlphaZero: 0.25)."""
    leaves_per_tree: int = 1
    """Leaves selected per tree per step, kept apart by virtual loss; >1 lets one game
    fill a network batch (terminal play, GTP). 1 reproduces sequential MCTS exactly
    (a node's virtual visit is added after its own child is chosen)."""
    virtual_loss: float = 1.0
    """Value subtracted per pending visit while a leaf waits for its evaluation (Leela Zero: 1, i.e. a loss)."""
    forced_playouts: float = 0.0
    """PUCT with root noise: k of KataGo's forced playouts (every root child gets at least
    sqrt(k * P * sum N) visits), with policy target pruning taking the unearned ones out of the
    target; 0: off (KataGo: 2)."""
    value_discount: float = 1.0
    """Values shrink by this factor per ply in backups (and self-play's value targets by it per
    ply to the end), so a faster win is worth more than a slower one; 1: plain win/draw/loss."""
    gumbel_considered: int = 16
    """Gumbel search: m, the root actions sampled (Gumbel-top-k) and shared out by sequential
    halving (the paper: 16 in Go and chess)."""
    gumbel_c_visit: float = 50.0
    """Gumbel search: c_visit of sigma(q) = (c_visit + max N) * c_scale * q (the paper: 50)."""
    gumbel_c_scale: float = 0.1
    """Gumbel search: c_scale of sigma(q), on values min-max normalised to [0, 1] (DeepMind's mctx: 0.1)."""
    score_utility: float = 0.0
    """KataGo's score utility: search maximises value + score_utility * (2 / pi) *
    atan((margin - centre) / score_scale) instead of the value alone, with margin the
    predicted final score margin below a move and centre the root's at the start of the search,
    so that a won game is not thrown away by careless moves and a lost one is fought. Needs an
    evaluator that predicts margins (a network with a score head); 0: values alone (KataGo: 0.3
    or so)."""
    score_scale: float = 0.0
    """Points of margin over which the score utility bends (atan's scale); 0: the board's side
    length (9 on 9x9)."""
    reuse_tree: bool = True
    """Keep the chosen child's subtree, with its statistics, as the next root."""

    def __post_init__(self):
        if self.search not in SEARCHES:
            raise ValueError(f"search must be {' or '.join(SEARCHES)}, not '{self.search}'")
        if self.gumbel_considered < 1:
            raise ValueError("gumbel_considered must be at least 1")
        if not (self.gumbel_c_visit >= 0.0 and self.gumbel_c_scale > 0.0):
            raise ValueError("gumbel_c_visit must not be negative and gumbel_c_scale must be positive")
        if not (self.score_utility >= 0.0 and self.score_scale >= 0.0):
            raise ValueError("score_utility and score_scale must not be negative")
        if not self.forced_playouts >= 0.0:
            raise ValueError("forced_playouts must not be negative")
        if not 0.0 < self.value_discount <= 1.0:
            raise ValueError("value_discount must lie in (0, 1]")
        if self.num_simulations < 1:
            raise ValueError("num_simulations must be at least 1")
        if self.leaves_per_tree < 1:
            raise ValueError("leaves_per_tree must be at least 1")
        # Tree nodes are numbered with int32: beyond that the arrays could not even be indexed.
        if self.tree_capacity > MAX_TREE_NODES:
            raise ValueError(f"num_simulations + leaves_per_tree must be at most {MAX_TREE_NODES // 2 - 1:,}")
        if not self.c_base > 0.0:
            raise ValueError("c_base must be positive")
        if not 0.0 <= self.dirichlet_fraction <= 1.0:
            raise ValueError("dirichlet_fraction must lie in [0, 1]")

    @property
    def tree_capacity(self) -> int:
        """Node slots per search tree. One search adds at most num_simulations nodes (plus the
        root and one step's leaves); reuse keeps at most as many again, so the tree never overflows."""
        return 2 * (self.num_simulations + self.leaves_per_tree + 1)

    def replace(self, **changes) -> "MCTSConfig":
        return replace(self, **changes)
