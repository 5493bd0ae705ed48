"""``arena``: pit players against each other, rate them, and play against the bot.

    arena match --game connect4 net:runs/c4/checkpoints/gen00020.pt mcts:sims=1000 --games 200 --sprt 0,35
    arena tournament --game connect4 random mcts:sims=200 solver --games-per-pair 20 --csv ratings.csv
    arena ladder --run-dir runs/c4 --anchors random mcts:sims=200 --png ladder.png
    arena play --game connect4 --first human
    arena gtp --game go9 --model runs/go9/checkpoints/latest.pt --sims 800

Players are spec strings (see ``arena.specs``). Errors (bad arguments, output
files that cannot be written, other OS errors) are one line on stderr with exit
code 2; output paths are checked before the first game. A human who quits or
whose input ends stops the command with a one-line note and exit code 0, Ctrl-C
with exit code 130, as in ``arena play``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

import engine
from arena.console import command_console, progress_display
from arena.elo import Ratings, elo_estimate
from arena.outputs import check_writable, os_error_text
from arena.players import Player, QuitGame, make_player
from arena.shipped import shipped_network
from arena.specs import DEFAULTS, PlayerSpecError, parse_player_spec
from engine.gtp_client import GTPError

PLAYER_HELP = ("players: random | mcts[:sims=1000,playouts=1,temp=0] | solver (games with an exact solver) | "
               "net:PATH[,sims=800,temp=0,leaves=1,search=puct,utility=0,device=auto] (sims=0: the raw policy) | "
               "human | "
               'gtp:"COMMAND" (a GTP engine for Go games, e.g. gtp:"gnugo --mode gtp --level 1")')


class ArenaError(Exception):
    """A command line that cannot be carried out (the message says why)."""


# ---- parser ------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, game: bool = True) -> None:
    if game:
        parser.add_argument("--game", default="connect4",
                            help=f"game to play (%(default)s); one of {', '.join(engine.list_games())}")
    parser.add_argument("--seed", type=int, default=0, help="random seed of openings and players (%(default)s)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads for network players (%(default)s: search is single-threaded)")


def _match_flags(parser: argparse.ArgumentParser, games_flag: str, games_default: int) -> None:
    parser.add_argument(games_flag, type=int, default=games_default, dest="games",
                        help="games to play%s (%%(default)s); colours alternate game by game" %
                             (" per pair" if "pair" in games_flag else ""))
    parser.add_argument("--opening-plies", type=int, default=4,
                        help="random moves opening each pair of games, the same for both colours, so that "
                             "deterministic players do not replay one game (%(default)s; 0 for none)")
    parser.add_argument("--parallel", type=int, default=64,
                        help="games in flight at once: a network player searches them in one batch (%(default)s)")
    parser.add_argument("--out", type=Path, help="append every game (moves, players, result) to this JSON-lines file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arena", description="Matches, Elo ratings, SPRT gating, tournaments and terminal play.",
        epilog=PLAYER_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    match = commands.add_parser(
        "match", help="a match between two players: W/D/L, Elo difference, optional SPRT",
        description="Play many games between players A and B at once (colours alternated, openings shared "
                    "by each pair of games) and report A's wins, draws, losses, score and Elo advantage "
                    "with its 95% interval.", epilog=PLAYER_HELP)
    match.add_argument("player_a", metavar="A", help="the player measured (e.g. a new network)")
    match.add_argument("player_b", metavar="B", help="its opponent (e.g. the current best)")
    _common(match)
    _match_flags(match, "--games", 100)
    match.add_argument("--sprt", metavar="ELO0,ELO1",
                       help="run an SPRT of H0 'A is ELO0 stronger' against H1 'A is ELO1 stronger' "
                            "(e.g. 0,35 as in Leela Zero) and stop as soon as it decides; --games is the cap")
    match.add_argument("--sgf", type=Path, metavar="DIR",
                       help="also save every game as DIR/game-NNNNN.sgf (Go games), numbered on from those there")
    match.add_argument("--alpha", type=float, default=0.05, help="SPRT false-H1 rate (%(default)s)")
    match.add_argument("--beta", type=float, default=0.05, help="SPRT false-H0 rate (%(default)s)")

    tournament = commands.add_parser(
        "tournament", help="a round robin rated by maximum likelihood",
        description="Every player meets every other; ratings are maximum likelihood Elo (Bradley-Terry) with "
                    "95% intervals.", epilog=PLAYER_HELP)
    tournament.add_argument("players", nargs="+", metavar="PLAYER", help="two or more player specs")
    _common(tournament)
    _match_flags(tournament, "--games-per-pair", 20)
    tournament.add_argument("--anchor", help="player rated 0 (default: the mean rating is 0)")
    tournament.add_argument("--csv", type=Path, help="write the ratings table as CSV")
    tournament.add_argument("--json", type=Path, help="write ratings and every pair's results as JSON")

    ladder = commands.add_parser(
        "ladder", help="rate every generation checkpoint of a self-play run against fixed anchors",
        description="Each checkpoints/genNNNNN.pt of the run meets its next --neighbours generations and every "
                    "anchor; ratings are fitted together, the first anchor at 0.")
    ladder.add_argument("--run-dir", type=Path, required=True, help="a selfplay run directory")
    ladder.add_argument("--anchors", nargs="*", default=["random", "mcts:sims=200"], metavar="PLAYER",
                        help="fixed reference players (default: random mcts:sims=200); the first is rated 0")
    ladder.add_argument("--sims", type=int, default=100, help="simulations per move of the checkpoints (%(default)s)")
    ladder.add_argument("--neighbours", type=int, default=2, help="later generations each checkpoint meets (%(default)s)")
    ladder.add_argument("--stride", type=int, default=1, help="rate every N-th generation only (the newest always)")
    _common(ladder, game=False)
    _match_flags(ladder, "--games-per-pair", 20)
    ladder.add_argument("--csv", type=Path, help="ratings as CSV (default RUN_DIR/ladder/ratings.csv)")
    ladder.add_argument("--json", type=Path, help="ratings and results as JSON (default RUN_DIR/ladder/ratings.json)")
    ladder.add_argument("--png", type=Path, help="plot of Elo against generation")

    play = commands.add_parser(
        "play", help="play against the bot in the terminal",
        description="Play one game against a bot: type moves in the game's notation, 'undo', 'hint' (the bot's "
                    "search for your side) or 'quit'. Without --opponent the bot is the shipped network "
                    "for the game (arena/models/GAME.pt), or pure MCTS when there is none.", epilog=PLAYER_HELP)
    play.add_argument("--opponent", help="the bot's player spec (default: the shipped network, else pure MCTS)")
    play.add_argument("--sims", type=int,
                      help="simulations per move of the bot (overrides the spec's sims, which default to 800 for "
                           "a network and 1000 for pure MCTS)")
    play.add_argument("--first", choices=("human", "bot"), default="human", help="who moves first (%(default)s)")
    play.add_argument("--out", type=Path, default=Path("arena-play.jsonl"),
                      help="append the game to this JSON-lines file (%(default)s)")
    _common(play)

    gtp = commands.add_parser(
        "gtp", help="a Go engine speaking GTP on standard input and output (Sabaki, GoGui, other engines)",
        description="Speak GTP version 2 on standard input and output: the network (or pure MCTS) plays Go for a "
                    "GUI or another program. Diagnostics go to standard error.")
    gtp.add_argument("--game", default="go9", help="the Go board to start on (%(default)s); a network plays only "
                                                   "its own board size")
    gtp.add_argument("--model", help="a Go checkpoint; 'none' for pure MCTS with random playouts (default: the "
                                     "network shipped for the board, arena/models/GAME.pt, else pure MCTS)")
    gtp.add_argument("--sims", type=int, default=800,
                     help="simulations per move, the most a move searches under a clock (%(default)s)")
    gtp.add_argument("--analysis-sims", type=int, default=10_000,
                     help="the most simulations lz-analyze and kata-analyze search a position (%(default)s)")
    gtp.add_argument("--resign-threshold", type=float, default=-0.95,
                     help="resign when the root value falls below this (%(default)s; -1 or less: never)")
    gtp.add_argument("--device", default="auto", help="where the network runs: auto, cpu, cuda (%(default)s)")
    _common(gtp, game=False)
    return parser


# ---- shared helpers ------------------------------------------------------------


def _players(texts: list[str], spec, args, console: Console) -> list[Player]:
    """Build every player (after checking every spec, so a typo fails before a checkpoint loads);
    each is closed (a GTP engine quit) when the command ends."""
    parsed = [parse_player_spec(text) for text in texts]
    if any(p.kind == "solver" for p in parsed) and getattr(args, "opening_plies", 10) < 8:
        console.print("note: the solver takes up to tens of seconds a move near the empty board; "
                      "--opening-plies 10 makes it fast", style="yellow")
    _set_threads(parsed, args.threads)
    players = []
    for k, p in enumerate(parsed):
        players.append(make_player(p, spec, seed=args.seed * 1000 + k + 1, console=console))
        args.cleanup.callback(players[-1].close)
    return players


def _set_threads(parsed, threads: int) -> None:
    if any(p.kind == "net" for p in parsed):
        import torch

        torch.set_num_threads(max(1, threads))


def _check_counts(args) -> None:
    if args.games < 1:
        raise ArenaError("the number of games must be at least 1")
    if args.opening_plies < 0:
        raise ArenaError("--opening-plies must not be negative")
    if args.parallel < 1:
        raise ArenaError("--parallel must be at least 1")


def _ratings_table(title: str, ratings: Ratings, labels: dict[str, str] | None = None) -> Table:
    table = Table(title=title)
    for name, justify in (("#", "right"), ("player", "left"), ("Elo", "right"), ("95%", "right"),
                          ("games", "right"), ("score", "right")):
        table.add_column(name, justify=justify)
    for rank, row in enumerate(ratings.rows(), start=1):
        anchored = row["name"] == ratings.anchor
        table.add_row(str(rank), (labels or {}).get(row["name"], row["name"]), f"{row['elo']:+.0f}",
                      "anchor" if anchored else f"± {row['error']:.0f}", str(row["games"]), f"{row['score']:.1%}")
    return table


# ---- commands ------------------------------------------------------------------


def run_match(args, console: Console) -> int:
    from arena.match import play_match
    from arena.sprt import SPRT, parse_bounds

    spec = engine.get_game(args.game)
    _check_counts(args)
    check_writable(args.out, "--out")
    if args.sgf is not None and spec.gtp_size is None:
        raise ArenaError(f"--sgf saves Go games; {spec.name} is not Go")
    check_writable(args.sgf, "--sgf", folder=True)
    sprt = None
    if args.sprt is not None:
        elo0, elo1 = parse_bounds(args.sprt)
        sprt = SPRT(elo0, elo1, args.alpha, args.beta)
    player_a, player_b = _players([args.player_a, args.player_b], spec, args, console)
    interactive = player_a.interactive or player_b.interactive

    def detail(result) -> str:
        text = f"+{result.wins} ={result.draws} -{result.losses}"
        if result.played:
            text += f"  {result.elo.elo:+.0f} Elo"
        if sprt is not None:
            text += f"  LLR {sprt.llr:+.2f}"
        return text

    with progress_display(console) if not interactive else _NoProgress() as progress:
        task = progress.add_task(f"{player_a.name} vs {player_b.name}", total=args.games, detail="")

        def on_game(record, result) -> None:
            if sprt is not None:
                sprt.update(record.result_for_a)
            progress.update(task, completed=result.played, detail=detail(result))

        result = play_match(spec, player_a, player_b, args.games, opening_plies=args.opening_plies, seed=args.seed,
                            parallel=args.parallel, on_game=on_game,
                            stop=(lambda _: sprt.verdict is not None) if sprt is not None else None, out=args.out,
                            sgf_dir=args.sgf)
    console.print(f"[bold]{player_a.name}[/] vs [bold]{player_b.name}[/] ({spec.name}): {result.played} games, "
                  f"wins {result.wins}, draws {result.draws}, losses {result.losses}, score {result.score:.1%}")
    console.print(f"Elo difference: {elo_estimate(result.wins, result.draws, result.losses)}")
    if sprt is not None:
        console.print(sprt.describe() + (" (stopped early)" if result.stopped_early else ""))
    if args.out is not None:
        console.print(f"games appended to {args.out}")
    if args.sgf is not None:
        console.print(f"games saved as SGF in {args.sgf}")
    return 0


def run_tournament(args, console: Console) -> int:
    from arena.tournament import round_robin_pairs, write_csv, write_json

    spec = engine.get_game(args.game)
    _check_counts(args)
    if len(args.players) < 2:
        raise ArenaError("a tournament needs at least two players")
    if args.anchor is not None and args.anchor not in args.players:
        raise ArenaError(f"--anchor {args.anchor!r} is not one of the players")
    for path, flag in ((args.out, "--out"), (args.csv, "--csv"), (args.json, "--json")):
        check_writable(path, flag)
    players = _players(args.players, spec, args, console)
    pairs = round_robin_pairs(len(players))
    result = _play_pairs(console, spec, players, pairs, args, anchor=args.anchor)
    console.print(_ratings_table(f"{spec.name} round robin, {args.games} games per pair", result.ratings))
    if args.csv:
        write_csv(args.csv, result.ratings)
        console.print(f"ratings written to {args.csv}")
    if args.json:
        write_json(args.json, result, {"game": spec.name, "games_per_pair": args.games})
        console.print(f"ratings and results written to {args.json}")
    return 0


def _play_pairs(console: Console, spec, players: list[Player], pairs, args, anchor: str | None):
    """Play every pair with a progress bar over all their games; returns the TournamentResult."""
    from arena.tournament import run_tournament as play_pairs

    with progress_display(console) as progress:
        task = progress.add_task("tournament", total=len(pairs) * args.games, detail="")

        def on_game(i, j, record) -> None:
            progress.update(task, advance=1, detail=f"{players[i].name} vs {players[j].name}")

        return play_pairs(spec, players, pairs, args.games, anchor=anchor, opening_plies=args.opening_plies,
                          seed=args.seed, parallel=args.parallel, on_game=on_game, out=args.out)


def run_ladder(args, console: Console) -> int:
    from arena.ladder import generation_checkpoints, plot_ladder, run_game
    from arena.tournament import ladder_pairs, write_csv, write_json

    _check_counts(args)
    if args.sims < 0 or args.neighbours < 0 or args.stride < 1:
        raise ArenaError("--sims and --neighbours must not be negative, --stride must be at least 1")
    spec = engine.get_game(run_game(args.run_dir))
    checkpoints = generation_checkpoints(args.run_dir, args.stride)
    if not checkpoints:
        raise ArenaError(f"{args.run_dir / 'checkpoints'} holds no genNNNNN.pt checkpoints yet")
    if len(checkpoints) + len(args.anchors) < 2:
        raise ArenaError("a ladder needs at least two players: add an anchor or wait for a second checkpoint")
    out_dir = args.run_dir / "ladder"
    csv_path, json_path = args.csv or out_dir / "ratings.csv", args.json or out_dir / "ratings.json"
    for path, flag in ((args.out, "--out"), (csv_path, "--csv"), (json_path, "--json"), (args.png, "--png")):
        check_writable(path, flag)
    net_specs = [f"net:{path},sims={args.sims}" for _, path in checkpoints]
    players = _players(net_specs + list(args.anchors), spec, args, console)
    labels = {player.name: f"gen{generation:05d}" for (generation, _), player in zip(checkpoints, players)}
    anchor = args.anchors[0] if args.anchors else None
    pairs = ladder_pairs(len(checkpoints), len(args.anchors), args.neighbours)
    result = _play_pairs(console, spec, players, pairs, args, anchor=anchor)
    console.print(_ratings_table(f"{args.run_dir}: {len(checkpoints)} checkpoints at {args.sims} simulations, "
                                 f"{args.games} games per pair", result.ratings, labels))
    write_csv(csv_path, result.ratings)
    write_json(json_path, result, {"game": spec.name, "games_per_pair": args.games, "sims": args.sims,
                                   "generations": {labels[name]: name for name in labels}})
    console.print(f"ratings written to {csv_path} and {json_path}")
    if args.png:
        plot_ladder(args.png, [g for g, _ in checkpoints], [p.name for p in players[:len(checkpoints)]],
                    result.ratings, list(args.anchors))
        console.print(f"plot written to {args.png}")
    return 0


def default_opponent(spec) -> tuple[str, str]:
    """The bot's spec when none is given, and a sentence saying which it is."""
    model = shipped_network(spec.name)
    if model is not None:
        return f"net:{model}", f"opponent: the shipped network {model}"
    return "mcts", f"opponent: pure MCTS (no network is shipped for {spec.name}; pass --opponent net:PATH for one)"


