"""Validators for config keys: each returns the value to use or raises ValueError saying what is allowed.

Shared by `tui.core.config` (the [server], [chat] and [ui] tables) and
`tui.core.runtime` (the [runtime] table); neither imports the other's names.
"""

from __future__ import annotations

import re
from typing import Any, Callable

__all__ = ["boolean", "context_length", "integer", "keep_alive", "number", "text"]

_DURATION = re.compile(r"-?\d+(\.\d+)?(ms|s|m|h)?")


def number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"a number from {low:g} to {high:g}")
        return float(value)
    return check


def integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value
    return check


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a string in quotes")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def keep_alive(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value}s"
    if isinstance(value, str) and value.strip() and _DURATION.fullmatch(value.strip()):
        return value.strip()
    raise ValueError('a duration like "5m", "1h", "30s", 0 (unload at once) or -1 (keep loaded)')


def context_length(value: Any) -> int | str:
    """`num_ctx`: "auto" (the largest context that keeps the model on the GPU) or a number of tokens."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return integer(512, 131072)(value)
    except ValueError:
        raise ValueError('a whole number from 512 to 131072, or "auto"') from None
