"""A client for external Go engines that speak GTP version 2 (GNU Go, KataGo, Leela Zero...).

    with GTPClient("gnugo --mode gtp --level 1") as gnugo:
        gnugo.send("boardsize 9")
        gnugo.send("play black D4")
        move = gnugo.send("genmove white")      # e.g. "E5", "PASS" or "resign"

The engine runs as a subprocess (its command line split with ``shlex``; a bare
program name is looked up on PATH and then in the ``games`` folders where
Debian installs GNU Go). Each command is sent with a number, ``12 play black
D4``, and its response read back: ``=12 text`` for success, ``?12 message``
for failure, possibly over several lines, ended by an empty line. ``send``
returns the text and raises one of the ``GTPError`` subclasses below, whose
messages are one line each.

The engine's stderr is drained by a thread into a short buffer, so a chatty
engine never blocks on a full pipe and a dead one can say its last words.
After a timeout or a malformed response the conversation cannot be brought
back in step (a late answer would be taken for the next one), so the engine is
stopped and later commands raise ``GTPEngineClosed``.

Where it lives: Go's exchange formats sit in ``engine`` beside the Go rules, so that
every package above uses them from one place: this client (the arena's GTP players,
the GTP expert of ``selfplay.experts``, the GNU Go cross-checks), SGF records
(``engine.sgf``, ``engine.sgf_files``) and positions set up and read the way they
describe them (``engine.go_positions``: colour names, komi, setup stones, scores).
Our own engine speaking GTP (``arena.gtp_engine``) plays with arena players, so it
stays in ``arena``.
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

GAMES_DIRS = ("/usr/games", "/usr/local/games")
"""Folders searched after PATH: Debian and Ubuntu install GNU Go as /usr/games/gnugo, which is
not on root's PATH."""

DEFAULT_TIMEOUT = 60.0
"""Seconds a command may take before GTPTimeout (GNU Go at level 10 on 19x19 thinks for a few)."""

STDERR_LINES = 20
"""Lines of the engine's stderr kept for the message when it dies."""

_RESPONSE_START = re.compile(r"([=?])(\d*)(.*)")
"""The first line of a response: status character, optional id, then the text."""


class GTPError(Exception):
    """Anything that went wrong talking to a GTP engine; the message is one line."""


class GTPEngineNotFound(GTPError):
    """The engine's program does not exist or cannot be started."""


class GTPEngineDied(GTPError):
    """The engine exited (or closed its output) before answering; the message ends with the
    tail of its stderr."""


class GTPEngineClosed(GTPError):
    """A command sent after ``close()``, a timeout or a malformed response."""


class GTPTimeout(GTPError):
    """The engine did not answer within the timeout (it has been stopped)."""


class GTPProtocolError(GTPError):
    """The engine answered something that is not a GTP response (it has been stopped)."""


class GTPFailure(GTPError):
    """The engine answered ``?``: the command failed; ``message`` is the engine's reason."""

    def __init__(self, engine: str, command: str, message: str):
        super().__init__(f"GTP engine {engine!r} refused {command!r}: {message or '(no reason given)'}")
        self.command = command
        self.message = message


def find_executable(program: str) -> str | None:
    """The path of ``program``: as given when it names a file (contains a slash), else found on
    PATH, else in GAMES_DIRS; None when there is none."""
    if os.sep in program:
        return program if os.access(program, os.X_OK) and Path(program).is_file() else None
    found = shutil.which(program)
    if found is not None:
        return found
    for folder in GAMES_DIRS:
        candidate = Path(folder) / program
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def find_gnugo() -> str | None:
    """The GNU Go executable (PATH, then /usr/games), or None when it is not installed."""
    return find_executable("gnugo")


