"""Auxiliary training targets (KataGo's): optional per-position arrays that games, shards,
the replay buffer and the trainer carry beside the policy and value targets.

A run records a target when it trains the network head the target is for (its weight,
the ``TrainConfig`` field ``weight_setting``, is above 0). A shard stores each recorded
target under its key; a shard without it still loads, its rows filled with the target's
``unknown`` value, and the loss (``selfplay.trainer``) leaves unknown rows out, so a run
may turn a head on halfway and keep its older shards. A board symmetry moves a target as
it moves the policy (``"actions"``), as it moves the board's points (``"points"``), or
not at all (None).

    key              rows            unknown  head: what it predicts
    reply_policies   [P, A] f32      zeros    reply: the opponent's reply (the policy target
                                              of the next position)
    ownership        [P, H*W] int8   -128     ownership: each point's final owner for the side
                                              to move (+1 its own, -1 the opponent's, 0 neither)
    score            [P] f32         NaN      score: the side to move's final score margin

Ownership and score come from the final board of a game played out (``GameSpec.final_ownership``,
Go); a resigned game's rows are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.spec import GameSpec


@dataclass(frozen=True)
class AuxiliaryTarget:
    key: str
    """Its name in shards, ``GameRecord.aux``, ``Positions.aux`` and ``Batch.aux``."""
    head: str
    """The network head it trains (a key of ``PolicyValueNet.forward_heads``)."""
    weight_setting: str
    """The ``TrainConfig`` field of its loss weight."""
    unknown: float
    """The value that fills an unknown row."""
    moves_with: str | None
    """"actions", "points" or None: how a board symmetry moves a row."""


REPLY = AuxiliaryTarget("reply_policies", head="reply", weight_setting="reply_weight", unknown=0.0,
                        moves_with="actions")

UNKNOWN_OWNER = -128
"""An ownership row of unknowns (int8)."""
OWNERSHIP = AuxiliaryTarget("ownership", head="ownership", weight_setting="ownership_weight",
                            unknown=UNKNOWN_OWNER, moves_with="points")
SCORE = AuxiliaryTarget("score", head="score", weight_setting="score_weight", unknown=float("nan"),
                        moves_with=None)

TARGETS = (REPLY, OWNERSHIP, SCORE)
"""Every auxiliary target."""

TARGETS_BY_KEY = {target.key: target for target in TARGETS}


def moved(key: str, rows: np.ndarray, spec: GameSpec, symmetries: np.ndarray) -> np.ndarray:
    """``rows`` [B, ...] of target ``key``, row b under symmetry ``symmetries[b]``."""
    moves_with = TARGETS_BY_KEY[key].moves_with
    if moves_with == "actions":
        return np.take_along_axis(rows, spec.action_perms[symmetries], axis=1)
    if moves_with == "points":
        return np.take_along_axis(rows, spec.cell_perms[symmetries], axis=1)
    return rows


def stacked(parts: list[dict[str, np.ndarray]], sizes: list[int]) -> dict[str, np.ndarray]:
    """The targets of ``parts`` (dicts of arrays; part i has ``sizes[i]`` rows) one after the
    other: where a part lacks a target that another has, its rows are the unknown value."""
    stacks = {}
    for key in TARGETS_BY_KEY:
        present = [part[key] for part in parts if key in part]
        if not present:
            continue
        unknown, example = TARGETS_BY_KEY[key].unknown, present[0]
        stacks[key] = np.concatenate([part[key] if key in part
                                      else np.full((size, *example.shape[1:]), unknown, example.dtype)
                                      for part, size in zip(parts, sizes)])
    return stacks
