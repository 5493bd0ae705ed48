"""Run settings: one frozen dataclass per concern, composed into ``RunConfig``,
which is dumped to ``<run-dir>/config.json``. Presets per game and machine."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from engine.spec import TrainingPreset
from mcts import MCTSConfig
from selfplay.targets import TARGETS

DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")
LOCATION_SETTINGS = ("device",)
"""Settings that say where a run executes, not what it is: a run may resume with others."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; the CPU count where that is unknown):
    ``selfplay train``'s default number of self-play workers (``--workers``, where a run executes,
    like --device: not in config.json)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _require(condition: bool, message: str) -> None:
    """Settings are checked when built: a bad value is a one-line error before a run starts."""
    if not condition:
        raise ValueError(message)


def _section_of(cls: type, values: dict):
    """The settings section ``cls`` from its saved ``values``, under the names its fields had
    when the file was written (``cls.FORMER_NAMES``) as well as today's."""
    former = getattr(cls, "FORMER_NAMES", {})
    return cls(**{former.get(name, name): value for name, value in values.items()})


@dataclass(frozen=True)
class SelfPlayConfig:
    games_in_parallel: int = 64
    """B: games played at once, so the network sees batches of B positions (GPU: 256-1024)."""
    games_per_generation: int = 200
    """Games played with one network before it trains again."""
    temperature_moves: int = 8
    """Opening moves (both players counted) chosen in proportion to visits; later moves are greedy."""
    resign_threshold: float = -0.95
    """A player whose root value falls below this resigns (-1 or less: never)."""
    resign_disabled_share: float = 0.1
    """Share of games that never resign, to measure the false-resignation rate (AlphaGo Zero: 10%)."""
    full_search_share: float = 1.0
    """Playout-cap randomisation (KataGo): share of moves searched at full size and recorded;
    1 records every move (off), KataGo uses 0.25."""
    fast_simulations: int = 100
    """Simulations of the moves that are not full searches (not recorded)."""
    value_target_search: float = 0.0
    """Weight w of the search's root value q in the value target (1 - w) * z + w * q, z the
    game's result (discounted by mcts.value_discount per ply to the end); 0: z alone (AlphaZero)."""
    ownership_end: float = 0.0
    """Go, with an ownership head (--ownership-weight): a game ends as soon as the ownership head
    names the owner of every point with at least this confidence (|ownership| >= t, e.g. 0.9),
    and is scored by those owners, dead stones off, as if both players had passed and agreed
    on the dead stones; 0: games are played out until one side has only its own eyes left."""
    ownership_end_check_share: float = 0.1
    """Share of the games that play on past such an ending, to measure how often the ownership
    head's result differs from the played-out one."""

    def __post_init__(self):
        _require(self.games_in_parallel >= 1, "games_in_parallel must be at least 1")
        _require(self.games_per_generation >= 1, "games_per_generation must be at least 1")
        _require(self.temperature_moves >= 0, "temperature_moves must not be negative")
        _require(0.0 <= self.resign_disabled_share <= 1.0, "resign_disabled_share must lie in [0, 1]")
        _require(0.0 <= self.full_search_share <= 1.0, "full_search_share must lie in [0, 1]")
        _require(self.fast_simulations >= 1, "fast_simulations must be at least 1")
        _require(0.0 <= self.value_target_search <= 1.0, "value_target_search must lie in [0, 1]")
        _require(0.0 <= self.ownership_end < 1.0, "ownership_end must lie in [0, 1)")
        _require(0.0 <= self.ownership_end_check_share <= 1.0, "ownership_end_check_share must lie in [0, 1]")


