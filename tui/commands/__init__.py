"""Headless subcommands (`r1tui doctor`, `recommend`, ...): one module each, found by `tui.cli`.

What they share lives here: a closed pipe ends a command quietly, the width
tables are fitted to, and the context length a command assumes.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

# Exit status after the reader of stdout went away (`r1tui recommend | head`):
# what a shell reports for a process killed by SIGPIPE (128 + 13).
BROKEN_PIPE_EXIT = 141


def run_command(command: Callable[[Any], int | None], args: Any) -> int:
    """Run a headless command; a reader that went away (`r1tui recommend | head`) ends it quietly.

    Nothing is wrong then, so no traceback: the exit status is what a shell reports for a
    process ended by SIGPIPE, and stdout is pointed at /dev/null so Python's own last flush
    at exit stays silent too.
    """
    try:
        code = int(command(args) or 0)
        sys.stdout.flush()  # here, where a closed pipe can still be caught
        return code
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return BROKEN_PIPE_EXIT


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
    whose --ctx is not given: the same model must get the same context in `recommend`, `bench` and the chat.
    For `num_ctx = "auto"`, the floor it never goes below (4,096): what a model must fit with at least."""
    from tui.core.config import load_settings

    path = getattr(args, "config", None)
    return load_settings(path).settings.context_for_estimates
