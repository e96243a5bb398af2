"""Copying out of the terminal honestly: what there is to copy in a turn, what a copy really did,
and a file to fall back on.

The app copies by writing OSC 52 to the terminal, which puts the text on the clipboard of the
machine the user sits at (over SSH too) if the terminal allows it. Nothing comes back to say
whether it did. Inside tmux, the default `set-clipboard external` drops OSC 52 sent by
applications, so "Copied" would be a lie: the notice names the tmux setting instead.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from tui.core.sanitize import inert

__all__ = ["Copyable", "code_blocks", "copy_notice", "copyables", "save_text"]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\s`]*)[^\n]*\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
                    re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Copyable:
    label: str  # what the chooser shows (raw: make it inert to show)
    text: str


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """The fenced code blocks of an answer, as (language, code) in order."""
    return [(match["lang"], match["body"]) for match in _FENCE.finditer(markdown)]


def copyables(answer: str, reasoning: str) -> list[Copyable]:
    """What a turn offers to copy: its answer, its reasoning, each code block."""
    found: list[Copyable] = []
    if answer:
        found.append(Copyable(f"the answer ({len(answer):,} characters)", answer))
    if reasoning.strip():
        found.append(Copyable(f"the reasoning ({len(reasoning):,} characters)", reasoning))
    for number, (lang, code) in enumerate(code_blocks(answer), 1):
        lines = code.count("\n") or 1
        found.append(Copyable(f"code block {number}: {lang or 'text'}, {lines} line{'s' * (lines != 1)}", code))
    return found


def copy_notice(what: str, characters: int, *, tmux: bool) -> str:
    """What a copy did, said honestly."""
    if tmux:
        return (f"Sent {what} ({characters:,} characters) to the terminal as OSC 52. Inside tmux it reaches "
                "your clipboard only with `set -g set-clipboard on` in ~/.tmux.conf; "
                "or press c on the turn and save it to a file.")
    return (f"Copied {what} ({characters:,} characters): sent to your terminal as OSC 52, "
            "which most terminals put on the clipboard (some need it allowed in their settings).")


def save_text(text: str, directory: Path, stem: str = "answer", *, clock: float | None = None) -> Path:
    """Write `text` to a new private file (0600) in `directory` (made 0700 if missing); returns its path.

    The text is made inert first, as in Markdown exports: `cat answer.md` must not let an escape
    sequence the model wrote act on the terminal."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock))
    path = directory / f"{stem}-{stamp}.md"
    counter = 1
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            counter += 1
            path = directory / f"{stem}-{stamp}-{counter}.md"
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(inert(text))
    return path