DEFAULT_GAME = "connect4"
"""The game of a command that names none (the project's main job)."""
OPTIMIZERS = ("sgd", "adamw")
"""``TrainConfig.optimizer``'s choices (``selfplay.trainer.make_optimizer``)."""
LR_SCHEDULES = ("cosine", "onecycle")
"""``TrainConfig.lr_schedule``'s choices (``selfplay.trainer.learning_rate_at``)."""
OWNERSHIP_CHANNELS = 8
"""Channels of the ownership head's first convolution, when a run trains one."""


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 256
    """Positions per training step."""
    steps_per_generation: int = 200
    """Training steps after each generation of self-play."""
    optimizer: str = "sgd"
    """sgd: SGD with momentum 0.9 (AlphaZero); adamw: AdamW (set a learning rate near 1e-3)."""
    learning_rate: float = 0.02
    """Initial learning rate."""
    lr_decay_generations: int = 60
    """Length of the schedule in generations; after it the learning rate stays at its last value."""
    lr_decay_minutes: float = 0.0
    """Length of the schedule in minutes of training instead (the generations' durations summed:
    a pause between a killed run and its resume does not count); set it to the run's --minutes
    so that the schedule ends with the run on any machine; 0: count generations."""
    lr_schedule: str = "cosine"
    """cosine: from learning_rate down to 10% of it. onecycle (Smith and Topin): up from 10% to
    learning_rate over the first 30%, then down to 1%."""
    weight_decay: float = 1e-4
    """L2 penalty on the weights (AlphaZero: 1e-4)."""
    reply_weight: float = 0.0
    """Weight of the auxiliary loss on the opponent's reply (KataGo: 0.15): the network gets a
    second policy head that learns the policy target of the position after the move; 0: none."""
    ownership_weight: float = 0.0
    """Weight of the auxiliary loss on each point's final owner (KataGo's ownership target;
    games with territory: Go): the network gets an ownership head; 0: none."""
    score_weight: float = 0.0
    """Weight of the auxiliary loss on the final score margin (KataGo's score target; Go):
    the network gets a score head; 0: none."""
    window_min: int = 20_000
    """Replay window while the run is young (positions)."""
    window_max: int = 400_000
    """Largest replay window (positions)."""
    expert_mix: float = 0.0
    """Share of each training batch drawn from the expert positions of the --init run (a
    'selfplay pretrain' run directory) in generation 1; 0: self-play data only."""
    expert_mix_decay: float = 0.9
    """The expert share is expert_mix * expert_mix_decay ** (generation - 1): 0.9 halves it
    every 6.6 generations; 1 keeps it constant."""

    def schedule_progress(self, generation: int, trained_minutes: float) -> float:
        """How far through the learning-rate schedule the training of ``generation`` (1, 2, ...)
        is, after ``trained_minutes`` of the run; 1 and more: at its end."""
        if self.lr_decay_minutes > 0.0:
            return trained_minutes / self.lr_decay_minutes
        return (generation - 1) / self.lr_decay_generations

    def __post_init__(self):
        _require(self.batch_size >= 1, "batch_size must be at least 1")
        _require(self.steps_per_generation >= 1, "steps_per_generation must be at least 1")
        _require(self.optimizer in OPTIMIZERS, f"optimizer must be {' or '.join(OPTIMIZERS)}, not '{self.optimizer}'")
        _require(self.learning_rate > 0.0, "learning_rate must be positive")
        _require(self.lr_decay_generations >= 1, "lr_decay_generations must be at least 1")
        _require(self.lr_decay_minutes >= 0.0, "lr_decay_minutes must not be negative")
        _require(self.lr_schedule in LR_SCHEDULES,
                 f"lr_schedule must be {' or '.join(LR_SCHEDULES)}, not '{self.lr_schedule}'")
        for target in TARGETS:
            _require(getattr(self, target.weight_setting) >= 0.0, f"{target.weight_setting} must not be negative")
        _require(self.weight_decay >= 0.0, "weight_decay must not be negative")
        _require(1 <= self.window_min <= self.window_max, "need 1 <= window_min <= window_max")
        _require(0.0 <= self.expert_mix <= 1.0, "expert_mix must lie in [0, 1]")
        _require(0.0 < self.expert_mix_decay <= 1.0, "expert_mix_decay must lie in (0, 1]")

    @property
    def aux_weights(self) -> dict[str, float]:
        """Auxiliary target key -> loss weight, for each target this run trains (``selfplay.targets``)."""
        return {target.key: getattr(self, target.weight_setting) for target in TARGETS
                if getattr(self, target.weight_setting) > 0}

    def expert_share(self, generation: int) -> float:
        """Share of expert positions in the training batches of ``generation`` (1, 2, ...)."""
        return self.expert_mix * self.expert_mix_decay ** (generation - 1)


