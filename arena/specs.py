"""Player-spec strings: the one way every arena command names a player.

    random                    uniformly random legal moves
    mcts[:sims=1000,playouts=1,temp=0]
                              pure MCTS, values from random playouts
    solver                    perfect Connect Four play (random among equally good moves)
    net:PATH[,sims=800,temp=0,leaves=1,search=puct,utility=0,device=auto]
                              a checkpoint searched with batched MCTS (search=gumbel: Gumbel
                              search, which ignores temp; utility=0.3: KataGo's score utility,
                              for a network with a score head); sims=0 plays the raw policy's
                              best legal move
    human                     moves typed at the terminal
    gtp:"COMMAND"             an external engine over GTP (needs a Go game)

Options are ``key=value`` pairs separated by commas. This module only parses
and checks the text; ``arena.players.make_player`` builds the player.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from mcts.config import SEARCHES

KINDS = ("random", "mcts", "solver", "net", "human", "gtp")

# Each option: its parser and a check of the parsed value (with the words of the complaint).
_INT_MIN_1 = (int, lambda v: v >= 1, "a whole number >= 1")
_INT_MIN_0 = (int, lambda v: v >= 0, "a whole number >= 0")
_NON_NEGATIVE = (float, lambda v: v >= 0.0, "a number >= 0")
_TEMPERATURE = _NON_NEGATIVE
_DEVICE = (str, lambda v: bool(v), "a device such as auto, cpu or cuda")
_SEARCH = (str.lower, lambda v: v in SEARCHES, " or ".join(SEARCHES))

OPTIONS = {
    "random": {},
    "mcts": {"sims": _INT_MIN_1, "playouts": _INT_MIN_1, "temp": _TEMPERATURE},
    "solver": {},
    "net": {"sims": _INT_MIN_0, "temp": _TEMPERATURE, "leaves": _INT_MIN_1, "search": _SEARCH,
            "utility": _NON_NEGATIVE, "device": _DEVICE},
    "human": {},
    "gtp": {},
}
"""Known options of each kind of player."""

DEFAULTS = {
    "mcts": {"sims": 1000, "playouts": 1, "temp": 0.0},
    "net": {"sims": 800, "temp": 0.0, "leaves": 1, "search": "puct", "utility": 0.0, "device": "auto"},
}
"""Values of the options a spec leaves out."""


class PlayerSpecError(ValueError):
    """A player-spec string that cannot be understood; the message says why in one line."""


@dataclass(frozen=True)
class PlayerSpec:
    """A parsed player spec."""

    kind: str
    """One of KINDS."""
    text: str
    """The spec as written (the player's name in tables and game records)."""
    path: str | None = None
    """net: the checkpoint path."""
    command: str | None = None
    """gtp: the engine's command line."""
    options: dict = field(default_factory=dict)
    """Every option of the kind, defaults filled in."""

    def with_option(self, key: str, value) -> "PlayerSpec":
        """This spec with one option set (for command-line flags such as ``--sims``); its
        text is rewritten to say so."""
        if key not in OPTIONS[self.kind]:
            raise PlayerSpecError(f"a {self.kind} player has no option {key!r}")
        options = dict(self.options, **{key: value})
        changed = PlayerSpec(self.kind, self.text, self.path, self.command, options)
        return PlayerSpec(self.kind, changed.canonical(), self.path, self.command, options)

    def canonical(self) -> str:
        """The spec as text: its kind, path, sims, and the options that differ from their defaults."""
        defaults = DEFAULTS.get(self.kind, {})
        shown = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.options.items()
                 if k == "sims" or v != defaults.get(k)]
        if self.kind == "gtp":
            return f"gtp:{self.command}"
        if self.kind == "net":
            return ",".join([f"net:{self.path}", *shown])
        return self.kind + (":" + ",".join(shown) if shown else "")


def parse_player_spec(text: str) -> PlayerSpec:
    """Parse ``text``; PlayerSpecError on a malformed spec, unknown kind or option, or bad value."""
    text = text.strip()
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise PlayerSpecError(f"unknown player {text!r}: a player is one of {', '.join(KINDS)} "
                              "(e.g. 'mcts:sims=1000', 'net:runs/c4/checkpoints/gen00010.pt,sims=200')")
    if kind == "gtp":
        return PlayerSpec(kind, text, command=_gtp_command(text, rest))
    path = None
    pieces = [piece for piece in rest.split(",")] if rest else []
    if kind == "net":
        # The path is everything up to the first key=value piece (paths may hold commas).
        path_pieces = []
        while pieces and "=" not in pieces[0]:
            path_pieces.append(pieces.pop(0))
        path = ",".join(path_pieces).strip()
        if not path:
            raise PlayerSpecError(f"player {text!r} names no checkpoint: write net:PATH[,sims=800,temp=0]")
    options = dict(DEFAULTS.get(kind, {}))
    options.update(_parse_options(kind, text, pieces))
    return PlayerSpec(kind, text, path=path, options=options)


def _parse_options(kind: str, text: str, pieces: list[str]) -> dict:
    known = OPTIONS[kind]
    parsed = {}
    for piece in pieces:
        key, equals, value = piece.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not equals or not key or not value:
            raise PlayerSpecError(f"malformed option {piece.strip()!r} in player {text!r}: options are key=value")
        if key not in known:
            allowed = ", ".join(known) if known else "none"
            raise PlayerSpecError(f"unknown option {key!r} for a {kind} player in {text!r} (options: {allowed})")
        convert, valid, wanted = known[key]
        try:
            converted = convert(value)
        except ValueError:
            converted = None
        if converted is None or not valid(converted):
            raise PlayerSpecError(f"option {key}={value} in player {text!r} must be {wanted}")
        parsed[key] = converted
    return parsed


def _gtp_command(text: str, rest: str) -> str:
    try:
        words = shlex.split(rest)
    except ValueError as error:
        raise PlayerSpecError(f"malformed GTP command in {text!r}: {error}") from None
    if not words:
        raise PlayerSpecError(f'player {text!r} names no engine: write gtp:"COMMAND ARGS"')
    # gtp:"gnugo --mode gtp" quotes the whole command line; gtp:gnugo alone needs no quotes.
    return words[0] if len(words) == 1 else shlex.join(words)
