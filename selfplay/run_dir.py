"""The run directory: its paths, its config, its metrics file, and finding the checkpoint a run resumes from.

A self-play run directory holds everything a resume needs::

    config.json              the RunConfig (written once the run has started)
    run.lock                 locked by the process training here (selfplay.run_lock.RunLock)
    games/genGGGGG-KKKKK.npz replay shards (complete games only, written atomically; a shard every
                             games_in_parallel games or 30 seconds, whichever comes first)
    checkpoints/genGGGGG.pt  the network after each generation (weights; for matches)
    checkpoints/latest.pt    the newest training checkpoint (optimizer, RNG, counters)
    checkpoints/best.pt      with --gating: the network self-play uses (the last one to pass its gate)
    logs/                    TensorBoard events and metrics.jsonl (one line per generation)

A pretrain run directory has the layout its module docstring draws
(``selfplay.pretrain``: expert shards, ``best.pt`` and ``latest.pt``).

Shared by self-play runs (``selfplay.loop``) and pretrain runs (``selfplay.pretrain``).
Three rules keep a run directory from being corrupted:

- **One process at a time.** ``selfplay.run_lock.RunLock`` (its own module)
  keeps a second trainer out while one works in the directory.
- **Never start over on top of history.** ``resume_checkpoint`` falls back
  from a missing, empty or damaged ``latest.pt`` to the newest weights-only
  checkpoint that loads, and refuses (saying how to recover) when none does.
- **One line per row.** ``append_metrics`` starts a new line after a partial
  one left by a storage fault, and ``read_metrics`` skips damaged lines with a warning.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import torch

from engine.spec import GameSpec
from nets import NetConfig, PolicyValueNet, load_checkpoint
from nets.model import AUXILIARY_HEAD_MODULES, widen_input
from nets.checkpoint import Checkpoint, CheckpointError, CheckpointNotFoundError, CorruptCheckpointError, \
    NotACheckpointError
from selfplay.buffer import Positions
from selfplay.config import LOCATION_SETTINGS, CommonConfig, PretrainRunConfig, RunConfig
from selfplay.shards import expert_shard_paths, read_shard


class RunError(Exception):
    """A run directory that cannot be used as asked (the message says why)."""


@dataclass
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def lock(self) -> Path:
        return self.root / "run.lock"

    @property
    def games(self) -> Path:
        return self.root / "games"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def latest(self) -> Path:
        return self.checkpoints / "latest.pt"

    @property
    def best(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def metrics(self) -> Path:
        return self.logs / "metrics.jsonl"

    def generation_checkpoint(self, generation: int) -> Path:
        return self.checkpoints / f"gen{generation:05d}.pt"


# ---- config.json -------------------------------------------------------------------


def read_any_config(paths: RunPaths) -> CommonConfig:
    """The saved config of a self-play (RunConfig) or pretrain (PretrainRunConfig) run;
    RunError names the file when it is missing or malformed."""
    if not paths.config.exists():
        raise RunError(f"{paths.root} is not a run directory (no config.json)")
    try:
        text = paths.config.read_text()
        kind = PretrainRunConfig if set(PretrainRunConfig.SECTIONS) <= json.loads(text).keys() else RunConfig
        return kind.from_json(text)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise RunError(f"{paths.config}: unreadable run config ({error})") from None


def read_run_config(paths: RunPaths, kind: type = RunConfig):
    """The saved config of a run of ``kind`` (RunConfig: self-play; PretrainRunConfig); RunError
    when there is none, it is malformed, or the directory holds the other kind of run."""
    config = read_any_config(paths)
    if isinstance(config, kind):
        return config
    if isinstance(config, PretrainRunConfig):
        raise RunError(f"{paths.root} is a pretrain run; continue it by self-play with "
                       f"'selfplay train --init {paths.root} --run-dir NEW_DIR'")
    raise RunError(f"{paths.root} is a self-play run, not a pretrain run; pretrain in a new --run-dir")


def config_differences(saved: CommonConfig, requested: CommonConfig) -> list[str]:
    """'mcts.num_simulations: saved 100, asked 200' for each setting that differs
    (``LOCATION_SETTINGS`` aside)."""
    saved_values, asked_values = _flat_settings(saved), _flat_settings(requested)
    return [f"{name}: saved {json.dumps(saved_values.get(name))}, asked {json.dumps(value)}"
            for name, value in asked_values.items()
            if name not in LOCATION_SETTINGS and saved_values.get(name) != value]


def _flat_settings(config: CommonConfig) -> dict:
    """{"seed": 0, "mcts.num_simulations": 100, ...}: every setting by its dotted name."""
    flat = {}
    for name, value in dataclasses.asdict(config).items():
        if isinstance(value, dict):
            flat.update({f"{name}.{key}": inner for key, inner in value.items()})
        else:
            flat[name] = value
    return flat


def resolve_run_config(run_dir: Path, requested: CommonConfig, overridden: bool,
                       device: str | None = None) -> CommonConfig:
    """The config of a new run, or the saved one of an existing run (of the same kind as ``requested``),
    run on ``device`` when given (where a run executes is not a setting of the run).

    Resuming with settings that differ from the saved ones is refused, naming each one: a run's
    data and checkpoints only make sense under one config.
    """
    paths = RunPaths(Path(run_dir))
    if not paths.config.exists():
        return requested
    saved = read_run_config(paths, type(requested))
    if saved.game != requested.game:
        raise RunError(f"{run_dir} is a {saved.game} run, not {requested.game}")
    differences = config_differences(saved, requested) if overridden else []
    if differences:
        raise RunError(f"{run_dir} already holds a run with other settings ({'; '.join(differences)}); "
                       "resume it without changing settings, or use a new --run-dir")
    return saved if device is None else dataclasses.replace(saved, device=device)


def init_checkpoint(path: Path) -> Path:
    """The checkpoint ``--init PATH`` names: a checkpoint file, or a run directory's
    ``checkpoints/best.pt`` (a pretrain run's best validation epoch; a gated run's best
    network), else its ``latest.pt``. RunError when there is none."""
    path = Path(path)
    if path.is_dir():
        paths = RunPaths(path)
        for candidate in (paths.best, paths.latest):
            if candidate.exists():
                return candidate
        raise RunError(f"--init {path}: the directory holds no checkpoints/best.pt or latest.pt")
    if not path.exists():
        raise RunError(f"--init {path}: no such run directory or checkpoint file")
    return path


def load_init_weights(init: str, spec: GameSpec, net: NetConfig) -> dict | None:
    """The weights of the network ``--init`` names (``init_checkpoint``) for a new run of ``spec``'s
    game with a ``net`` network; None without --init. RunError when they cannot serve. A run with a
    auxiliary head (reply, ownership, score) may start from a network without it: the head
    starts from fresh weights. A run whose network reads more input planes may start from one
    made before the game gained them (``widen_input``)."""
    if not init:
        return None
    try:
        checkpoint = load_checkpoint(init_checkpoint(Path(init)), game=spec.name)
    except CheckpointError as error:
        raise RunError(f"cannot start from --init: {error}") from None
    free = {name: getattr(net, name) for name in (*NetConfig.AUXILIARY_HEADS, "input_planes")}
    if dataclasses.replace(checkpoint.config, **free) != net:
        raise RunError(f"--init {checkpoint.path} holds a {checkpoint.config} network, the run config says {net}")
    if checkpoint.config == net:
        return checkpoint.model.state_dict()
    model = PolicyValueNet.from_spec(spec, net)
    try:
        weights = widen_input(checkpoint.model.state_dict(), model.planes_shape[0])
    except ValueError as error:
        raise RunError(f"--init {checkpoint.path}: {error} (the run config says {net})") from None
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert all(key.split(".")[0] in AUXILIARY_HEAD_MODULES for key in missing + unexpected), (missing, unexpected)
    return model.state_dict()


def load_expert_positions(run_dir: Path, spec: GameSpec) -> Positions:
    """Every expert position of a pretrain run directory (``games/expert-*.npz``), for --expert-mix."""
    shards = [read_shard(path) for path in expert_shard_paths(RunPaths(Path(run_dir)).games)]
    if not sum(shard.num_positions for shard in shards):
        raise RunError(f"--expert-mix: {run_dir} holds no expert positions (games/expert-*.npz); "
                       "give --init a 'selfplay pretrain' run directory")
    for shard in shards:
        if shard.game != spec.name:
            raise RunError(f"--expert-mix: {shard.path} holds {shard.game} positions, not {spec.name}")
    return Positions.of_shards(shards)


# ---- metrics.jsonl ---------------------------------------------------------------------


def warn_on_stderr(message: str) -> None:
    print(f"selfplay: warning: {message}", file=sys.stderr)


def read_metrics(paths: RunPaths, key: str = "generation",
                 warn: Callable[[str], None] = warn_on_stderr) -> list[dict]:
    """One dict per completed generation (pretrain runs: ``key="epoch"``), the last line
    winning for one redone after a kill or a resume from an older checkpoint. A damaged
    line (cut by a kill or a storage fault) is skipped, with a ``warn`` when it is not the
    last line (a kill mid-write can only cut the last one)."""
    if not paths.metrics.exists():
        return []
    rows = {}
    lines = paths.metrics.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
            rows[row[key]] = row
        except (json.JSONDecodeError, KeyError, TypeError):
            if number < len(lines):
                warn(f"{paths.metrics} line {number} is damaged (not a row of metrics); skipped")
    return [rows[g] for g in sorted(rows)]


def append_metrics(paths: RunPaths, row: dict) -> None:
    """Append ``row`` as one line of ``metrics.jsonl``, on a line of its own even when the file
    ends in a partial line (a storage fault), which would otherwise swallow this row."""
    with paths.metrics.open("a+b") as handle:
        handle.seek(0, os.SEEK_END)
        partial = handle.tell() > 0 and _last_byte(handle) != b"\n"
        handle.write((b"\n" if partial else b"") + json.dumps(row).encode() + b"\n")


def _last_byte(handle) -> bytes:
    handle.seek(-1, os.SEEK_END)
    return handle.read(1)


# ---- checkpoints ------------------------------------------------------------------------

GENERATION_CHECKPOINT = re.compile(r"gen(\d+)\.pt")
DAMAGED = (CheckpointNotFoundError, CorruptCheckpointError, NotACheckpointError)
"""Load failures a resume recovers from: a file missing, empty, cut short or overwritten.
Others (another game, format version or network shape) mean the file is intact but
not this run's, which a fallback would only hide."""


