"""Stable identities for numba kernels that closures capture, so that ``cache=True`` hits.

numba keys a cached closure by pickling the objects it closes over, and a
dispatcher pickles with a uuid drawn at random in each process, together with
the dispatchers its own function refers to. Left alone, every process misses
the cache, recompiles every closure kernel (seconds) and appends another entry
to the cache (which grew without bound). Naming each captured dispatcher, and
every dispatcher (and intrinsic) it reaches, deterministically makes the key
stable across processes. The pickle still carries the functions' code, so
editing a kernel still invalidates the closures built on it (checked with
numba 0.68, across files). This uses numba's private ``_set_uuid`` and ``_cache``;
tests/test_numba_cache.py checks that a second process compiles nothing.
"""

from __future__ import annotations

import pickle
import re

from numba.core.caching import IndexDataCacheFile, NullCache
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic


_NAMED: dict[int, str] = {}
"""A cache, the one module-level mutable object of the engine: id(dispatcher) -> its name, for
every dispatcher named so far (naming one again is then free)."""


UUID_PREFIX = "zeroplay2:"
"""Part of every cache key of a closure (through the uuids it pickles): changing it
retires every cached closure, as the qualified-name fix below needed."""


def stable_identity(dispatcher: Dispatcher, name: str | None = None) -> Dispatcher:
    """Name ``dispatcher`` ``zeroplay2:<name>`` (default: its module and qualified
    name), and every dispatcher its function reaches through globals or closure
    cells; returns it. Call it before the dispatcher first compiles.

    A closure must be given a name that tells its copies apart (one per game):
    closures of one factory share a qualified name, and copies sharing a name
    would share a cache entry. The name also becomes the closure's qualified
    name: numba names compiled code after the qualified name and a per-process
    counter, so two copies compiled in different processes can carry the same
    symbol, and once both are loaded from the cache into one process a call to
    one can run the other (tic-tac-toe's search ran Go's playouts). numba names the
    cache index after the qualified name too, so caching is set up again under the
    new one: copies sharing one index, compiled at once by two processes on a cold
    cache, could each write their code under the same data file name, and the
    index then served one copy's code for the other ("'descr' is NULL").
    A dispatcher keeps the first name it is given (``spec_from_module`` names every
    game kernel again, and Go's sizes share a module).
    """
    if id(dispatcher) in _NAMED:
        return dispatcher
    if name is not None and dispatcher.py_func.__closure__:
        dispatcher.py_func.__qualname__ = re.sub(r"\W", "_", name)
        if not isinstance(dispatcher._cache, NullCache):
            dispatcher.enable_caching()
    _name_all(dispatcher, name)
    return dispatcher


def _name_all(dispatcher: Dispatcher, name: str | None) -> None:
    if id(dispatcher) in _NAMED:
        return
    function = dispatcher.py_func
    if name is None:
        if function.__closure__:
            raise ValueError(f"{function.__qualname__} is a closure: name it with stable_identity "
                             "before anything that captures it")
        name = f"{function.__module__}.{function.__qualname__}"
    try:
        dispatcher._set_uuid(f"{UUID_PREFIX}{name}")
    except AssertionError:
        pass  # numba drew its random uuid already: only the on-disk cache misses
    _NAMED[id(dispatcher)] = name
    referenced = [function.__globals__.get(n) for n in function.__code__.co_names]
    referenced += [cell.cell_contents for cell in function.__closure__ or ()]
    for value in referenced:
        if isinstance(value, Dispatcher):
            _name_all(value, None)
        elif isinstance(value, _Intrinsic) and id(value) not in _NAMED:
            # An intrinsic pickles with a random uuid as well (engine.go's stack_words).
            _NAMED[id(value)] = intrinsic_name = f"{value._defn.__module__}.{value._defn.__qualname__}"
            try:
                value._set_uuid(f"{UUID_PREFIX}{intrinsic_name}")
            except AssertionError:
                pass


def _read_unpicklable_indexes_as_empty() -> None:
    """numba unpickles a cache index before it checks the source's stamp, so an index written
    by an older checkout whose kernels took a class since renamed or removed raises (on every
    call, until ``__pycache__`` is deleted). Such an index is stale anyway: read it as empty, a
    cache miss, and the kernel compiles afresh. Patches numba's private ``_load_index``."""
    load_index = IndexDataCacheFile._load_index

    def load_index_or_nothing(self):
        try:
            return load_index(self)
        except (AttributeError, ImportError, pickle.UnpicklingError, EOFError, TypeError):
            return {}

    IndexDataCacheFile._load_index = load_index_or_nothing


_read_unpicklable_indexes_as_empty()
