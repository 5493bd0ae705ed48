"""The trainer: one ``train_step`` shared by self-play training and the supervised bootstrap."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from selfplay.buffer import Batch
from selfplay.targets import OWNERSHIP, REPLY, SCORE, TARGETS_BY_KEY, UNKNOWN_OWNER


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


def learning_rate_at(progress: float, initial: float, schedule: str = "cosine") -> float:
    """The learning rate at ``progress`` through a schedule (0 at its start, 1 at its end and
    flat after it: larger values count as 1). cosine: from ``initial`` down to 10% of it.
    onecycle (Smith and Topin 2017): linearly up from 10% to ``initial`` over the first 30%,
    then down along a cosine to 1%. The caller measures progress in generations, epochs or
    minutes of training."""
    progress = min(1.0, max(0.0, progress))
    if schedule == "cosine":
        return initial * (0.1 + 0.9 * _cosine(progress))
    rise = 0.3
    if progress < rise:
        return initial * (0.1 + 0.9 * progress / rise)
    return initial * (0.01 + 0.99 * _cosine((progress - rise) / (1.0 - rise)))


def _tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(device, non_blocking=True)


def _reply_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the reply head's logits [B, A] against the replies [B, A], averaged
    over the known rows (each sums to 1; an unknown one, all zeros, to 0)."""
    cross_entropy = -(target * F.log_softmax(logits, dim=1)).sum(dim=1)
    return cross_entropy.sum() / target.sum().clamp(min=1.0)


def _ownership_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each point's owner: the head's logits z [B, H*W] predict
    ownership tanh(z), i.e. P(own) = sigmoid(2z), against (1 + owner) / 2 (a neutral point:
    1/2); averaged over the points of the known rows (an unknown row holds UNKNOWN_OWNER)."""
    known = target[:, 0] != UNKNOWN_OWNER
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.binary_cross_entropy_with_logits(2.0 * logits[known], (1.0 + target[known]) / 2.0)


SCORE_SCALE = 10.0
"""Points: the score loss is quadratic in errors below this, linear above (Huber)."""


def _score_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Huber loss of the predicted score margins [B] (points) in units of SCORE_SCALE, over the
    known rows (an unknown one is NaN)."""
    known = ~torch.isnan(target)
    if not bool(known.any()):
        return predicted.sum() * 0.0
    return F.huber_loss(predicted[known] / SCORE_SCALE, target[known] / SCORE_SCALE, delta=1.0)


AUXILIARY_LOSSES = {REPLY.key: _reply_loss, OWNERSHIP.key: _ownership_loss, SCORE.key: _score_loss}
"""The loss of each auxiliary target (``selfplay.targets``): (head output, target rows as
float32 tensors) -> the loss averaged over the known rows."""


def _forward_losses(model: torch.nn.Module, batch: Batch, device: torch.device):
    """(logits [B, A], log-probabilities [B, A], target policies [B, A], policy cross-entropy,
    value MSE, {target key: auxiliary loss}) of ``batch`` as tensors on ``device``; bf16
    autocast on CUDA. An auxiliary loss needs the target in the batch and its head in the model."""
    planes = _tensor(batch.planes, device)
    target_policy = _tensor(batch.policies, device)
    target_value = _tensor(batch.values, device)
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        heads = model.forward_heads(planes)
    logits = heads["policy"].float()
    log_probs = F.log_softmax(logits, dim=1)
    policy_loss = -(target_policy * log_probs).sum(dim=1).mean()
    value_loss = F.mse_loss(heads["value"].float(), target_value)
    auxiliary = {key: AUXILIARY_LOSSES[key](heads[TARGETS_BY_KEY[key].head].float(),
                                            _tensor(rows.astype(np.float32, copy=False), device))
                 for key, rows in batch.aux.items() if TARGETS_BY_KEY[key].head in heads}
    return logits, log_probs, target_policy, policy_loss, value_loss, auxiliary


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch,
               device: torch.device | str = "cpu", aux_weights: dict[str, float] | None = None) -> dict[str, float]:
    """One gradient step on policy cross-entropy + value MSE, plus each auxiliary target's loss
    times its weight in ``aux_weights`` (target key -> weight; weight decay is in the optimizer).

    batch.planes [B, C, H, W], batch.policies [B, A] (targets summing to 1),
    batch.values [B] in [-1, 1], batch.aux (``selfplay.targets``). Mixed precision (bf16
    autocast) on CUDA. Returns the losses (an auxiliary one as ``<head>_loss``), the policy
    entropy and the policy top-1 agreement with the target.
    """
    device = torch.device(device)
    model.train()
    logits, log_probs, target_policy, policy_loss, value_loss, auxiliary = _forward_losses(model, batch, device)
    weights = aux_weights or {}
    loss = policy_loss + value_loss
    for key, aux_loss in auxiliary.items():
        loss = loss + weights.get(key, 0.0) * aux_loss
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
    metrics.update({f"{TARGETS_BY_KEY[key].head}_loss": aux_loss.item() for key, aux_loss in auxiliary.items()})
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
