"""An external Go engine as the expert (``gtp:"COMMAND"``): it plays both sides over GTP.

    selfplay pretrain --game go9 --expert gtp:"gnugo --mode gtp --level 10" --games 2000 --run-dir runs/go9-sl

The engine is started once per source (``engine.gtp_client.GTPClient``: a bare
program name is found on PATH, then in /usr/games where Debian puts GNU Go),
told the board size and the komi of the game's initial position (7.5), and
kept for all the source's games. Game ``index``:

1. ``clear_board``, then a random opening of k moves, k uniform in
   [opening_min, opening_max], each uniform among our engine's legal moves
   other than pass, drawn from a generator seeded by ``(seed, index)`` and sent
   with ``play``. The opening is what makes games differ: GNU Go plays the
   same move in the same position every time, and this source does not rely on
   an engine's own randomness (GNU Go's ``--seed``) for anything.
2. The engine plays both sides, ``genmove b`` / ``genmove w`` in turn, until two
   passes in a row, a ``resign``, or our engine's cap of 2 N^2 moves. Every
   move it answers is checked on our engine and played there; a move that is
   not a point of the board, or that our rules forbid, stops the generation
   with a one-line error naming the engine and the move (like the arena's
   referee), except a repetition: our rules forbid repeating any earlier board
   (positional superko) where GNU Go by default forbids only the immediate ko
   retake, so a long ko fight can bring such a move. That game ends before it
   (the engine takes it back with ``undo``) and is scored as it stands:
   stopping the generation instead would stop it for good, since the same
   index replays the same game (``gnugo --positional-superko`` plays by ours).
3. The result: the engine's ``final_score`` ("B+6.5", "W+0.5", "0"), which
   counts after removing the stones the engine judges dead; our Tromp-Taylor
   count (``engine.go_positions.score_text``) removes none and would give such stones to
   their owner, so a game that both sides stopped because the rest is settled
   could come out the other way. Only an engine without ``final_score`` (a
   refusal) is scored by our count. A resignation loses.

Labels: only the positions where the engine moved; policy target [A] one-hot
on its move, value target the result for the side to move (+1, -1; 0 for a
draw). The random opening is not labelled.

Each game is also returned as SGF (``ExpertGame.sgf``, opening included; both
players named by the engine's ``name`` and ``version``), which the generation
saves as ``<run-dir>/sgf/expert-NNNNNN.sgf``.

With ``--workers N`` every worker process makes its own source, and so starts
its own engine; ``close()`` quits it.
"""

from __future__ import annotations

import time

import numpy as np

from arena.records import APPLICATION
from arena.specs import parse_player_spec
from engine import go, go_positions
from engine.go_positions import COLOUR_NAMES
from engine.gtp_client import GTPClient, GTPError, GTPFailure
from engine.positions import play_action, random_moves
from engine.sgf import SGFGame, moves_from_actions, sgf_bytes, today
from engine.spec import ONGOING, GameSpec, IllegalMoveError
from selfplay.config import ExpertConfig
from selfplay.experts import ExpertGame, record_of_moves


class GTPSource:
    """Games of one GTP engine playing itself on one Go board (see the module docstring)."""

    label = "gtp"

    def __init__(self, spec: GameSpec, argument: str, config: ExpertConfig, seed: int):
        size = spec.gtp_size
        if size is None:
            raise ValueError(f"the gtp expert plays Go; {spec.name} is not Go (use go9, go13, go19...)")
        self.spec = spec
        self.size = size
        self.config = config
        self.seed = seed
        self.komi = go_positions.komi(spec.initial_state())
        # gtp:"gnugo --mode gtp" may keep its quotes; the arena reads the command the same way.
        self.command = parse_player_spec(f"gtp:{argument}").command
        try:
            self.client = GTPClient(self.command)
        except GTPError as error:
            raise ValueError(str(error)) from None
        try:
            self._send(f"boardsize {size}")
            self._send(f"komi {self.komi:g}")
            named = " ".join(self._send(command, refused="") for command in ("name", "version")).strip()
        except ValueError:
            self.client.close()
            raise
        self.engine_name = named or self.command
        """Both players' name in the SGF files: the engine's name and version."""
        self.summary = f"gtp: {self.engine_name} ({self.command}) plays {spec.name}, komi {self.komi:g}"
        """One line for the user: which engine plays what."""

    def _send(self, command: str, refused: str | None = None) -> str:
        """The engine's answer, or ``refused`` when it refuses a command it need not know. Its
        failures are one-line ValueErrors, which the command line reports and which worker
        processes pass back whole (GTPFailure does not survive pickling)."""
        try:
            return self.client.send(command)
        except GTPFailure as failure:
            if refused is not None:
                return refused
            raise ValueError(str(failure)) from None
        except GTPError as error:
            raise ValueError(str(error)) from None

    def available(self) -> None:
        return None

    def close(self) -> None:
        self.client.close()

    def game(self, index: int) -> ExpertGame:
        started = time.perf_counter()
        spec = self.spec
        rng = np.random.default_rng([self.seed, index])
        pass_action = spec.num_actions - 1  # left out of the opening
        actions, state = random_moves(spec, int(rng.integers(self.config.opening_min, self.config.opening_max + 1)),
                                      rng, exclude=pass_action)
        opening = len(actions)
        self._send("clear_board")
        for ply, action in enumerate(actions):  # black (the first player) on even plies
            self._send(f"play {COLOUR_NAMES[go.BLACK if ply % 2 == 0 else go.WHITE]} {spec.format_move(action)}")
        states: list[np.ndarray] = []
        resigned = None
        while spec.status(state) == ONGOING:
            colour = COLOUR_NAMES[go_positions.side_to_move(state)]
            answer = self._send(f"genmove {colour}")
            if answer.strip().lower() == "resign":
                resigned = colour
                break
            try:
                action = spec.parse_move(answer)
                if go.move_verdict(state, action)[0] == go.SUPERKO:
                    self._send("undo")  # the game ends before the repetition (module docstring)
                    break
                following = play_action(spec, state, action)
            except IllegalMoveError as error:
                raise ValueError(f"GTP engine {self.command!r} answered 'genmove {colour}' with {answer!r} at "
                                 f"move {len(actions) + 1} of expert game {index}: {error}") from None
            states.append(state)
            actions.append(action)
            state = following
        if resigned is not None:
            result = f"{'W' if resigned == 'black' else 'B'}+R"
        else:  # the engine's count with dead stones removed; ours only for an engine without one
            result = self._send("final_score", refused="") or go_positions.score_text(state)
        record = SGFGame(board_size=self.size, komi=self.komi, moves=moves_from_actions(actions, self.size),
                         result=result, black=self.engine_name, white=self.engine_name, date=today(),
                         application=APPLICATION)
        black_result = record.result_for_first
        if black_result is None:
            raise ValueError(f"GTP engine {self.command!r} answered 'final_score' with {result!r}, not a score "
                             f"such as B+3.5, W+0.5 or 0")
        # Black, who moves first, is the first player.
        game = record_of_moves(spec, states, actions[opening:], black_result, len(actions), offset=opening,
                               resigned=resigned is not None)
        return ExpertGame(game, opening=opening, seconds=time.perf_counter() - started, sgf=sgf_bytes(record))


def make_source(spec: GameSpec, argument: str | None, config: ExpertConfig, seed: int) -> GTPSource:
    return GTPSource(spec, argument, config, seed)
