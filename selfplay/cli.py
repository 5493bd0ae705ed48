"""``selfplay``: train by self-play, bootstrap from an expert, and inspect a run.

    selfplay train --game connect4 --run-dir runs/c4 --minutes 120
    selfplay status --run-dir runs/c4
    selfplay train --game connect4 --run-dir /shared/runs/c4 --backend ray --address auto --actors 8
    selfplay pretrain --game connect4 --expert solver --games 20000 --run-dir runs/c4-sl
    selfplay train --init runs/c4-sl --run-dir runs/c4-rl --expert-mix 0.25
    selfplay train --game go9 --init shipped --run-dir runs/go9-more --minutes 90
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import engine
from arena.console import command_console, progress_display
from engine.solved_sets import DEFAULT_SET, SET_NAMES, SolvedSetError, solved_set_source
from mcts import MCTSConfig
from selfplay.config import DEFAULT_GAME, LOCATION_SETTINGS, ExpertConfig, GatingConfig, PretrainConfig, \
    PretrainRunConfig, RunConfig, SelfPlayConfig, TrainConfig, parse_expert, pretrain_preset, preset, usable_cores
from selfplay.flags import add_dataclass_flags, non_negative_float, non_negative_int, overrides_for, positive_int

RUN_FLAGS = ("net", "device", "seed", "eval_set", "eval_positions", "eval_simulations", "eval_every")
SHIPPED_INIT = "shipped"
"""``--init shipped``: start from the network shipped for --game (``arena.shipped``)."""


class OneLineParser(argparse.ArgumentParser):
    """Command-line mistakes as one line, like every other error of ``selfplay``."""

    def error(self, message: str):
        self.exit(2, f"selfplay: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="selfplay", description="Train game-playing networks by self-play (AlphaZero).")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="train by self-play in a run directory (resumes if it exists)",
        description="Generations of self-play with batched MCTS, then training on a replay window. "
                    "Start the same command again after a stop or a kill to resume. Settings not given "
                    "come from the preset for the game and machine; a run's settings are in "
                    "<run-dir>/config.json.")
    train.add_argument("--game", help=f"game to learn: the --init network's, else {DEFAULT_GAME}; "
                       f"one of {', '.join(engine.list_games())}")
    train.add_argument("--run-dir", type=Path, required=True, help="where config, games, checkpoints and logs live")
    train.add_argument("--init", type=Path,
                       help="start from a trained network (AlphaGo's stage 2): a 'selfplay pretrain' run "
                            "directory (its best checkpoint), another run directory, a checkpoint file, or "
                            f"'{SHIPPED_INIT}': the network zeroplay ships for --game, to train it further. "
                            "Its game and network shape become the run's")
    _add_run_flags(train, "generation")
    train.add_argument("--generations", type=non_negative_int,
                       help="stop once this many generations are complete in total")
    train.add_argument("--minutes", type=non_negative_float,
                       help="stop once the run has trained this many minutes in total (its generations' "
                            "durations summed, so the same command resumes a killed run for what is left; "
                            "self-play still running then stops, and its generation is not trained)")
    train.add_argument("--eval-every", type=positive_int,
                       help="score the solved positions every N generations, and after the last one "
                            "(default: the preset's; the with-search scoring can cost more than a generation)")
    placement = train.add_argument_group(
        "where self-play runs", "Not part of the run's settings, so a run can be resumed on another "
        "backend or with another number of workers or actors.")
    placement.add_argument("--backend", choices=("local", "ray"), default="local",
                           help="local: self-play on this machine, in --workers processes (default); ray: "
                                "--actors Ray actors play, this process trains. With ray the run directory "
                                "must be on storage every node sees at the same path")
    placement.add_argument("--workers", type=positive_int,
                           help="local self-play worker processes, one torch thread each (default: one per "
                                f"core this process may use, here {usable_cores()}); 1 plays in the training "
                                "process")
    placement.add_argument("--train-threads", type=positive_int,
                           help="with self-play in worker processes (which wait while the training process "
                                "trains): torch threads of the training process (default: one per core, here "
                                f"{usable_cores()}; 1.7x faster steps on 2 cores than one thread)")
    placement.add_argument("--address", help="Ray cluster to join: auto (the one started on this node with "
                                             "'ray start'), or HOST:PORT of its head; default: start a local "
                                             "Ray instance")
    placement.add_argument("--actors", type=positive_int, default=2, help="Ray self-play actors (default %(default)s)")
    placement.add_argument("--cpus-per-actor", type=non_negative_float, default=1.0,
                           help="CPUs each Ray actor reserves (default %(default)s)")
    placement.add_argument("--gpus-per-actor", type=non_negative_float, default=0.0,
                           help="GPU share each Ray actor reserves and runs its network on, e.g. 0.25 packs "
                                "four on a GPU (default 0: CPU)")
    add_dataclass_flags(train, MCTSConfig, "search (MCTSConfig)", skip=("root_noise",))
    add_dataclass_flags(train, SelfPlayConfig, "self-play (SelfPlayConfig)")
    add_dataclass_flags(train, TrainConfig, "training (TrainConfig)")
    add_dataclass_flags(train, GatingConfig, "gating (GatingConfig)")

    pretrain = commands.add_parser(
        "pretrain", help="supervised bootstrap: learn an expert's games (AlphaGo's stage 1)",
        description="Generate (or read) expert games as replay shards, with progress; train a network on "
                    "them with a held-out validation split of whole games, reporting validation policy "
                    "accuracy (agreement with the expert's optimal moves) and value MSE per epoch; stop "
                    "when the validation loss stops improving; keep the best epoch as "
                    "<run-dir>/checkpoints/best.pt, which 'selfplay train --init <run-dir>' continues by "
                    "self-play. Start the same command again after a stop or a kill to resume.")
    pretrain.add_argument("--game", default=DEFAULT_GAME, help="game (%(default)s); "
                          f"one of {', '.join(engine.list_games())}")
    pretrain.add_argument("--run-dir", type=Path, required=True,
                          help="where config, expert games, checkpoints and logs live")
    pretrain.add_argument("--games", type=int, default=20_000,
                          help="expert games to learn from (default %(default)s); a run can be extended "
                               "with a larger number, which keeps the games on disk")
    pretrain.add_argument("--workers", type=positive_int, default=1,
                          help="processes that play expert games (default %(default)s); not a setting of the run")
    _add_run_flags(pretrain, "after training")
    add_dataclass_flags(pretrain, ExpertConfig, "expert games (ExpertConfig)")
    add_dataclass_flags(pretrain, PretrainConfig, "training (PretrainConfig)")

    status = commands.add_parser("status", help="table of a run's generations (or epochs) and metrics")
    status.add_argument("--run-dir", type=Path, required=True)
    return parser


def _add_run_flags(parser: argparse.ArgumentParser, evaluated: str) -> None:
    """The flags of RUN_FLAGS and the machine, shared by train and pretrain."""
    parser.add_argument("--preset", choices=("auto", "cpu", "gpu"), default="auto",
                        help="settings sized for a 2-core CPU or one GPU; auto picks by CUDA availability")
    parser.add_argument("--net", help="network shape, e.g. b6c64 (blocks x channels; b6c64gp16 with global "
                        "pooling; b6c64in9 reading the first 9 input planes)")
    parser.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=non_negative_int, help="random seed (default 0)")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="torch CPU threads (default 1: a second thread helps little beside the "
                             "single-threaded search, and stalls badly when another process shares the cores)")
    parser.add_argument("--eval-set", type=_solved_set, metavar="SET",
                        help=f"solved Connect Four positions scored {evaluated}: a set shipped with zeroplay "
                             f"({', '.join(SET_NAMES)}; default: the game's, {DEFAULT_SET} for Connect Four) or a "
                             "JSON file in their layout")
    parser.add_argument("--eval-positions", type=non_negative_int,
                        help="how many positions of --eval-set are scored (0: none)")
    parser.add_argument("--eval-simulations", type=positive_int, help="simulations of the with-search evaluation")


def _solved_set(text: str) -> str:
    """--eval-set: a shipped set's name, or an existing file as an absolute path."""
    try:
        return solved_set_source(text)
    except SolvedSetError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _changed(base, args: argparse.Namespace, sections: dict[str, type], fixed: dict) -> tuple:
    """``base`` with the command line's RUN_FLAGS, the fields of each nested ``sections`` config,
    and ``fixed``; and whether any setting changed (``LOCATION_SETTINGS`` such as --device aside)."""
    run_changes = {name: getattr(args, name, None) for name in RUN_FLAGS if getattr(args, name, None) is not None}
    nested = {name: overrides_for(args, cls) for name, cls in sections.items()}
    config = dataclasses.replace(base, **run_changes, **fixed, **{
        name: dataclasses.replace(getattr(base, name), **changes) for name, changes in nested.items()})
    settings = set(run_changes) - set(LOCATION_SETTINGS)
    return config, bool(settings or fixed or any(nested.values()) or args.preset != "auto")


