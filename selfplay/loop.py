"""The AlphaZero loop: generations of self-play, then training, in one process.

Everything a resume needs is in the run directory (``selfplay.run_dir`` lists
it). Kill the process at any moment and start the same command again: it
resumes from ``latest.pt`` (or the newest generation checkpoint that loads)
and the shards on disk, losing at most the games in flight and those finished
in the last half minute. Self-play randomness is seeded by (seed, generation,
shard index), so resumed games never repeat the ones already on disk.

Who plays the games is the backend's business (``selfplay.backends``): this
process, N local worker processes (``selfplay.process_backend``, the default on
several cores) or N Ray actors (``selfplay.ray_backend``), writing shards into
the same folder. The loop, the buffer and the trainer are the same either way.

AlphaGo's stage 2 (after ``selfplay.pretrain``): ``--init RUN_DIR`` makes generation 0
that run's ``best.pt``; ``--expert-mix SHARE`` draws ``TrainConfig.expert_share`` of
every training batch from its expert shards (logged as ``expert_share``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import engine
from nets import NetworkEvaluator, PolicyValueNet, cpu_weights, load_checkpoint, resolve_device, save_checkpoint
from nets.checkpoint import Checkpoint, CheckpointError
from selfplay.backends import GenerationJob, LocalBackend, SelfPlayBackend, TimeUp
from selfplay.buffer import Batch, Positions, ReplayBuffer, WindowConfig, augmented_batch
from selfplay.config import RunConfig
from selfplay.evaluation import load_eval_positions, solved_set_metrics
from selfplay.gating import gate
from selfplay.resources import check_memory
from selfplay.run_dir import RunError, RunPaths, append_metrics, generation_checkpoints, load_expert_positions, \
    load_init_weights, read_metrics, resume_checkpoint
from selfplay.shards import game_metrics
from selfplay.trainer import learning_rate_at, make_optimizer, train_step


class TrainingRun:
    """Owns a run directory and trains in it."""

    def __init__(self, run_dir: Path, config: RunConfig, log: Callable[[str], None] = print,
                 backend: SelfPlayBackend | None = None):
        """``backend`` plays the self-play games (default: ``LocalBackend``, in this process);
        the caller that passes one closes it."""
        self.backend = backend if backend is not None else LocalBackend()
        self.paths = RunPaths(Path(run_dir))
        self.config = config
        self.log = log
        self.spec = engine.get_game(config.game)
        self.device = resolve_device(config.device)
        # What the settings need and what --init, --expert-mix and the checkpoints read is
        # checked before the run directory is written.
        check_memory(config, self.spec, self.device, self.backend.local_players)
        resumed = resume_checkpoint(self.paths, generation_checkpoints(self.paths), self.spec, config.net_config,
                                    self.device, log)
        init_weights = load_init_weights(config.init, self.spec, config.net_config) if resumed is None else None
        self.experts = load_expert_positions(Path(config.init), self.spec) if config.train.expert_mix > 0 else None
        """The --init run's expert positions that --expert-mix mixes into training batches."""
        self.eval_positions = load_eval_positions(config)
        """The solved positions each generation is scored on (Connect Four), or None."""
        for folder in (self.paths.games, self.paths.checkpoints, self.paths.logs):
            folder.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(config.seed)
        self.model = PolicyValueNet.from_spec(self.spec, config.net_config).place(self.device)
        train = config.train
        self.optimizer = make_optimizer(self.model, train.learning_rate, train.weight_decay, train.optimizer)
        self.generation = 0
        self.train_steps = 0
        self.best_generation = 0
        self.trained_seconds = 0.0
        """The completed generations' durations summed: what ``--minutes`` and
        ``TrainConfig.lr_decay_minutes`` count."""
        if resumed is None:
            self._start(init_weights)
        else:
            self._resume(resumed)
        # Written once the run has started (its first checkpoint is on disk): settings that
        # fail before then leave no config behind to refuse the corrected command.
        if not self.paths.config.exists():
            config.save(self.paths.config)
        # The self-play network: the newest one (AlphaZero), or with gating the best so far.
        self.evaluator = NetworkEvaluator(self.model, device=self.device)
        if config.gating.enabled:
            self._load_best()
        self.buffer = ReplayBuffer(self.spec, self.paths.games,
                                   WindowConfig(min_positions=train.window_min, max_positions=train.window_max))

    # ---- checkpoints -----------------------------------------------------------

    def _start(self, init_weights: dict | None) -> None:
        """Generation 0 of a new run: the --init network (AlphaGo's stage 2 starts from stage 1),
        or random weights."""
        if init_weights is not None:
            self.model.load_state_dict(init_weights)
            self.log(f"generation 0 is the network of {self.config.init}")
        self._save_checkpoint()

    def _resume(self, checkpoint: Checkpoint) -> None:
        """Network, counters and (from latest.pt) optimizer and RNG state of ``checkpoint``."""
        self.model.load_state_dict(checkpoint.model.state_dict())
        if checkpoint.optimizer_state is not None:
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
        self.generation = int(checkpoint.extra.get("generation", 0))
        self.best_generation = int(checkpoint.extra.get("best_generation", self.generation))
        self.train_steps = int(checkpoint.step)
        self.trained_seconds = sum(row.get("seconds", 0.0) for row in read_metrics(self.paths)
                                   if row["generation"] <= self.generation)
        if "torch_rng" in checkpoint.extra:
            # The state comes back on map_location (the GPU there); torch wants it on the CPU.
            torch.set_rng_state(checkpoint.extra["torch_rng"].cpu())
        # A generation checkpoint holds weights only; later generations' metrics rows are
        # replaced as they are redone (read_metrics keeps the last row of each).
        restarted = ("" if checkpoint.path == self.paths.latest else
                     f"; from {checkpoint.path.name}, so the optimizer state and random state restart")
        self.log(f"resumed {self.paths.root} at generation {self.generation} "
                 f"({self.train_steps} training steps){restarted}")

    def _load_best(self) -> None:
        """Self-play with gating plays the best network: best.pt once a candidate has
        passed a gate (its own generation is the source of truth, also when a kill
        came between writing it and latest.pt), else generation 0's network."""
        path = self.paths.best if self.paths.best.exists() else self.paths.generation_checkpoint(0)
        try:
            best = load_checkpoint(path, game=self.spec.name, map_location=self.device)
        except CheckpointError as error:
            raise RunError(f"cannot resume: {error}") from None
        self.evaluator.load_weights(best.model.state_dict())
        self.best_generation = int(best.extra.get("generation", 0))

    def _save_checkpoint(self) -> None:
        extra = {"generation": self.generation, "best_generation": self.best_generation,
                 "torch_rng": torch.get_rng_state()}
        save_checkpoint(self.paths.generation_checkpoint(self.generation), self.model,
                        game=self.spec.name, step=self.train_steps, extra={"generation": self.generation})
        save_checkpoint(self.paths.latest, self.model, game=self.spec.name, step=self.train_steps,
                        optimizer=self.optimizer, extra=extra)

    # ---- one generation ----------------------------------------------------------

    def self_play(self, generation: int, deadline: float | None, on_progress: Callable[[dict], None]) -> dict:
        """Play this generation's games (those not already on disk) with the backend, then bring
        them into the replay buffer; returns the self-play metrics."""
        started = time.perf_counter()
        job = GenerationJob(self.config, cpu_weights(self.evaluator.model),
                            self.paths.games, generation, self.config.selfplay.games_per_generation, deadline)
        played = self.backend.play_generation(job, on_progress)
        seconds = time.perf_counter() - started
        # The buffer reads each new shard once; the generation's games (those of a killed
        # process before this one included: the buffer had not read them) give the game metrics.
        shards = [shard for shard in self.buffer.refresh() if shard.generation == generation]
        metrics = {"games_per_s": played["games"] / seconds if seconds else 0.0,
                   "positions_per_s": played["positions"] / seconds if seconds else 0.0, **game_metrics(shards)}
        # simulations/s and the per-actor figures of a distributed backend (flat scalars, so
        # TensorBoard and status read them).
        metrics.update({key: value for key, value in played.items() if key not in ("games", "positions")})
        return metrics

    def train(self, generation: int) -> dict:
        """``steps_per_generation`` steps on the replay window (refreshed by ``self_play``); returns mean losses."""
        cfg = self.config.train
        lr = learning_rate_at(cfg.schedule_progress(generation, self.trained_seconds / 60.0), cfg.learning_rate,
                              cfg.lr_schedule)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        rng = np.random.default_rng([self.config.seed, generation, 1 << 30])
        totals: dict[str, float] = {}
        for _ in range(cfg.steps_per_generation):
            metrics = train_step(self.model, self.optimizer, self.training_batch(generation, rng), self.device,
                                 cfg.aux_weights)
            for key, value in metrics.items():
                totals[key] = totals.get(key, 0.0) + value
            self.train_steps += 1
        if not self.config.gating.enabled:
            self.evaluator.load_weights(self.model.state_dict())
        means = {key: value / cfg.steps_per_generation for key, value in totals.items()}
        means.update(learning_rate=lr, buffer_positions=len(self.buffer), total_positions=self.buffer.total_positions)
        if self.experts is not None:
            means["expert_share"] = cfg.expert_share(generation)
        return means

    def training_batch(self, generation: int, rng: np.random.Generator) -> Batch:
        """A batch from the replay window; with --expert-mix, round(batch_size * expert share)
        of its positions come from the --init run's expert data instead."""
        cfg = self.config.train
        experts = round(cfg.batch_size * cfg.expert_share(generation)) if self.experts is not None else 0
        if not experts:
            return self.buffer.sample(cfg.batch_size, rng)
        positions = Positions.concat([self.buffer.draw(cfg.batch_size - experts, rng), self.experts.draw(experts, rng)])
        return augmented_batch(self.spec, positions, rng)

    def gate(self, generation: int) -> dict:
        """AlphaGo Zero's gate (``selfplay.gating``): if the trained candidate beats the best
        network, self-play uses it from now on."""
        candidate = NetworkEvaluator(self.model, device=self.device)
        accepted, metrics = gate(self.spec, candidate, self.evaluator, self.config, generation, self.best_generation)
        if accepted:
            self.evaluator.load_weights(self.model.state_dict())
            self.best_generation = generation
            save_checkpoint(self.paths.best, self.model, game=self.spec.name, step=self.train_steps,
                            extra={"generation": generation})
        return {**metrics, "best_generation": self.best_generation}

    def evaluate(self) -> dict:
        if self.eval_positions is None:
            return {}
        return solved_set_metrics(self.evaluator, self.eval_positions, self.config.eval_simulations)

    # ---- the loop ----------------------------------------------------------------

    def deadline(self, minutes: float | None) -> float | None:
        """The ``time.time()`` at which the run will have trained ``minutes`` in total, counting
        the generations done before (``trained_seconds``); None without a bound."""
        return time.time() + 60 * minutes - self.trained_seconds if minutes is not None else None

    def run(self, generations: int | None = None, minutes: float | None = None,
            on_progress: Callable[[dict], None] = lambda info: None,
            on_generation: Callable[[dict], None] = lambda row: None) -> None:
        """Train until ``generations`` generations are complete in total, or the run has trained
        ``minutes`` in total (``trained_seconds``: a resumed run trains what is left of them)."""
        from torch.utils.tensorboard import SummaryWriter

        deadline = self.deadline(minutes)
        writer = SummaryWriter(str(self.paths.logs), purge_step=self.generation + 1)
        try:
            while generations is None or self.generation < generations:
                if deadline is not None and time.time() > deadline:
                    break
                generation = self.generation + 1
                started = time.perf_counter()
                try:
                    row = {"generation": generation}
                    row.update(self.self_play(generation, deadline, on_progress))
                except TimeUp:
                    break
                on_progress({"phase": "training"})
                row.update(self.train(generation))
                if self.config.gating.enabled:
                    on_progress({"phase": "gating"})
                    row.update(self.gate(generation))
                last = (generations is not None and generation >= generations) or \
                    (deadline is not None and time.time() > deadline)
                if last or generation % self.config.eval_every == 0:
                    on_progress({"phase": "evaluating"})
                    row.update(self.evaluate())
                self.generation = generation
                row.update(train_steps=self.train_steps, seconds=time.perf_counter() - started,
                           wall_time=time.time())
                # The metrics line goes first: killed before the checkpoint, the
                # generation is redone and its new line replaces this one.
                append_metrics(self.paths, row)
                self.trained_seconds += row["seconds"]
                self._save_checkpoint()
                for key, value in row.items():
                    if key not in ("generation", "wall_time"):
                        writer.add_scalar(f"{key}", value, generation)
                writer.flush()
                on_generation(row)
        finally:
            writer.close()
