"""The AlphaZero-style policy/value network.

Input planes ``[B, C, H, W]`` float32 as the game's ``encode`` writes them
(plane 0 = the side to move). Outputs:

- policy logits ``[B, A]``: unnormalised, over every action; illegal moves are
  *not* masked here (search masks them with the legal mask);
- value ``[B]`` in ``[-1, 1]``: the expected outcome for the side to move
  (+1 win, -1 loss), the sign convention of ``engine.spec.status``.

Layout (AlphaGo Zero, Silver et al. 2017, scaled down)::

    stem     conv3x3(C -> ch) - BN - ReLU
    tower    blocks x [conv3x3 - BN - ReLU - conv3x3 - BN - (+ skip) - ReLU]; with
             ``global_pooling`` = g, every third block adds to its first BN's output a
             per-channel bias from the board mean and max of a g-channel branch (KataGo)
    policy   conv1x1(ch -> policy_channels) - BN - ReLU - flatten - linear(-> A)
    value    conv1x1(ch -> value_channels) - BN - ReLU - flatten
             - linear(-> value_hidden) - ReLU - linear(-> 1) - tanh
    reply    (optional, ``reply_channels`` > 0) as policy: the opponent's reply, an
             auxiliary training target (KataGo); ``forward_heads`` only
    ownership (optional, ``ownership_channels`` = k > 0) conv1x1(ch -> k) - BN - ReLU
             - conv1x1(k -> 1) - flatten: logits [B, H*W] of each point's final owner
             (tanh: +1 the side to move's, -1 the opponent's); ``forward_heads`` only
    score    (optional, ``score_hidden`` > 0) as value without the tanh: the side to
             move's final score margin in points; ``forward_heads`` only

The heads flatten the whole board into a linear layer, so any board shape and
action count works (tic-tac-toe 3x3 -> 9, Connect Four 6x7 -> 7, Go 19x19 -> 362).
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from nets.config import NetConfig


AUXILIARY_HEAD_MODULES = ("reply_head", "ownership_head", "score_head")
"""The modules of the heads a network may lack (``NetConfig.AUXILIARY_HEADS``)."""
STEM_WEIGHT = "stem.0.weight"
"""The stem convolution's weight [channels, C, 3, 3]: the only weight that depends on the planes read."""


