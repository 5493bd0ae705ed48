"""Checkpoint files: one file per checkpoint, written atomically, loaded safely.

A checkpoint is a ``torch.save`` zip archive of one plain dict::

    format          "zeroplay-checkpoint"   (marks the file as ours)
    format_version  FORMAT_VERSION
    game            registry name, e.g. "connect4"
    step            training step (int >= 0)
    net_config      NetConfig.to_dict(): {"blocks": 6, "channels": 64, ...}
    planes_shape    [C, H, W] the network reads
    num_actions     A
    weights         model.state_dict(), tensors on the CPU
    optimizer_state optimizer.state_dict(), or None for a weights-only checkpoint
    extra           dict of plain values and tensors (RNG states, counters), or {}

Everything is plain data (dicts, lists, str, int, float, tensors), so loading
uses ``torch.load(weights_only=True)`` and never runs code from the file.

Writing goes to a temporary file ``.<name>.<pid>.<token>.tmp`` in the target's
directory, is flushed and fsynced, then renamed over the target with
``os.replace``: a reader sees the old file or the new one, never half a file.
A process killed mid-write leaves only such a hidden ``.tmp`` file behind.

Loading checks, in order, and raises one ``CheckpointError`` subclass each,
with a one-line message that starts with the path: the file exists, is an
intact archive (zip checksums, which torch itself does not verify), holds
plain data only, is a zeroplay checkpoint, has a format version this code
reads, is for the game asked for, and has weights that fit its declared net.
"""

from __future__ import annotations

import dataclasses
import io
import operator
import os
import pickle
import secrets
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from nets.config import NetConfig
from nets.model import PolicyValueNet

FORMAT_MAGIC = "zeroplay-checkpoint"
"""Value of the ``format`` field that marks a zeroplay checkpoint."""
FORMAT_VERSION = 1
"""Version of the layout above; bump it (and teach ``load_checkpoint`` the old
one) whenever a field changes meaning."""
TEMP_SUFFIX = ".tmp"
"""Suffix of in-progress writes (hidden files, see the module docstring)."""

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save has written zip archives since torch 1.6


class CheckpointError(Exception):
    """A checkpoint that cannot be loaded (or saved); ``path`` names the file and
    the message says what is wrong in one line."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No file at the path (also a FileNotFoundError)."""


class CorruptCheckpointError(CheckpointError):
    """A truncated or damaged file, or a zeroplay checkpoint with malformed fields."""


class NotACheckpointError(CheckpointError):
    """A readable file that is not a zeroplay checkpoint (text, another torch file, ...)."""


class CheckpointVersionError(CheckpointError):
    """A zeroplay checkpoint of a format version this code does not read."""


class CheckpointGameError(CheckpointError):
    """A checkpoint for another game than the one asked for."""


class CheckpointShapeError(CheckpointError):
    """Weights that do not fit the network the checkpoint declares."""


@dataclass
class Checkpoint:
    """A loaded checkpoint."""

    path: Path
    """The file it was loaded from."""
    config: NetConfig
    """Shape of the network."""
    game: str
    """Registry name of the game, e.g. ``"connect4"``."""
    step: int
    """Training step at which it was written."""
    model: PolicyValueNet
    """The network with its weights loaded, in eval mode, on ``map_location``."""
    optimizer_state: dict[str, Any] | None = None
    """``optimizer.state_dict()`` for ``optimizer.load_state_dict``; None when saved without one."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Whatever the writer put in ``extra`` (RNG states, counters); {} when nothing."""
    format_version: int = FORMAT_VERSION
    """Format version of the file."""


# -- saving -----------------------------------------------------------------


def cpu_weights(model) -> dict:
    """``model``'s state_dict as CPU tensors detached from autograd: what a checkpoint stores and
    what self-play workers on other processes or machines receive (it loads on any device)."""
    return {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}


