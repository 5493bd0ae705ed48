"""Stable identities for numba kernels that closures capture, so that ``cache=True`` hits.

numba keys a cached closure by pickling the objects it closes over, and a
dispatcher pickles with a uuid drawn at random in each process, together with
the dispatchers its own function refers to. Left alone, every process misses
the cache, recompiles every closure kernel (seconds) and appends another entry
to the cache (which grew without bound). Naming each captured dispatcher, and
every dispatcher (and intrinsic) it reaches, deterministically makes the key
stable across processes. The pickle still carries the functions' code, so
editing a kernel still invalidates the closures built on it (checked with
numba 0.68, across files). This uses numba's private ``_set_uuid``;
tests/test_numba_cache.py checks that a second process compiles nothing.
"""

from __future__ import annotations

from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic


_NAMED: dict[int, str] = {}
"""id(dispatcher) -> its name, for every dispatcher named so far."""


def stable_identity(dispatcher: Dispatcher, name: str | None = None) -> Dispatcher:
    """Name ``dispatcher`` ``zeroplay:<name>`` (default: its module and qualified
    name), and every dispatcher its function reaches through globals or closure
    cells; returns it.

    A closure must be given a name that tells its copies apart (one per game):
    closures of one factory share a qualified name, and copies sharing a name
    would share a cache entry.
    """
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
        dispatcher._set_uuid(f"zeroplay:{name}")
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
                value._set_uuid(f"zeroplay:{intrinsic_name}")
            except AssertionError:
                pass
