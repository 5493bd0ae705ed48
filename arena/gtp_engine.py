"""A GTP version 2 engine: zeroplay's Go player for GUIs (Sabaki, GoGui) and other programs.

    arena gtp --game go9 --model runs/go9/checkpoints/latest.pt --sims 800

One command per line on standard input (an optional numeric id first; ``#``
comments and blank lines are ignored, as the protocol says), one response on
standard output: ``=[id] result`` or ``?[id] message``, each ended by a blank
line. Failures use the protocol's standard messages (``unknown command``,
``illegal move``, ``syntax error``, ``unacceptable size``, ``cannot undo``).

Rules are our Go engine's (engine/go.py): area scoring without dead-stone
removal, positional superko, a game over after two consecutive passes; so
``final_score`` is the area count of the board as it stands, unless the network
has an ownership head: then the stones ``final_status_list dead`` names are
taken off first, as a GUI's scorer would. ``play`` of the colour that is not to
move lets that colour move (handicap stones, set-ups).

Analysis (Sabaki, Lizzie, KaTrain): ``lz-analyze`` and ``kata-analyze`` answer ``=`` at
once, then write a report line each interval (arena.analysis has the formats) until the
next input line, which ends the response with its blank line and is then carried out;
their search stops at ``--analysis-sims`` and waits. ``lz-genmove_analyze`` and
``kata-genmove_analyze`` are genmove with reports while it searches, ending ``play D4``.

Time: with ``time_settings`` and ``time_left`` the search stops when its share
of the clock is spent (``--sims`` stays the most it searches); without them it
searches ``--sims`` simulations per move.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

import numpy as np

from arena.analysis import (AnalysisRequest, kata_analyze_line, lz_analyze_line, move_infos, ownership_words,
                            parse_request, predicted_ownership)
from engine import go, go_positions
from engine.spec import ONGOING, GameSpec, IllegalMoveError
from mcts import BatchedSearch, MCTSConfig, greedy_moves
from mcts.evaluators import RolloutEvaluator

PROTOCOL_VERSION = "2"
ENGINE_NAME = "zeroplay"

OWNED = 0.5
"""final_status_list: a point is clearly owned when its predicted ownership exceeds this."""

COLOURS = {"b": go.BLACK, "black": go.BLACK, "w": go.WHITE, "white": go.WHITE}


class GTPCommandError(Exception):
    """A command that fails: the message is the text after '?' (one of the protocol's
    standard messages)."""


class TimedSearch:
    """Batched MCTS on one position at a time that stops at a simulation cap or a deadline.

    The search runs in chunks of simulations on one tree; between chunks it
    checks the clock, so a move costs at most one chunk more than its time. With a
    network that has a score head it tracks score margins too (analysis reports them).
    """

    def __init__(self, spec: GameSpec, evaluator, config: MCTSConfig, chunk: int = 16):
        self.spec = spec
        self.evaluator = evaluator
        self.config = config.replace(root_noise=False, reuse_tree=False)
        self.search = BatchedSearch(spec, evaluator, self.config, batch_size=1,
                                    scores=getattr(evaluator, "has_score", False))
        self.chunk = chunk
        self.done = 0
        self.result = None

    def with_cap(self, simulations: int) -> TimedSearch:
        """The same search (evaluator, settings) with a cap of ``simulations``."""
        return TimedSearch(self.spec, self.evaluator, self.config.replace(num_simulations=simulations), self.chunk)

    def start(self, state: np.ndarray) -> None:
        """Search ``state [S]`` from scratch with the following ``step`` calls."""
        self.search.set_root(0, state)
        self.done = 0
        self.result = None

    @property
    def exhausted(self) -> bool:
        """The cap is reached (the tree holds config.num_simulations new nodes)."""
        return self.done >= self.config.num_simulations

    def step(self) -> None:
        """One chunk of simulations more (never past the cap)."""
        count = min(self.chunk, self.config.num_simulations - self.done)
        self.result = self.search.run(count)
        self.done += count

    def best_move(self, state: np.ndarray, seconds: float | None,
                  after_step: Callable[[], None] | None = None) -> tuple[int, float, int]:
        """(the move to play (``mcts.greedy_moves``: a move that wins at once, else the most
        visited), the root value for the side to move, simulations run)
        for ``state [S]``, searching until ``seconds`` pass (None: no clock) or the cap;
        ``after_step`` is called after each chunk (live analysis)."""
        deadline = None if seconds is None else time.monotonic() + seconds
        self.start(state)
        while not self.exhausted:
            self.step()
            if after_step is not None:
                after_step()
            if deadline is not None and time.monotonic() >= deadline:
                break
        return int(greedy_moves(self.result)[0]), float(self.result.root_values[0]), self.done


@dataclass
class GameClock:
    """GTP's time_settings and time_left, and the seconds one move may take."""

    main_time: float = 0.0
    byo_yomi_time: float = 0.0
    byo_yomi_stones: int = 0
    configured: bool = False
    left: dict[int, tuple[float, int]] = field(default_factory=dict)
    """colour -> (seconds left, stones left in the byo-yomi period; 0 = main time)."""

    def settings(self, main_time: float, byo_yomi_time: float, byo_yomi_stones: int) -> None:
        self.main_time, self.byo_yomi_time, self.byo_yomi_stones = main_time, byo_yomi_time, byo_yomi_stones
        self.configured = True
        self.left.clear()

    def move_seconds(self, colour: int, moves_to_play: int) -> float | None:
        """Seconds for this move: None without a clock (or with GTP's 'no time limit',
        byo-yomi time without stones); else a share of what is left, kept under it."""
        if not self.configured or (self.byo_yomi_time > 0 and self.byo_yomi_stones == 0):
            return None
        seconds, stones = self.left.get(colour, (self.main_time, 0))
        if stones > 0:  # in byo-yomi: the period over its stones
            share = seconds / stones
        else:  # main time spread over the moves still to play, then the byo-yomi period
            share = seconds / max(moves_to_play, 1)
            if self.byo_yomi_stones > 0:
                share += self.byo_yomi_time / self.byo_yomi_stones
        # A margin for the network's first call and the pipe to the controller.
        return max(0.05, 0.85 * share - 0.05)


