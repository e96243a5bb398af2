"""`r1tui pull TAG`: download a model with progress, for scripts and SSH one-liners.

Progress goes to stderr so stdout stays clean for scripts: one self-updating
line on a terminal, a plain line every few seconds (and at each layer's
start and end) when stderr is a log file or a pipe. Exit status: 0 done,
1 failed (with the reason and what to do), 130 cancelled with Ctrl-C. A
failed or cancelled pull keeps its partial download on the server, so
running the same command again resumes.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

LOG_INTERVAL_SECONDS = 2.0
REDRAW_INTERVAL_SECONDS = 0.1


def register(subparsers: Any) -> None:
    from tui.commands._shared import add_host_argument

    parser = subparsers.add_parser(
        "pull",
        help="download a model with a progress bar",
        description="Pull a model onto the Ollama server, showing per-layer bytes, speed and ETA on stderr. "
                    "Interrupted or failed pulls resume when run again.",
    )
    parser.add_argument("tag", metavar="TAG", help="model tag, e.g. deepseek-r1:14b")
    add_host_argument(parser)
    parser.set_defaults(func=run)


class ProgressPrinter:
    """Turns tracker updates into stderr output suited to where stderr goes."""

    def __init__(self, stream: TextIO, tty: bool) -> None:
        from tui.core.pull_progress import PullTracker

        self.stream = stream
        self.tty = tty
        self.tracker = PullTracker()
        self._last_draw = 0.0
        self._line_open = False
        self._announced: set[str] = set()
        self._finished: set[str] = set()

    def _line(self, text: str) -> None:
        if self._line_open:
            self.stream.write("\r\x1b[2K")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def _redraw(self, text: str) -> None:
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._line_open = True

    def update(self, status: str, digest: str | None, total: int | None, completed: int | None) -> None:
        from tui.core.pull_progress import describe_layer, format_bytes, render_bar

        now = time.monotonic()
        previous_status = self.tracker.status
        layer = self.tracker.update(now, status, digest, total, completed)
        if layer is None:
            if status and status != previous_status:
                self._line(status)
            return
        if layer.digest not in self._announced:
            self._announced.add(layer.digest)
            resumed = (f", resuming at {format_bytes(layer.resumed_from)}"
                       if 0 < layer.resumed_from < layer.total else "")
            self._line(f"pulling {layer.short_digest} ({format_bytes(layer.total)}{resumed})")
            self._last_draw = now
            if layer.done:
                return
        if layer.done:
            if layer.digest not in self._finished:  # servers may repeat the final figure
                self._finished.add(layer.digest)
                self._line(f"{layer.short_digest}  {format_bytes(layer.total)}  done")
            return
        if self.tty:
            if now - self._last_draw >= REDRAW_INTERVAL_SECONDS:
                self._last_draw = now
                self._redraw(f"{render_bar(layer.fraction)} {describe_layer(layer)}")
        elif now - self._last_draw >= LOG_INTERVAL_SECONDS:
            self._last_draw = now
            self._line(describe_layer(layer))

    def close(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False


async def _pull(tag: str, host: str, printer: ProgressPrinter) -> None:
    from tui.commands._shared import open_backend

    backend = await open_backend(host)
    try:
        async for part in backend.pull(tag):
            printer.update(part.status, part.digest, part.total, part.completed)
    finally:
        await backend.aclose()


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tui.core.backend import BackendError
    from tui.commands._shared import default_host

    host = args.host or default_host()
    stream = sys.stderr
    printer = ProgressPrinter(stream, tty=stream.isatty())
    try:
        asyncio.run(_pull(args.tag, host, printer))
    except KeyboardInterrupt:
        printer.close()
        print(f"pull of {args.tag} cancelled; run the same command again to resume", file=stream)
        return 130
    except BackendError as exc:
        printer.close()
        from tui.core.pulls import describe_failure

        message = describe_failure(exc, args.tag, host, printer.tracker,
                                   resume_hint="run the same command again to resume")
        print(f"error: {message}", file=stream)
        return 1
    printer.close()
    if not printer.tracker.finished:
        print(f"error: the server ended the pull of {args.tag} without reporting success — run it again",
              file=stream)
        return 1
    print(f"pulled {args.tag}", file=stream)
    return 0
