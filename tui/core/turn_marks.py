"""What a finished turn says about its reasoning and its context, in words: the chat's turn marks,
the Markdown export and `r1tui bench` all use these, so a cut is described the same everywhere."""

from __future__ import annotations

from typing import Any

from tui.core.context_window import ContextUsage, length_cut_text
from tui.core.conversation import Turn
from tui.core.thinking_budget import cut_text

__all__ = ["LOOP_TEXT", "THINKING_OFF_TEXT", "context_line", "turn_marks"]

LOOP_TEXT = "the reasoning is repeating itself"
THINKING_OFF_TEXT = "thinking off for this chat"


def turn_marks(turn: Turn, model_info: dict[str, Any] | None = None) -> list[str]:
    """The marks of a turn, most important first: a length cut (the answer is incomplete), a thinking
    cut, a loop flag, thinking off."""
    marks = []
    if turn.cut_at_length:
        marks.append(length_cut_text(turn.context_size, turn.model, model_info, answered=bool(turn.answer.strip())))
    if turn.thinking_cut:
        marks.append(cut_text(turn.thinking_cut, turn.think_budget, turn.reasoning_tokens))
    if turn.loop_flagged:
        marks.append(LOOP_TEXT)
    if turn.thinking_off:
        marks.append(THINKING_OFF_TEXT)
    return marks


def context_line(turn: Turn) -> tuple[str, str | None]:
    """("ctx 3,412 / 8,192", a warning past 90 % or None); ("", None) when the server gave no figures."""
    usage = ContextUsage.of(turn.stats, turn.context_size)
    if usage is None:
        return "", None
    return usage.label, usage.warning()
