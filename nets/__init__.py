"""Torch policy/value networks, the batched evaluator (numpy in, numpy out) and checkpoint files.

Public names:

- ``NetConfig``: the network's shape, named like ``b6c64`` (blocks, channels).
- ``PolicyValueNet`` / ``from_spec``: the residual network; planes [B, C, H, W]
  -> logits [B, A], values [B] in [-1, 1] for the side to move.
- ``NetworkEvaluator``: numpy in, numpy out, for search; owns device, dtype,
  inference mode and optional compilation.
- ``save_checkpoint`` / ``load_checkpoint`` / ``Checkpoint`` and the
  ``CheckpointError`` family.

This package never imports ``mcts``, ``selfplay`` or ``arena``.
"""

from nets.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    CheckpointGameError,
    CheckpointNotFoundError,
    CheckpointShapeError,
    CheckpointVersionError,
    CorruptCheckpointError,
    NotACheckpointError,
    cpu_weights,
    load_checkpoint,
    save_checkpoint,
)
from nets.config import NetConfig
from nets.evaluator import NetworkEvaluator, resolve_device, resolve_dtype
from nets.model import PolicyValueNet, ResidualBlock, from_spec

__all__ = [
    "FORMAT_VERSION", "Checkpoint", "CheckpointError", "CheckpointGameError",
    "CheckpointNotFoundError", "CheckpointShapeError", "CheckpointVersionError",
    "CorruptCheckpointError", "NotACheckpointError", "cpu_weights", "load_checkpoint", "save_checkpoint",
    "NetConfig", "NetworkEvaluator", "resolve_device", "resolve_dtype",
    "PolicyValueNet", "ResidualBlock", "from_spec",
]
