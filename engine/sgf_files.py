"""Sets of SGF games: files, folders and zips read in one sorted pass, games filtered by rank.

``iter_sgf_games`` yields the usable games (``engine.sgf`` reads each one) and counts every
other one, and every file that cannot be read, in an ``SGFSummary`` under one of
``engine.sgf.SKIP_REASONS``; it never raises on bad content. The supervised bootstrap
(``selfplay.experts.sgf``) reads its game records through here.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from engine.sgf import SGFError, SGFGame, check_rank, parse_sgf, rank_order


@dataclass
class SGFSummary:
    """What reading a set of SGF files gave: games used, and games skipped by reason."""

    files: int = 0
    """SGF files (and zip members) read."""
    games: int = 0
    """Games used."""
    skipped: Counter = field(default_factory=Counter)
    """Games (or unreadable files) skipped, by reason (keys of SKIP_REASONS)."""
    examples: dict = field(default_factory=dict)
    """The first skipped game of each reason: 'SOURCE: detail'."""

    def skip(self, source: str, error: SGFError) -> None:
        """Count one skipped game."""
        self.skipped[error.reason] += 1
        self.examples.setdefault(error.reason, f"{source}: {error.detail}")

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped.values())

    def __str__(self) -> str:
        text = f"{self.games} games from {self.files} files"
        if self.skipped:
            text += "; skipped " + ", ".join(f"{count} {reason}" for reason, count in self.skipped.most_common())
        return text


def iter_sgf_games(path: str | Path, *, min_rank: str | None = None,
                   summary: SGFSummary | None = None) -> Iterator[SGFGame]:
    """The usable games of an SGF file, a zip of SGF files, or a folder (searched recursively for
    ``*.sgf`` and ``*.zip``), in sorted order. Skipped games, and files that cannot be read, are
    counted in ``summary``. ``min_rank`` (e.g. "5d", "1k") keeps games whose two players both rank
    at least that; ValueError at once (not at the first game) when it is not a rank or ``path``
    does not exist."""
    minimum = check_rank(min_rank) if min_rank is not None else None
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder")
    return _games(path, minimum, summary if summary is not None else SGFSummary())


def _games(path: Path, minimum: tuple[int, int] | None, summary: SGFSummary) -> Iterator[SGFGame]:
    for source, data in _sgf_contents(path, summary):
        summary.files += 1
        for game in parse_sgf(data, source):
            if isinstance(game, SGFGame) and minimum is not None:
                game = _rank_filter(game, minimum)
            if isinstance(game, SGFError):
                summary.skip(source, game)
            else:
                summary.games += 1
                yield game


def read_sgf_games(path: str | Path, *, min_rank: str | None = None) -> tuple[list[SGFGame], SGFSummary]:
    """``iter_sgf_games`` collected: the usable games and the summary."""
    summary = SGFSummary()
    games = list(iter_sgf_games(path, min_rank=min_rank, summary=summary))
    return games, summary


def _sgf_contents(path: Path, summary: SGFSummary) -> Iterator[tuple[str, bytes]]:
    """(source label, bytes) of every SGF file under ``path``; unreadable files and archives are counted."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".sgf", ".zip"))
    else:
        files = [path]
    for file in files:
        try:
            if file.suffix.lower() == ".zip" or (file.suffix.lower() != ".sgf" and zipfile.is_zipfile(file)):
                yield from _zip_contents(file, summary)
            else:
                yield str(file), file.read_bytes()
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as error:
            summary.skip(str(file), SGFError("unreadable", str(error)))


def _zip_contents(file: Path, summary: SGFSummary) -> Iterator[tuple[str, bytes]]:
    """The SGF members of a zip; a damaged member is counted and the others still read."""
    with zipfile.ZipFile(file) as archive:
        for name in sorted(n for n in archive.namelist() if n.lower().endswith(".sgf")):
            source = f"{file}:{name}"
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError, NotImplementedError) as error:  # bad CRC, unknown compression
                summary.skip(source, SGFError("unreadable", str(error)))
                continue
            yield source, data


def _rank_filter(game: SGFGame, minimum: tuple[int, int]) -> SGFGame | SGFError:
    for colour, rank in (("black", game.black_rank), ("white", game.white_rank)):
        order = rank_order(rank)
        if order is None:
            return SGFError("rank unknown", f"{colour}'s rank {rank!r} is not a rank" if rank else
                            f"{colour} has no rank")
        if order < minimum:
            return SGFError("below minimum rank", f"{colour} is {rank}")
    return game
