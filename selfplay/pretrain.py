"""The supervised bootstrap, AlphaGo's stage 1: a network learns an expert's moves and results.

    selfplay pretrain --game connect4 --expert solver --games 20000 --run-dir runs/c4-sl
    selfplay train --init runs/c4-sl --run-dir runs/c4-rl --expert-mix 0.25    # stage 2: self-play
    selfplay pretrain --game go9 --expert sgf:records/9x9.zip --min-rank 1d --games 100000 --run-dir runs/go9-pro
    selfplay pretrain --game go9 --expert gtp:"gnugo --mode gtp --level 10" --games 2000 --run-dir runs/go9-gnugo

A pretrain run directory looks like a self-play one, so that ``selfplay train
--init`` and ``--expert-mix`` read it like any run::

    config.json              the PretrainRunConfig (expert and training settings)
    games/expert-KKKKK.npz   the expert games, as replay shards (selfplay.experts.generate)
    sgf/expert-NNNNNN.sgf    each game as SGF, for experts that play their games (gtp)
    checkpoints/best.pt      the network of the epoch with the lowest validation loss (what --init loads)
    checkpoints/latest.pt    the newest epoch: optimizer, RNG and early-stopping counters, for a resume
    logs/                    TensorBoard events, metrics.jsonl (one line per epoch), summary.json

Steps, each resumable by running the same command again:

1. Generation: the expert's games up to ``--games`` (the games on disk are
   kept and counted; the next game is the next index).
2. Split by game: a fixed random ``validation_share`` of the games (drawn per
   game index, so a longer run keeps the same split of its first games) is
   held out, whole, so no held-out position comes from a game trained on
   (positions that many games share, near the opening, can still be on both
   sides: that is the data, not a leak of one game).
3. Training: epochs over the training positions in a random order, each under
   a random board symmetry (the replay buffer's augmentation), SGD with
   momentum and a cosine learning rate over ``max_epochs``, the same
   ``train_step`` as self-play. After each epoch: validation loss (policy
   cross-entropy + value MSE), policy accuracy (the best legal logit is one of
   the expert's optimal moves: best solved score, or the expert's most likely
   move for experts without scores) and value MSE. Early stopping: after
   ``patience`` epochs without a lower validation loss; ``best.pt`` is the
   best epoch.
4. Evaluation (Connect Four): the best network's share of optimal moves on
   the solved positions of engine.solved_sets, alone and with search, as
   after every self-play generation. Those positions never enter the data.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import engine
from nets import NetworkEvaluator, PolicyValueNet, load_checkpoint, resolve_device, save_checkpoint
from selfplay.buffer import Batch, Positions, augmented_batch, encoded_batch
from selfplay.config import PretrainRunConfig
from selfplay.evaluation import load_eval_positions, solved_set_metrics
from selfplay.experts import make_source
from selfplay.experts.generate import GenerationStats, evaluation_keys, generate_expert_games
from selfplay.resources import check_memory
from selfplay.run_dir import RunError, RunPaths, append_metrics, read_metrics, resume_checkpoint
from selfplay.shards import Shard, expert_shard_paths, read_shard
from selfplay.trainer import learning_rate_at, make_optimizer, train_step, validation_metrics

VALIDATION_STREAM = 7
"""Key of the random stream that assigns games to the validation set (with the seed)."""


def correct_moves(shard: Shard) -> np.ndarray:
    """[P, A] bool: the moves validation counts as right. With an exact expert's scores, every
    move of the best score (whatever the policy target); otherwise the expert's most likely moves."""
    if shard.scores is not None:
        with np.errstate(invalid="ignore"):  # rows are never all NaN: labelled positions are ongoing
            return shard.scores == np.nanmax(shard.scores, axis=1, keepdims=True)
    return shard.policies == shard.policies.max(axis=1, keepdims=True)


@dataclass
class ExpertData:
    """The first ``games`` expert games of a run, split by game."""

    train: Positions
    validation: Batch
    """The held-out positions as network input (no augmentation)."""
    legal: np.ndarray
    """[V, A] bool: legal moves of the held-out positions."""
    correct: np.ndarray
    """[V, A] bool: their moves that count as right (``correct_moves``)."""
    games: int
    validation_games: int
    dropped: int
    """Labelled positions of these games dropped as evaluation positions."""