class LineReader:
    """Standard input read by a thread of its own, so that live analysis can see that the
    next line has come without blocking on it."""

    def __init__(self, stdin: TextIO):
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._held: list[str | None] = []
        threading.Thread(target=self._read, args=(stdin,), daemon=True).start()

    def _read(self, stdin: TextIO) -> None:
        for line in stdin:
            self._lines.put(line)
        self._lines.put(None)  # the end of input

    def next(self) -> str | None:
        """The next line (waits for it); None at the end of input."""
        return self._held.pop() if self._held else self._lines.get()

    def waiting(self) -> bool:
        """A line (or the end of input) has come and is not read yet."""
        return bool(self._held) or not self._lines.empty()

    def wait(self) -> None:
        """Until a line (or the end of input) has come; it stays unread."""
        if not self._held:
            self._held.append(self._lines.get())


class Reply:
    """One response, written to ``stdout`` as it is made (a streaming command's header and
    report lines first), or kept in ``text`` when ``stdout`` is None; ``lines`` is the input,
    which interrupts live analysis (None: nothing interrupts it)."""

    def __init__(self, stdout: TextIO | None, lines: LineReader | None):
        self.stdout = stdout
        self.lines = lines
        self.ident = ""
        self.text = ""
        self.streaming = False

    def fail(self, message: str) -> None:
        self._write(f"?{self.ident} {message}\n\n")

    def start(self) -> None:
        """A streaming response's first line."""
        self.streaming = True
        self._write(f"={self.ident}\n")

    def write_line(self, line: str) -> None:
        self._write(line + "\n")

    def finish(self, result: str) -> None:
        if not self.streaming:  # "= " even when empty, as GNU Go answers
            self._write(f"={self.ident} {result}\n\n")
        else:
            self._write(f"{result}\n\n" if result else "\n")

    def input_waiting(self) -> bool:
        return self.lines is not None and self.lines.waiting()

    def wait_for_input(self) -> None:
        if self.lines is not None:
            self.lines.wait()

    def _write(self, text: str) -> None:
        if self.stdout is None:
            self.text += text
        else:
            self.stdout.write(text)
            self.stdout.flush()


