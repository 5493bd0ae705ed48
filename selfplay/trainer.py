"""The trainer: one ``train_step`` shared by self-play training and the supervised bootstrap."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from selfplay.buffer import Batch


def make_optimizer(model: torch.nn.Module, learning_rate: float, weight_decay: float,
                   kind: str = "sgd") -> torch.optim.Optimizer:
    """sgd: SGD with momentum 0.9 and L2 weight decay, as AlphaZero; adamw: AdamW with decoupled
    weight decay (Loshchilov and Hutter), which wants a learning rate near 1e-3."""
    if kind == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)
    return torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9, weight_decay=weight_decay)


def _cosine(progress: float) -> float:
    """1 at ``progress`` 0 down to 0 at 1, along half a cosine."""
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def learning_rate_at(generation: int, initial: float, decay_generations: int, schedule: str = "cosine") -> float:
    """The learning rate of ``generation`` (0, 1, ...) in a schedule ``decay_generations`` long,
    flat after it. cosine: from ``initial`` down to 10% of it. onecycle (Smith and Topin 2017):
    linearly up from 10% to ``initial`` over the first 30%, then down along a cosine to 1%."""
    progress = min(1.0, generation / max(1, decay_generations))
    if schedule == "cosine":
        return initial * (0.1 + 0.9 * _cosine(progress))
    rise = 0.3
    if progress < rise:
        return initial * (0.1 + 0.9 * progress / rise)
    return initial * (0.01 + 0.99 * _cosine((progress - rise) / (1.0 - rise)))


def _tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(device, non_blocking=True)


def _forward_losses(model: torch.nn.Module, batch: Batch, device: torch.device):
    """(logits [B, A], log-probabilities [B, A], target policies [B, A], policy cross-entropy,
    value MSE, reply cross-entropy or None) of ``batch`` as tensors on ``device``; bf16 autocast
    on CUDA. The reply loss needs a reply head and reply targets; it averages over the positions
    whose reply is known (a row of zeros is not)."""
    planes = _tensor(batch.planes, device)
    target_policy = _tensor(batch.policies, device)
    target_value = _tensor(batch.values, device)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        heads = model.forward_heads(planes)
    logits = heads["policy"].float()
    log_probs = F.log_softmax(logits, dim=1)
    policy_loss = -(target_policy * log_probs).sum(dim=1).mean()
    value_loss = F.mse_loss(heads["value"].float(), target_value)
    reply_loss = None
    if "reply" in heads and batch.reply_policies is not None:
        target_reply = _tensor(batch.reply_policies, device)
        cross_entropy = -(target_reply * F.log_softmax(heads["reply"].float(), dim=1)).sum(dim=1)
        known_rows = target_reply.sum()  # each known row sums to 1, an unknown one to 0
        reply_loss = cross_entropy.sum() / known_rows.clamp(min=1.0)
    return logits, log_probs, target_policy, policy_loss, value_loss, reply_loss


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch,
               device: torch.device | str = "cpu", reply_weight: float = 0.0) -> dict[str, float]:
    """One gradient step on policy cross-entropy + value MSE, plus ``reply_weight`` times the
    reply cross-entropy when the model has a reply head (weight decay is in the optimizer).

    batch.planes [B, C, H, W], batch.policies [B, A] (targets summing to 1),
    batch.values [B] in [-1, 1], batch.reply_policies [B, A] or None. Mixed precision (bf16
    autocast) on CUDA. Returns the losses, the policy entropy and the policy top-1 agreement
    with the target.
    """
    device = torch.device(device)
    model.train()
    logits, log_probs, target_policy, policy_loss, value_loss, reply_loss = _forward_losses(model, batch, device)
    loss = policy_loss + value_loss
    if reply_loss is not None:
        loss = loss + reply_weight * reply_loss
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        entropy = -(log_probs.exp() * log_probs).sum(dim=1).mean()
        agreement = (logits.argmax(dim=1) == target_policy.argmax(dim=1)).float().mean()
    metrics = {
        "loss": loss.item(),
        "policy_loss": policy_loss.item(),
        "value_loss": value_loss.item(),
        "policy_entropy": entropy.item(),
        "policy_accuracy": agreement.item(),
    }
    if reply_loss is not None:
        metrics["reply_loss"] = reply_loss.item()
    return metrics


@torch.no_grad()
def validation_metrics(model: torch.nn.Module, batch: Batch, legal: np.ndarray, correct: np.ndarray,
                       device: torch.device | str = "cpu", chunk: int = 4096) -> dict[str, float]:
    """Held-out figures of ``model`` (eval mode) on ``batch`` (B positions, no augmentation).

    legal [B, A] bool: the legal moves; correct [B, A] bool: the moves that count as right
    (an exact expert's optimal moves). Returns the losses (``loss`` = policy cross-entropy +
    value MSE, what training minimises), ``policy_accuracy`` (share of positions whose best
    legal logit is a correct move) and ``value_mse``. Evaluated ``chunk`` positions at a time.
    """
    device = torch.device(device)
    model.eval()
    sums = {"policy_loss": 0.0, "value_mse": 0.0, "policy_accuracy": 0.0}
    for start in range(0, len(legal), chunk):
        part = slice(start, start + chunk)
        piece = Batch(batch.planes[part], batch.policies[part], batch.values[part])
        logits, _, _, policy_loss, value_loss, _ = _forward_losses(model, piece, device)
        chosen = np.where(legal[part], logits.cpu().numpy(), -np.inf).argmax(axis=1)
        size = len(chosen)
        sums["policy_loss"] += policy_loss.item() * size
        sums["value_mse"] += value_loss.item() * size
        sums["policy_accuracy"] += float(correct[part][np.arange(size), chosen].sum())
    means = {key: value / len(legal) for key, value in sums.items()}
    means["loss"] = means["policy_loss"] + means["value_mse"]
    return means
