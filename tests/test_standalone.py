"""The project stands on its own: a clone with nothing beside it, or a plain install, has
everything it runs on (the solved Connect Four sets and the shipped networks are package data)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "mcts", "nets", "selfplay", "arena")
# What would make the project depend on a folder beside the checkout, or on an environment
# variable as the only way to find its data: a path climbing out of the repository into a
# sibling "shared" folder, or the variable the evaluation once read.
OUTSIDE = re.compile(r"\.\./shared|parents\[2\]\s*/\s*[\"']shared|parent\s*/\s*[\"']shared[\"']"
                     r"|shared/data|ZEROPLAY_CONNECT4_DATA")


def project_files() -> list[Path]:
    """Every source, test, benchmark and build file of the project (this test aside)."""
    files = [REPO / name for name in ("Makefile", "setup.cfg", "pyproject.toml", ".ci/run")]
    for folder in (*PACKAGES, "tests", "benchmarks"):
        files += [path for path in (REPO / folder).rglob("*") if path.suffix in (".py", ".sh", ".cfg", ".toml")]
    return [path for path in files if path.is_file() and path != Path(__file__).resolve()]


def test_nothing_reads_a_folder_beside_the_repository():
    offenders = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
                 for path in project_files()
                 for number, line in enumerate(path.read_text().splitlines(), start=1) if OUTSIDE.search(line)]
    assert not offenders, "\n".join(offenders)


def test_the_pattern_catches_what_it_should():
    for line in ('DATA = REPO.parent / "shared" / "data"', "see ../shared/data/connect4",
                 'Path(__file__).parents[2] / "shared"', 'os.environ["ZEROPLAY_CONNECT4_DATA"]'):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search('a shared volume: --run-dir /shared/runs/c4')


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project installed non-editable into a fresh virtualenv; its dependencies come from
    this environment (a .pth file), so nothing is downloaded: the build uses this environment's
    setuptools and no package index."""
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools in this environment")
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    for package in PACKAGES:
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--quiet", "--no-deps", "--no-build-isolation", "--no-index", str(source)],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "No module named pip" in done.stderr:
        pytest.skip("pip cannot install into another interpreter here")
    assert done.returncode == 0, done.stderr
    shutil.rmtree(source)  # the installed copy must not lean on the source tree
    return venv


def test_installed_copy_plays_with_its_shipped_network_from_anywhere(installed, tmp_path):
    out = tmp_path / "games.jsonl"
    played = subprocess.run([str(installed / "bin" / "arena"), "play", "--game", "connect4", "--sims", "8",
                             "--out", str(out)], input="4\nquit\n", capture_output=True, text=True,
                            cwd=tmp_path, timeout=600)
    assert played.returncode == 0, played.stderr
    site = str(next(installed.glob("lib/python*/site-packages")))
    assert f"the shipped network {site}/arena/models/connect4.pt" in played.stdout
    assert "bot plays" in played.stdout
    record = json.loads(out.read_text().splitlines()[0])
    assert record["moves"].startswith("4 ") and record["second"].startswith(f"net:{site}/arena/models/")


def test_installed_copy_finds_its_data(installed, tmp_path):
    probe = ("from arena.shipped import shipped_network; from engine.solved_sets import SET_NAMES, read_solved_set; "
             "print(shipped_network('go9')); print(sum(len(read_solved_set(name)) for name in SET_NAMES))")
    done = subprocess.run([str(installed / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    go9, positions = done.stdout.split()
    assert go9.startswith(str(installed)) and go9.endswith("arena/models/go9.pt")
    assert positions == "5000"
