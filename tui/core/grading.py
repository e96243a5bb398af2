"""Is an answer right? Mathematical equivalence with a reference, by Hugging Face's `math-verify`.

`math-verify` is the checker open-r1 uses to score DeepSeek-R1: it finds the
answer in a model's text (a `\\boxed{…}` first, else the last expression) and
compares it with the reference as mathematics, so `42` = `42.0` = `84/2` and
`\\frac{1}{2}` = `0.5`. Hand-written normalisation would disagree with the
figures people quote for these models; this does not.

Threads: by default `math-verify` bounds its work with `signal.alarm`, which
only works on the main thread. The TUI grades on a worker thread (never on
the event loop) and `r1tui bench` may too, so its own timeouts are turned off
(`parsing_timeout=None`, `timeout_seconds=None`) and the bound is ours: only
the tail of an answer is read (`MAX_GRADED_CHARS`, where R1 puts its final
answer), and `grade_async` gives up waiting after `GRADE_TIMEOUT_SECONDS`,
reporting the answer as not graded. Its warning that the timeouts are off is
silenced for that reason: it would otherwise be printed into the terminal.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["GRADE_TIMEOUT_SECONDS", "MAX_GRADED_CHARS", "Grade", "grade", "grade_async"]

# R1 ends with its final answer; a runaway answer is graded on its tail only (bounds the work).
MAX_GRADED_CHARS = 4000
GRADE_TIMEOUT_SECONDS = 10.0
# One shown form of an extracted answer is enough; a pathological one is cut.
MAX_EXTRACTED_CHARS = 120

_import_lock = threading.Lock()


@dataclass(frozen=True)
class Grade:
    """The verdict on one answer: `correct` is None when there was nothing to grade against
    (no reference, or a reference math-verify cannot read); `extracted` is the answer found."""

    correct: bool | None
    extracted: str | None = None


def _math_verify() -> Any:
    """Imported on first use (SymPy and the LaTeX parser take most of a second to load)."""
    with _import_lock:
        import math_verify

        # We bound the work ourselves (see the module docstring): its "timeout disabled" warning is noise.
        logging.getLogger("math_verify").setLevel(logging.ERROR)
        return math_verify


def _as_math(reference: str) -> str:
    """A bare reference (`23, 12`, `x = -4`) is read as one LaTeX expression, not as loose text."""
    text = reference.strip()
    if "$" in text or "\\boxed" in text or "\\(" in text or "\\[" in text:
        return text
    return f"${text}$"


def _shown(parsed: list[Any]) -> str | None:
    """The answer as math-verify found it in the text (its second item is the matched string)."""
    if len(parsed) >= 2 and isinstance(parsed[1], str):
        text = parsed[1]
    elif parsed:
        text = str(parsed[0])
    else:
        return None
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXTRACTED_CHARS else text[: MAX_EXTRACTED_CHARS - 1] + "…"


def grade(answer: str, reference: str | None) -> Grade:
    """Check `answer` (the model's answer text, without its reasoning) against `reference`.

    Safe on any thread. Without a reference the answer is still read, so the
    user sees what was found, but `correct` is None.
    """
    mv = _math_verify()
    tail = answer[-MAX_GRADED_CHARS:]
    try:
        found = mv.parse(tail, parsing_timeout=None)
    except Exception:  # noqa: BLE001 - untrusted text must never fail a run; it is simply not graded
        found = []
    extracted = _shown(found)
    if reference is None or not reference.strip():
        return Grade(None, extracted)
    try:
        gold = mv.parse(_as_math(reference), parsing_timeout=None)
    except Exception:  # noqa: BLE001
        gold = []
    if not gold:
        return Grade(None, extracted)  # a reference math-verify cannot read: reported, not graded
    if not found:
        return Grade(False, None)
    try:
        return Grade(bool(mv.verify(gold, found, timeout_seconds=None)), extracted)
    except Exception:  # noqa: BLE001
        return Grade(False, extracted)


async def grade_async(answer: str, reference: str | None, timeout: float = GRADE_TIMEOUT_SECONDS) -> Grade:
    """`grade` on a worker thread, so the event loop (the TUI, a streaming bench) never waits on SymPy.

    Past `timeout` the answer is reported as not graded; the thread finishes on its own.
    The library's first import (SymPy: seconds on a busy machine) is not held against the answer.
    """
    await asyncio.to_thread(_math_verify)
    try:
        return await asyncio.wait_for(asyncio.to_thread(grade, answer, reference), timeout)
    except asyncio.TimeoutError:
        return Grade(None, None)
