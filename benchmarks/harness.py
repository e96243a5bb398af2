"""Drive the real r1tui under a pseudo-terminal against a simulated server in its own process.

Both run as separate processes so that the figures (CPU time, resident memory,
bytes written to the terminal) belong to the app alone, as a user's `top` and
SSH link would see them.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import socket
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import psutil

if TYPE_CHECKING:
    import argparse

    from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
# Terminal sizes users meet: a wide SSH window and the classic default.
USER_SIZES: tuple[tuple[int, int], ...] = ((160, 50), (80, 24))


def isolate_user_dirs() -> Path:
    """Give this benchmark (and every process it starts) its own XDG config, data and state folders.

    A benchmark must neither read the user's config (their theme, panel or model
    would change the figures) nor write chats into their history. Child processes
    inherit the folders through the environment; the process that made them
    removes them on exit.
    """
    inherited = os.environ.get("R1TUI_BENCH_SCRATCH")
    if inherited:
        return Path(inherited)
    import atexit
    import shutil
    import tempfile

    scratch = tempfile.mkdtemp(prefix="r1tui-bench-")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        os.environ[name] = os.path.join(scratch, name.lower())
    os.environ["R1TUI_BENCH_SCRATCH"] = scratch
    os.environ.pop("OLLAMA_HOST", None)
    atexit.register(shutil.rmtree, scratch, True)
    return Path(scratch)


SCRATCH = isolate_user_dirs()  # on import: every benchmark imports this module first


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """"160x50,80x24" → [(160, 50), (80, 24)]."""
    sizes = []
    for part in text.split(","):
        cols, _, rows = part.strip().lower().partition("x")
        sizes.append((int(cols), int(rows)))
    return sizes


def sizes_argument(parser: "argparse.ArgumentParser") -> None:
    parser.add_argument("--sizes", type=parse_sizes, default=list(USER_SIZES),
                        help="terminal sizes COLSxROWS, comma-separated (default: 160x50,80x24)")


_ESCAPES = rb"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def loose(text: str) -> "re.Pattern[bytes]":
    """`text` as the terminal receives it: style changes and cursor moves may fall between any two characters."""
    return re.compile(_ESCAPES.join(re.escape(bytes([b])) for b in text.encode()))


def terminal_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """A user's terminal: TERM=xterm-256color, COLORTERM unset (no truecolor claim)."""
    environment = {key: value for key, value in os.environ.items() if key != "COLORTERM"}
    environment["TERM"] = "xterm-256color"
    environment.update(extra or {})
    return environment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SimProcess:
    """`python -m tui.demo` with a synthetic reply of a given length."""

    def __init__(self, rate: float, reasoning_tokens: int, answer_tokens: int, shape: str = "mixed") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.demo", "--port", str(self.port), "--rate", str(rate),
             "--reasoning-tokens", str(reasoning_tokens), "--answer-tokens", str(answer_tokens),
             "--answer-shape", shape],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "simulated Ollama listening on ..."

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


SYNC_QUERY = b"\x1b[?2026$p"
SYNC_REPLY = b"\x1b[?2026;2$y"  # DECRPM: mode 2026 (synchronized output) is supported, currently reset
SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
_MOVE_TO = re.compile(rb"\x1b\[(\d+);(\d+)H")


@dataclass
class Frame:
    """One frame the app wrote (between SYNC_START and SYNC_END): when it ended, its size, the cells it starts writing at."""

    at: float
    size: int
    moves: list[tuple[int, int]]  # (row, column), 0-based, of each cursor move inside the frame

    def touches(self, rows: range, columns: range) -> bool:
        """Whether the frame writes into the area: a line that starts inside it (Textual moves the cursor to
        the start of each run of cells it writes; the last move only parks the cursor)."""
        return any(row in rows and column in columns for row, column in self.moves[:-1])


@dataclass
class Output:
    chunks: list[tuple[float, int]] = field(default_factory=list)
    text: bytearray = field(default_factory=bytearray)
    frames: list[Frame] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)  # per chunk: the offset in `text` where it ends
    _partial: bytearray = field(default_factory=bytearray)

    def arrival(self, offset: int) -> float:
        """When the byte at `offset` of `text` was read from the terminal."""
        import bisect

        return self.chunks[bisect.bisect_right(self.ends, offset)][0]

    def note_frames(self, data: bytes, now: float) -> None:
        """Split the stream into synchronized frames as it arrives."""
        self._partial += data
        while True:
            start = self._partial.find(SYNC_START)
            if start < 0:
                del self._partial[:-len(SYNC_START)]
                return
            end = self._partial.find(SYNC_END, start)
            if end < 0:
                del self._partial[:start]
                return
            body = bytes(self._partial[start + len(SYNC_START):end])
            moves = [(int(row) - 1, int(column) - 1) for row, column in _MOVE_TO.findall(body)]
            self.frames.append(Frame(now, len(body) + len(SYNC_START) + len(SYNC_END), moves))
            del self._partial[:end + len(SYNC_END)]

    def frames_between(self, start: float, end: float, rows: range | None = None,
                       columns: range | None = None) -> list[Frame]:
        """Frames written in [start, end]; with an area, only those that draw into it."""
        frames = [frame for frame in self.frames if start <= frame.at <= end]
        if rows is not None and columns is not None:
            frames = [frame for frame in frames if frame.touches(rows, columns)]
        return frames

    def bytes_between(self, start: float, end: float) -> int:
        return sum(size for at, size in self.chunks if start <= at <= end)

    def last_before_silence(self, after: float) -> float:
        times = [at for at, _ in self.chunks if at >= after]
        return times[-1] if times else after