@dataclass(frozen=True)
class GatingConfig:
    """AlphaGo Zero's gate. Its flags are ``--gating`` (``enabled``) and ``--gating-FIELD``."""

    enabled: bool = False
    """AlphaGo Zero mode: self-play uses the best network so far, and a trained candidate
    replaces it only after beating it in a match (off: AlphaZero, the newest network plays)."""
    games: int = 200
    """Most games of a gating match (SPRT usually decides sooner)."""
    elo0: float = 0.0
    """SPRT H0: the candidate is this many Elo stronger than the best (reject)."""
    elo1: float = 35.0
    """SPRT H1: the candidate is this many Elo stronger (accept; 35 Elo is a 55% score, Leela Zero's gate)."""
    simulations: int = 0
    """Simulations per move in gating matches (0: the run's num_simulations)."""

    FLAG_PREFIX: ClassVar[str] = "gating"
    """Flags are --gating-games etc.; ``enabled`` is plain --gating."""
    FORMER_NAMES: ClassVar[dict[str, str]] = {"gating": "enabled", "gating_games": "games",
                                              "gating_elo0": "elo0", "gating_elo1": "elo1",
                                              "gating_simulations": "simulations"}
    """Field names in config.json files written before the rename (2026-12), and their new names."""

    def __post_init__(self):
        _require(self.games >= 1, "gating games must be at least 1")
        _require(self.elo0 < self.elo1, "gating needs elo0 < elo1")
        _require(self.simulations >= 0, "gating simulations must not be negative")


@dataclass(frozen=True)
class CommonConfig:
    """What every run directory's config holds (self-play and pretraining alike)."""

    game: str = DEFAULT_GAME
    """Game name from the engine registry."""
    net: str = "b6c64"
    """Network shape, blocks x channels."""
    seed: int = 0
    """Seeds self-play, sampling and initial weights."""
    device: str = "auto"
    """Where the network runs: auto (CUDA when present), cpu, cuda, cuda:1."""
    eval_set: str = ""
    """The solved set scored: one shipped with the package (engine.solved_sets) or the absolute
    path of a JSON file in that layout; empty: the game's own (GameSpec.eval_set), if it has one."""
    eval_positions: int = 200
    """Solved positions of eval_set scored per generation, or after pretraining (Connect Four; 0 turns it off)."""
    eval_simulations: int = 800
    """Simulations of the with-search evaluation."""

    SECTIONS: ClassVar[tuple[str, ...]] = ()
    """Nested settings a config.json of this kind must have."""
    KIND: ClassVar[str] = ""

    def __post_init__(self):
        import engine
        from nets import NetConfig

        engine.get_game(self.game)  # UnknownGameError (a ValueError) lists the games
        NetConfig.from_name(self.net)  # ValueError explains the bXcY form
        _require(bool(DEVICE_PATTERN.fullmatch(self.device)),
                 f"device must be auto, cpu, cuda or cuda:N, not '{self.device}'")
        _require(0 <= self.seed < 2**63, "seed must lie in [0, 2**63)")  # numpy and torch seeds: non-negative int64
        _require(self.eval_positions >= 0, "eval_positions must not be negative")
        _require(self.eval_simulations >= 1, "eval_simulations must be at least 1")

    @property
    def net_config(self):
        """The network's ``nets.NetConfig``: the ``net`` tower with the heads the settings ask for."""
        from nets import NetConfig

        return NetConfig.from_name(self.net)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str):
        """The config saved as ``text``; nested settings missing from older files take their defaults."""
        data = json.loads(text)
        if not isinstance(data, dict) or not set(cls.SECTIONS) <= data.keys():
            raise ValueError(f"not a {cls.KIND} config (an object with {', '.join(cls.SECTIONS)} settings)")
        nested = {f.name: f.default_factory for f in dataclasses.fields(cls)
                  if f.default_factory is not dataclasses.MISSING}
        return cls(**{key: _section_of(nested[key], value) if key in nested else value
                      for key, value in data.items()})

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file renamed over ``path``, removed when the write fails."""
        tmp = Path(path).with_suffix(".tmp")
        try:
            tmp.write_text(self.to_json())
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class RunConfig(CommonConfig):
    """A self-play run (``selfplay train``)."""

    mcts: MCTSConfig = field(default_factory=MCTSConfig)
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    gating: GatingConfig = field(default_factory=GatingConfig)  # absent from runs made before gating
    eval_every: int = 1
    """Generations between two scorings of the solved positions; the last generation of a run
    (by --generations or --minutes) is always scored."""
    init: str = ""
    """--init, as an absolute path: the run directory (its best.pt, else latest.pt) or checkpoint
    file whose network is generation 0; empty for random weights."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("mcts", "selfplay", "train")
    KIND: ClassVar[str] = "run"

    def __post_init__(self):
        super().__post_init__()
        import engine

        _require(engine.get_game(self.game).final_ownership is not None
                 or self.train.ownership_weight == self.train.score_weight == 0.0,
                 f"ownership and score targets need a game scored by territory (Go), not {self.game}")
        _require(self.eval_every >= 1, "eval_every must be at least 1")
        _require(self.selfplay.ownership_end == 0.0 or self.train.ownership_weight > 0.0,
                 "ownership_end needs the ownership head that names each point's owner: give ownership_weight too")
        _require(self.mcts.score_utility == 0.0 or self.train.score_weight > 0.0,
                 "score_utility needs the score head that predicts margins: give score_weight too")
        _require(self.train.expert_mix == 0.0 or bool(self.init),
                 "expert_mix needs --init: the pretrain run whose expert positions it mixes in")

    @property
    def net_config(self):
        """The ``net`` tower, with the auxiliary heads the run trains (their weights above 0): a
        reply head as wide as the policy head, an ownership head, a score head as wide as the
        value head's hidden layer."""
        net, train = super().net_config, self.train
        return dataclasses.replace(net, reply_channels=net.policy_channels if train.reply_weight > 0 else 0,
                                   ownership_channels=OWNERSHIP_CHANNELS if train.ownership_weight > 0 else 0,
                                   score_hidden=net.value_hidden if train.score_weight > 0 else 0)


