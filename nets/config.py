"""Network shape configuration and its short name.

A network is named after its tower like KataGo's models: ``b6c64`` is six
residual blocks of 64 channels, ``b6c64gp16`` the same with a global pooling
branch of 16 channels in every third block, ``b6c64in9`` one that reads only
the first 9 of its game's input planes (a game's planes are only ever added
at the end, so such a network sees the encoding of an older release). The
name carries only the tower and its input; the heads use
the defaults below unless a config says otherwise, and a checkpoint stores the
whole config (``NetConfig.to_dict``), so a network with non-default heads still
loads exactly.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

_NAME_RE = re.compile(r"b(\d+)c(\d+)(?:gp(\d+))?(?:in(\d+))?")


@dataclass(frozen=True)
class NetConfig:
    """Shape of a ``PolicyValueNet``; everything except the board and action sizes,
    which come from the game (``planes_shape``, ``num_actions``)."""

    blocks: int = 6
    """Residual blocks in the tower (usually 6 for Connect Four, 2 for tic-tac-toe,
    10-20 for 19x19 Go). 0 leaves only the stem convolution."""
    channels: int = 64
    """Channels of the stem and of every residual block (usually 64; AlphaZero
    used 256 for Go and chess)."""
    policy_channels: int = 2
    """Channels of the policy head's 1x1 convolution before the linear layer to
    A logits (usually 2, as in AlphaGo Zero)."""
    value_channels: int = 1
    """Channels of the value head's 1x1 convolution (usually 1, as in AlphaGo Zero)."""
    value_hidden: int = 64
    """Width of the value head's hidden fully connected layer (usually 64 for
    small boards; AlphaGo Zero used 256)."""
    reply_channels: int = 0
    """Channels of the auxiliary reply head's 1x1 convolution, a second policy head that
    predicts the opponent's reply (KataGo's auxiliary policy target; trained only, never
    used by search); 0: no such head."""
    ownership_channels: int = 0
    """Channels of the ownership head's first 1x1 convolution (KataGo's auxiliary target: the
    final owner of every point, Go); 0: no such head."""
    score_hidden: int = 0
    """Width of the score head's hidden layer (KataGo's auxiliary target: the final score
    margin, Go); 0: no such head."""

    global_pooling: int = 0
    """Channels of a global pooling branch (KataGo) in every third residual block (the 3rd,
    6th, ...): their board mean and max, through a linear layer, become a per-channel bias of
    the block, so that every point sees the whole board (ko threats, the score); 0: none."""

    input_planes: int = 0
    """Input planes the network reads: the first ``input_planes`` of its game's planes
    (``engine.go``: the 9 of the encoding before the atari planes, the 11 before the two- and
    three-liberty planes); 0: all of them."""

    AUXILIARY_HEADS = ("reply_channels", "ownership_channels", "score_hidden")
    """The fields of heads a network may lack (0: none)."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            # bool is an int subclass; True blocks is a bug, not a config.
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"NetConfig.{field.name} must be an int, got {value!r}")
            minimum = 0 if field.name in ("blocks", "global_pooling", "input_planes", *self.AUXILIARY_HEADS) else 1
            if value < minimum:
                raise ValueError(f"NetConfig.{field.name} must be >= {minimum}, got {value}")

    @property
    def name(self) -> str:
        """Short name of the tower, e.g. ``"b6c64"``, ``"b6c64gp16"`` or ``"b6c64in9"`` (heads are
        not part of it)."""
        return (f"b{self.blocks}c{self.channels}" + (f"gp{self.global_pooling}" if self.global_pooling else "")
                + (f"in{self.input_planes}" if self.input_planes else ""))

    @classmethod
    def from_name(cls, name: str, **heads: int) -> NetConfig:
        """The config named ``name`` (``"b<blocks>c<channels>[gp<pooled>][in<planes>]"``, e.g. ``"b6c64"``);
        keyword arguments override the head fields. Raises ValueError when the
        name is malformed."""
        match = _NAME_RE.fullmatch(name.strip()) if isinstance(name, str) else None
        if match is None:
            raise ValueError(
                f"malformed network name {name!r}: expected 'b<blocks>c<channels>', "
                f"e.g. 'b6c64' for 6 residual blocks of 64 channels ('b6c64gp16': with global pooling, "
                f"'b6c64in9': reading the first 9 input planes)"
            )
        return cls(blocks=int(match.group(1)), channels=int(match.group(2)),
                   global_pooling=int(match.group(3) or 0), input_planes=int(match.group(4) or 0), **heads)

    def to_dict(self) -> dict[str, int]:
        """Plain ``{field: int}`` dict, safe for ``torch.load(weights_only=True)`` and JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetConfig:
        """Inverse of ``to_dict``; unknown keys raise ValueError (missing ones take defaults)."""
        if not isinstance(data, dict):
            raise ValueError(f"a net config must be a dict, got {type(data).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown net config fields {unknown}; known: {sorted(known)}")
        return cls(**data)

    def __str__(self) -> str:
        defaults = NetConfig()
        heads = [
            f"{field.name}={getattr(self, field.name)}"
            for field in dataclasses.fields(self)
            if field.name not in ("blocks", "channels", "global_pooling", "input_planes")
            and getattr(self, field.name) != getattr(defaults, field.name)
        ]
        return self.name + (f" ({', '.join(heads)})" if heads else "")
