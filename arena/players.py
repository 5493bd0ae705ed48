"""Players: batched move choosers built from player-spec strings (see ``arena.specs``).

A player gets every position where it is to move across the concurrent games
of a match at once, ``states [B, S]``, and answers ``Decisions`` with one
action per position (``actions [B]``) and its estimate of each position
(``values [B]`` in [-1, 1] for the side to move, NaN where it has none). A
network player therefore searches all its games in one ``BatchedSearch``, so
its network sees batches of B leaves. Matches call ``play_games``, which also
hands over each game's moves so far: an external GTP engine keeps its own
board and must be told them (it follows one game at a time: ``batched`` False).

Search players start a fresh tree for every decision: positions arrive without
saying which game they belong to, so no tree is carried from move to move.
Matches turn root noise off; the only randomness is the choice among equal
moves (and ``temp`` when it is above 0), drawn from the player's own seeded
generator. Temperature sampling works in log space (``mcts.search.sample_move``), so a
temperature as small as 0.001 plays the best move instead of overflowing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from rich.markup import escape

from arena.board import board_text
from arena.records import RESIGNED
from arena.specs import PlayerSpec, PlayerSpecError, parse_player_spec
from engine import go_positions
from engine.exact import solver_for
from engine.go_positions import COLOUR_NAMES
from engine.gtp_client import GTPClient, GTPEngineNotFound, GTPFailure
from engine.positions import play_move
from engine.spec import ONGOING, GameSpec, IllegalMoveError
from mcts import BatchedSearch, MCTSConfig, RolloutEvaluator
from mcts.search import SearchResult, choose_move, sample_move
from mcts.tree import ROOT, UNVISITED


class QuitGame(Exception):
    """A human asked to stop playing (or their input ended); the message says which."""

    def __init__(self, reason: str = "the human player quit"):
        super().__init__(reason)
        self.reason = reason


QUIT_WORDS = ("quit", "q", "exit", "resign")
"""What a human types to stop playing (any case), at every prompt of the arena."""
END_OF_INPUT = "end of input"
"""QuitGame's reason when the input ends (piped stdin), which counts as quitting."""


LONGEST_MOVE_LINE = 64
"""Longer lines are refused unread: every game's moves are a few characters."""


def read_human_move(spec: GameSpec, position: Callable[[], np.ndarray], read_line: Callable[[str], str],
                    console, prompt: str, commands: dict[str, Callable[[], None]] | None = None) -> int:
    """Read lines until one is a legal move of ``position()`` [S]; returns its action.

    Empty lines are skipped; a quit word (QUIT_WORDS) or the end of input raises QuitGame; a
    word of ``commands`` (lower case) runs its action and the loop reads on, asking
    ``position()`` again (``arena play``'s undo changes it); a bad move is refused with the
    engine's reason and asked again.
    """
    commands = commands or {}
    while True:
        try:
            text = read_line(prompt).strip()
        except EOFError:
            raise QuitGame(END_OF_INPUT) from None
        word = text.lower()
        if not word:
            continue
        if word in QUIT_WORDS:
            raise QuitGame()
        if word in commands:
            commands[word]()
            continue
        if len(text) > LONGEST_MOVE_LINE:  # no move is this long; parsing it could be slow or fail oddly
            console.print(f"[red]that is not a move: {len(text):,} characters[/]; try again")
            continue
        try:
            play_move(spec, position(), text)
        except ValueError as error:  # IllegalMoveError, and any text no parser foresaw
            console.print(f"[red]{escape(str(error))}[/]; try again")
            continue
        return spec.parse_move(text)


class AnalysisUnavailable(Exception):
    """The player has no view of the moves to give (random and human players)."""


@dataclass
class Decisions:
    """A player's answer for B positions."""

    actions: np.ndarray
    """[B] int64: the move chosen in each position."""
    values: np.ndarray
    """[B] float32: the player's value of each position for itself (the side to move), in
    [-1, 1]; NaN when the player has no estimate (random, human)."""
    endings: list[str | None] | None = None
    """[B] None where the action is played, else why the player gives that game up there
    (RESIGNED, "answered 'Z9', not a move"): the game ends as its loss. None: no endings."""


@dataclass
class Analysis:
    """What a player thinks of every move in one position (the terminal's hint)."""

    shares: np.ndarray
    """[A] float64: share of the player's attention per move (visit shares, policy, or
    1/k over the solver's k best moves); 0 for illegal moves."""
    values: np.ndarray
    """[A] float64: value of each move for the side to move in [-1, 1]; NaN when unknown."""
    value: float
    """Value of the position for the side to move (NaN when unknown)."""
    method: str
    """How it was computed, in a few words (e.g. '800 simulations')."""


