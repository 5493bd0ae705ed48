"""The driver's side of a generation (``play_on_actors``) against scripted placements:
in-process ShardPlayers behind calls that die, or are refused while an actor restarts,
as a placement reports them. No processes, no Ray: what is tested is the counting."""

from __future__ import annotations

import dataclasses

import pytest

import engine
from nets import PolicyValueNet
from selfplay.backends import GenerationJob
from selfplay.config import RunConfig, preset
from selfplay.run_dir import RunError
from selfplay.shard_actors import ActorDied, ShardPlayer, play_on_actors
from selfplay.shards import generation_prefix, read_shard, shard_paths

GAMES = 16
PARALLEL = 4


def tiny_config() -> RunConfig:
    base = preset("tictactoe", gpu=False)
    return dataclasses.replace(
        base, mcts=base.mcts.replace(num_simulations=8),
        selfplay=dataclasses.replace(base.selfplay, games_in_parallel=PARALLEL, games_per_generation=GAMES),
        device="cpu",
    )


class ScriptedCalls:
    """``ActorCalls`` whose actors answer the first calls with the scripted outcomes
    (``ActorDied``), then play for real on in-process ShardPlayers."""

    def __init__(self, job: GenerationJob, script: dict[int, list[ActorDied]]):
        self.job = job
        self.script = {a: list(outcomes) for a, outcomes in script.items()}
        self.players = {}
        self.calls = {a: 0 for a in script}
        self.handles = 0

    def submit(self, actor: int, target_games: int):
        self.calls[actor] = self.calls.get(actor, 0) + 1
        self.handles += 1
        return self.handles, actor, target_games

    def wait(self, handles: list, timeout: float) -> list:
        handle, actor, target = handles[0]
        if self.script.get(actor):
            return [(handles[0], self.script[actor].pop(0))]
        if actor not in self.players:
            self.players[actor] = ShardPlayer(str(self.job.games_dir.parent), self.job.config.to_json(), actor)
        return [(handles[0], self.players[actor].play(self.job.weights, self.job.generation, target, None))]

    def live(self) -> tuple[int, int]:
        return 0, 0


@pytest.fixture
def job(tmp_path):
    config = tiny_config()
    weights = PolicyValueNet.from_spec(engine.get_game("tictactoe"), config.net).state_dict()
    return GenerationJob(config, weights, tmp_path / "games", 1, GAMES)


def games_on_disk(job: GenerationJob) -> int:
    return sum(read_shard(p).num_games for p in shard_paths(job.games_dir)
               if p.name.startswith(generation_prefix(job.generation)))


@pytest.mark.parametrize("lost", ["The actor died unexpectedly", "The actor is restarting."])
def test_calls_refused_while_an_actor_restarts_are_not_failures(job, lost):
    """A restart that outlasts max_failures refused calls (a slow start on a loaded machine)
    is waited for: the generation completes and counts the one lost call only, whether the
    placement reported that call as a death or (as Ray does for a killed actor) as a restart."""
    refused = ActorDied("The actor is restarting.", restarting=True)
    first = ActorDied(lost, restarting="restarting" in lost)
    calls = ScriptedCalls(job, {0: [first] + [refused] * 5})
    metrics = play_on_actors(job, 2, calls, lambda info: None, lambda line: None, max_failures=2,
                             poll_seconds=0.0, restart_seconds=60.0)
    assert metrics["actor0_failures"] == 1 and metrics["actor1_failures"] == 0
    assert calls.calls[0] == 7, "the lost call and every refused one were sent again"
    assert metrics["games"] == games_on_disk(job) == GAMES
    assert metrics["actor0_games"] == metrics["actor1_games"] == GAMES // 2


def test_an_actor_that_never_comes_back_ends_the_run_with_a_clear_error(job):
    refused = ActorDied("The actor is restarting.", restarting=True)
    calls = ScriptedCalls(job, {0: [refused] * 1000})
    with pytest.raises(RunError, match="self-play actor 0 has been restarting for"):
        play_on_actors(job, 2, calls, lambda info: None, lambda line: None, poll_seconds=0.0,
                       restart_seconds=2.5)
    assert 2 <= calls.calls[0] <= 5, "it was sent again about once a second until the limit"


def test_a_crash_loop_ends_the_run_after_max_failures_deaths(job):
    calls = ScriptedCalls(job, {1: [ActorDied("exit code -9")] * 1000})
    with pytest.raises(RunError, match="self-play actor 1 failed 4 times in generation 1; last error: exit code -9"):
        play_on_actors(job, 2, calls, lambda info: None, lambda line: None, max_failures=3, poll_seconds=0.0)
