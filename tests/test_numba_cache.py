"""numba's on-disk cache must serve the closure kernels to a second process
(see engine.numba_cache): without stable identities every process recompiled
them and the cache grew on every start."""

from __future__ import annotations

import os
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


def misses_in_a_fresh_process(cache_dir: Path) -> int:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1])


def test_a_second_process_compiles_no_closure_kernel(tmp_path):
    # A cache of its own: numba rewrites a kernel's whole index when it saves one more signature,
    # so another test's process saving into the checkout's cache between the two runs below could
    # drop the entry the first run wrote, and the second would miss through no fault of ours.
    misses_in_a_fresh_process(tmp_path)  # fills the empty cache
    assert misses_in_a_fresh_process(tmp_path) == 0


SEARCH = """
import sys, engine
from mcts import BatchedSearch, MCTSConfig, RolloutEvaluator
for name in sys.argv[1:]:
    spec = engine.get_game(name)
    search = BatchedSearch(spec, RolloutEvaluator(spec), MCTSConfig(num_simulations=8), batch_size=1)
    search.set_roots(spec.initial_state()[None])
    assert search.run().visit_counts.sum() == 8
"""


def search_in_a_fresh_process(*games: str) -> None:
    subprocess.run([sys.executable, "-c", SEARCH, *games], cwd=REPO, capture_output=True, text=True, check=True)


def test_copies_of_one_closure_cached_by_different_processes_stay_apart():
    # Each game's search kernels compiled (or found) in a process of its own, then both
    # loaded from the cache into one: copies of a closure must not share compiled symbols
    # (tic-tac-toe's search once ran Go's playouts and failed on the state size).
    search_in_a_fresh_process("go9")
    search_in_a_fresh_process("tictactoe")
    search_in_a_fresh_process("go9", "tictactoe", "connect4")


KERNEL_MODULE = """
from typing import NamedTuple
import numba
import engine.numba_cache  # reads stale cache indexes as empty

class {name}(NamedTuple):
    x: float

@numba.njit(cache=True)
def twice(params):
    return 2.0 * params.x

print(twice({name}(1.5)))
"""


def test_a_cache_written_before_a_class_was_renamed_is_a_miss_not_a_crash(tmp_path):
    """numba unpickles a kernel's cache index before checking it is fresh: an index naming a
    class an update renamed used to raise AttributeError until __pycache__ was deleted."""
    module = tmp_path / "kernel_module.py"
    env = {"PYTHONPATH": f"{REPO}:{tmp_path}"}
    for name in ("OldParams", "NewParams"):
        module.write_text(KERNEL_MODULE.format(name=name))
        done = subprocess.run([sys.executable, "-c", "import kernel_module"], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "3.0"
    assert list((tmp_path / "__pycache__").glob("kernel_module.twice-*.nbi")), "the first run left an index"


def test_copies_of_one_closure_keep_cache_indexes_of_their_own():
    # Copies sharing one index file, compiled at once by two processes on a cold cache, could
    # both write their code to the same data file: the index then served one copy's code for
    # the other (a flaky "'descr' is NULL" in go_positions under pytest -n 2).
    from engine import go

    copies = [go.spec_for_size(n).initial_state for n in (5, 7, 9)]
    assert len({copy.py_func.__qualname__ for copy in copies}) == 3  # symbols apart
    assert len({copy._cache._cache_file._index_path for copy in copies}) == 3