def _gpu(args: argparse.Namespace) -> bool:
    import torch

    return torch.cuda.is_available() if args.preset == "auto" else args.preset == "gpu"


def config_from_args(args: argparse.Namespace) -> tuple[RunConfig, bool]:
    """The preset for the game and machine with the command line's changes; and whether any were made.

    With --init, the run's game and network shape are the init network's unless given."""
    fixed, game = {}, args.game
    if args.init is not None:
        from nets import load_checkpoint
        from selfplay.run_dir import init_checkpoint

        init = _init_source(args.init, game)
        checkpoint = load_checkpoint(init_checkpoint(init))
        game = game or checkpoint.game
        fixed = {"init": str(init.resolve()), **({} if args.net else {"net": checkpoint.config.name})}
    game = engine.get_game(game or DEFAULT_GAME).name  # UnknownGameError lists the games
    sections = {"mcts": MCTSConfig, "selfplay": SelfPlayConfig, "train": TrainConfig, "gating": GatingConfig}
    return _changed(preset(game, _gpu(args)), args, sections, fixed)


def _init_source(init: Path, game: str | None) -> Path:
    """What --init names: its path, or for the word 'shipped' the network zeroplay ships for
    ``game`` (default: DEFAULT_GAME). RunError when none is shipped for that game."""
    if str(init) != SHIPPED_INIT:
        return init
    from arena.shipped import shipped_network
    from selfplay.run_dir import RunError

    name = engine.get_game(game or DEFAULT_GAME).name
    path = shipped_network(name)
    if path is None:
        shipped = [other for other in engine.list_games() if shipped_network(other) is not None]
        raise RunError(f"--init {SHIPPED_INIT}: zeroplay ships no {name} network; it ships {', '.join(shipped)}")
    return path