class GTPClient:
    """One external GTP engine in a subprocess; a context manager that quits it on exit.

    ``command``: the engine's command line, one string split with ``shlex`` (or a list of
    words). ``timeout``: seconds each command may take unless ``send`` says otherwise (None
    waits forever). ``cwd``: the engine's working folder.
    """

    def __init__(self, command: str | list[str], timeout: float | None = DEFAULT_TIMEOUT,
                 cwd: str | Path | None = None):
        try:
            words = shlex.split(command) if isinstance(command, str) else list(command)
        except ValueError as error:
            raise GTPEngineNotFound(f"malformed GTP engine command {command!r}: {error}") from None
        if not words:
            raise GTPEngineNotFound("empty GTP engine command")
        self.command = shlex.join(words)
        """The engine's command line as text (its name in messages)."""
        self.timeout = timeout
        program = find_executable(words[0])
        if program is None:
            where = "" if os.sep in words[0] else f" (searched PATH and {', '.join(GAMES_DIRS)})"
            raise GTPEngineNotFound(f"GTP engine {words[0]!r} not found{where}")
        self.argv = [program, *words[1:]]
        """The argv the engine was started with, its program resolved to a path."""
        try:
            self._process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=cwd, text=True, encoding="utf-8", errors="replace", bufsize=1)
        except OSError as error:
            raise GTPEngineNotFound(
                f"GTP engine {self.command!r} cannot be started: {error.strerror or error}") from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._readers = [
            threading.Thread(target=self._pump, args=(self._process.stdout, self._lines.put), daemon=True),
            threading.Thread(target=self._pump, args=(self._process.stderr, self._stderr.append), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self._next_id = 1
        self._closed = False

    @staticmethod
    def _pump(stream, put) -> None:
        """Copy ``stream``'s lines (without their line ends) to ``put`` until it ends, then put None
        and close it (here, not in ``_stop``: closing a pipe another thread reads can block)."""
        with stream:
            for line in stream:
                put(line.rstrip("\r\n"))
        put(None)

    @property
    def alive(self) -> bool:
        """Whether the engine process is still running and usable."""
        return not self._closed and self._process.poll() is None

    def send(self, command: str, timeout: float | None = None) -> str:
        """Send one command and return the engine's answer: the text after ``=``, its lines joined
        with newlines (a first line left empty dropped, trailing space removed). ``timeout``
        overrides the client's for this command.

        Raises GTPFailure on a ``?`` answer, GTPTimeout, GTPEngineDied, GTPProtocolError, GTPEngineClosed.
        """
        command = command.strip()
        if not command or "\n" in command or "\r" in command:
            raise ValueError(f"a GTP command is one non-empty line, not {command!r}")
        if self._closed:
            raise GTPEngineClosed(f"GTP engine {self.command!r} is closed; cannot send {command!r}")
        number = self._next_id
        self._next_id += 1
        try:
            self._process.stdin.write(f"{number} {command}\n")
            self._process.stdin.flush()
        except OSError:  # a broken pipe: the engine is gone
            raise self._died(command) from None
        status, text = self._read_response(command, number, self.timeout if timeout is None else timeout)
        if status == "?":
            raise GTPFailure(self.command, command, text)
        return text

    def _read_response(self, command: str, number: int, timeout: float | None) -> tuple[str, str]:
        """The status character and text of the response to command ``number``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        lines: list[str] = []
        while True:
            try:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                line = self._lines.get(timeout=wait)
            except queue.Empty:
                self._stop(timeout=0.0)  # a hung engine would not read its closed input: kill it now
                raise GTPTimeout(f"GTP engine {self.command!r} did not answer {command!r} within {timeout:g} s "
                                 "(engine stopped)") from None
            if line is None:
                raise self._died(command)
            if not lines:
                if not line.strip():
                    continue  # stray empty lines between responses carry nothing
                start = _RESPONSE_START.fullmatch(line)
                if start is None or (start.group(2) and int(start.group(2)) != number):
                    self._stop()
                    what = "a response to another command" if start else "not a GTP response"
                    raise GTPProtocolError(f"GTP engine {self.command!r} answered {command!r} with {line[:80]!r}: "
                                           f"{what} (engine stopped)")
                lines.append(start.group(3))
                status = start.group(1)
            elif not line.strip():
                # The first line's text follows "=id "; a multi-line answer (a board) may start on the next.
                first = lines[0].strip()
                return status, "\n".join(([first] if first else []) + lines[1:]).rstrip()
            else:
                lines.append(line)

    def _died(self, command: str) -> GTPEngineDied:
        """The error for an engine that is gone; waits briefly for its exit code and last stderr."""
        try:
            code = self._process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            code = None
        self._readers[1].join(timeout=1.0)
        self._stop()
        how = "closed its output" if code is None else f"exited with code {code}"
        tail = " | ".join(line.strip() for line in self._stderr if line and line.strip())
        return GTPEngineDied(f"GTP engine {self.command!r} {how} while answering {command!r}"
                             + (f"; stderr: {tail}" if tail else "; nothing on stderr"))

    def close(self, timeout: float = 5.0) -> None:
        """Send ``quit`` (when the engine is still usable), wait up to ``timeout`` seconds for it to
        exit, kill it otherwise, and reap it. Safe to call twice."""
        if not self._closed and self._process.poll() is None:
            try:
                self.send("quit", timeout=timeout)
            except GTPError:
                pass  # quitting anyway; _stop below makes sure
        self._stop(timeout)

    def _stop(self, timeout: float = 1.0) -> None:
        """End the process (politely by closing its input, then by killing it) and reap it."""
        self._closed = True
        process = self._process
        try:
            process.stdin.close()
        except OSError:
            pass  # a dead engine's input pipe may be broken
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for reader in self._readers:
            reader.join(timeout=1.0)

    def __enter__(self) -> "GTPClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GTPClient({self.command!r}, {'running' if self.alive else 'closed'})"