def generation_checkpoints(paths: RunPaths) -> list[Path]:
    """The run's ``genGGGGG.pt`` files, newest generation first."""
    found = [(int(match.group(1)), path) for path in paths.checkpoints.glob("gen*.pt")
             if (match := GENERATION_CHECKPOINT.fullmatch(path.name))]
    return [path for _, path in sorted(found, reverse=True)]


def load_run_checkpoint(path: Path, spec: GameSpec, net: NetConfig, device: torch.device) -> Checkpoint:
    """A checkpoint of a run of ``spec`` with a ``net`` network (``RunConfig.net_config``). A
    missing or damaged file raises its ``DAMAGED`` CheckpointError; one that is intact but not this
    run's (another game, format version or network shape) raises RunError."""
    try:
        checkpoint = load_checkpoint(path, game=spec.name, map_location=device)
    except DAMAGED:
        raise
    except CheckpointError as error:
        raise RunError(f"cannot resume: {error}") from None
    if checkpoint.config != net:
        hint = ""
        if dataclasses.replace(checkpoint.config, input_planes=net.input_planes) == net:
            hint = (f" (its network reads {checkpoint.model.planes_shape[0]} of the {spec.planes_shape[0]} planes "
                    f"{spec.name} encodes today: set \"net\": \"{checkpoint.config.name}\" in config.json to "
                    "resume it as it was, or start a new run with --init on this run directory)")
        raise RunError(f"cannot resume: {path} holds a {checkpoint.config} network, the run config says {net}"
                       + hint)
    return checkpoint


