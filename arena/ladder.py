"""The checkpoints of a self-play run, and the plot of their ratings.

A run directory (see ``selfplay.loop``) keeps one weights file per generation
as ``checkpoints/genNNNNN.pt`` and names its game in ``config.json``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from arena.elo import Ratings

_GENERATION = re.compile(r"gen(\d+)\.pt")


class LadderError(ValueError):
    """A run directory that cannot be laddered (the message says why)."""


def run_game(run_dir: Path) -> str:
    """The game a run directory trains, from its config.json."""
    config = run_dir / "config.json"
    if not config.exists():
        raise LadderError(f"{run_dir} is not a self-play run directory (no config.json)")
    try:
        game = json.loads(config.read_text(encoding="utf-8")).get("game")
    except (OSError, ValueError) as error:
        raise LadderError(f"{config}: unreadable run config ({error})") from None
    if not isinstance(game, str):
        raise LadderError(f"{config} names no game")
    return game


def generation_checkpoints(run_dir: Path, stride: int = 1) -> list[tuple[int, Path]]:
    """(generation, path) of the run's generation checkpoints, oldest first.

    ``stride``: keep every stride-th generation (the newest is always kept).
    """
    found = []
    for path in (run_dir / "checkpoints").glob("gen*.pt"):
        match = _GENERATION.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    found.sort()
    if stride > 1 and found:
        found = [item for k, item in enumerate(found) if k % stride == 0 or k == len(found) - 1]
    return found


def plot_ladder(path: Path, generations: list[int], names: list[str], ratings: Ratings,
                anchors: list[str]) -> None:
    """PNG of Elo (with 95% bars) against generation; anchors as labelled dashed lines.

    ``names[k]`` is the player of ``generations[k]``. matplotlib is imported
    here, not at module level: most arena commands never plot.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    index = {name: k for k, name in enumerate(ratings.names)}
    elo = [ratings.elo[index[name]] for name in names]
    error = [ratings.error[index[name]] for name in names]
    figure, axes = plt.subplots(figsize=(8, 4.5))
    axes.errorbar(generations, elo, yerr=error, marker="o", capsize=3, label="checkpoints")
    for k, anchor in enumerate(anchors):
        value = ratings.elo[index[anchor]]
        if math.isfinite(value):
            axes.axhline(value, linestyle="--", color=f"C{k + 1}", label=anchor)
    axes.set_xlabel("generation")
    axes.set_ylabel("Elo" + (f" ({ratings.anchor} = 0)" if ratings.anchor else " (mean = 0)"))
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
