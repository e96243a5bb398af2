"""Reasoning control for one turn: a thinking budget, "answer now", thinking off, and the loop watch.

Budget forcing (Muennighoff et al., "s1: Simple test-time scaling", 2025): when the
reasoning reaches its budget, stop that request and ask the model to answer from
what it has thought, with a continuation whose prompt holds the reasoning so far
followed by the closing `</think>`. "Answer now" is the same cut, by hand. How the
continuation is asked for is the backend's business
(`OllamaBackend.continue_after_thinking`); when to cut, and what the turn says
about it, is decided here and in `tui.core.session`, the same for every engine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

from tui.core.loop_watch import LoopWatch

__all__ = ["BUDGET_CUT", "BUDGET_STEPS", "MANUAL_CUT", "ReasoningControl", "cut_text", "describe_step",
           "next_budget_step"]

BUDGET_CUT = "budget"
MANUAL_CUT = "answer_now"
# What the chat's budget key cycles through (tokens; 0 = no budget); "off" = thinking off.
BUDGET_STEPS: tuple[int | str, ...] = (0, 300, 1000, 3000, 8000, "off")


@dataclass
class ReasoningControl:
    """What a turn's reasoning may do, and the user's hand on it while it streams.

    `budget`: reasoning tokens before the cut (0: none). `think`: False asks the server
    not to think at all (Ollama >= 0.9 with a thinking-capable model), None leaves it
    to the server. `on_loop` is called once when the loop watch flags the reasoning.
    """

    budget: int = 0
    think: bool | None = None
    watch_loops: bool = True
    on_loop: Callable[[], None] | None = None
    loop_watch: LoopWatch = field(default_factory=LoopWatch)
    _answer_now: asyncio.Event | None = field(default=None, repr=False)
    _requested: bool = field(default=False, repr=False)

    def answer_now(self) -> None:
        """The user asked for the answer now: the stream path cuts the reasoning at once."""
        self._requested = True
        if self._answer_now is not None:
            self._answer_now.set()

    @property
    def answer_now_requested(self) -> bool:
        return self._requested

    async def wait_for_answer_now(self) -> None:
        """Returns when `answer_now` is called (at once if it already was)."""
        if self._answer_now is None:
            self._answer_now = asyncio.Event()
            if self._requested:
                self._answer_now.set()
        await self._answer_now.wait()

    def budget_reached(self, reasoning_tokens: int) -> bool:
        return self.budget > 0 and reasoning_tokens >= self.budget

    def watch(self, reasoning: str) -> bool:
        """Feed streamed reasoning to the loop watch; True the moment it flags a loop."""
        if not self.watch_loops or not reasoning:
            return False
        if self.loop_watch.feed(reasoning):
            if self.on_loop is not None:
                self.on_loop()
            return True
        return False


def cut_text(cut: str | None, budget: int, reasoning_tokens: int) -> str:
    """What a turn says about a cut reasoning (history, export and bench say the same)."""
    if cut == BUDGET_CUT:
        return f"thinking cut at the {budget:,}-token budget"
    if cut == MANUAL_CUT:
        return f"thinking cut by hand (answer now) after {reasoning_tokens:,} tokens"
    return ""


def describe_step(step: int | str) -> str:
    """A chat's reasoning setting in words ("" for the plain default: no budget, thinking on)."""
    if step == "off":
        return "thinking off (F9)"
    if isinstance(step, int) and step > 0:
        return f"thinking budget {step:,} tokens (F9) · Ctrl+G answers now"
    return ""


def next_budget_step(current: int | str) -> int | str:
    """The next setting of the chat's budget key: no budget → 300 → 1,000 → 3,000 → 8,000 → thinking off → …"""
    try:
        index = BUDGET_STEPS.index(current)
    except ValueError:
        return BUDGET_STEPS[0] if current else BUDGET_STEPS[1]
    return BUDGET_STEPS[(index + 1) % len(BUDGET_STEPS)]