def run_play(args, console: Console) -> int:
    from arena.play import play_terminal

    spec = engine.get_game(args.game)
    if args.sims is not None and args.sims < 0:
        raise ArenaError("--sims must not be negative")
    text, note = (args.opponent, None) if args.opponent else default_opponent(spec)
    parsed = parse_player_spec(text)
    if parsed.kind == "human":
        raise ArenaError("the opponent must be a bot, not human")
    if args.sims is not None:
        if parsed.kind not in ("net", "mcts"):
            raise ArenaError(f"--sims applies to net and mcts opponents, not {parsed.kind}")
        if parsed.kind == "mcts" and args.sims < 1:
            raise ArenaError("pure MCTS needs at least one simulation")
        parsed = parsed.with_option("sims", args.sims)
    check_writable(args.out, "--out")
    _set_threads([parsed], args.threads)
    try:
        bot = make_player(parsed, spec, seed=args.seed)
    except Exception as error:
        if args.opponent or not _is_checkpoint_error(error):
            raise
        # The shipped network exists but does not load: say so and play without it.
        note = f"opponent: pure MCTS (the shipped network does not load: {error})"
        bot = make_player(parse_player_spec(f"mcts:sims={args.sims or DEFAULTS['mcts']['sims']}"), spec,
                          seed=args.seed)
    if note:
        console.print(note)
    return play_terminal(spec, bot, human_first=args.first == "human", console=console, out=args.out,
                         echo=not sys.stdin.isatty())


