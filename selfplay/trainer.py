"""The trainer: one ``train_step`` shared by self-play training and the supervised bootstrap."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from selfplay.buffer import Batch


def make_optimizer(model: torch.nn.Module, learning_rate: float, weight_decay: float) -> torch.optim.Optimizer:
    """SGD with momentum 0.9 and L2 weight decay, as AlphaZero."""
    return torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9, weight_decay=weight_decay)


def learning_rate_at(generation: int, initial: float, decay_generations: int) -> float:
    """Cosine decay from ``initial`` to 10% of it over ``decay_generations``, then flat."""
    progress = min(1.0, generation / max(1, decay_generations))
    return initial * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch,
               device: torch.device | str = "cpu") -> dict[str, float]:
    """One gradient step on policy cross-entropy + value MSE (weight decay is in the optimizer).

    batch.planes [B, C, H, W], batch.policies [B, A] (targets summing to 1),
    batch.values [B] in [-1, 1]. Mixed precision (bf16 autocast) on CUDA.
    Returns the losses, the policy entropy and the policy top-1 agreement with the target.
    """
    device = torch.device(device)
    model.train()
    planes = torch.from_numpy(np.ascontiguousarray(batch.planes)).to(device, non_blocking=True)
    target_policy = torch.from_numpy(np.ascontiguousarray(batch.policies)).to(device, non_blocking=True)
    target_value = torch.from_numpy(np.ascontiguousarray(batch.values)).to(device, non_blocking=True)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits, values = model(planes)
    log_probs = F.log_softmax(logits.float(), dim=1)
    policy_loss = -(target_policy * log_probs).sum(dim=1).mean()
    value_loss = F.mse_loss(values.float(), target_value)
    loss = policy_loss + value_loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        entropy = -(log_probs.exp() * log_probs).sum(dim=1).mean()
        agreement = (logits.argmax(dim=1) == target_policy.argmax(dim=1)).float().mean()
    return {
        "loss": loss.item(),
        "policy_loss": policy_loss.item(),
        "value_loss": value_loss.item(),
        "policy_entropy": entropy.item(),
        "policy_accuracy": agreement.item(),
    }
