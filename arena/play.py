"""Terminal play against a bot: board, prompt, undo, hint, and the game saved.

The loop reads one line per human turn. Besides a move in the game's notation
it understands ``undo`` (take back your last move and the bot's reply),
``hint`` (the bot searches your position: share and win probability of every
move), ``help`` and ``quit`` (or another of ``arena.players.QUIT_WORDS``). A
bad move is refused with the engine's reason and asked again. End of input
(piped stdin) quits like ``quit``. The prompt is ``arena.players.read_human_move``,
which a human player of ``arena match`` answers too.

Win probabilities are expected scores: (1 + value) / 2, a draw counting half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from arena.board import board_text, mark_of_player
from arena.players import END_OF_INPUT, AnalysisUnavailable, Player, QuitGame, read_human_move, win_probability
from arena.match import refereed_ending
from arena.records import GameLog, MatchGame
from engine.spec import ONGOING, GameSpec

HELP_WORDS = ("help", "?")


@dataclass
class _Game:
    """The game so far: positions[k] is the position before moves[k]."""

    spec: GameSpec
    human_first: bool
    positions: list[np.ndarray] = field(default_factory=list)
    moves: list[int] = field(default_factory=list)
    bot_ending: str | None = None
    """Why the bot gave the game up (a GTP engine resigned or answered nonsense); None while it plays."""

    @property
    def state(self) -> np.ndarray:
        return self.positions[-1]

    @property
    def human_to_move(self) -> bool:
        return (len(self.moves) % 2 == 0) == self.human_first

    def play(self, action: int) -> None:
        following = np.empty_like(self.state)
        self.spec.play_into(self.state, action, following)
        self.positions.append(following)
        self.moves.append(action)

    def undo(self) -> int:
        """Take back moves up to and including the human's last; returns how many (0: nothing to undo)."""
        human_moves = [k for k in range(len(self.moves)) if (k % 2 == 0) == self.human_first]
        if not human_moves:
            return 0
        count = len(self.moves) - human_moves[-1]
        del self.moves[-count:]
        del self.positions[-count:]
        return count


def play_terminal(spec: GameSpec, bot: Player, human_first: bool = True, console: Console | None = None,
                  read_line: Callable[[str], str] | None = None, out: str | Path | None = None,
                  echo: bool = False) -> int:
    """Play one game at the terminal; returns 0 when it ends or is quit, 130 on Ctrl-C.

    ``read_line(prompt)`` returns one line of input (default: ``console.input``);
    EOFError there counts as quit. ``out``: JSON-lines file the game is appended to.
    ``echo``: print each line read after its prompt (input piped from a file is
    not shown by the terminal, and a transcript should show what was typed).
    """
    console = console or Console()
    read_line = _echoing(read_line or console.input, console) if echo else (read_line or console.input)
    game = _Game(spec, human_first, [spec.initial_state()])
    human_mark, bot_mark = mark_of_player(human_first), mark_of_player(not human_first)
    console.print(f"You are [bold]{human_mark}[/] and move {'first' if human_first else 'second'}; "
                  f"the bot ({bot.name}) is {bot_mark}.")
    console.print(_help_text(spec))
    outcome = "abandoned"
    exit_code = 0
    try:
        _draw(console, game, human_first)
        while spec.status(game.state) == ONGOING:
            if game.human_to_move:
                command = _human_turn(console, read_line, spec, game, bot)
                if command == "quit":
                    console.print("You left the game.")
                    break
            else:
                _bot_turn(console, game, bot)
                if game.bot_ending is not None:
                    outcome = "finished"
                    break
            _draw(console, game, human_first)
        else:
            outcome = "finished"
    except KeyboardInterrupt:
        console.print("\ninterrupted: game abandoned")
        exit_code = 130
    finally:
        # Whatever ends the game, even an error, the moves played so far are saved.
        _summarise(console, spec, game, bot, outcome, out)
    return exit_code


def _echoing(read_line: Callable[[str], str], console: Console) -> Callable[[str], str]:
    def read_and_echo(prompt: str) -> str:
        line = read_line(prompt)
        console.print(line, markup=False, highlight=False)
        return line

    return read_and_echo


def _help_text(spec: GameSpec) -> str:
    example = spec.format_move(0)
    return (f"Type a move (e.g. {example}), [bold]undo[/] to take back your last move, "
            f"[bold]hint[/] for the bot's advice, [bold]quit[/] to stop.")