def gtp_model(spec, model: str | None) -> tuple[str | None, str]:
    """The checkpoint ``arena gtp`` plays (None: pure MCTS) for ``--model``, and a sentence saying
    which: without --model the network shipped for the board, on that board only."""
    if model is None:
        shipped = shipped_network(spec.name)
        if shipped is None:
            return None, f"pure MCTS with random playouts (no network is shipped for {spec.name})"
        return str(shipped), f"the shipped network {shipped} on {spec.name}, pure MCTS on other boards"
    if model.lower() == "none":
        return None, "pure MCTS with random playouts"
    return model, f"the network {model}"


def run_gtp(args, console: Console) -> int:
    from importlib.metadata import version

    from arena.gtp_engine import GTPEngine, search_factory

    spec = engine.get_game(args.game)
    if spec.gtp_size is None:
        raise ArenaError(f"GTP plays Go (go9, go13, go19, goN), not {spec.name}")
    if args.sims < 1 or args.analysis_sims < 1:
        raise ArenaError("--sims and --analysis-sims must be at least 1")
    if args.threads < 1:
        raise ArenaError("--threads must be at least 1")
    model, note = gtp_model(spec, args.model)
    if model is not None:
        import torch

        torch.set_num_threads(args.threads)
    make_search = search_factory(spec, model, args.sims, args.device, args.seed,
                                 rollouts_elsewhere=args.model is None)
    print(f"arena gtp: {note}", file=sys.stderr)  # once it has loaded
    gtp = GTPEngine(spec, make_search, resign_threshold=args.resign_threshold, version=version("zeroplay"),
                    log=sys.stderr, analysis_simulations=args.analysis_sims)
    return gtp.serve(sys.stdin, sys.stdout)


