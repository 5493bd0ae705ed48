"""Symmetry tables in the gather convention of ``engine.spec``.

A table row ``perm`` maps a flattened board ``x [H*W]`` to ``x[perm]``.
"""

from __future__ import annotations

import numpy as np


def dihedral_cell_perms(size: int) -> np.ndarray:
    """The 8 symmetries of a square board: [8, size*size] int64, identity first."""
    grid = np.arange(size * size, dtype=np.int64).reshape(size, size)
    perms = []
    for flipped in (grid, grid.T):
        for turns in range(4):
            perms.append(np.rot90(flipped, turns).ravel())
    return np.stack(perms)


def mirror_cell_perms(height: int, width: int) -> np.ndarray:
    """Identity and the left-right mirror: [2, height*width] int64."""
    grid = np.arange(height * width, dtype=np.int64).reshape(height, width)
    return np.stack([grid.ravel(), grid[:, ::-1].ravel()])


def inverse_indices(perms: np.ndarray) -> np.ndarray:
    """[K] int64: for each symmetry k, the index j with perms[k][perms[j]] == identity."""
    identity = np.arange(perms.shape[1])
    inverse = np.full(len(perms), -1, dtype=np.int64)
    for k, perm in enumerate(perms):
        for j, other in enumerate(perms):
            if np.array_equal(perm[other], identity):
                inverse[k] = j
                break
    if (inverse < 0).any():
        raise ValueError("symmetry table is not closed under inversion")
    return inverse