def _draw(console: Console, game: _Game, human_first: bool) -> None:
    previous = game.positions[-2] if len(game.positions) > 1 else None
    console.print()
    console.print(board_text(game.spec, game.state, previous))
    if game.moves:
        last_by_human = (len(game.moves) - 1) % 2 == 0 if human_first else (len(game.moves) - 1) % 2 == 1
        console.print(f"last move: {game.spec.format_move(game.moves[-1])} "
                      f"({'you' if last_by_human else 'bot'}, highlighted)", style="dim")


def _human_turn(console: Console, read_line, spec: GameSpec, game: _Game, bot: Player) -> str:
    """Read lines until a move is played ('move') or the human quits ('quit')."""
    commands = {word: lambda: console.print(_help_text(spec)) for word in HELP_WORDS}
    commands["undo"] = lambda: _undo(console, game)
    commands["hint"] = lambda: _hint(console, spec, game.state, bot)
    try:
        action = read_human_move(spec, lambda: game.state, read_line, console, "your move: ", commands)
    except QuitGame as quit_game:
        if quit_game.reason == END_OF_INPUT:
            console.print("\nend of input")
        return "quit"
    game.play(action)
    return "move"


def _undo(console: Console, game: _Game) -> None:
    taken = game.undo()
    if not taken:
        console.print("[yellow]nothing to undo[/]: you have not moved yet")
        return
    console.print(f"took back {taken} move{'s' if taken > 1 else ''}")
    _draw(console, game, game.human_first)


def _bot_turn(console: Console, game: _Game, bot: Player) -> None:
    with console.status(f"{bot.name} is thinking...", spinner="dots"):
        # With the game's moves: a GTP engine follows the game on its own board.
        decisions = bot.play_games(game.state[None], [list(game.moves)])
    # An external engine's resignation or illegal move ends the game as it would a match game.
    game.bot_ending = refereed_ending(game.spec, bot, game.state, decisions, 0)
    if game.bot_ending is not None:
        console.print(f"the bot gives up: {escape(game.bot_ending)}")
        return
    action = int(decisions.actions[0])
    value = float(decisions.values[0])
    estimate = f" (its win probability {win_probability(value):.0%})" if math.isfinite(value) else ""
    game.play(action)
    console.print(f"bot plays [bold]{game.spec.format_move(action)}[/]{estimate}")


def _hint(console: Console, spec: GameSpec, state: np.ndarray, bot: Player) -> None:
    try:
        with console.status("thinking about your position...", spinner="dots"):
            analysis = bot.analyse(state)
    except AnalysisUnavailable as error:
        console.print(f"[yellow]no hint: {error}[/]")
        return
    table = Table(title=f"hint ({analysis.method})")
    table.add_column("move", justify="center")
    table.add_column("share", justify="right")
    table.add_column("win prob.", justify="right")
    legal = np.zeros(spec.num_actions, np.bool_)
    spec.legal_mask(state, legal)
    for action in sorted(np.flatnonzero(legal), key=lambda a: (-analysis.shares[a], a)):
        value = analysis.values[action]
        table.add_row(spec.format_move(int(action)), f"{analysis.shares[action]:.0%}",
                      f"{win_probability(value):.0%}" if math.isfinite(value) else "-")
    console.print(table)
    best = int(np.argmax(np.where(legal, analysis.shares, -1.0)))
    summary = f"suggested move: [bold]{spec.format_move(best)}[/]"
    if math.isfinite(analysis.value):
        summary += f"; your win probability {win_probability(analysis.value):.0%}"
    console.print(summary)


def _summarise(console: Console, spec: GameSpec, game: _Game, bot: Player, outcome: str,
               out: str | Path | None) -> None:
    status = spec.status(game.state)
    result_first = None
    if game.bot_ending is not None:
        result_first = 1 if game.human_first else -1
    elif status != ONGOING:
        # status is the final value for the side to move; the first player moves after an even count.
        result_first = int(status) if len(game.moves) % 2 == 0 else -int(status)
    if result_first is not None:
        human_result = result_first if game.human_first else -result_first
        console.print({1: "[bold green]You win![/]", 0: "[bold]Draw.[/]",
                       -1: "[bold red]The bot wins.[/]"}[human_result])
    moves = " ".join(spec.format_move(a) for a in game.moves)
    console.print(f"{len(game.moves)} moves: {moves or '(none)'}" + ("" if outcome == "finished" else " (unfinished)"))
    if out is not None:
        first, second = ("human", bot.name) if game.human_first else (bot.name, "human")
        record = MatchGame(game=spec.name, first=first, second=second, moves=list(game.moves), opening_plies=0,
                           result=result_first, a_first=game.human_first, ending=game.bot_ending)
        with GameLog(out, spec) as log:
            log.write(record)
        console.print(f"game saved to {out}")
