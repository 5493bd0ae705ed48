"""Runs that cannot be corrupted (issue #14): each test reproduces one way a run directory
was damaged, through the command line, and checks the one-line error or the correct resume.

Tiny tic-tac-toe runs: a generation takes well under a second, a process start a few seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import engine
from arena.play import play_terminal
from arena.players import make_player
from arena.records import read_games
from nets import load_checkpoint
from selfplay.cli import main
from selfplay.run_dir import RunError, RunPaths, read_metrics
from selfplay.run_lock import RunLock

REPO = Path(__file__).resolve().parents[1]
# One self-play process (the trainer's): what these tests check does not depend on where the games
# are played, and each start of worker processes costs seconds. The tests where workers matter (a
# killed trainer's lock, a full disk under the workers' shards) add WORKERS.
TINY = ["--game", "tictactoe", "--num-simulations", "8", "--games-per-generation", "16", "--games-in-parallel", "16",
        "--steps-per-generation", "5", "--batch-size", "16", "--window-min", "100", "--device", "cpu", "--workers", "1"]
WORKERS = ("--workers", "2")
ENV = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", COLUMNS="200")


def selfplay(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """``python -m selfplay ARGS`` in a new process (a few seconds: torch and numba load)."""
    return subprocess.run([sys.executable, "-m", "selfplay", *args], cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=300, **kwargs)


def train(run_dir: Path, generations: int, *extra: str, **kwargs) -> subprocess.CompletedProcess:
    return selfplay(*train_args(run_dir, generations, *extra), **kwargs)


def train_args(run_dir: Path, generations: int, *extra: str) -> list[str]:
    return ["train", "--run-dir", str(run_dir), "--generations", str(generations), *TINY, *extra]


def selfplay_here(capsys, *args: str) -> subprocess.CompletedProcess:
    """The same command in this process (``selfplay.cli.main``): the variations of a case,
    once a subprocess has shown the case itself."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


def words(text: str) -> str:
    """``text`` with its line breaks (rich wraps long lines and titles) and runs of spaces as one space."""
    return " ".join(text.split())