def pretrain_config_from_args(args: argparse.Namespace) -> tuple[PretrainRunConfig, bool]:
    """The pretrain preset for the game and machine with the command line's changes."""
    game = engine.get_game(args.game).name
    sections = {"expert": ExpertConfig, "pretrain": PretrainConfig}
    return _changed(pretrain_preset(game, _gpu(args)), args, sections, {})


def run_train(args: argparse.Namespace, console: Console) -> int:
    from selfplay.run_lock import RunLock

    import torch

    torch.set_num_threads(args.threads)
    requested, changed = config_from_args(args)
    with RunLock(args.run_dir):  # one trainer at a time: a second one stops here
        return _train_locked(args, console, requested, changed)


def _train_locked(args: argparse.Namespace, console: Console, requested: RunConfig, changed: bool) -> int:
    import torch

    from selfplay.run_dir import resolve_run_config

    config = resolve_run_config(args.run_dir, requested, changed, args.device)
    backend = None
    if args.backend == "ray":
        from selfplay.ray_backend import RayBackend

        if args.workers is not None:
            raise ValueError("--workers is for the local backend; the ray backend plays on --actors actors")
        backend = RayBackend(num_actors=args.actors, address=args.address, cpus_per_actor=args.cpus_per_actor,
                             gpus_per_actor=args.gpus_per_actor, threads=args.threads, log=console.print)
    elif args.address is not None:
        raise ValueError("--address needs --backend ray")
    else:
        workers = args.workers if args.workers is not None else usable_cores()
        if workers > 1:
            from selfplay.process_backend import ProcessBackend

            backend = ProcessBackend(workers, log=console.print)
            # Self-play and training take turns: the workers wait while this process trains.
            torch.set_num_threads(args.train_threads or usable_cores())
    try:
        return _train_with(args, console, config, backend)
    finally:
        if backend is not None:
            backend.close()