def load_expert_data(spec, games_dir: Path, games: int, validation_share: float, seed: int) -> ExpertData:
    """The first ``games`` games of the expert shards in ``games_dir``, split by game (module docstring)."""
    shards = [read_shard(path) for path in expert_shard_paths(games_dir)]
    offsets = np.cumsum([0] + [shard.num_games for shard in shards])
    total = min(int(offsets[-1]), games)
    if total < 2:
        raise RunError(f"{games_dir} holds {total} expert games; pretraining needs at least 2")
    game_of_row = np.concatenate([offset + shard.game_ids for offset, shard in zip(offsets, shards)])
    held_out = np.random.default_rng([seed, VALIDATION_STREAM]).random(total) < validation_share
    if not held_out.any() or held_out.all():  # tiny runs: one game each side at least
        held_out[:] = False
        held_out[-1] = True
    positions = Positions.of_shards(shards)
    in_range = game_of_row < total
    validation_rows = in_range & held_out[np.minimum(game_of_row, total - 1)]
    validation = positions.take(np.flatnonzero(validation_rows))
    legal = np.zeros((len(validation), spec.num_actions), np.bool_)
    spec.legal_mask_batch(validation.states, legal)
    return ExpertData(
        train=positions.take(np.flatnonzero(in_range & ~validation_rows)),
        validation=encoded_batch(spec, validation),
        legal=legal,
        correct=np.concatenate([correct_moves(shard) for shard in shards])[validation_rows],
        games=total,
        validation_games=int(held_out.sum()),
        dropped=int(np.concatenate([shard.dropped for shard in shards])[:total].sum()),
    )