POLICY_TARGETS = ("optimal", "softmax")

EXPERT_KINDS = {"solver": None, "sgf": "PATH", "gtp": "COMMAND"}
"""Expert source kinds, each the module of the same name in ``selfplay.experts``, and the
argument each needs after a colon (None: none)."""


def parse_expert(text: str) -> tuple[str, str | None]:
    """``"solver"`` -> ("solver", None); ``"sgf:games/"`` -> ("sgf", "games/"); ValueError if malformed."""
    kind, colon, argument = text.partition(":")
    kind = kind.strip()
    if kind not in EXPERT_KINDS:
        usage = ", ".join(kind if needs is None else f"{kind}:{needs}" for kind, needs in EXPERT_KINDS.items())
        raise ValueError(f"unknown expert '{text}'; use {usage}")
    needs = EXPERT_KINDS[kind]
    if needs is not None and not argument.strip():
        raise ValueError(f"the {kind} expert needs an argument: {kind}:{needs}")
    if needs is None and colon:
        raise ValueError(f"the {kind} expert takes no argument, got '{text}'")
    return kind, (argument.strip() or None)


@dataclass(frozen=True)
class ExpertConfig:
    expert: str = "solver"
    """Who plays the expert games: solver (exact play: connect4, tictactoe), sgf:PATH (Go game
    records: an .sgf file, a .zip of them or a folder) or gtp:"COMMAND" (an external Go engine
    playing itself, e.g. gtp:"gnugo --mode gtp --level 10")."""
    opening_min: int = 4
    """Fewest random moves that open an expert game (solver and gtp experts; sgf records are
    learnt as played); they are not labelled (they only make the games differ), the expert
    plays and labels every position after them."""
    opening_max: int = 10
    """Most random opening moves: each game draws their number uniformly from
    [opening_min, opening_max] (Connect Four's solver takes seconds per position before ply 8)."""
    policy_target: str = "optimal"
    """The solver expert's target: optimal: uniform over the moves of the best solved score;
    softmax: exp(score / T) over the legal moves, T = policy_temperature. The expert plays moves
    drawn from its target. (sgf and gtp experts: one-hot on the move played.)"""
    policy_temperature: float = 1.0
    """T of the softmax target, in score units (Connect Four: a move that wins one move later,
    or loses one move sooner, weighs e^(-1/T) times as much)."""
    min_rank: str | None = None
    """sgf experts: keep only games whose two players both rank at least this (e.g. 1d, 5k, 3p);
    games without readable ranks are then skipped too."""

    def __post_init__(self):
        kind, _ = parse_expert(self.expert)  # ValueError names the known sources
        if self.min_rank is not None:
            from engine.sgf import check_rank

            _require(kind == "sgf", f"min_rank filters game records: it needs an sgf expert, not {kind}")
            check_rank(self.min_rank)  # ValueError: not a rank
        _require(0 <= self.opening_min <= self.opening_max, "need 0 <= opening_min <= opening_max")
        _require(self.policy_target in POLICY_TARGETS,
                 f"policy_target must be {' or '.join(POLICY_TARGETS)}, not '{self.policy_target}'")
        _require(self.policy_temperature > 0.0, "policy_temperature must be positive")


