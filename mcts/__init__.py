"""Batched Monte Carlo tree search over many games at once (PUCT, Dirichlet noise, virtual loss, tree reuse)."""