def resume_checkpoint(paths: RunPaths, fallbacks: Iterable[Path], spec: GameSpec, net: NetConfig,
                      device: torch.device, log: Callable[[str], None]) -> Checkpoint | None:
    """The checkpoint a run resumes from: ``latest.pt`` (optimizer, RNG and counters); when it is
    missing, empty or damaged, the first of ``fallbacks`` (weights-only checkpoints, newest first)
    that loads, said in ``log``; None for a new run, one without any of these files.

    RunError, saying how to recover, when checkpoints exist but none loads: a run never
    starts over on top of its history.
    """
    candidates = [paths.latest] + [path for path in fallbacks if path.exists()]
    if candidates == [paths.latest] and not paths.latest.exists():
        return None
    problems = []
    for path in candidates:
        try:
            checkpoint = load_run_checkpoint(path, spec, net, device)
        except DAMAGED as error:
            problems.append(str(error))
            continue
        if problems:
            log(f"warning: {'; '.join(problems)}: resuming from {path.name}, the newest checkpoint that loads")
        return checkpoint
    raise RunError(f"cannot resume {paths.root}: {'; '.join(problems)}; restore {paths.latest.name} from a backup, "
                   f"or move {paths.checkpoints} aside to start the run over, or use a new --run-dir")


# ---- a full disk --------------------------------------------------------------------------

DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def disk_full_text(error: OSError, run_dir: Path | None) -> str | None:
    """The one-line explanation of a write that failed for want of space, or None for other errors."""
    if error.errno not in DISK_FULL:
        return None
    where = error.filename or run_dir or "the output"
    why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
           errno.EFBIG: "the file size limit is reached"}[error.errno]
    return (f"cannot write {where}: {why} ({os.strerror(error.errno)}); free some space and run the "
            "same command again to resume")