@dataclass(frozen=True)
class PretrainConfig:
    validation_share: float = 0.05
    """Share of the games (whole games, so no game has positions on both sides) held out to
    measure accuracy and stop early."""
    batch_size: int = 256
    """Positions per training step."""
    learning_rate: float = 0.02
    """Initial SGD learning rate (momentum 0.9); a cosine takes it to 10% over max_epochs."""
    weight_decay: float = 1e-4
    """L2 penalty on the weights."""
    max_epochs: int = 40
    """Most passes over the training positions."""
    patience: int = 3
    """Stop after this many epochs without a lower validation loss (policy cross-entropy +
    value MSE); the checkpoint of the best epoch is kept."""

    def __post_init__(self):
        _require(0.0 < self.validation_share < 1.0, "validation_share must lie in (0, 1)")
        _require(self.batch_size >= 1, "batch_size must be at least 1")
        _require(self.learning_rate > 0.0, "learning_rate must be positive")
        _require(self.weight_decay >= 0.0, "weight_decay must not be negative")
        _require(self.max_epochs >= 1, "max_epochs must be at least 1")
        _require(self.patience >= 1, "patience must be at least 1")


@dataclass(frozen=True)
class PretrainRunConfig(CommonConfig):
    """A supervised bootstrap run (``selfplay pretrain``): how its expert data is made and how
    the network learns it. The number of games is not a setting: a run can be extended."""

    expert: ExpertConfig = field(default_factory=ExpertConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)

    SECTIONS: ClassVar[tuple[str, ...]] = ("expert", "pretrain")
    KIND: ClassVar[str] = "pretrain run"


def _training_preset(game: str, gpu: bool) -> TrainingPreset:
    """The game's preset (``GameSpec.cpu_preset`` / ``gpu_preset``) for the machine."""
    import engine

    spec = engine.get_game(game)
    chosen = (spec.gpu_preset if gpu else None) or spec.cpu_preset
    if chosen is None:
        with_presets = [name for name in engine.list_games() if engine.get_game(name).cpu_preset is not None]
        raise ValueError(f"no training preset for '{game}' (games with presets: {', '.join(with_presets)})")
    return chosen


def _section(cls: type, overrides, game: str):
    """``cls()`` with a preset's ``overrides``; ValueError names a field ``cls`` does not have."""
    unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
    _require(not unknown, f"the {game} preset sets unknown {cls.__name__} fields: {', '.join(sorted(unknown))}")
    return cls(**overrides)


def preset(game: str, gpu: bool) -> RunConfig:
    """Settings sized for the machine (a 2-core CPU, or one GPU): the game's TrainingPreset."""
    chosen = _training_preset(game, gpu)
    return RunConfig(game=game, net=chosen.net, eval_positions=chosen.eval_positions, eval_every=chosen.eval_every,
                     mcts=_section(MCTSConfig, chosen.mcts, game),
                     selfplay=_section(SelfPlayConfig, chosen.selfplay, game),
                     train=_section(TrainConfig, chosen.train, game))


def pretrain_preset(game: str, gpu: bool) -> PretrainRunConfig:
    """Pretraining settings whose network is the one ``preset`` gives self-play, so that
    ``selfplay train --init`` continues from it with the same shape."""
    chosen = _training_preset(game, gpu)
    run = preset(game, gpu)
    # Pretraining steps are as large as self-play's training steps unless the preset says otherwise.
    pretrain = {"batch_size": run.train.batch_size, **chosen.pretrain}
    return PretrainRunConfig(game=game, net=run.net, eval_positions=run.eval_positions,
                             expert=_section(ExpertConfig, chosen.expert, game),
                             pretrain=_section(PretrainConfig, pretrain, game))