class GTPEngine:
    """The protocol's state (board, history for undo, komi, clock) and its commands.

    ``make_search(spec)`` returns the TimedSearch for a board size or raises
    GTPCommandError("unacceptable size") (a network plays the size it was trained on).
    """

    def __init__(self, spec: GameSpec, make_search: Callable[[GameSpec], TimedSearch],
                 resign_threshold: float = -0.95, version: str = "", log: TextIO | None = None,
                 analysis_simulations: int = 10_000):
        self.make_search = make_search
        self.analysis_simulations = analysis_simulations
        self.resign_threshold = resign_threshold
        self.version = version
        self.log = log
        self.komi = go.DEFAULT_KOMI
        self.clock = GameClock()
        self.quit = False
        self.commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": lambda args: PROTOCOL_VERSION,
            "name": lambda args: ENGINE_NAME,
            "version": lambda args: self.version,
            "known_command": lambda args: "true" if args and self._known(args[0]) else "false",
            "list_commands": lambda args: "\n".join(sorted([*self.commands, *self.streaming_commands])),
            "quit": self._quit,
            "boardsize": self._boardsize,
            "clear_board": lambda args: self._new_game(),
            "komi": self._komi,
            "play": self._play,
            "genmove": self._genmove,
            "undo": self._undo,
            "showboard": lambda args: "\n" + self.spec.render(self.state),
            "final_score": self._final_score,
            "final_status_list": self._final_status_list,
            "time_settings": self._time_settings,
            "time_left": self._time_left,
        }
        self.streaming_commands: dict[str, Callable[[list[str], Reply], str]] = {
            "lz-analyze": lambda args, reply: self._analyze(args, reply, lz_analyze_line),
            "kata-analyze": lambda args, reply: self._analyze(args, reply, kata_analyze_line),
            "lz-genmove_analyze": lambda args, reply: self._genmove_analyze(args, reply, lz_analyze_line),
            "kata-genmove_analyze": lambda args, reply: self._genmove_analyze(args, reply, kata_analyze_line),
        }
        self._set_game(spec)

    # ---- protocol ---------------------------------------------------------------

    def respond(self, line: str) -> str | None:
        """The full response (with its blank line) to one input line; None for a line
        the protocol ignores (blank or a comment). An analysis command runs to its cap
        here, with nothing to interrupt it, and answers with its last report."""
        reply = Reply(None, None)
        self.execute(line, reply)
        return reply.text or None

    def serve(self, stdin: TextIO, stdout: TextIO) -> int:
        """Answer commands until ``quit`` or the end of input; analysis streams its
        reports until the next line comes."""
        lines = LineReader(stdin)
        while not self.quit:
            line = lines.next()
            if line is None:
                break
            self.execute(line, Reply(stdout, lines))
        return 0

    def execute(self, line: str, reply: Reply) -> None:
        """Carry out one input line, its response going to ``reply``."""
        text = "".join(c for c in line.split("#", 1)[0] if c == "\t" or c >= " " and c != "\x7f")
        words = text.replace("\t", " ").split()
        if not words:
            return
        if words[0].isdigit():
            reply.ident, words = words[0], words[1:]
            if not words:
                return reply.fail("syntax error")
        name, args = words[0], words[1:]
        try:
            if name in self.streaming_commands:
                result = self.streaming_commands[name](args, reply)
            elif name in self.commands:
                result = self.commands[name](args)
            else:
                return reply.fail("unknown command")
        except GTPCommandError as failure:
            return reply.fail(str(failure))
        reply.finish(result)

    def _known(self, name: str) -> bool:
        return name in self.commands or name in self.streaming_commands

    # ---- commands ---------------------------------------------------------------

    def _quit(self, args: list[str]) -> str:
        self.quit = True
        return ""

    def _boardsize(self, args: list[str]) -> str:
        size = _int_argument(args, 0)
        if not go.MIN_SIZE <= size <= go.MAX_SIZE:
            raise GTPCommandError("unacceptable size")
        if size != self.size:
            self._set_game(go.spec_for_size(size))
        self._new_game()
        return ""

    def _komi(self, args: list[str]) -> str:
        try:
            komi = float(args[0])
            self.history = [go_positions.set_komi(state, komi) for state in self.history]
        except (IndexError, ValueError):
            raise GTPCommandError("syntax error") from None
        self.komi = komi
        return ""

    def _play(self, args: list[str]) -> str:
        if len(args) != 2:
            raise GTPCommandError("syntax error")
        colour = _colour(args[0])
        try:
            action = self.spec.parse_move(args[1])
        except IllegalMoveError:
            raise GTPCommandError("syntax error") from None
        state = self.state
        if self.spec.status(state) != ONGOING:
            if action == self.spec.num_actions - 1:  # a pass after the game ended changes nothing
                return ""
            raise GTPCommandError("illegal move")
        if go_positions.side_to_move(state) != colour:
            state = go_positions.with_side_to_move(state, colour)
        legal = np.zeros(self.spec.num_actions, np.bool_)
        self.spec.legal_mask(state, legal)
        if not legal[action]:
            raise GTPCommandError("illegal move")
        self._push(state, action)
        return ""

    def _genmove(self, args: list[str], after_step: Callable[[], None] | None = None) -> str:
        if len(args) != 1:
            raise GTPCommandError("syntax error")
        colour = _colour(args[0])
        state = self.state
        if self.spec.status(state) != ONGOING:
            return "pass"
        if go_positions.side_to_move(state) != colour:
            state = go_positions.with_side_to_move(state, colour)
        points = self.size * self.size
        moves_to_play = max(points // 2 - len(self.history) // 2, 10)
        seconds = self.clock.move_seconds(colour, moves_to_play)
        started = time.monotonic()
        action, value, simulations = self.search.best_move(state, seconds, after_step)
        vertex = go.format_vertex(action, self.size)
        resign = value < self.resign_threshold
        if self.log is not None:
            print(f"{'resign' if resign else vertex}: value {value:+.3f} for {go_positions.COLOUR_NAMES[colour]}, "
                  f"{simulations} simulations in {time.monotonic() - started:.2f} s", file=self.log, flush=True)
        if resign:
            return "resign"
        self._push(state, action)
        return vertex

    def _analyze(self, args: list[str], reply: Reply, line_format) -> str:
        """lz-analyze, kata-analyze: search the position, a report each interval, until the
        next input line (after the cap: the last report, then wait for it)."""
        request, state = self._analysis_request(args)
        reply.start()
        if self.spec.status(state) != ONGOING:
            reply.wait_for_input()
            return ""
        search = self._analysis_search()
        ownership = (predicted_ownership(search.evaluator, self.spec, state)
                     if request.ownership and line_format is kata_analyze_line else None)
        report = self._reporter(reply, request, line_format, search,
                                "" if ownership is None else " " + ownership_words(ownership))
        search.start(state)
        reported_at = 0  # simulations done at the last report
        while not reply.input_waiting():
            if search.exhausted:
                if reported_at < search.done:
                    report(now=True)
                reply.wait_for_input()
                break
            search.step()
            if report():
                reported_at = search.done
        return ""

    def _genmove_analyze(self, args: list[str], reply: Reply, line_format) -> str:
        """lz-genmove_analyze, kata-genmove_analyze: genmove with a report each interval while
        it searches; the move comes as ``play D4`` (not interrupted by input)."""
        request, _ = self._analysis_request(args)
        colour = request.colour or go_positions.COLOUR_NAMES[go_positions.side_to_move(self.state)]
        reply.start()
        return f"play {self._genmove([colour], after_step=self._reporter(reply, request, line_format, self.search))}"

    def _reporter(self, reply: Reply, request: AnalysisRequest, line_format, search: TimedSearch,
                  suffix: str = "") -> Callable[..., bool]:
        """``report(now=False)``: write a report line of ``search``'s tree if the request's
        interval has passed since the last (or ``now``); returns whether it wrote one."""
        next_report = time.monotonic() + request.interval

        def report(now: bool = False) -> bool:
            nonlocal next_report
            if not now and time.monotonic() < next_report:
                return False
            reply.write_line(line_format(move_infos(search.search, request), self._vertex) + suffix)
            next_report = time.monotonic() + request.interval
            return True

        return report

    def _analysis_request(self, args: list[str]) -> tuple[AnalysisRequest, np.ndarray]:
        """The request and the position it analyses (the colour asked for to move)."""
        try:
            request = parse_request(args)
        except ValueError:
            raise GTPCommandError("syntax error") from None
        state = self.state
        if request.colour is not None and self.spec.status(state) == ONGOING:
            colour = _colour(request.colour)
            if go_positions.side_to_move(state) != colour:
                state = go_positions.with_side_to_move(state, colour)
        return request, state

    def _analysis_search(self) -> TimedSearch:
        if self.analysis_search is None:
            self.analysis_search = self.search.with_cap(self.analysis_simulations)
        return self.analysis_search

    def _final_status_list(self, args: list[str]) -> str:
        """The stones of a status (alive, dead, seki): ``_stone_statuses``."""
        if len(args) != 1 or args[0] not in ("alive", "dead", "seki"):
            raise GTPCommandError("syntax error")
        statuses = self._stone_statuses(self.state)
        return " ".join(self._vertex(point) for point, status in sorted(statuses.items()) if status == args[0])

    def _final_score(self, args: list[str]) -> str:
        """The area count once the dead stones (``_stone_statuses``) are off the board."""
        state = self.state
        dead = {point for point, status in self._stone_statuses(state).items() if status == "dead"}
        if dead:
            black, white = go_positions.stones(state)
            state = go_positions.position_from_stones(self.size, [p for p in black if p not in dead],
                                                      [p for p in white if p not in dead],
                                                      go_positions.side_to_move(state), go_positions.komi(state))
        return go_positions.score_text(state)

    def _stone_statuses(self, state: np.ndarray) -> dict[int, str]:
        """Each stone's status as the network's ownership head sees the board: dead where the
        opponent owns the point (below -0.5 for the stone's colour), seki where nobody clearly
        does, alive otherwise. Without an ownership head every stone is alive."""
        black, white = go_positions.stones(state)
        ownership = predicted_ownership(getattr(self.search, "evaluator", None), self.spec, state)
        if ownership is None:
            return dict.fromkeys(black + white, "alive")
        black_view = ownership * (1 if go_positions.side_to_move(state) == go.BLACK else -1)
        own = {point: black_view[point] for point in black} | {point: -black_view[point] for point in white}
        return {point: "dead" if owner < -OWNED else "alive" if owner > OWNED else "seki" for point, owner in own.items()}

    def _vertex(self, action: int) -> str:
        return go.format_vertex(action, self.size)

    def _undo(self, args: list[str]) -> str:
        if len(self.history) == 1:
            raise GTPCommandError("cannot undo")
        self.history.pop()
        return ""

    def _time_settings(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GTPCommandError("syntax error")
        self.clock.settings(_number_argument(args, 0), _number_argument(args, 1), _int_argument(args, 2))
        return ""

    def _time_left(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GTPCommandError("syntax error")
        self.clock.left[_colour(args[0])] = (_number_argument(args, 1), _int_argument(args, 2))
        return ""

    # ---- board ------------------------------------------------------------------

    @property
    def state(self) -> np.ndarray:
        return self.history[-1]

    def _set_game(self, spec: GameSpec) -> None:
        self.search = self.make_search(spec)
        self.analysis_search = None
        self.spec = spec
        self.size = spec.board_shape[0]
        self._new_game()

    def _new_game(self) -> str:
        self.history = [go_positions.set_komi(self.spec.initial_state(), self.komi)]
        return ""

    def _push(self, state: np.ndarray, action: int) -> None:
        following = np.empty_like(state)
        self.spec.play_into(state, action, following)
        self.history.append(following)


def _colour(word: str) -> int:
    try:
        return COLOURS[word.lower()]
    except KeyError:
        raise GTPCommandError("syntax error") from None


def _int_argument(args: list[str], index: int) -> int:
    try:
        value = int(args[index])
    except (IndexError, ValueError):
        raise GTPCommandError("syntax error") from None
    if value < 0:
        raise GTPCommandError("syntax error")
    return value


def _number_argument(args: list[str], index: int) -> float:
    try:
        value = float(args[index])
    except (IndexError, ValueError):
        raise GTPCommandError("syntax error") from None
    if not value >= 0:  # also NaN
        raise GTPCommandError("syntax error")
    return value


def search_factory(spec: GameSpec, model: str | None, simulations: int, device: str = "auto",
                   seed: int = 0, rollouts_elsewhere: bool = False) -> Callable[[GameSpec], TimedSearch]:
    """``make_search`` for GTPEngine: the network of checkpoint ``model`` on ``spec``'s board,
    or pure MCTS with random playouts (any size) when ``model`` is None. Other board sizes
    are refused ("unacceptable size": the network's input and policy are sized for its board),
    or with ``rollouts_elsewhere`` played by pure MCTS (the default network of ``arena gtp``,
    so that a GUI set to another size still gets an engine).
    Loading raises nets.CheckpointError for a missing, corrupt or mismatched checkpoint."""
    config = MCTSConfig(num_simulations=simulations)

    def pure_mcts(game: GameSpec) -> TimedSearch:
        return TimedSearch(game, RolloutEvaluator(game, seed=seed), config)

    if model is None:
        return pure_mcts
    from nets import NetworkEvaluator, load_checkpoint  # torch only when a network plays

    evaluator = NetworkEvaluator(load_checkpoint(model, game=spec.name).model, device=device)

    def make_search(game: GameSpec) -> TimedSearch:
        if game.name == spec.name:
            return TimedSearch(game, evaluator, config)
        if rollouts_elsewhere:
            return pure_mcts(game)
        raise GTPCommandError("unacceptable size")

    return make_search
