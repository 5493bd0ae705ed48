"""Will the settings fit in memory? Checked before a run writes anything.

Settings such as ``--games-in-parallel 100000000`` would otherwise end in a
MemoryError traceback, some only after a whole generation of self-play. The
estimates count the big arrays only (search trees, replay window, training
batch and the network's activations), so a run they pass may still use
somewhat more; a run they refuse could not have run.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import torch

from engine.spec import GameSpec
from mcts import MCTSConfig
from mcts.search import search_memory
from nets import NetConfig
from selfplay.config import CommonConfig, RunConfig

EVALUATION_BATCH = 256
"""Positions the solved-set evaluation searches at once (``selfplay.evaluation.optimal_move_shares``)."""
SAVED_ACTIVATIONS_PER_BLOCK = 6
"""Float tensors of [batch, channels, H, W] a residual block keeps for the backward pass (two
convolutions, two batch norms, two ReLUs); gradients in flight come on top, uncounted, so
that a refusal is never wrong."""


@dataclass(frozen=True)
class Need:
    """Memory one part of a run needs at once."""

    what: str
    """The part and the flags that size it, e.g. 'self-play search trees (--games-in-parallel x --num-simulations)'."""
    bytes: int
    on_device: bool = False
    """On the network's device (a GPU's memory); else in the host's memory."""


def check_memory(config: CommonConfig, spec: GameSpec, device: torch.device, self_play_players: int = 1) -> None:
    """ValueError, one line naming the largest part and its flags, when the settings need more
    memory than the machine (or the GPU) has available; nothing when they fit or it cannot tell.
    ``self_play_players``: self-play processes on this machine at once (``--workers``), each
    with its own search trees."""
    needs = memory_needs(config, spec, device, self_play_players)
    for on_device in (False, True):
        parts = [need for need in needs if need.on_device == on_device]
        available = device_memory(device) if on_device else host_memory()
        total = sum(need.bytes for need in parts)
        if parts and available is not None and total > available:
            largest = max(parts, key=lambda need: need.bytes)
            where = str(device) if on_device else "memory"
            raise ValueError(f"these settings need about {_size(total)} of {where} but {_size(available)} is "
                             f"available; the largest part is {largest.what}: {_size(largest.bytes)}; lower it")


def memory_needs(config: CommonConfig, spec: GameSpec, device: torch.device,
                 self_play_players: int = 1) -> list[Need]:
    """The big allocations of a run of ``config`` (of either kind); searches that never run at
    the same time count as the largest of them."""
    searches = []
    if (config.eval_set or spec.eval_set) and config.eval_positions > 0:
        searches.append(Need("evaluation search trees (--eval-simulations)", search_memory(
            spec, MCTSConfig(num_simulations=config.eval_simulations), min(config.eval_positions, EVALUATION_BATCH))))
    needs = []
    if isinstance(config, RunConfig):
        searches += _self_play_searches(config, spec, self_play_players)
        needs.append(Need("the replay window (--window-max)", config.train.window_max * _position_bytes(spec)))
        batch_size = config.train.batch_size
    else:
        batch_size = config.pretrain.batch_size
    if searches:
        needs.append(max(searches, key=lambda need: need.bytes))
    needs += _training_needs(spec, config.net_config, batch_size, device)
    return needs


def _self_play_searches(config: RunConfig, spec: GameSpec, players: int) -> list[Need]:
    games = config.selfplay.games_in_parallel
    searches = [Need("self-play search trees (--games-in-parallel x --num-simulations"
                     + (" x --workers)" if players > 1 else ")"),
                     players * search_memory(spec, config.mcts, games))]
    if config.gating.enabled:
        simulations = config.gating.simulations or config.mcts.num_simulations
        # Both players of a gating match search every game at once.
        searches.append(Need("gating search trees (--games-in-parallel x --gating-simulations)", 2 * search_memory(
            spec, config.mcts.replace(num_simulations=simulations), games)))
    return searches


def _position_bytes(spec: GameSpec) -> int:
    """A stored position: state (int64), policy target and outcome (float32)."""
    return 8 * spec.state_size + 4 * spec.num_actions + 4


def _training_needs(spec: GameSpec, net: NetConfig, batch_size: int, device: torch.device) -> list[Need]:
    """A training step: its batch in the host's memory, and on the device the batch again and
    the activations the backward pass keeps."""
    batch = batch_size * (_position_bytes(spec) + 4 * math.prod(spec.planes_shape))
    height, width = spec.planes_shape[1:]
    activations = 4 * batch_size * net.channels * height * width * (SAVED_ACTIVATIONS_PER_BLOCK * (net.blocks + 1))
    on_gpu = device.type == "cuda"
    return [Need("the training batch (--batch-size)", batch),
            Need("the training step's activations (--batch-size, --net)", batch + activations, on_device=on_gpu)]


def host_memory() -> int | None:
    """Bytes of memory available to a new allocation (MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def device_memory(device: torch.device) -> int | None:
    """Free bytes of a CUDA device, or None (not a GPU, or it cannot say)."""
    if device.type != "cuda":
        return None
    try:
        return torch.cuda.mem_get_info(device)[0]
    except (RuntimeError, AssertionError):
        return None


def _size(count: int) -> str:
    """1536 -> '1.5 KiB'. Integer arithmetic: settings can ask for more bytes than a float holds."""
    for power, unit in enumerate(("bytes", "KiB", "MiB", "GiB", "TiB")):
        if count < 1024 ** (power + 1) or unit == "TiB":
            tenths = count * 10 // 1024 ** power
            return f"{count} bytes" if power == 0 else f"{tenths // 10:,}.{tenths % 10} {unit}"
