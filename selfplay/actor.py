"""Self-play actors: B games at once with the batched search.

Each slot plays one game; a finished slot starts a new game at once, so the
network keeps seeing batches of B positions. Moves are chosen from the visit
counts at temperature 1 for the opening moves and greedily after (PUCT), or as Gumbel search
chooses them (its Gumbel noise is the sampling). A player
whose root value falls below the resignation threshold resigns, except in a
share of games that never resign and measure how often resigning would have
been wrong. With playout-cap randomisation (KataGo) only a share of moves get
the full search and become training targets; the others are searched small.
A run that trains auxiliary heads also records their targets (``selfplay.targets``), e.g.
for each position the policy target of the position after its move: the opponent's reply.
With ``ownership_end`` (Go) a game ends once the ownership head names every point's owner
confidently, scored by those owners as if both players had passed and agreed on the dead
stones, except in a share of games that play on and measure how often that result was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from engine.spec import ONGOING, GameSpec
from mcts import BatchedSearch, MCTSConfig, choose_move
from mcts.evaluators import Evaluator
from selfplay.config import SelfPlayConfig
from selfplay.shards import GameRecord
from selfplay.targets import OWNERSHIP, REPLY, SCORE, UNKNOWN_OWNER


@dataclass
class _Slot:
    """The game in flight in one slot."""

    rng: np.random.Generator
    resign_disabled: bool
    end_checked: bool = False  # plays on past a board the ownership head settles, to check its result
    moves: int = 0
    states: list = field(default_factory=list)
    policies: list = field(default_factory=list)
    players: list = field(default_factory=list)
    root_values: list = field(default_factory=list)  # the search's value of each recorded position
    plies: list = field(default_factory=list)  # the ply of each recorded position (some go unrecorded)
    would_resign: int = 0  # the first player (+1/-1) to fall below the threshold in a no-resign game
    settled_result: int | None = None  # in a checked game: the result the ownership head first settled on

    @property
    def player(self) -> int:
        """+1 when the first player is to move (players alternate in every game here)."""
        return 1 if self.moves % 2 == 0 else -1

    def value_targets(self, result: int, discount: float, search_weight: float) -> np.ndarray:
        """[T] float32: each recorded position's value target for its side to move: the game's
        result z, discounted by ``discount`` per ply to the end, mixed with the search's root
        value q as (1 - search_weight) * z + search_weight * q."""
        players = np.array(self.players, np.float32)
        plies_left = self.moves - np.array(self.plies, np.float32)
        final = players * result * discount ** plies_left
        return ((1.0 - search_weight) * final + search_weight * np.array(self.root_values, np.float32)
                ).astype(np.float32)

    def reply_policies(self, num_actions: int) -> np.ndarray:
        """[T, A] float32: the policy target of the position after each recorded one (the
        opponent's reply), a row of zeros where that position was not recorded or the game ended."""
        replies = np.zeros((len(self.policies), num_actions), np.float32)
        for t in range(len(self.policies) - 1):
            if self.plies[t + 1] == self.plies[t] + 1:
                replies[t] = self.policies[t + 1]
        return replies

    def final_targets(self, spec: GameSpec, final: Scored | None, keys: frozenset[str]) -> dict:
        """The ownership and score rows asked for in ``keys``, from each recorded position's side
        to move, of the game scored as ``final`` (None: resigned, rows unknown)."""
        targets = {}
        players = np.array(self.players, np.int8)
        if OWNERSHIP.key in keys:
            targets[OWNERSHIP.key] = (np.full((len(players), spec.board_shape[0] * spec.board_shape[1]),
                                              UNKNOWN_OWNER, np.int8)
                                      if final is None else players[:, None] * final.owners[None, :])
        if SCORE.key in keys:
            targets[SCORE.key] = (np.full(len(players), np.nan, np.float32) if final is None
                                  else (players * final.margin).astype(np.float32))
        return targets

    def record(self, spec: GameSpec, ending: Ending, discount: float, search_weight: float,
               aux_targets: frozenset[str]) -> GameRecord:
        """The game as a record, ended as ``ending`` says."""
        aux = self.final_targets(spec, ending.final, aux_targets)
        if REPLY.key in aux_targets:
            aux[REPLY.key] = self.reply_policies(spec.num_actions)
        empty = (0,)
        result = ending.result
        return GameRecord(
            states=np.array(self.states, np.int64).reshape(-1, spec.state_size),
            policies=np.array(self.policies, np.float32).reshape(-1, spec.num_actions),
            players=np.array(self.players, np.int8).reshape(empty if not self.players else -1),
            values=self.value_targets(result, discount, search_weight),
            result=result,
            length=self.moves,
            resign_disabled=self.resign_disabled,
            resigned=ending.how == RESIGNED,
            would_resign=self.would_resign != 0,
            false_resign=self.would_resign != 0 and result * self.would_resign >= 0,
            ownership_ended=ending.how == OWNERSHIP_ENDED,
            would_end=self.settled_result is not None,
            false_end=self.settled_result is not None and self.settled_result != result,
            aux=aux,
        )


class Scored(NamedTuple):
    """A final board as scored: ``owners`` [H*W] int8 (+1 the first player's point, -1 the
    second's, 0 neither) and ``margin`` (the first player's area margin after komi)."""

    owners: np.ndarray
    margin: float


def scored_by_owners(spec: GameSpec, state: np.ndarray, owners: np.ndarray) -> Scored:
    """``state`` [S] scored as if ``owners`` [H*W] int8 (the first player's view) named each
    point's final owner: the area margin of the board as it stands (``spec.final_ownership``),
    with every point whose owner differs (a dead stone, a point of the dame) counted for the
    owner named. Komi is in the board's margin, and stays."""
    board_owners, board_margin = spec.final_ownership(state)
    return Scored(owners, board_margin + float(owners.sum()) - float(board_owners.sum()))


PLAYED_OUT, RESIGNED, OWNERSHIP_ENDED = "played out", "resigned", "ownership"


class Ending(NamedTuple):
    """How a game ended: ``result`` for the first player (+1, 0, -1), ``how`` (PLAYED_OUT,
    RESIGNED or OWNERSHIP_ENDED) and the scored final board where the run's targets need it
    (None: not needed, or unknown after a resignation)."""

    result: int
    how: str
    final: Scored | None = None


def settled_rows(ownership: np.ndarray, threshold: float) -> np.ndarray:
    """The rows of ``ownership`` [B, H*W] (predicted owners, in [-1, 1]) whose every point's
    owner is at least ``threshold`` sure: the positions the ownership head calls settled."""
    return np.flatnonzero(np.abs(ownership).min(axis=1) >= threshold)


def settled_ending(spec: GameSpec, state: np.ndarray, ownership: np.ndarray, player: int) -> Ending:
    """The ending of a game stopped at ``state`` [S] (``player`` to move: +1 the first player)
    whose owners the ownership head names as ``ownership`` [H*W] (the side to move's view):
    scored by those owners (``scored_by_owners``)."""
    final = scored_by_owners(spec, state, np.sign(ownership * player).astype(np.int8))
    return Ending(int(np.sign(final.margin)), OWNERSHIP_ENDED, final)


@dataclass
class ActorStats:
    moves: int = 0
    recorded: int = 0
    simulations: int = 0


class SelfPlayActor:
    """Plays self-play games in ``config.games_in_parallel`` slots; the records carry the
    auxiliary targets whose keys are in ``aux_targets`` (``selfplay.targets``)."""

    def __init__(self, spec: GameSpec, evaluator: Evaluator, mcts_config: MCTSConfig,
                 config: SelfPlayConfig, rng: np.random.Generator, aux_targets: frozenset[str] = frozenset()):
        if config.ownership_end > 0 and not (spec.final_ownership is not None
                                             and getattr(evaluator, "has_ownership", False)):
            raise ValueError(f"ownership_end needs a game scored by territory and a network with an "
                             f"ownership head ({spec.name})")
        self.spec = spec
        self.config = config
        self.aux_targets = aux_targets
        self.evaluator = evaluator
        self.mcts_config = mcts_config.replace(root_noise=True)
        self.batch_size = config.games_in_parallel
        self.search = BatchedSearch(spec, evaluator, self.mcts_config, self.batch_size)
        self.rng = rng
        self.slots: list[_Slot | None] = [None] * self.batch_size
        self.stats = ActorStats()
        self._needs_final = bool(aux_targets & {OWNERSHIP.key, SCORE.key})

    def _new_game(self, b: int) -> None:
        self.slots[b] = _Slot(
            rng=np.random.default_rng(self.rng.integers(2**63)),
            resign_disabled=bool(self.rng.random() < self.config.resign_disabled_share),
            end_checked=bool(self.config.ownership_end > 0
                             and self.rng.random() < self.config.ownership_end_check_share),
        )
        self.search.set_root(b, self.spec.initial_state())

    def _played_out(self, b: int, status: int) -> Ending:
        """The ending of slot ``b``'s game, over by the rules with ``status`` for the side to move."""
        slot = self.slots[b]
        final = Scored(*self.spec.final_ownership(self.search.root_state(b))) if self._needs_final else None
        return Ending(int(status) * slot.player, PLAYED_OUT, final)

    def _settled(self, active: np.ndarray) -> dict[int, Ending]:
        """The games among ``active`` whose root position the ownership head calls settled (every
        point's owner at least ``ownership_end`` sure), each scored by those owners
        (``settled_ending``). A checked game that already has its verdict is not asked again."""
        slots = np.array([b for b in active if self.slots[b].settled_result is None], np.int64)
        if not len(slots):
            return {}
        states = np.stack([self.search.root_state(b) for b in slots])
        planes = np.zeros((len(slots), *self.spec.planes_shape), np.float32)
        self.spec.encode_batch(states, planes)
        ownership = self.evaluator.evaluate_ownership(planes)  # [B, H*W], for the side to move
        return {int(slots[row]): settled_ending(self.spec, states[row], ownership[row], self.slots[slots[row]].player)
                for row in settled_rows(ownership, self.config.ownership_end)}

    def play(self, num_games: int, on_game=None) -> list[GameRecord]:
        """Play ``num_games`` complete games; ``on_game(record)`` is called as each ends."""
        cfg = self.config
        finished: list[GameRecord] = []
        started = 0
        for b in range(self.batch_size):
            if started < num_games:
                self._new_game(b)
                started += 1
            else:
                self.search.deactivate(b)
        full_sims = self.mcts_config.num_simulations
        while len(finished) < num_games:
            active = np.flatnonzero(self.search.active)
            full = self.rng.random(self.batch_size) < cfg.full_search_share
            sims = np.where(full, full_sims, min(cfg.fast_simulations, full_sims))
            result = self.search.run(num_simulations=sims, rngs=[s.rng if s else None for s in self.slots])
            settled = self._settled(active) if cfg.ownership_end > 0 else {}
            actions = np.zeros(self.batch_size, np.int64)
            ended: dict[int, Ending] = {}
            for b in active:
                slot = self.slots[b]
                self.stats.simulations += int(sims[b])
                if full[b]:
                    slot.states.append(self.search.root_state(b))
                    slot.policies.append(result.policies[b])
                    slot.players.append(slot.player)
                    slot.root_values.append(float(result.root_values[b]))
                    slot.plies.append(slot.moves)
                    self.stats.recorded += 1
                if b in settled:
                    if not slot.end_checked:
                        ended[b] = settled[b]
                        continue
                    if slot.settled_result is None:
                        slot.settled_result = settled[b].result
                if result.root_values[b] < cfg.resign_threshold:
                    if not slot.resign_disabled:
                        ended[b] = Ending(-slot.player, RESIGNED)
                        continue
                    if slot.would_resign == 0:
                        slot.would_resign = slot.player
                temperature = 1.0 if slot.moves < cfg.temperature_moves else 0.0
                actions[b] = choose_move(result, b, temperature, slot.rng)
            for b in active:
                if b in ended:
                    continue
                self.search.advance_one(int(b), int(actions[b]))
                slot = self.slots[b]
                slot.moves += 1
                self.stats.moves += 1
                status = self.spec.status(self.search.root_state(b))
                if status != ONGOING:
                    ended[b] = self._played_out(b, status)
            for b, ending in ended.items():
                record = self.slots[b].record(self.spec, ending, self.mcts_config.value_discount,
                                              cfg.value_target_search, self.aux_targets)
                finished.append(record)
                if on_game is not None:
                    on_game(record)
                if started < num_games:
                    self._new_game(b)
                    started += 1
                else:
                    self.slots[b] = None
                    self.search.deactivate(b)
        return finished