class AppInPty:
    """The r1tui command in a pty of a given size; reads everything it writes."""

    def __init__(self, args: list[str], cols: int = 160, rows: int = 50, env: dict[str, str] | None = None,
                 python_args: tuple[str, ...] = (), synchronized: bool = True,
                 command: list[str] | None = None) -> None:
        self.master, slave = pty.openpty()
        self.cols, self.rows = cols, rows
        # Answer the app's "do you support synchronized output?" query as most terminals (and tmux) do:
        # each frame then arrives between SYNC_START and SYNC_END, so frames can be counted exactly.
        self._synchronized = synchronized
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        environment = terminal_env(env)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command or [sys.executable, *python_args, "-m", "tui", *args], stdin=slave, stdout=slave, stderr=slave,
            cwd=ROOT, env=environment, start_new_session=True,
        )
        os.close(slave)
        self.ps = psutil.Process(self.process.pid)
        self.output = Output()
        self._stop = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.perf_counter()
            self.output.chunks.append((now, len(data)))
            self.output.ends.append(len(self.output.text) + len(data))
            if self._synchronized and SYNC_QUERY in data:
                os.write(self.master, SYNC_REPLY)
            self.output.text += data
            self.output.note_frames(data, now)

    def write(self, text: str) -> float:
        os.write(self.master, text.encode())
        return time.perf_counter()

    def wait_for_text(self, needle: bytes, timeout: float = 30.0, start: int = 0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            # find() searches in place: slicing a megabyte of output every few ms would hold the
            # GIL, starve the reader thread, fill the pty and stall the app being measured.
            found = self.output.text.find(needle, start)
            if found >= 0:
                return self.output.arrival(found + len(needle) - 1)
            start = max(start, len(self.output.text) - len(needle))
            time.sleep(0.02)
        raise TimeoutError(f"{needle!r} did not appear within {timeout} s")

    def wait_for_pattern(self, pattern: "re.Pattern[bytes]", timeout: float = 30.0, start: int = 0) -> float:
        """Like wait_for_text, for a regular expression (searched from `start`, a little before the new output)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            match = pattern.search(self.output.text, start)
            if match:
                return self.output.arrival(match.end() - 1)
            start = max(start, len(self.output.text) - 256)
            time.sleep(0.02)
        raise TimeoutError(f"{pattern.pattern!r} did not appear within {timeout} s")

    def wait_quiet(self, seconds: float, timeout: float = 300.0) -> float:
        """Wait until nothing was written for `seconds`; returns the time of the last write."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            last = self.output.chunks[-1][0] if self.output.chunks else self.started
            if time.perf_counter() - last >= seconds:
                return last
            time.sleep(0.05)
        raise TimeoutError("the app never went quiet")

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def rss_bytes(self) -> int:
        return self.ps.memory_info().rss

    def close(self) -> None:
        try:
            self.write("\x11")  # Ctrl+Q
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self._stop = True
        os.close(self.master)


AppT = TypeVar("AppT")


def as_launched(app: AppT) -> AppT:
    """Give this process what `r1tui` gives its own before it runs the app: today, the cycle collector's
    settings (`tui.launch.collect_garbage_for_frames`: start-up frozen, fewer young collections).

    A benchmark that runs the app in-process (Textual's run_test) must call this once the app is made,
    as the launcher does, or it measures full collections walking every start-up object, which the
    real app never pays for (at 50,000 tokens, ~0.1 s each, in the turn's last 10,000 tokens).
    """
    from tui.launch import collect_garbage_for_frames

    collect_garbage_for_frames()
    return app


def chat_area(cols: int, rows: int) -> tuple[range, range]:
    """The conversation's rows and columns at this terminal size (panel as the app decides), from the
    real app run headless once: frames that write there are frames of the visible chat."""
    import asyncio

    from tui.app import R1App
    from tui.core.backend import OllamaBackend
    from tui.core.config import Settings
    from tui.demo import SimulatedOllama
    from tui.widgets.conversation import ConversationScroll

    async def read() -> tuple[range, range]:
        with SimulatedOllama(rate=0.0) as sim:
            app = R1App(OllamaBackend(sim.url), Settings(), requested_model="deepseek-r1:7b")
            async with app.run_test(size=(cols, rows)) as pilot:
                await pilot.pause()
                region = app.screen.query_one(ConversationScroll).region
                return range(region.y, region.bottom), range(region.x, region.right)

    return asyncio.run(read())


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """figure | target | median (runs) | ratio to target."""
    header = ("figure", "target", "median", "ratio to target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))


def median(values: list[float]) -> float:
    return statistics.median(values)


async def send_quietly(pilot: "Pilot", text: str, timeout: float = 900.0) -> None:
    """Send a prompt and wait for its turn to finish without disturbing the app being measured.

    The tests' `send_and_wait` polls with `pilot.pause()`, which posts a callback
    to every widget and forces a screen update each time: fine for a test, but
    in a long conversation it is most of the work measured. This polls the
    conversation's state with a plain sleep.
    """
    import asyncio

    from tests.apphelpers import type_and_send
    from tui.widgets.turn import TurnView

    screen = pilot.app.screen
    count = len(screen.conversation.turns)
    await type_and_send(pilot, text)
    deadline = time.monotonic() + timeout
    while True:
        turns = screen.conversation.turns
        if len(turns) > count and turns[-1].finished and screen.query(TurnView).last().finished:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the turn did not finish in {timeout} s")
        await asyncio.sleep(0.1)


def in_fresh_process(script: str, *args: str) -> dict[str, float]:
    """Run `script --single-run ARGS…` in a new Python process and return the figures it prints.

    Each run gets a process of its own, so resident memory and CPU time are that
    run's alone (memory freed by one run is rarely given back to the OS before
    the next one starts).
    """
    import json

    done = subprocess.run([sys.executable, script, "--single-run", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