def _is_checkpoint_error(error: BaseException) -> bool:
    """Whether ``error`` is a nets.CheckpointError, without importing nets (and torch) to ask:
    when nets was never imported, no checkpoint was loaded."""
    checkpoint = sys.modules.get("nets.checkpoint")
    return checkpoint is not None and isinstance(error, checkpoint.CheckpointError)


class _NoProgress:
    """Stands in for a progress display while a human plays (it would fight the prompt)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        pass


COMMANDS = {"match": run_match, "tournament": run_tournament, "ladder": run_ladder, "play": run_play,
            "gtp": run_gtp}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = command_console()
    try:
        with contextlib.ExitStack() as args.cleanup:  # players register their close() there
            return COMMANDS[args.command](args, console)
    except QuitGame as quit_game:
        # Before the generic clause below, which would re-raise it. As in `arena play`: quitting or the
        # end of input is a normal way to stop (exit 0), Ctrl-C is not (130). Finished games are in --out.
        print(f"arena: {quit_game.reason}; {args.command} abandoned", file=sys.stderr)
        return 0
    except KeyboardInterrupt:
        print("arena: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if isinstance(error, (ArenaError, engine.UnknownGameError, PlayerSpecError, ValueError, GTPError)) \
                or _is_checkpoint_error(error):
            message = str(error)
        elif isinstance(error, OSError):  # an unwritable --out, --csv, --json or --png; a full disk
            message = os_error_text(error)
        else:
            raise
        print(f"arena: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