class PretrainRun:
    """Owns a pretrain run directory: generates its expert data, trains, evaluates."""

    def __init__(self, run_dir: Path, config: PretrainRunConfig, log: Callable[[str], None] = print):
        self.paths = RunPaths(Path(run_dir))
        self.config = config
        self.log = log
        self.spec = engine.get_game(config.game)
        self.device = resolve_device(config.device)
        # A source that cannot be made (no solver for the game, no such file, no such engine)
        # is refused before the run directory is written.
        source = make_source(self.spec, config.expert, config.seed)
        self.expert_summary: str | None = getattr(source, "summary", None)
        """What the expert source says of itself (an sgf source: games read, skipped by reason,
        komi and ranks; a gtp source: the engine), or None."""
        source.close()
        self.eval_positions = load_eval_positions(config)
        """The solved positions the best network is scored on (Connect Four), or None."""
        check_memory(config, self.spec, self.device)
        for folder in (self.paths.games, self.paths.checkpoints, self.paths.logs):
            folder.mkdir(parents=True, exist_ok=True)
        if not self.paths.config.exists():
            config.save(self.paths.config)

    # ---- 1. expert games -----------------------------------------------------------

    def generate(self, games: int, workers: int = 1,
                 on_game: Callable[[GenerationStats], None] | None = None) -> GenerationStats:
        """Bring the run's expert games up to ``games``, in ``workers`` processes."""
        return generate_expert_games(self.spec, self.config.expert, self.config.seed, self.paths.games, games,
                                     workers=workers, excluded=evaluation_keys(self.spec, self.config.eval_set), on_game=on_game)

    # ---- 2-3. training -------------------------------------------------------------

    def train(self, data: ExpertData, on_step: Callable[[int, int], None] = lambda done, total: None,
              on_epoch: Callable[[dict], None] = lambda row: None) -> dict:
        """Epochs with early stopping (module docstring); returns the last epoch's state
        (``epoch``, ``best_epoch``, ``best_loss``, ``finished``)."""
        from torch.utils.tensorboard import SummaryWriter

        cfg = self.config.pretrain
        torch.manual_seed(self.config.seed)
        model = PolicyValueNet.from_spec(self.spec, self.config.net_config).place(self.device)
        optimizer = make_optimizer(model, cfg.learning_rate, cfg.weight_decay)
        state = self._resume(model, optimizer, data.games)
        if state["finished"]:
            self.log(f"training finished before, at epoch {state['epoch']} (best: epoch {state['best_epoch']})")
            return state
        steps = math.ceil(len(data.train) / cfg.batch_size)
        writer = SummaryWriter(str(self.paths.logs), purge_step=state["epoch"] + 1)
        try:
            while not state["finished"]:
                epoch = state["epoch"] + 1
                started = time.perf_counter()
                lr = learning_rate_at((epoch - 1) / cfg.max_epochs, cfg.learning_rate)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                # Seeded per epoch, with the torch RNG in latest.pt: a resumed epoch is the same epoch.
                rng = np.random.default_rng([self.config.seed, epoch, 1 << 31])
                order = rng.permutation(len(data.train))
                totals: dict[str, float] = {}
                for step in range(steps):
                    rows = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
                    batch = augmented_batch(self.spec, data.train.take(rows), rng)
                    for key, value in train_step(model, optimizer, batch, self.device).items():
                        totals[key] = totals.get(key, 0.0) + value
                    on_step(step + 1, steps)
                # Training's top-1 agreement with the target's argmax means little when several
                # moves are optimal; val_policy_accuracy counts any optimal move.
                totals.pop("policy_accuracy")
                validation = validation_metrics(model, data.validation, data.legal, data.correct, self.device)
                if validation["loss"] < state["best_loss"]:
                    state.update(best_loss=validation["loss"], best_epoch=epoch, bad_epochs=0)
                    save_checkpoint(self.paths.best, model, game=self.spec.name, step=epoch * steps,
                                    extra={"epoch": epoch})
                else:
                    state["bad_epochs"] += 1
                state.update(epoch=epoch, finished=state["bad_epochs"] >= cfg.patience or epoch >= cfg.max_epochs)
                row = {"epoch": epoch, **{key: value / steps for key, value in totals.items()},
                       **{f"val_{key}": value for key, value in validation.items()},
                       "learning_rate": lr, "best_epoch": state["best_epoch"],
                       "seconds": time.perf_counter() - started, "wall_time": time.time()}
                # The metrics line goes first: killed before latest.pt, the epoch is redone
                # and its new line replaces this one (read_metrics keeps the last).
                append_metrics(self.paths, row)
                save_checkpoint(self.paths.latest, model, game=self.spec.name, step=epoch * steps,
                                optimizer=optimizer, extra={**state, "torch_rng": torch.get_rng_state()})
                for key, value in row.items():
                    if key not in ("epoch", "wall_time"):
                        writer.add_scalar(key, value, epoch)
                writer.flush()
                on_epoch(row)
        finally:
            writer.close()
        return state

    def _resume(self, model, optimizer, games: int) -> dict:
        """Training state from latest.pt when it trained on the same ``games``; else a fresh
        start (and the old epochs' metrics go). Without a latest.pt that loads, best.pt's epoch
        (weights only: the optimizer state restarts)."""
        fresh = {"epoch": 0, "best_epoch": 0, "best_loss": math.inf, "bad_epochs": 0, "finished": False,
                 "games": games}
        checkpoint = resume_checkpoint(self.paths, [self.paths.best], self.spec, self.config.net_config, self.device,
                                       self.log)
        if checkpoint is None:
            return fresh
        if checkpoint.path == self.paths.latest and checkpoint.extra.get("games") != games:
            self.log(f"the data now has {games} games, training had {checkpoint.extra.get('games')}: "
                     "training starts over")
            self.paths.metrics.unlink(missing_ok=True)
            return fresh
        model.load_state_dict(checkpoint.model.state_dict())
        if checkpoint.path == self.paths.best:
            return self._resume_from_best(checkpoint, fresh)
        optimizer.load_state_dict(checkpoint.optimizer_state)
        torch.set_rng_state(checkpoint.extra["torch_rng"].cpu())
        state = {key: checkpoint.extra[key] for key in fresh}
        if not state["finished"]:
            self.log(f"resumed training at epoch {state['epoch']} (best: epoch {state['best_epoch']})")
        return state

    def _resume_from_best(self, best, fresh: dict) -> dict:
        """The state after best.pt's epoch, its validation loss read back from metrics.jsonl."""
        epoch = int(best.extra.get("epoch", 0))
        row = next((row for row in read_metrics(self.paths, "epoch") if row["epoch"] == epoch), {})
        self.log(f"resumed training after epoch {epoch}, the best one; the optimizer state restarts")
        return {**fresh, "epoch": epoch, "best_epoch": epoch, "best_loss": row.get("val_loss", math.inf)}

    # ---- 4. evaluation -------------------------------------------------------------

    def evaluate(self, best_epoch: int) -> dict:
        """Connect Four: the best network's optimal-move shares on the solved positions
        (logged at step ``best_epoch``); {} for other games or when turned off."""
        positions = self.eval_positions
        if positions is None:
            return {}
        from torch.utils.tensorboard import SummaryWriter

        best = load_checkpoint(self.paths.best, game=self.spec.name, map_location=self.device)
        metrics = solved_set_metrics(NetworkEvaluator(best.model, device=self.device), positions,
                                     self.config.eval_simulations)
        with SummaryWriter(str(self.paths.logs)) as writer:
            for key, value in metrics.items():
                writer.add_scalar(key, value, best_epoch)
        return metrics

    def write_summary(self, summary: dict) -> None:
        """``logs/summary.json``: the data, the best epoch and the evaluation, rewritten at each run."""
        self.paths.logs.joinpath("summary.json").write_text(json.dumps(summary, indent=2))
