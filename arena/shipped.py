"""The networks shipped with zeroplay: package data in ``arena/models/GAME.pt``.

They are the arena's default bots (``arena play``, ``arena gtp``), found
through the package (``importlib.resources``), so an installed copy plays with
them from any working directory. They live beside the arena rather than in
``nets`` so that finding one does not import torch. Today: ``connect4`` (the
2-hour self-play run of ``make train``) and ``go9`` (a 2-hour go9 run, then 90
minutes more from it with ``selfplay train --init shipped``);
BENCHMARKS.md says how strong each is.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_network(game: str) -> Path | None:
    """The checkpoint shipped for ``game`` (a registry name such as "connect4"), or None."""
    path = resources.files("arena").joinpath("models", f"{game}.pt")
    # zeroplay installs as folders on disk (the engine's numba cache needs them), so the
    # resource is a real path that torch.load and messages can use.
    return Path(str(path)) if path.is_file() else None