def _train_with(args: argparse.Namespace, console: Console, config: RunConfig, backend) -> int:
    import torch

    from selfplay.loop import TrainingRun

    run = TrainingRun(args.run_dir, config, log=console.print, backend=backend)
    if backend is not None:
        backend.start(config, run.paths.games)  # join the cluster and start the actors before the progress display
    players = getattr(backend, "num_workers", None) or getattr(backend, "num_actors", None) or 1
    where = {"local": "worker", "processes": "worker", "ray": "Ray actor"}[getattr(backend, "name", "local")]
    console.print(f"[bold]{config.game}[/] {config.net} on {run.device}: {config.selfplay.games_per_generation} "
                  f"games x {config.mcts.num_simulations} simulations per generation, "
                  f"{config.selfplay.games_in_parallel} at once per {where}, {players} self-play "
                  f"{where}{'s' if players > 1 else ''}, training on {torch.get_num_threads()} "
                  f"thread{'s' if torch.get_num_threads() > 1 else ''}; run dir {args.run_dir}")
    console.print(tensorboard_hint(args.run_dir))
    deadline = run.deadline(args.minutes)
    if deadline is not None and deadline <= time.time():
        console.print(f"the run has already trained {run.trained_seconds / 60:.1f} minutes (--minutes "
                      f"{args.minutes:g} is the run's total): nothing to do; give a larger --minutes to train further")
    history: list[float] = []

    def time_left() -> str:
        if deadline is not None:
            return f"{max(0.0, (deadline - time.time()) / 60):.0f} min left"
        if args.generations is not None and history:
            remaining = (args.generations - run.generation) * sum(history) / len(history)
            return f"~{remaining / 60:.0f} min left"
        return "until stopped (Ctrl-C)"

    last = {"loss": "-", "buffer": 0}
    with progress_display(console, "gen {task.fields[generation]}") as progress:
        task = progress.add_task("self-play", total=config.selfplay.games_per_generation,
                                 generation=run.generation + 1, detail="starting")

        def on_progress(info: dict) -> None:
            if "phase" in info:
                progress.update(task, detail=info["phase"] + "...")
                return
            progress.update(task, completed=info["games"], generation=run.generation + 1,
                            detail=f"{info['games_per_s']:.2f} games/s {info['positions_per_s']:.0f} pos/s "
                                   f"({players} {where}{'s' if players > 1 else ''}) "
                                   f"loss {last['loss']} buffer {last['buffer']:,} {time_left()}")

        def on_generation(row: dict) -> None:
            history.append(row["seconds"])
            last["loss"] = f"{row['loss']:.3f}"
            last["buffer"] = row["buffer_positions"]
            gate = ""
            if "gating_accepted" in row:
                gate = (f", gating {'accepted' if row['gating_accepted'] else 'rejected'} "
                        f"(score {row['gating_score']:.0%} in {row['gating_games']} games)")
            optimal = f", {optimal_text(row)}" if "optimal_moves_net" in row else ""
            progress.console.print(
                f"generation {row['generation']}: loss {row['loss']:.3f} (policy {row['policy_loss']:.3f}, "
                f"value {row['value_loss']:.3f}), {row['positions_per_s']:.0f} pos/s, "
                f"mean length {row['mean_game_length']:.1f}{optimal}{gate}, {row['seconds']:.0f} s")
            progress.reset(task, total=config.selfplay.games_per_generation, generation=row["generation"] + 1,
                           detail="self-play")

        run.run(generations=args.generations, minutes=args.minutes,
                on_progress=on_progress, on_generation=on_generation)
    console.print(f"stopped after generation {run.generation}; checkpoints in {run.paths.checkpoints}")
    return 0


def tensorboard_hint(run_dir: Path) -> str:
    return f"TensorBoard: tensorboard --logdir {run_dir.parent if run_dir.parent != Path('') else '.'}"


def optimal_text(row: dict) -> str:
    """The solved-set evaluation of ``row`` in words."""
    return (f"optimal moves (exact / result) net {row['optimal_moves_net']:.1%} / "
            f"{row.get('optimal_result_net', float('nan')):.1%}, search "
            f"{row['optimal_moves_search']:.1%} / {row.get('optimal_result_search', float('nan')):.1%}")




def run_pretrain(args: argparse.Namespace, console: Console) -> int:
    import torch

    from selfplay.run_lock import RunLock

    if args.games < 2:
        raise ValueError("--games must be at least 2 (one to train on, one to validate)")
    torch.set_num_threads(args.threads)
    requested, changed = pretrain_config_from_args(args)
    with RunLock(args.run_dir):  # one trainer at a time: a second one stops here
        return _pretrain_locked(args, console, requested, changed)


