"""What the command lines write to a pipe or a log file: whole lines, whole numbers.

rich assumes 80 columns off a terminal; these tests run the commands as
``make train > log`` and ``selfplay status | less`` would, with a long metrics
line (the Connect Four evaluation) and a wide table.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from rich.table import Table

from arena.console import command_console

ENV = dict(os.environ, OMP_NUM_THREADS="1", COLUMNS="80")


def selfplay(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selfplay", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=600)


def test_console_off_a_terminal_neither_wraps_nor_truncates():
    out = io.StringIO()
    console = command_console(out)
    sentence = " ".join(f"word{i}" for i in range(60))  # about 400 characters
    console.print(sentence)
    table = Table()
    for column in range(12):
        table.add_column(f"column {column}")
    table.add_row(*[f"{123456.789 * (column + 1):,.3f}" for column in range(12)])
    console.print(table)
    lines = out.getvalue().splitlines()
    assert lines[0] == sentence
    assert "…" not in out.getvalue() and "1,481,481.468" in out.getvalue()


def test_train_log_and_status_in_a_pipe_keep_whole_lines(tmp_path):
    """A Connect Four run scores the shipped solved positions every --eval-every generations and
    after its last, and its lines reach a pipe unbroken (run from another directory, as an
    installed copy would be)."""
    run_dir = tmp_path / "c4"
    trained = selfplay("train", "--game", "connect4", "--run-dir", str(run_dir), "--generations", "3",
                       "--net", "b1c8", "--num-simulations", "4", "--games-per-generation", "8",
                       "--games-in-parallel", "8", "--steps-per-generation", "2", "--batch-size", "16",
                       "--eval-positions", "20", "--eval-simulations", "4", "--eval-every", "2",
                       "--device", "cpu", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    lines = [line for line in trained.stdout.splitlines() if line.startswith("generation ")]
    assert [("optimal moves (exact / result)" in line) for line in lines] == [False, True, True]
    assert all("mean length" in line and line.endswith(" s") for line in lines)
    assert len(lines[1]) > 80
    rows = [json.loads(line) for line in (run_dir / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert ["optimal_moves_net" in row for row in rows] == [False, True, True]
    for key in ("optimal_moves_net", "optimal_moves_search", "optimal_result_net", "optimal_result_search"):
        assert 0.0 <= rows[-1][key] <= 1.0
    status = selfplay("status", "--run-dir", str(run_dir), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "…" not in status.stdout and f"{rows[-1]['optimal_moves_net']:.1%}" in status.stdout