def widen_input(weights: Mapping[str, torch.Tensor], planes: int) -> dict[str, torch.Tensor]:
    """``weights`` (a state_dict) of a network that reads fewer planes, made to read the first
    ``planes``: the stem gets zero weights for the planes it did not read, so the network
    computes what it computed before, and training learns what the new planes say (how
    KataGo's runs took in new input features). ValueError if it reads more already."""
    stem = weights[STEM_WEIGHT]
    if stem.shape[1] > planes:
        raise ValueError(f"the network reads {stem.shape[1]} planes, more than {planes}")
    widened = dict(weights)
    widened[STEM_WEIGHT] = torch.cat([stem, stem.new_zeros(stem.shape[0], planes - stem.shape[1], *stem.shape[2:])],
                                     dim=1)
    return widened


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity skip; [B, ch, H, W] -> same."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        # No conv bias: the batch norm right after adds its own shift.
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        # Start every block as the identity (zero scale on its last norm, Goyal
        # et al. 2017): a deep tower then trains as stably as a shallow one.
        nn.init.zeros_(self.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(x + y)


class GlobalPoolingBlock(ResidualBlock):
    """A residual block whose first convolution gets a per-channel bias computed from the
    whole board (KataGo's global pooling): a 3x3 convolution to ``pooled`` channels, BN,
    ReLU, their mean and max over the board, a linear layer to ``channels``.
    [B, ch, H, W] -> same."""

    def __init__(self, channels: int, pooled: int) -> None:
        super().__init__(channels)
        self.pool_conv = nn.Conv2d(channels, pooled, 3, padding=1, bias=False)
        self.pool_bn = nn.BatchNorm2d(pooled)
        self.pool_linear = nn.Linear(2 * pooled, channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.relu(self.pool_bn(self.pool_conv(x)))
        bias = self.pool_linear(torch.cat([g.mean(dim=(2, 3)), g.amax(dim=(2, 3))], dim=1))
        y = torch.relu(self.bn1(self.conv1(x)) + bias[:, :, None, None])
        y = self.bn2(self.conv2(y))
        return torch.relu(x + y)


def _squeeze(channels: int, out_channels: int) -> list[nn.Module]:
    """The start of a head: conv1x1 down to ``out_channels``, BN, ReLU, flatten to
    [B, out_channels * H * W]. Layer order and indices match the checkpoint keys."""
    return [
        nn.Conv2d(channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Flatten(),
    ]


class PolicyValueNet(nn.Module):
    """Residual policy/value network for one game's planes and action count.

    ``planes_shape`` is (C, H, W), the planes it reads; ``num_actions`` is A;
    ``config`` is a ``NetConfig``, a name such as ``"b6c64"``, or None for
    ``NetConfig()``. ``forward(planes [B, C', H, W] float32) -> (logits [B, A],
    values [B])`` with C' >= C: the network reads the first C planes (a network
    made before its game gained input planes reads the game's encoding of today).
    """

    def __init__(
        self,
        planes_shape: tuple[int, int, int],
        num_actions: int,
        config: NetConfig | str | None = None,
    ) -> None:
        super().__init__()
        config = _as_config(config)
        if len(planes_shape) != 3 or min(planes_shape) < 1:
            raise ValueError(f"planes_shape must be (C, H, W) of positive sizes, got {planes_shape}")
        if num_actions < 1:
            raise ValueError(f"num_actions must be >= 1, got {num_actions}")
        self.planes_shape: tuple[int, int, int] = tuple(int(n) for n in planes_shape)
        if config.input_planes and config.input_planes != self.planes_shape[0]:
            raise ValueError(f"the {config.name} network reads {config.input_planes} planes, "
                             f"not the {self.planes_shape[0]} of planes_shape {self.planes_shape}")
        self.num_actions = int(num_actions)
        self.config = config
        in_channels, height, width = self.planes_shape
        ch = config.channels
        cells = height * width

        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(inplace=True),
        )
        self.tower = nn.Sequential(*(GlobalPoolingBlock(ch, config.global_pooling)
                                     if config.global_pooling and i % 3 == 2 else ResidualBlock(ch)
                                     for i in range(config.blocks)))
        self.policy_head = nn.Sequential(
            *_squeeze(ch, config.policy_channels),
            nn.Linear(config.policy_channels * cells, self.num_actions),
        )
        self.value_head = nn.Sequential(
            *_squeeze(ch, config.value_channels),
            nn.Linear(config.value_channels * cells, config.value_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(config.value_hidden, 1),
            nn.Tanh(),
        )
        self.reply_head = (nn.Sequential(*_squeeze(ch, config.reply_channels),
                                         nn.Linear(config.reply_channels * cells, self.num_actions))
                           if config.reply_channels else None)
        self.ownership_head = (nn.Sequential(*_squeeze(ch, config.ownership_channels)[:3],
                                             nn.Conv2d(config.ownership_channels, 1, 1), nn.Flatten())
                               if config.ownership_channels else None)
        self.score_head = (nn.Sequential(*_squeeze(ch, config.value_channels),
                                         nn.Linear(config.value_channels * cells, config.score_hidden),
                                         nn.ReLU(inplace=True), nn.Linear(config.score_hidden, 1))
                           if config.score_hidden else None)

    @classmethod
    def from_spec(cls, spec: Any, config: NetConfig | str) -> PolicyValueNet:
        """The network of shape ``config`` (e.g. "b4c32") for a game (``engine.GameSpec``: its
        planes, or the first ``config.input_planes`` of them, and its actions)."""
        config = _as_config(config)
        channels, height, width = spec.planes_shape
        if config.input_planes > channels:
            raise ValueError(f"the {config.name} network reads {config.input_planes} planes, but "
                             f"{spec.name} encodes {channels}")
        return cls((config.input_planes or channels, height, width), spec.num_actions, config)

    def place(self, device: torch.device | str) -> PolicyValueNet:
        """Move to ``device`` in place and return self. On the CPU the 4-d weights take the
        channels-last layout: self-play's batches and training steps ran 1.2-1.4x faster in it
        on a 2-core AVX2 machine, and go9's b4c32 at batch 1 (a GTP engine's search) 1.19x on an
        idle core (BENCHMARKS.md, "Channels-last convolutions on the CPU"). Inputs need no
        change: a convolution with channels-last weights returns
        channels-last outputs, and the heads' flatten reads the logical order. CUDA keeps
        torch's default layout (not measured there)."""
        if torch.device(device).type == "cpu":
            return self.to(device, memory_format=torch.channels_last)
        return self.to(device)

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """planes [B, C, H, W] -> (logits [B, A], values [B] in [-1, 1], side to move).

        No shape check here, so that the forward stays traceable (torch.fx,
        export); ``NetworkEvaluator.evaluate`` checks shapes at the numpy boundary.
        """
        x = self.tower(self.stem(planes[:, :self.planes_shape[0]]))
        return self.policy_head(x), self.value_head(x).squeeze(-1)

    def forward_heads(self, planes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every head's output for training: ``policy`` logits [B, A], ``value`` [B], and those of
        the auxiliary heads the network has: ``reply`` logits [B, A] (the opponent's reply to
        the move to come), ``ownership`` logits [B, H*W], ``score`` [B] (points)."""
        x = self.tower(self.stem(planes[:, :self.planes_shape[0]]))
        heads = {"policy": self.policy_head(x), "value": self.value_head(x).squeeze(-1)}
        if self.reply_head is not None:
            heads["reply"] = self.reply_head(x)
        if self.ownership_head is not None:
            heads["ownership"] = self.ownership_head(x)
        if self.score_head is not None:
            heads["score"] = self.score_head(x).squeeze(-1)
        return heads

    def num_parameters(self) -> int:
        """Number of weights (parameters, frozen or not; batch-norm statistics excluded)."""
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self) -> str:
        return f"{self.config}, planes={self.planes_shape}, actions={self.num_actions}"


def from_spec(spec: Any, config: NetConfig | str) -> PolicyValueNet:
    """Shorthand for ``PolicyValueNet.from_spec(spec, config)``."""
    return PolicyValueNet.from_spec(spec, config)


def _as_config(config: NetConfig | str | None) -> NetConfig:
    if config is None:
        return NetConfig()
    if isinstance(config, str):
        return NetConfig.from_name(config)
    if isinstance(config, NetConfig):
        return config
    raise TypeError(f"config must be a NetConfig, a name like 'b6c64' or None, got {config!r}")