def _pretrain_locked(args: argparse.Namespace, console: Console, requested: PretrainRunConfig,
                     changed: bool) -> int:
    from selfplay.run_dir import read_metrics, resolve_run_config
    from selfplay.pretrain import PretrainRun, load_expert_data

    config = resolve_run_config(args.run_dir, requested, changed, args.device)
    run = PretrainRun(args.run_dir, config, log=console.print)
    expert = config.expert
    kind = parse_expert(expert.expert)[0]
    details = [] if kind == "sgf" else [f"random openings of {expert.opening_min}-{expert.opening_max} moves"]
    details.append(f"{expert.policy_target} policy targets" if kind == "solver" else "the expert's moves as targets")
    console.print(f"[bold]{config.game}[/] pretraining {config.net} on {run.device} from the {expert.expert} expert: "
                  f"{args.games:,} games, {', '.join(details)}; run dir {args.run_dir}")
    if run.expert_summary:
        console.print(run.expert_summary, markup=False, highlight=False)

    with progress_display(console, "expert games") as progress:
        task = progress.add_task("expert games", total=args.games, detail="starting")

        def on_game(stats) -> None:
            done = stats.games_before + stats.games
            rate = stats.games / stats.seconds if stats.seconds else 0.0
            left = f"~{(args.games - done) / rate / 60:.0f} min left" if rate else ""
            progress.update(task, completed=done,
                            detail=f"{rate:.2f} games/s {stats.positions / max(stats.seconds, 1e-9):.0f} pos/s, "
                                   f"{stats.dropped} dropped {left}")

        stats = run.generate(args.games, args.workers, on_game)
    if stats.games:
        console.print(f"expert games: {stats.games:,} played in {stats.seconds:.0f} s "
                      f"({stats.games / stats.seconds:.2f} games/s, {stats.positions / stats.seconds:.0f} labelled "
                      f"positions/s), {stats.dropped} positions dropped as evaluation positions")

    data = load_expert_data(run.spec, run.paths.games, args.games, config.pretrain.validation_share, config.seed)
    console.print(f"data: {data.games:,} games ({data.validation_games:,} held out): {len(data.train):,} training "
                  f"and {len(data.legal):,} validation positions; {data.dropped:,} evaluation positions left out")
    console.print(tensorboard_hint(args.run_dir))
    with progress_display(console, "epoch {task.fields[epoch]}") as progress:
        task = progress.add_task("training", total=None, epoch=1, detail="")

        def on_step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        def on_epoch(row: dict) -> None:
            best = " (best)" if row["best_epoch"] == row["epoch"] else ""
            progress.console.print(
                f"epoch {row['epoch']}: train loss {row['loss']:.3f}, validation loss {row['val_loss']:.3f}, "
                f"accuracy {row['val_policy_accuracy']:.1%}, value MSE {row['val_value_mse']:.3f}{best}, "
                f"{row['seconds']:.0f} s")
            progress.reset(task, total=None, epoch=row["epoch"] + 1, detail="")

        state = run.train(data, on_step, on_epoch)
        progress.remove_task(task)

    best = next((row for row in read_metrics(run.paths, "epoch") if row["epoch"] == state["best_epoch"]), {})
    evaluation = run.evaluate(state["best_epoch"])
    if evaluation:
        console.print(f"best network (epoch {state['best_epoch']}) on solved positions: {optimal_text(evaluation)}")
    run.write_summary({
        "expert": expert.expert, "games": data.games, "validation_games": data.validation_games,
        "training_positions": len(data.train), "validation_positions": len(data.legal),
        "dropped_evaluation_positions": data.dropped, "best_epoch": state["best_epoch"],
        "epochs": state["epoch"], **{key: value for key, value in best.items() if key.startswith("val_")},
        **evaluation,
    })
    console.print(f"best network: {run.paths.best} (validation accuracy {best.get('val_policy_accuracy', 0):.1%}); "
                  f"continue by self-play: selfplay train --init {args.run_dir} --run-dir NEW_DIR")
    return 0


