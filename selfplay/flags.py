"""Command-line flags generated from the config dataclasses.

Every field of ``MCTSConfig``, ``SelfPlayConfig``, ``TrainConfig``,
``GatingConfig``, ``ExpertConfig`` and ``PretrainConfig`` becomes a kebab-case
flag whose help is the field's docstring, so a new setting is a new flag with
no second place to edit.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import math
import textwrap
from typing import Any, Callable


def field_docstrings(cls: type) -> dict[str, str]:
    """The string literal under each annotated field of a dataclass's source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs = {}
    for node, following in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got '{text}'")


def finite_float(text: str) -> float:
    """A number flag: 'nan' and 'inf' are refused (nan compares false with every bound, so it
    would slip past the checks; inf is no setting)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got '{text}'")
    return value


def bounded(parse: Callable[[str], float], minimum: float, name: str) -> Callable[[str], float]:
    """An argparse type: ``parse`` (int, finite_float), then at least ``minimum``."""
    def parse_bounded(text: str) -> float:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {name}, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {name}, got '{text}'")
        return value

    parse_bounded.__name__ = name  # argparse names the type in some messages
    return parse_bounded


non_negative_int = bounded(int, 0, "a whole number >= 0")
positive_int = bounded(int, 1, "a whole number >= 1")
non_negative_float = bounded(finite_float, 0.0, "a number >= 0")


def _optional_float(text: str) -> float | None:
    return None if text.lower() == "none" else finite_float(text)


def _optional_str(text: str) -> str | None:
    return None if text.lower() == "none" else text


def _flag_type(field: dataclasses.Field) -> Any:
    """The parser of a field's flag, from its default's type; a field whose default is None
    reads by its annotation ("str | None": text, anything else: a number)."""
    if field.default is None:
        return _optional_str if str(field.type).startswith("str") else _optional_float
    return {bool: _parse_bool, int: int, float: finite_float, str: str}.get(type(field.default), _optional_float)


_METAVARS = {str: "TEXT", _optional_str: "TEXT", _optional_float: "FLOAT", finite_float: "FLOAT"}


def add_dataclass_flags(parser: argparse.ArgumentParser, cls: type, title: str, skip: tuple = ()) -> None:
    """One flag per field of ``cls``, in an argument group; defaults are None (= keep)."""
    group = parser.add_argument_group(title)
    docs = field_docstrings(cls)
    prefix = getattr(cls, "FLAG_PREFIX", "")
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        default = field.default
        kind = _flag_type(field)
        # A bare boolean flag (--gating) means true; --gating false turns it off.
        bare = {"nargs": "?", "const": True} if isinstance(default, bool) else {}
        # A section with a FLAG_PREFIX names its flags --PREFIX-FIELD, its "enabled" switch --PREFIX.
        name = prefix if prefix and field.name == "enabled" else "-".join(filter(None, [prefix, field.name]))
        group.add_argument(
            "--" + name.replace("_", "-"), dest=f"{cls.__name__}.{field.name}", type=kind, **bare,
            default=None, metavar=_METAVARS.get(kind, type(default).__name__.upper()),
            # argparse %-formats help strings: escape the docstrings' own percent signs
            help=f"{docs.get(field.name, '')} (default: the preset's; base value {default})".replace("%", "%%"),
        )


def overrides_for(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` set on the command line."""
    prefix = cls.__name__ + "."
    return {key[len(prefix):]: value for key, value in vars(args).items()
            if key.startswith(prefix) and value is not None}
