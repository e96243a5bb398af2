"""When a loaded model leaves memory (`/api/ps` `expires_at`), in words: one clock rule, two
wordings — the panel's short one, and `ollama ps`'s UNTIL column, which `r1tui doctor` mirrors so
the two can be read side by side."""

from __future__ import annotations

from datetime import datetime

__all__ = ["FOREVER_SECONDS", "seconds_left", "unloads_in", "until_column"]

FOREVER_SECONDS = 365 * 86400.0  # keep_alive -1: Ollama sets the expiry centuries ahead


def seconds_left(expires_at: datetime | None, now: datetime) -> float | None:
    """Seconds until the model unloads; None when the server gave no time. A time without a
    zone is the server's local time, which for a local server is this machine's."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        expires_at = expires_at.astimezone()
    return (expires_at - now).total_seconds()


def unloads_in(expires_at: datetime | None, now: datetime) -> str:
    """The panel's words: "unloads in 4 min", "stays loaded", "unloading now"."""
    seconds = seconds_left(expires_at, now)
    if seconds is None:
        return ""
    if seconds <= 0:
        return "unloading now"
    if seconds > FOREVER_SECONDS:
        return "stays loaded"
    if seconds < 60:
        return f"unloads in {seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"unloads in {round(seconds / 60)} min"
    return f"unloads in {round(seconds / 3600)} h"


def until_column(expires_at: datetime | None, now: datetime) -> str:
    """`ollama ps`'s UNTIL column: "4 minutes from now", "forever", "stopping..."."""
    seconds = seconds_left(expires_at, now)
    if seconds is None:
        return ""
    if seconds <= 0:
        return "stopping..."
    if seconds > FOREVER_SECONDS:
        return "forever"
    if seconds < 90:
        return f"{int(seconds)} seconds from now"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes from now"
    return f"{round(seconds / 3600)} hours from now"
