"""engine.batch.sample_legal: the k-th legal action for k = floor(u * count)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.batch import sample_legal


@pytest.mark.parametrize("num_actions", [1, 7, 9, 82])
def test_sample_legal_picks_the_kth_legal_action(num_actions):
    rng = np.random.default_rng(num_actions)
    legal_masks = rng.random((2000, num_actions)) < rng.random((2000, 1))  # [B, A], some rows empty
    uniforms = rng.random(2000)
    uniforms[:20] = 0.0
    uniforms[20:40] = np.nextafter(1.0, 0.0)
    out = np.full(2000, -7, dtype=np.int64)
    sample_legal(legal_masks, uniforms, out)
    for mask, u, action in zip(legal_masks, uniforms, out):
        legal = np.flatnonzero(mask)
        assert action == (legal[int(u * len(legal))] if len(legal) else -1)


def test_sample_legal_is_uniform():
    legal_masks = np.tile(np.array([1, 0, 1, 1, 0, 0, 1], dtype=np.bool_), (40000, 1))
    out = np.zeros(40000, dtype=np.int64)
    sample_legal(legal_masks, np.random.default_rng(0).random(40000), out)
    counts = np.bincount(out, minlength=7)
    assert counts[[1, 4, 5]].sum() == 0
    assert np.all(np.abs(counts[[0, 2, 3, 6]] / 40000 - 0.25) < 0.01)  # over 4 standard deviations; the seed is fixed