def save_checkpoint(
    path: str | os.PathLike,
    model: PolicyValueNet,
    *,
    game: str,
    step: int,
    optimizer: torch.optim.Optimizer | Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint of ``model`` to ``path`` atomically; returns the path.

    ``game`` is the registry name (or a GameSpec); ``step`` the training step;
    ``optimizer`` an optimizer or its ``state_dict()`` (None for a weights-only
    checkpoint); ``extra`` a dict of plain values (None, bool, int, float, str,
    bytes, lists, tuples, dicts) and torch tensors, e.g. RNG states
    (``random.getstate()``, ``torch.get_rng_state()``, numpy's
    ``bit_generator.state``); numpy arrays must be converted first. Creates the
    parent directory when missing.
    """
    path = Path(path)
    model = getattr(model, "_orig_mod", model)  # a torch.compile'd model: save the original
    if not isinstance(model, PolicyValueNet):
        raise TypeError(f"save_checkpoint needs a PolicyValueNet, got {type(model).__name__}")
    game = getattr(game, "name", game)
    if not isinstance(game, str) or not game:
        raise ValueError(f"game must be a non-empty game name, got {game!r}")
    if isinstance(step, bool):
        raise TypeError("step must be an int, got a bool")
    step = operator.index(step)  # accepts numpy integers, refuses floats
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if isinstance(optimizer, torch.optim.Optimizer):
        optimizer_state = optimizer.state_dict()
    elif optimizer is None or isinstance(optimizer, Mapping):
        optimizer_state = None if optimizer is None else dict(optimizer)
    else:
        raise TypeError(
            f"optimizer must be an Optimizer, its state_dict() or None, got {type(optimizer).__name__}"
        )
    extra = {} if extra is None else dict(extra)
    _check_plain(extra, "extra")

    payload = {
        "format": FORMAT_MAGIC,
        "format_version": FORMAT_VERSION,
        "game": game,
        "step": step,
        "net_config": model.config.to_dict(),
        "planes_shape": list(model.planes_shape),
        "num_actions": model.num_actions,
        # CPU copies: the file then loads on any machine, GPU or not.
        "weights": cpu_weights(model),
        "optimizer_state": optimizer_state,
        "extra": extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, payload)
    return path


def _write_atomically(path: Path, payload: dict[str, Any]) -> None:
    """torch.save ``payload`` to a temporary file beside ``path``, fsync, rename over ``path``."""
    # Same directory as the target: os.replace is atomic only within one file system.
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    # Serialised in memory first: torch's own file writer reports a failed write (a full
    # disk) as a RuntimeError "unexpected pos", ours as an OSError with its errno.
    data = io.BytesIO()
    torch.save(payload, data)
    try:
        # O_EXCL: never clobber another writer's file; mode 0o666 lets the umask decide.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.getbuffer())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException as error:
        # Includes KeyboardInterrupt: an interrupted save must not leave its temp file.
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # a failed write (a full disk) says which checkpoint
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# Exact types: subclasses such as numpy.float64 (a float), IntEnum members or
# defaultdict pickle through their own classes, which weights-only loading refuses.
_PLAIN_SCALARS = (type(None), bool, int, float, str, bytes)
_PLAIN_SEQUENCES = (list, tuple)
_PLAIN_MAPPINGS = (dict, OrderedDict)


def _check_plain(value: Any, where: str) -> None:
    """Raise TypeError naming the first value under ``where`` that
    ``torch.load(weights_only=True)`` would refuse, so the mistake shows at save
    time rather than as an unloadable checkpoint at resume."""
    if type(value) in _PLAIN_SCALARS or isinstance(value, torch.Tensor):
        return
    if type(value) in _PLAIN_SEQUENCES:
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
        return
    if type(value) in _PLAIN_MAPPINGS:
        for key, item in value.items():
            if type(key) not in (str, int):
                raise TypeError(
                    f"{where} has a key {key!r} of type {type(key).__name__}; use str or int keys"
                )
            _check_plain(item, f"{where}[{key!r}]")
        return
    hint = " (convert it with .tolist() or torch.from_numpy)" if type(value).__module__ == "numpy" else ""
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which a "
        f"weights-only checkpoint cannot hold{hint}; use plain values and tensors"
    )


# -- loading ----------------------------------------------------------------


def load_checkpoint(
    path: str | os.PathLike,
    *,
    game: str | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Load and check a checkpoint; see the module docstring for the checks.

    ``game``: the game the caller plays (a name or a GameSpec); another game
    raises CheckpointGameError. ``map_location``: where tensors (weights and
    optimizer state) are placed, and the model with them. Returns a
    ``Checkpoint`` whose model is in eval mode (call ``.train()`` to train it).
    """
    path = Path(path)
    if isinstance(map_location, (str, torch.device)):
        device = torch.device(map_location)
        if device.type == "cuda" and not torch.cuda.is_available():
            # Checked first: torch.load's own error would read like a broken file.
            raise ValueError(f"map_location {str(map_location)!r} asked for, but CUDA is not available here")
    payload = _read_payload(path, map_location)
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            problem = (
                f"checkpoint format version {version} is newer than this zeroplay reads "
                f"({FORMAT_VERSION}); upgrade zeroplay"
            )
        else:
            problem = (
                f"checkpoint format version {version!r} is not supported "
                f"(this zeroplay reads version {FORMAT_VERSION})"
            )
        raise CheckpointVersionError(path, problem)

    saved_game = _field(path, payload, "game", str)
    wanted = getattr(game, "name", game)
    if wanted is not None and saved_game != wanted:
        raise CheckpointGameError(path, f"checkpoint is for {saved_game}, not {wanted}")
    step = _field(path, payload, "step", int)
    planes_shape = tuple(_field(path, payload, "planes_shape", list))
    num_actions = _field(path, payload, "num_actions", int)
    if wanted is not None:
        _check_encoding(path, game, planes_shape, num_actions)
    try:
        config = _reading_planes(NetConfig.from_dict(_field(path, payload, "net_config", dict)), planes_shape,
                                 saved_game)
        model = PolicyValueNet(planes_shape, num_actions, config)
    except (TypeError, ValueError) as error:
        raise CorruptCheckpointError(path, f"malformed network declaration: {error}") from None
    weights = _field(path, payload, "weights", dict)
    mismatch = _weights_mismatch(model, weights)
    if mismatch:
        raise CheckpointShapeError(
            path,
            f"weights do not fit the declared {config} network for planes {planes_shape} "
            f"and {num_actions} actions: {mismatch}",
        )
    model.load_state_dict(weights, strict=True)
    if isinstance(map_location, (str, torch.device)):
        model.to(map_location)
    optimizer_state = payload.get("optimizer_state")
    if optimizer_state is not None and not isinstance(optimizer_state, dict):
        found = type(optimizer_state).__name__
        raise CorruptCheckpointError(path, f"malformed field 'optimizer_state': expected dict, found a {found}")
    extra = payload.get("extra") or {}
    if not isinstance(extra, dict):
        found = type(extra).__name__
        raise CorruptCheckpointError(path, f"malformed field 'extra': expected dict, found a {found}")
    return Checkpoint(
        path=path,
        config=config,
        game=saved_game,
        step=step,
        model=model.eval(),
        optimizer_state=optimizer_state,
        extra=extra,
        format_version=version,
    )


def _reading_planes(config: NetConfig, planes_shape: tuple, game: str) -> NetConfig:
    """``config`` naming the planes its network reads when they are fewer than ``game``
    encodes today: a checkpoint written before the game gained planes declares none."""
    import engine

    if config.input_planes or not planes_shape:
        return config
    try:
        channels = engine.get_game(game).planes_shape[0]
    except engine.UnknownGameError:
        return config
    return dataclasses.replace(config, input_planes=planes_shape[0]) if planes_shape[0] < channels else config


def _check_encoding(path: Path, game: Any, planes_shape: tuple, num_actions: int) -> None:
    """The network must read planes the game encodes today (the first C of them: planes are
    only ever added at the end) and output its actions (a checkpoint from before an
    incompatible encoding change would only fail later, mid-search)."""
    import engine

    spec = game if hasattr(game, "planes_shape") else engine.get_game(game)
    channels, height, width = spec.planes_shape
    if (len(planes_shape) != 3 or not 1 <= planes_shape[0] <= channels or planes_shape[1:] != (height, width)
            or num_actions != spec.num_actions):
        raise CheckpointShapeError(
            path,
            f"the network reads planes {planes_shape} and outputs {num_actions} actions, but "
            f"{spec.name} is encoded as planes {tuple(spec.planes_shape)} with {spec.num_actions} "
            "actions (a checkpoint from an older encoding?)",
        )


def _read_payload(path: Path, map_location: Any) -> dict[str, Any]:
    """The checkpoint's dict, after the file, archive, unpickling and marker checks."""
    if not path.exists():
        raise CheckpointNotFoundError(path, "no such checkpoint file")
    if path.is_dir():
        raise NotACheckpointError(path, "is a directory, not a checkpoint file")
    try:
        # One read serves both the checksum pass and torch.load.
        data = path.read_bytes()
    except OSError as error:
        raise CheckpointError(path, f"cannot read the file: {error.strerror or error}") from None
    if not data:
        raise CorruptCheckpointError(path, "the file is empty (an interrupted write?)")
    if not data.startswith(_ZIP_MAGIC):
        if _ZIP_MAGIC.startswith(data):
            raise CorruptCheckpointError(path, f"truncated: only {len(data)} bytes")
        raise NotACheckpointError(path, "not a zeroplay checkpoint (not a torch zip archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        raise CorruptCheckpointError(
            path, f"truncated or corrupt ({len(data)} bytes; zip archive unreadable: {error})"
        ) from None
    if damaged is not None:
        raise CorruptCheckpointError(path, f"corrupt: checksum mismatch in archive member {damaged!r}")
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise NotACheckpointError(
            path,
            "not a zeroplay checkpoint: it holds Python objects other than plain data and tensors "
            "(refused, not unpickled)",
        ) from None
    except Exception as error:  # torch raises RuntimeError, KeyError, ... for foreign archives
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise NotACheckpointError(
            path, f"not a zeroplay checkpoint: torch cannot load it ({first_line})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_MAGIC:
        raise NotACheckpointError(
            path, f"a torch file but not a zeroplay checkpoint (it holds {_describe(payload)})"
        )
    return payload


def _field(path: Path, payload: dict[str, Any], name: str, kind: type) -> Any:
    value = payload.get(name)
    # bool is an int subclass but never a valid step or count.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        if name not in payload:
            raise CorruptCheckpointError(path, f"malformed checkpoint: field {name!r} is missing")
        raise CorruptCheckpointError(
            path, f"malformed field {name!r}: expected {kind.__name__}, found a {type(value).__name__}"
        )
    return value


def _weights_mismatch(model: torch.nn.Module, weights: dict[str, Any]) -> str:
    """'' when ``weights`` fit ``model`` exactly, else the first problem and a count."""
    expected = model.state_dict()
    problems = [f"missing {name!r}" for name in expected if name not in weights]
    problems += [f"unexpected {name!r}" for name in weights if name not in expected]
    for name, tensor in weights.items():
        if name in expected:
            if not isinstance(tensor, torch.Tensor):
                problems.append(f"{name!r} is a {type(tensor).__name__}, not a tensor")
            elif tuple(tensor.shape) != tuple(expected[name].shape):
                problems.append(
                    f"{name!r} has shape {tuple(tensor.shape)}, expected {tuple(expected[name].shape)}"
                )
    if not problems:
        return ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        keys = sorted(map(str, value))
        shown = ", ".join(repr(k) for k in keys[:5]) + (", ..." if len(keys) > 5 else "")
        return f"a dict with keys [{shown}]"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"