def win_probability(value: float) -> float:
    """Expected score (a draw counts half) of a value in [-1, 1]: (1 + value) / 2."""
    return (1.0 + value) / 2.0


class Player:
    """Base of every player; subclasses implement ``play`` and optionally ``analyse``."""

    name: str = "player"
    interactive: bool = False
    """True when moves come from a person (matches then play one game at a time)."""
    batched: bool = True
    """False when the player can follow only one game at a time (humans, GTP engines)."""
    external: bool = False
    """True when moves come from another program: the referee then counts an illegal move as a loss
    instead of stopping the match on a bug of ours."""

    def __init__(self, spec: GameSpec, name: str):
        self.spec = spec
        self.name = name

    def play(self, states: np.ndarray) -> Decisions:
        """Choose a move in each of ``states`` [B, S] (all ongoing, this player to move), judging
        each position by itself. Players that need the moves that led there (GTP engines) do not
        have it: they implement ``play_games`` only, which is what matches and terminal play call."""
        raise NotImplementedError

    def play_games(self, states: np.ndarray, histories: list[list[int]]) -> Decisions:
        """``play`` for matches: ``histories[b]`` are the actions that led from the initial position to
        ``states[b]``. Players that judge a position by itself ignore them."""
        return self.play(states)

    def close(self) -> None:
        """Release what the player holds (an engine process); it plays no more afterwards."""

    def analyse(self, state: np.ndarray) -> Analysis:
        """This player's view of every move in ``state`` [S]."""
        raise AnalysisUnavailable(f"the {self.name} player does not analyse positions")

    def _legal_masks(self, states: np.ndarray) -> np.ndarray:
        masks = np.zeros((len(states), self.spec.num_actions), np.bool_)
        self.spec.legal_mask_batch(np.ascontiguousarray(states, np.int64), masks)
        return masks

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class RandomPlayer(Player):
    """Uniformly random legal moves."""

    def __init__(self, spec: GameSpec, name: str, seed: int = 0):
        super().__init__(spec, name)
        self.rng = np.random.default_rng(seed)

    def play(self, states):
        masks = self._legal_masks(states)
        actions = np.array([self.rng.choice(np.flatnonzero(mask)) for mask in masks], np.int64)
        return Decisions(actions, np.full(len(states), np.nan, np.float32))


class SolverPlayer(Player):
    """Perfect play in a game with an exact solver (``GameSpec.make_solver``): a random move
    among those with the best exact score."""

    def __init__(self, spec: GameSpec, name: str, seed: int = 0):
        try:
            self.solver = solver_for(spec)  # made only now: Connect Four's allocates a 64 MiB table
        except ValueError as error:
            raise PlayerSpecError(f"the solver player: {error}") from None
        super().__init__(spec, name)
        self.rng = np.random.default_rng(seed)

    def _scores(self, state: np.ndarray) -> np.ndarray:
        """[A] float64: exact score after each move for the mover (NaN where illegal)."""
        return np.array([np.nan if s is None else s for s in self.solver.analyze(state)], np.float64)

    def play(self, states):
        actions = np.zeros(len(states), np.int64)
        values = np.zeros(len(states), np.float32)
        for b, state in enumerate(states):
            scores = self._scores(state)
            best = np.flatnonzero(scores == np.nanmax(scores))
            actions[b] = self.rng.choice(best)
            values[b] = np.sign(np.nanmax(scores))
        return Decisions(actions, values)

    def analyse(self, state):
        scores = self._scores(state)
        best = scores == np.nanmax(scores)
        return Analysis(shares=best / best.sum(), values=np.sign(scores), value=float(np.sign(np.nanmax(scores))),
                        method="exact solver")


