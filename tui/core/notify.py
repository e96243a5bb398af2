"""Telling the terminal that a long answer has finished: a bell, and a desktop notification by
OSC 9 (iTerm2, WezTerm, kitty, Windows Terminal) and OSC 777 (foot, VTE terminals, rxvt).
A terminal ignores an OSC it does not know. The text is made of safe characters only: the
model's name comes from the server, and a control character in it would end the sequence."""

from __future__ import annotations

import re

__all__ = ["finished_sequences", "should_notify"]

_UNSAFE = re.compile(r"[^\w .:+/()·,-]")


def _safe(text: str, limit: int = 80) -> str:
    return _UNSAFE.sub("", text)[:limit]


def should_notify(after_seconds: float, elapsed: float | None) -> bool:
    return after_seconds > 0 and elapsed is not None and elapsed >= after_seconds


def finished_sequences(model: str, elapsed: float, outcome: str = "answered") -> str:
    """Bell, OSC 9 and OSC 777 saying `model` has `outcome` after `elapsed` seconds."""
    body = _safe(f"{model} {outcome} after {elapsed:.0f} s")
    return f"\a\x1b]9;r1tui: {body}\a\x1b]777;notify;r1tui;{body}\a"
