"""``selfplay``: train by self-play, and inspect a run.

    selfplay train --game connect4 --run-dir runs/c4 --minutes 120
    selfplay status --run-dir runs/c4
    selfplay train --game connect4 --run-dir /shared/runs/c4 --backend ray --address auto --actors 8
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

import engine
from mcts import MCTSConfig
from selfplay.config import GatingConfig, RunConfig, SelfPlayConfig, TrainConfig, preset
from selfplay.flags import add_dataclass_flags, overrides_for

RUN_FLAGS = ("net", "device", "seed", "eval_positions", "eval_simulations")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="selfplay", description="Train game-playing networks by self-play (AlphaZero).")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="train by self-play in a run directory (resumes if it exists)",
        description="Generations of self-play with batched MCTS, then training on a replay window. "
                    "Start the same command again after a stop or a kill to resume. Settings not given "
                    "come from the preset for the game and machine; a run's settings are in "
                    "<run-dir>/config.json.")
    train.add_argument("--game", default="connect4", help="game to learn (%(default)s); "
                       f"one of {', '.join(engine.list_games())}")
    train.add_argument("--run-dir", type=Path, required=True, help="where config, games, checkpoints and logs live")
    train.add_argument("--preset", choices=("auto", "cpu", "gpu"), default="auto",
                       help="settings sized for a 2-core CPU or one GPU; auto picks by CUDA availability")
    train.add_argument("--generations", type=int, help="stop once this many generations are complete in total")
    train.add_argument("--minutes", type=float, help="stop after this many minutes (finishing no generation early)")
    train.add_argument("--net", help="network shape, e.g. b6c64 (blocks x channels)")
    train.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    train.add_argument("--seed", type=int, help="random seed (default 0)")
    train.add_argument("--threads", type=int, default=1,
                       help="torch CPU threads (default 1: a second thread helps little beside the "
                            "single-threaded search, and stalls badly when another process shares the cores)")
    train.add_argument("--eval-positions", type=int, help="solved Connect Four positions scored per generation")
    train.add_argument("--eval-simulations", type=int, help="simulations of the with-search evaluation")
    placement = train.add_argument_group(
        "distributed self-play", "Where the self-play games are played; not part of the run's settings, "
        "so a run can be resumed on another backend or with another number of actors.")
    placement.add_argument("--backend", choices=("local", "ray"), default="local",
                           help="local: self-play in this process (default); ray: --actors Ray actors play, "
                                "this process trains. With ray the run directory must be on storage every "
                                "node sees at the same path")
    placement.add_argument("--address", help="Ray cluster to join: auto (the one started on this node with "
                                             "'ray start'), or HOST:PORT of its head; default: start a local "
                                             "Ray instance")
    placement.add_argument("--actors", type=int, default=2, help="Ray self-play actors (default %(default)s)")
    placement.add_argument("--cpus-per-actor", type=float, default=1.0,
                           help="CPUs each Ray actor reserves (default %(default)s)")
    placement.add_argument("--gpus-per-actor", type=float, default=0.0,
                           help="GPU share each Ray actor reserves and runs its network on, e.g. 0.25 packs "
                                "four on a GPU (default 0: CPU)")
    add_dataclass_flags(train, MCTSConfig, "search (MCTSConfig)", skip=("root_noise",))
    add_dataclass_flags(train, SelfPlayConfig, "self-play (SelfPlayConfig)")
    add_dataclass_flags(train, TrainConfig, "training (TrainConfig)")
    add_dataclass_flags(train, GatingConfig, "gating (GatingConfig)")

    status = commands.add_parser("status", help="table of a run's generations and metrics")
    status.add_argument("--run-dir", type=Path, required=True)
    return parser


def config_from_args(args: argparse.Namespace) -> tuple[RunConfig, bool]:
    """The preset for the game and machine with the command line's changes; and whether any were made."""
    import torch

    gpu = torch.cuda.is_available() if args.preset == "auto" else args.preset == "gpu"
    base = preset(args.game, gpu)
    run_changes = {name: getattr(args, name) for name in RUN_FLAGS if getattr(args, name) is not None}
    mcts_changes = overrides_for(args, MCTSConfig)
    selfplay_changes = overrides_for(args, SelfPlayConfig)
    train_changes = overrides_for(args, TrainConfig)
    gating_changes = overrides_for(args, GatingConfig)
    config = dataclasses.replace(
        base, **run_changes,
        mcts=dataclasses.replace(base.mcts, **mcts_changes),
        selfplay=dataclasses.replace(base.selfplay, **selfplay_changes),
        train=dataclasses.replace(base.train, **train_changes),
        gating=dataclasses.replace(base.gating, **gating_changes),
    )
    changed = bool(run_changes or mcts_changes or selfplay_changes or train_changes or gating_changes
                   or args.preset != "auto")
    return config, changed


def run_train(args: argparse.Namespace, console: Console) -> int:
    from selfplay.loop import resolve_run_config

    import torch

    engine.get_game(args.game)
    torch.set_num_threads(args.threads)
    requested, changed = config_from_args(args)
    config = resolve_run_config(args.run_dir, requested, changed)
    backend = None
    if args.backend == "ray":
        from selfplay.ray_backend import RayBackend

        backend = RayBackend(num_actors=args.actors, address=args.address, cpus_per_actor=args.cpus_per_actor,
                             gpus_per_actor=args.gpus_per_actor, threads=args.threads, log=console.print)
    elif args.address is not None:
        raise ValueError("--address needs --backend ray")
    try:
        return _train_with(args, console, config, backend)
    finally:
        if backend is not None:
            backend.close()