class SearchPlayer(Player):
    """MCTS with some evaluator: one BatchedSearch over all the positions it is given.

    The search is allocated for the largest batch seen so far; smaller batches
    leave the extra trees inactive.
    """

    def __init__(self, spec: GameSpec, name: str, evaluator, config: MCTSConfig,
                 temperature: float = 0.0, seed: int = 0):
        super().__init__(spec, name)
        self.evaluator = evaluator
        self.config = config.replace(root_noise=False, reuse_tree=False)
        self.temperature = temperature
        self.rng = np.random.default_rng(seed)
        self._search: BatchedSearch | None = None

    def search(self, states: np.ndarray) -> SearchResult:
        """Search ``states`` [B, S] from fresh roots in one batch; the result's first B rows are theirs."""
        count = len(states)
        if self._search is None or self._search.batch_size < count:
            self._search = BatchedSearch(self.spec, self.evaluator, self.config, batch_size=count)
        search = self._search
        for b in range(search.batch_size):
            if b < count:
                search.set_root(b, states[b])
            else:
                search.deactivate(b)
        return search.run()

    def play(self, states):
        result = self.search(states)
        actions = np.array([choose_move(result, b, self.temperature, self.rng) for b in range(len(states))],
                           np.int64)
        return Decisions(actions, result.root_values[:len(states)].astype(np.float32))

    def analyse(self, state):
        result = self.search(state[None])
        visit_counts, root_values = result.visit_counts, result.root_values
        tree = self._search.tree
        values = np.full(self.spec.num_actions, np.nan)
        for action, child in enumerate(tree.children[0, ROOT]):
            if child != UNVISITED and tree.visits[0, child] > 0:
                # value_sums are from the view of the player who moved into the node: the root's mover.
                values[action] = tree.value_sums[0, child] / tree.visits[0, child]
        counts = visit_counts[0].astype(np.float64)
        return Analysis(shares=counts / counts.sum(), values=values, value=float(root_values[0]),
                        method=f"{self.config.num_simulations} simulations")


