"""The design of docs/ARCHITECTURE.md, checked on the code: imports go one way between the
packages, nothing outside engine/ switches on a game's name, and no module imports itself
back through a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "mcts", "nets", "arena", "selfplay")
ALLOWED = {
    "engine": set(),
    "mcts": {"engine"},
    "nets": {"engine"},
    "arena": {"engine", "mcts", "nets"},
    "selfplay": {"engine", "mcts", "nets", "arena"},
}
"""The packages each package may import (docs/ARCHITECTURE.md, "imports in one direction")."""
GAME_NAME_TEST = re.compile(r"""[=!]=\s*["'](connect4|tictactoe|go\d+)["']|["'](connect4|tictactoe|go\d+)["']\s*[=!]=""")


def modules() -> dict[str, Path]:
    """Module name -> file, for every module of the five packages."""
    return {".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): path
            for package in PACKAGES for path in (REPO / package).rglob("*.py")}


def imported_modules(path: Path, known: set[str], top_level_only: bool) -> set[str]:
    """The project modules ``path`` imports (``top_level_only``: not those imported inside
    functions, which run later and cannot close a cycle at import time)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def test_packages_import_in_one_direction():
    known = set(modules())
    wrong = []
    for name, path in modules().items():
        package = name.split(".")[0]
        for target in imported_modules(path, known, top_level_only=False):
            other = target.split(".")[0]
            if other != package and other not in ALLOWED[package]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_modules():
    known = set(modules())
    graph = {name: imported_modules(path, known, top_level_only=True) for name, path in modules().items()}
    # A package's __init__ importing its own submodules is how packages are built, not a cycle.
    graph = {name: {t for t in targets if not name.startswith(t + ".") and t != name} for name, targets in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]) if target in trail else target)
            elif target not in state:
                visit(target, trail + [target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def test_no_game_name_branch_outside_engine():
    branches = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
                for name, path in modules().items() if not name.startswith("engine")
                for number, line in enumerate(path.read_text().splitlines(), start=1)
                if GAME_NAME_TEST.search(line)]
    assert not branches, "\n".join(branches)


def test_the_checks_catch_what_they_should():
    assert GAME_NAME_TEST.search('if spec.name == "connect4":')
    assert GAME_NAME_TEST.search("if 'go9' != game:")
    assert not GAME_NAME_TEST.search('spec = engine.get_game("connect4")')