def one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """The single stderr line of a refused command (exit code 2), which holds every fragment."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    error = done.stderr.strip()
    assert "\n" not in error and error.startswith("selfplay: error: "), done.stderr
    for fragment in fragments:
        assert fragment in error, (fragment, error)
    return error


def succeeded(done: subprocess.CompletedProcess) -> str:
    """The output of a command that exited 0, as ``words``."""
    assert done.returncode == 0, (done.stdout, done.stderr)
    return words(done.stdout)


def generations_in_metrics(paths: RunPaths) -> list[int]:
    return [row["generation"] for row in read_metrics(paths)]


def digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("gen*.pt"))}


def no_temporary_files(run_dir: Path) -> bool:
    return not [path for path in run_dir.rglob("*") if path.name.startswith(".") or path.suffix == ".tmp"]


# ---- 1. two trainers on one run directory ----------------------------------------------


def test_a_second_trainer_is_refused_and_kill_9_leaves_no_stale_lock(tmp_path, capsys):
    run_dir = tmp_path / "run"
    paths = RunPaths(run_dir)
    first = subprocess.Popen([sys.executable, "-m", "selfplay", *train_args(run_dir, 1000, *WORKERS)], cwd=REPO,
                             env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not paths.generation_checkpoint(1).exists():
            assert first.poll() is None, first.stderr.read().decode()
            assert time.time() < deadline, "the first trainer never finished generation 1"
            time.sleep(0.05)
        holder = f"in use by process {first.pid}"
        one_line_error(selfplay_here(capsys, *train_args(run_dir, 1000)), holder)
        one_line_error(selfplay_here(capsys, "pretrain", "--game", "tictactoe", "--games", "4", "--run-dir",
                                     str(run_dir)), holder)
        assert holder in succeeded(selfplay_here(capsys, "status", "--run-dir", str(run_dir)))
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # The kernel dropped the killed trainer's lock: the next start resumes, one lineage only.
    reached = load_checkpoint(paths.latest).extra["generation"]
    assert f"resumed {run_dir} at generation {reached}" in succeeded(train(run_dir, reached + 1))
    assert generations_in_metrics(paths) == list(range(1, reached + 2))
    written = [json.loads(line)["generation"] for line in paths.metrics.read_text().splitlines()]
    # Two trainers wrote 1, 1, 2, 2, ...; one writes each generation once (the one killed
    # between its metrics line and its checkpoint is redone).
    assert written == sorted(written) and len(written) - len(set(written)) <= 1, written
    assert "in use" not in succeeded(selfplay_here(capsys, "status", "--run-dir", str(run_dir)))


def test_the_lock_names_its_holder_in_process(tmp_path):
    with RunLock(tmp_path / "run"):
        with pytest.raises(RunError, match=f"in use by process {os.getpid()}"):
            with RunLock(tmp_path / "run"):
                pass
    with RunLock(tmp_path / "run"):  # released on leaving the block
        pass


def test_a_refused_start_leaves_no_directory_behind(tmp_path):
    run_dir = tmp_path / "new"
    with pytest.raises(ValueError):
        with RunLock(run_dir):
            raise ValueError("settings too big")
    assert not run_dir.exists()
    with RunLock(run_dir):
        (run_dir / "config.json").write_text("{}")
    assert run_dir.exists()


# ---- 2. a missing or damaged latest.pt -------------------------------------------------


def test_a_missing_or_damaged_latest_checkpoint_resumes_from_the_newest_generation(tmp_path, capsys):
    run_dir = tmp_path / "run"
    paths = RunPaths(run_dir)
    succeeded(selfplay_here(capsys, *train_args(run_dir, 3)))
    history = digests(paths.checkpoints)

    # The obvious repair of a truncated latest.pt: remove it. The run goes on from gen00003.pt.
    paths.latest.unlink()
    said = succeeded(train(run_dir, 4))
    assert "latest.pt: no such checkpoint file: resuming from gen00003.pt" in said
    assert "at generation 3" in said and "optimizer state and random state restart" in said
    assert {name: digests(paths.checkpoints)[name] for name in history} == history, "no generation overwritten"
    assert generations_in_metrics(paths) == [1, 2, 3, 4]
    assert len(paths.metrics.read_text().splitlines()) == 4, "metrics not doubled"
    latest = load_checkpoint(paths.latest)
    assert latest.extra["generation"] == 4 and latest.step == 4 * 5, "counters picked up from gen00003.pt"

    # A truncated latest.pt and an empty newest generation: back to the newest one that loads.
    paths.latest.write_bytes(paths.latest.read_bytes()[:1000])
    paths.generation_checkpoint(4).write_bytes(b"")
    said = succeeded(selfplay_here(capsys, *train_args(run_dir, 5)))
    assert "resuming from gen00003.pt" in said and "gen00004.pt: the file is empty" in said
    assert load_checkpoint(paths.latest).extra["generation"] == 5
    assert generations_in_metrics(paths) == [1, 2, 3, 4, 5]

    # Nothing loads: refused, with the way out, and nothing written.
    for path in paths.checkpoints.glob("gen*.pt"):
        path.unlink()
    paths.latest.write_bytes(b"")
    before = paths.metrics.read_bytes()
    one_line_error(selfplay_here(capsys, *train_args(run_dir, 6)), "cannot resume", "latest.pt: the file is empty",
                   "from a backup")
    assert paths.metrics.read_bytes() == before and not list(paths.checkpoints.glob("gen*.pt"))


# ---- 3. settings checked before anything is written -------------------------------------


def test_settings_are_checked_before_the_run_directory_holds_a_config(tmp_path, capsys):
    run_dir = tmp_path / "run"
    config = RunPaths(run_dir).config
    # The batch size failed only after a whole generation of self-play, with config.json written.
    one_line_error(train(run_dir, 1, "--batch-size", "1000000000"), "memory", "--batch-size")
    assert not run_dir.exists(), "a refused start leaves nothing behind"
    for flag, value, message in (("--num-simulations", "100000000", "memory"),
                                 ("--games-in-parallel", "100000000", "memory"),
                                 ("--num-simulations", "99999999999999999999", "num_simulations")):
        one_line_error(selfplay_here(capsys, *train_args(run_dir, 1, flag, value)), message)
        assert not run_dir.exists()
    # The corrected command starts the run; a resume with other settings names each one,
    # and --device (where a run executes, not what it is) may change.
    succeeded(selfplay_here(capsys, *train_args(run_dir, 1)))
    assert config.exists()
    one_line_error(selfplay_here(capsys, *train_args(run_dir, 2, "--num-simulations", "9", "--seed", "3")),
                   "mcts.num_simulations: saved 8, asked 9", "seed: saved 0, asked 3")
    succeeded(selfplay_here(capsys, *train_args(run_dir, 2, "--device", "auto")))
    assert generations_in_metrics(RunPaths(run_dir)) == [1, 2]


# ---- 4. bounds ------------------------------------------------------------------------------


def test_meaningless_numbers_are_refused_in_one_line(tmp_path, capsys):
    run_dir = tmp_path / "run"
    one_line_error(selfplay("train", "--run-dir", str(run_dir), "--minutes", "nan"), "--minutes", "finite")
    for flag, value in (("--minutes", "-5"), ("--generations", "-1"), ("--minutes", "inf"), ("--seed", "-1"),
                        ("--threads", "0"), ("--actors", "0"), ("--learning-rate", "nan"),
                        ("--resign-threshold", "nan"), ("--c-init", "inf")):
        with pytest.raises(SystemExit) as stopped:
            main(["train", "--run-dir", str(run_dir), flag, value])
        error = capsys.readouterr().err.strip()
        assert stopped.value.code == 2 and "\n" not in error, error
        assert error.startswith(f"selfplay: error: argument {flag}: expected"), error
    assert not run_dir.exists()


# ---- 5. arena play: any line is re-asked, the game always saved -------------------------------


def test_play_reasks_a_huge_move_line_and_saves_the_game(tmp_path):
    out = tmp_path / "play.jsonl"
    lines = ["4", "4" * 5000, "\u00b2", "3"]  # 5,000 digits: past Python's int() limit of 4,300
    done = subprocess.run([sys.executable, "-m", "arena", "play", "--game", "connect4", "--opponent", "random",
                           "--out", str(out)], input="".join(line + "\n" for line in lines), cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "that is not a move: 5,000 characters; try again" in done.stdout
    assert "'\u00b2' is not a column: Connect Four columns are 1-7; try again" in done.stdout
    [game] = read_games(out)
    assert len(game["moves"].split()) == 4 and game["moves"].split()[::2] == ["4", "3"]


def test_play_saves_the_game_when_it_ends_in_an_error(tmp_path):
    spec = engine.get_game("tictactoe")
    feed = iter(["b2"])

    def read_line(prompt: str) -> str:
        line = next(feed, None)
        if line is None:
            raise RuntimeError("the terminal went away")
        return line

    with pytest.raises(RuntimeError):
        play_terminal(spec, make_player("random", spec, seed=1), console=_quiet_console(), read_line=read_line,
                      out=tmp_path / "g.jsonl")
    [game] = read_games(tmp_path / "g.jsonl")
    assert game["moves"].split()[0] == "b2" and game["result"] == "*"


def _quiet_console():
    from rich.console import Console

    return Console(file=io.StringIO(), width=100)


# ---- 6. a full disk ----------------------------------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str = "700k"):
    """A ``size`` tmpfs mounted on ``folder`` (skips the test where mounting is not allowed)."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True) if shutil.which("mount") and os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def file_size_limit(size: int):
    """preexec_fn: files larger than ``size`` bytes cannot be written (EFBIG; Python ignores SIGXFSZ)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def check_full_disk(done: subprocess.CompletedProcess, run_dir: Path, reason: str) -> None:
    error = one_line_error(done, f"cannot write {run_dir}", reason, "run the same command again")
    assert "Traceback" not in done.stderr and "unexpected pos" not in error
    assert no_temporary_files(run_dir), "a failed save leaves no temporary file"
    load_checkpoint(RunPaths(run_dir).latest, game="tictactoe")  # never half a checkpoint


@pytest.mark.parametrize("limit", ["tmpfs", "file size limit"])
def test_a_full_disk_is_one_line_and_the_run_resumes_once_there_is_room(tmp_path, capsys, limit):
    if limit == "tmpfs":
        stack = contextlib.ExitStack()
        run_dir = stack.enter_context(small_tmpfs(tmp_path / "disk")) / "run"
        # The disk fills under whichever write comes next: the workers' shards among them.
        reason, limited, extra = "the disk is full", {}, WORKERS
    else:
        stack = contextlib.nullcontext()
        run_dir = tmp_path / "run"
        # gen0000N.pt (170 KB) fits; latest.pt with the optimizer's momentum (340 KB) does not.
        reason, limited, extra = "the file size limit is reached", {"preexec_fn": file_size_limit(250_000)}, ()
    with stack:
        check_full_disk(train(run_dir, 4, *extra, **limited), run_dir, reason)
        check_full_disk(train(run_dir, 4, *extra, **limited), run_dir, reason)  # every resume alike, no traceback
        saved = tmp_path / "moved"
        shutil.copytree(run_dir, saved)
    # With room, the same command resumes and finishes.
    succeeded(selfplay_here(capsys, *train_args(saved, 4)))
    assert generations_in_metrics(RunPaths(saved)) == [1, 2, 3, 4]
    assert load_checkpoint(RunPaths(saved).latest).extra["generation"] == 4


# ---- 7. metrics.jsonl after a partial line -------------------------------------------------------


def test_a_partial_metrics_line_loses_only_itself(tmp_path, capsys):
    run_dir = tmp_path / "run"
    paths = RunPaths(run_dir)
    succeeded(selfplay_here(capsys, *train_args(run_dir, 2)))
    text = paths.metrics.read_text()
    paths.metrics.write_text(text[:len(text) - 40])  # a storage fault cuts generation 2's line
    succeeded(train(run_dir, 3))
    lines = paths.metrics.read_text().splitlines()
    assert len(lines) == 3 and lines[2].startswith('{"generation": 3'), "generation 3 on a line of its own"
    warnings = []
    assert [row["generation"] for row in read_metrics(paths, warn=warnings.append)] == [1, 3]
    assert warnings == [f"{paths.metrics} line 2 is damaged (not a row of metrics); skipped"]
    status = selfplay_here(capsys, "status", "--run-dir", str(run_dir))
    assert "2 generations" in succeeded(status)
    assert status.stderr.strip() == f"selfplay: warning: {warnings[0]}"