def _train_with(args: argparse.Namespace, console: Console, config: RunConfig, backend) -> int:
    from selfplay.loop import TrainingRun

    run = TrainingRun(args.run_dir, config, log=console.print, backend=backend)
    if backend is not None:
        backend.start(run)  # join the cluster and start the actors before the progress display
    console.print(f"[bold]{config.game}[/] {config.net} on {run.device}: {config.selfplay.games_per_generation} "
                  f"games x {config.mcts.num_simulations} simulations per generation, "
                  f"{config.selfplay.games_in_parallel} at once; run dir {args.run_dir}")
    console.print(f"TensorBoard: tensorboard --logdir {args.run_dir.parent if args.run_dir.parent != Path('') else '.'}")
    started = time.time()
    history: list[float] = []

    def time_left() -> str:
        if args.minutes is not None:
            return f"{max(0.0, args.minutes - (time.time() - started) / 60):.0f} min left"
        if args.generations is not None and history:
            remaining = (args.generations - run.generation) * sum(history) / len(history)
            return f"~{remaining / 60:.0f} min left"
        return "until stopped (Ctrl-C)"

    columns = (SpinnerColumn(), TextColumn("gen {task.fields[generation]}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    last = {"loss": "-", "buffer": 0}
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("self-play", total=config.selfplay.games_per_generation,
                                 generation=run.generation + 1, detail="starting")

        def on_progress(info: dict) -> None:
            if "phase" in info:
                progress.update(task, detail=info["phase"] + "...")
                return
            progress.update(task, completed=info["games"], generation=run.generation + 1,
                            detail=f"{info['games_per_s']:.2f} games/s {info['positions_per_s']:.0f} pos/s "
                                   f"loss {last['loss']} buffer {last['buffer']:,} {time_left()}")

        def on_generation(row: dict) -> None:
            history.append(row["seconds"])
            last["loss"] = f"{row['loss']:.3f}"
            last["buffer"] = row["buffer_positions"]
            gate = ""
            if "gating_accepted" in row:
                gate = (f", gating {'accepted' if row['gating_accepted'] else 'rejected'} "
                        f"(score {row['gating_score']:.0%} in {row['gating_games']} games)")
            optimal = ""
            if "optimal_moves_net" in row:
                optimal = (f", optimal moves (exact / result) net {row['optimal_moves_net']:.1%} / "
                           f"{row.get('optimal_result_net', float('nan')):.1%}, search "
                           f"{row['optimal_moves_search']:.1%} / {row.get('optimal_result_search', float('nan')):.1%}")
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


STATUS_COLUMNS = [
    ("generation", "gen", "{:d}"), ("loss", "loss", "{:.3f}"), ("policy_loss", "policy", "{:.3f}"),
    ("value_loss", "value", "{:.3f}"), ("games_per_s", "games/s", "{:.2f}"), ("positions_per_s", "pos/s", "{:.0f}"),
    ("mean_game_length", "length", "{:.1f}"), ("first_player_win_rate", "1st wins", "{:.0%}"),
    ("resign_false_positive_rate", "false resign", "{:.0%}"), ("buffer_positions", "buffer", "{:,}"),
    ("optimal_moves_net", "exact net", "{:.1%}"), ("optimal_moves_search", "exact search", "{:.1%}"),
    ("optimal_result_net", "result net", "{:.1%}"), ("optimal_result_search", "result search", "{:.1%}"),
    ("gating_score", "gate score", "{:.0%}"), ("best_generation", "best", "{:d}"),
    ("seconds", "seconds", "{:.0f}"),
]


ACTOR_KEY = re.compile(r"^actor(\d+)_games$")


def run_status(args: argparse.Namespace, console: Console) -> int:
    from selfplay.loop import RunPaths, read_metrics, read_run_config

    paths = RunPaths(args.run_dir)
    config = read_run_config(paths)
    rows = read_metrics(paths)
    table = Table(title=f"{args.run_dir}: {config.game} {config.net}, {len(rows)} generations")
    present = [c for c in STATUS_COLUMNS if any(c[0] in row for row in rows)] or STATUS_COLUMNS[:1]
    for _, title, _ in present:
        table.add_column(title, justify="right")
    for row in rows:
        table.add_row(*[fmt.format(row[key]) if key in row else "-" for key, _, fmt in present])
    console.print(table)
    actors = sorted({int(m.group(1)) for row in rows for key in row if (m := ACTOR_KEY.match(key))})
    if actors:
        # Distributed runs: one line per self-play actor, its last generation and the run so far.
        last = next(row for row in reversed(rows) if any(ACTOR_KEY.match(key) for key in row))
        per_actor = Table(title=f"self-play actors (ray backend; last: generation {last['generation']})")
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
    from nets import CheckpointError
    from selfplay.loop import RunError
    from selfplay.shards import ShardError

    args = build_parser().parse_args(argv)
    console = Console()
    try:
        if args.command == "train":
            return run_train(args, console)
        return run_status(args, console)
    except (engine.UnknownGameError, RunError, CheckpointError, ShardError, ValueError, OSError) as error:
        print(f"selfplay: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("selfplay: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