STATUS_COLUMNS = [
    ("generation", "gen", "{:d}"), ("loss", "loss", "{:.3f}"), ("policy_loss", "policy", "{:.3f}"),
    ("value_loss", "value", "{:.3f}"), ("games_per_s", "games/s", "{:.2f}"), ("positions_per_s", "pos/s", "{:.0f}"),
    ("mean_game_length", "length", "{:.1f}"), ("first_player_win_rate", "1st wins", "{:.0%}"),
    ("resign_false_positive_rate", "false resign", "{:.0%}"), ("ownership_end_share", "owned end", "{:.0%}"),
    ("ownership_end_false_rate", "false end", "{:.0%}"), ("buffer_positions", "buffer", "{:,}"),
    ("optimal_moves_net", "exact net", "{:.1%}"), ("optimal_moves_search", "exact search", "{:.1%}"),
    ("optimal_result_net", "result net", "{:.1%}"), ("optimal_result_search", "result search", "{:.1%}"),
    ("gating_score", "gate score", "{:.0%}"), ("best_generation", "best", "{:d}"), ("expert_share", "expert", "{:.0%}"),
    ("seconds", "seconds", "{:.0f}"),
]


PRETRAIN_COLUMNS = [
    ("epoch", "epoch", "{:d}"), ("loss", "loss", "{:.3f}"), ("val_loss", "val loss", "{:.3f}"),
    ("val_policy_accuracy", "val acc", "{:.1%}"), ("val_value_mse", "val MSE", "{:.3f}"),
    ("learning_rate", "lr", "{:.4f}"), ("best_epoch", "best", "{:d}"), ("seconds", "seconds", "{:.0f}"),
]


ACTOR_KEY = re.compile(r"^actor(\d+)_games$")


def run_status(args: argparse.Namespace, console: Console) -> int:
    from selfplay.run_dir import RunPaths, read_any_config, read_metrics
    from selfplay.run_lock import lock_holder

    paths = RunPaths(args.run_dir)
    config = read_any_config(paths)
    if isinstance(config, PretrainRunConfig):
        columns, rows = PRETRAIN_COLUMNS, read_metrics(paths, "epoch")
        title = (f"{args.run_dir}: {config.game} {config.net} pretrained on the {config.expert.expert} expert, "
                 f"{len(rows)} epochs")
    else:
        columns, rows = STATUS_COLUMNS, read_metrics(paths)
        title = f"{args.run_dir}: {config.game} {config.net}, {len(rows)} generations"
    holder = lock_holder(args.run_dir)
    if holder is not None:
        title += f" (in use by {holder})"
    table = Table(title=title)
    present = [c for c in columns if any(c[0] in row for row in rows)] or columns[:1]
    for _, title, _ in present:
        table.add_column(title, justify="right")
    for row in rows:
        table.add_row(*[fmt.format(row[key]) if key in row else "-" for key, _, fmt in present])
    console.print(table)
    actors = sorted({int(m.group(1)) for row in rows for key in row if (m := ACTOR_KEY.match(key))})
    if actors:
        # Distributed runs: one line per self-play actor, its last generation and the run so far.
        last = next(row for row in reversed(rows) if any(ACTOR_KEY.match(key) for key in row))
        per_actor = Table(title=f"self-play actors (workers or Ray actors; last: generation {last['generation']})")
        for title in ("actor", "games", "games/s", "failures", "run games", "run failures"):
            per_actor.add_column(title, justify="right")
        for a in actors:
            per_actor.add_row(
                str(a), f"{last.get(f'actor{a}_games', 0):,}", f"{last.get(f'actor{a}_games_per_s', 0.0):.2f}",
                str(last.get(f"actor{a}_failures", 0)),
                f"{sum(row.get(f'actor{a}_games', 0) for row in rows):,}",
                str(sum(row.get(f"actor{a}_failures", 0) for row in rows)))
        console.print(per_actor)
    return 0


def main(argv: list[str] | None = None) -> int:
    from arena.outputs import os_error_text
    from nets import CheckpointError
    from selfplay.run_dir import RunError, disk_full_text
    from selfplay.shards import ShardError

    args = build_parser().parse_args(argv)
    console = command_console()
    try:
        if args.command == "train":
            return run_train(args, console)
        if args.command == "pretrain":
            return run_pretrain(args, console)
        return run_status(args, console)
    except (engine.UnknownGameError, RunError, CheckpointError, ShardError, ValueError, OSError) as error:
        if isinstance(error, OSError):
            text = disk_full_text(error, args.run_dir) or os_error_text(error)
        else:
            text = str(error)
        print(f"selfplay: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("selfplay: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