class PolicyPlayer(Player):
    """A network without search (``net:PATH,sims=0``): the raw policy's best legal move."""

    def __init__(self, spec: GameSpec, name: str, evaluator, temperature: float = 0.0, seed: int = 0):
        super().__init__(spec, name)
        self.evaluator = evaluator
        self.temperature = temperature
        self.rng = np.random.default_rng(seed)

    def _evaluate(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masked log policy [B, A] (-inf on illegal moves), values [B] and legal masks [B, A] of
        ``states`` [B, S]."""
        states = np.ascontiguousarray(states, np.int64)
        planes = np.zeros((len(states), *self.spec.planes_shape), np.float32)
        self.spec.encode_batch(states, planes)
        logits, values = self.evaluator.evaluate(states, planes)
        masks = np.zeros((len(states), self.spec.num_actions), np.bool_)
        self.spec.search_mask_batch(states, masks)  # the moves search would consider
        logits = np.where(masks, np.asarray(logits, np.float64), -np.inf)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_policy = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return log_policy, values, masks

    def play(self, states):
        # Sampled from the log policy: probabilities ** (1 / T) under- or overflow at small T.
        log_policy, values, _ = self._evaluate(states)
        actions = np.array([sample_move(w, self.temperature, self.rng) for w in log_policy], np.int64)
        return Decisions(actions, values.astype(np.float32))

    def analyse(self, state):
        log_policy, values, masks = self._evaluate(state[None])
        policy = np.exp(log_policy)
        legal = np.flatnonzero(masks[0])
        children = np.zeros((len(legal), self.spec.state_size), np.int64)
        self.spec.play_batch(np.repeat(state[None], len(legal), axis=0), legal, children)
        move_values = np.full(self.spec.num_actions, np.nan)
        ongoing = np.array([self.spec.status(c) == ONGOING for c in children])
        for action, child in zip(legal[~ongoing], children[~ongoing]):
            move_values[action] = -float(self.spec.status(child))  # exact: the mover just won or drew
        if ongoing.any():
            _, child_values, _ = self._evaluate(children[ongoing])
            move_values[legal[ongoing]] = -child_values  # the child's value is the opponent's
        return Analysis(shares=policy[0].astype(np.float64), values=move_values, value=float(values[0]),
                        method="network policy and value, no search")


class HumanPlayer(Player):
    """Moves typed at the terminal, one position at a time; 'quit' raises QuitGame."""

    interactive = True
    batched = False

    def __init__(self, spec: GameSpec, name: str, console=None, read_line: Callable[[str], str] | None = None):
        super().__init__(spec, name)
        from rich.console import Console

        self.console = console or Console()
        self.read_line = read_line or self.console.input

    def play(self, states):
        actions = np.zeros(len(states), np.int64)
        for b, state in enumerate(states):
            self.console.print()
            self.console.print(board_text(self.spec, state))
            actions[b] = read_human_move(self.spec, lambda: state, self.read_line, self.console,
                                         "your move (or quit): ")
        return Decisions(actions, np.full(len(states), np.nan, np.float32))


class GTPPlayer(Player):
    """An external Go engine over GTP (``gtp:"gnugo --mode gtp --level 1"``), one game at a time.

    The engine keeps its own board, which follows the game: before each ``genmove`` the player
    sends the moves played since its last turn, or, when the moves do not extend those it sent
    (another game), ``boardsize``, ``clear_board``, ``komi`` (the position's) and the whole game.
    "resign" ends the game as the engine's loss, so does an answer that is not a point of the
    board and a legal move of the game that the engine refuses to play; the match's referee
    checks the moves it makes. Matches end with ``close()``, which quits the engine.
    """

    batched = False
    external = True

    def __init__(self, spec: GameSpec, name: str, command: str):
        if spec.gtp_size is None:
            raise PlayerSpecError(f"GTP players need a Go game (go9, go13, go19), not {spec.name}: {name}")
        super().__init__(spec, name)
        try:
            self.client = GTPClient(command)
        except GTPEngineNotFound as error:
            raise PlayerSpecError(f"player {name!r}: {error}") from None
        self._sent: list[int] | None = None
        """The game's moves the engine's board holds; None before the first game."""

    def play_games(self, states, histories):
        actions = np.full(len(states), self.spec.num_actions - 1, np.int64)  # ignored where a game ends
        endings: list[str | None] = [None] * len(states)
        for b, (state, history) in enumerate(zip(states, histories)):
            endings[b] = self._follow(state, history)
            if endings[b] is not None:
                continue
            colour = COLOUR_NAMES[go_positions.side_to_move(state)]
            answer = self.client.send(f"genmove {colour}")
            if answer.lower() == "resign":
                endings[b] = RESIGNED
                continue
            try:
                actions[b] = self.spec.parse_move(answer)
            except IllegalMoveError:
                endings[b] = f"answered genmove with {answer!r}, not a point of the board"
                continue
            self._sent = [*history, int(actions[b])]  # genmove played it on the engine's board
        return Decisions(actions, np.full(len(states), np.nan, np.float32), endings)

    def _follow(self, state: np.ndarray, history: list[int]) -> str | None:
        """Bring the engine's board to ``history`` (from the initial position, black first); the
        ending of the game when the engine refuses one of its moves, else None."""
        sent = self._sent
        if sent is None or history[:len(sent)] != sent:
            size = self.spec.board_shape[0]
            for command in (f"boardsize {size}", "clear_board", f"komi {go_positions.komi(state):g}"):
                self.client.send(command)
            sent = []
        self._sent = None  # unknown until every move is through
        for ply in range(len(sent), len(history)):
            colour = COLOUR_NAMES[1 if ply % 2 == 0 else -1]
            move = self.spec.format_move(history[ply])
            try:
                self.client.send(f"play {colour} {move}")
            except GTPFailure as failure:
                return f"refused the legal move {colour} {move} ({failure.message})"
        self._sent = list(history)
        return None

    def close(self) -> None:
        self.client.close()


def make_player(text: str | PlayerSpec, spec: GameSpec, seed: int = 0, console=None,
                read_line: Callable[[str], str] | None = None) -> Player:
    """Build the player a spec string names, for the game ``spec``.

    Raises PlayerSpecError (malformed spec, unknown option, a player this game
    cannot have) or a ``nets.CheckpointError`` (missing or mismatched checkpoint).
    """
    parsed = text if isinstance(text, PlayerSpec) else parse_player_spec(text)
    options = parsed.options
    if parsed.kind == "random":
        return RandomPlayer(spec, parsed.text, seed)
    if parsed.kind == "solver":
        return SolverPlayer(spec, parsed.text, seed)
    if parsed.kind == "human":
        return HumanPlayer(spec, parsed.text, console, read_line)
    if parsed.kind == "gtp":
        return GTPPlayer(spec, parsed.text, parsed.command)
    if parsed.kind == "mcts":
        evaluator = RolloutEvaluator(spec, num_playouts=options["playouts"], seed=seed)
        config = MCTSConfig(num_simulations=options["sims"])
        return SearchPlayer(spec, parsed.text, evaluator, config, options["temp"], seed)
    return _network_player(parsed, spec, seed)


def _network_player(parsed: PlayerSpec, spec: GameSpec, seed: int) -> Player:
    # torch is imported only here: matches without networks start fast.
    from nets import NetworkEvaluator, load_checkpoint

    options = parsed.options
    try:
        checkpoint = load_checkpoint(Path(parsed.path), game=spec.name)
        evaluator = NetworkEvaluator(checkpoint.model, device=options["device"])
    except ValueError as error:  # a device that does not exist here
        raise PlayerSpecError(f"player {parsed.text!r}: {error}") from None
    if options["sims"] == 0:
        return PolicyPlayer(spec, parsed.text, evaluator, options["temp"], seed)
    if options["utility"] > 0 and not evaluator.has_score:
        raise PlayerSpecError(f"player {parsed.text!r}: utility needs a network with a score head "
                              "(trained with --score-weight)")
    config = MCTSConfig(num_simulations=options["sims"], leaves_per_tree=options["leaves"], search=options["search"],
                        score_utility=options["utility"])
    return SearchPlayer(spec, parsed.text, evaluator, config, options["temp"], seed)
