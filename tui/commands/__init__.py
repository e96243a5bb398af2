"""Headless subcommands (`r1tui doctor`, `recommend`, ...): one module each, found by `tui.cli`.

What they share lives here: a closed pipe ends a command quietly, the width
tables are fitted to, and the context length a command assumes.
"""

from __future__ import annotations

import atexit
import os
import sys
from types import TracebackType
from typing import Any

# Exit status after the reader of stdout went away (`r1tui recommend | head`):
# what a shell reports for a process killed by SIGPIPE (128 + 13).
BROKEN_PIPE_EXIT = 141


def _quiet_broken_pipe(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """`r1tui history | head` must end without a traceback: the reader left, nothing is wrong.

    Installed as sys.excepthook when the command modules are loaded (every
    `r1tui` run loads them), so it covers every command, present and future,
    without each catching the error. Other exceptions go to the previous hook.
    """
    if not issubclass(kind, BrokenPipeError):
        _previous_hook(kind, value, tb)
        return
    try:  # Python flushes stdout again at exit; point it at /dev/null so that flush is silent too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    os._exit(BROKEN_PIPE_EXIT)


def _flush_quietly() -> None:
    """At exit: the last buffered output is written here, where a closed pipe can still end quietly
    (Python's own final flush would print "Exception ignored … BrokenPipeError" and exit 120)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe(BrokenPipeError, BrokenPipeError(), None)
    except (OSError, ValueError, AttributeError):
        pass


_previous_hook = sys.excepthook
if sys.excepthook is sys.__excepthook__:  # leave a debugger's or test runner's hook alone
    sys.excepthook = _quiet_broken_pipe
atexit.register(_flush_quietly)


def output_width(stream: Any = None) -> int | None:
    """Columns a table printed on `stream` (stdout) may use: $COLUMNS when set, else the terminal's
    width; None (no limit) when the output goes to a file or a pipe and nothing says a width."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = stream if stream is not None else sys.stdout
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        pass
    return None


def configured_num_ctx(args: Any) -> int:
    """The context length the TUI uses (`num_ctx` in the config, `--config` honoured), for commands
    whose --ctx is not given: the same model must get the same context in `recommend`, `bench` and the chat."""
    from tui.core.config import load_settings

    path = getattr(args, "config", None)
    return load_settings(path).settings.num_ctx
