"""numba's on-disk cache must serve the closure kernels to a second process
(see engine.numba_cache): without stable identities every process recompiled
them and the cache grew on every start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import numpy as np, engine
from mcts import BatchedSearch, MCTSConfig, RolloutEvaluator
from mcts.kernels import tree_kernels
from mcts.evaluators import playout_kernel
spec = engine.get_game("tictactoe")
search = BatchedSearch(spec, RolloutEvaluator(spec), MCTSConfig(num_simulations=8), batch_size=2)
search.set_roots(np.stack([spec.initial_state()] * 2))
search.run()
planes = np.zeros((2, *spec.planes_shape), np.float32)
spec.encode_batch(np.stack([spec.initial_state()] * 2), planes)
kernels = [*tree_kernels(spec), playout_kernel(spec), spec.encode_batch]
print(sum(sum(k.stats.cache_misses.values()) for k in kernels))
"""


def misses_in_a_fresh_process() -> int:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_a_second_process_compiles_no_closure_kernel():
    misses_in_a_fresh_process()  # fills the cache if this checkout's is cold
    assert misses_in_a_fresh_process() == 0
