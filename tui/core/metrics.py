"""Token timing for one generation: live tokens/s while streaming, exact figures after.

Two sources, kept apart on purpose: the client's clock (time to first token,
think time, a live rate where one stream chunk is one token) and the server's
final chunk (`eval_count / eval_duration`), which is the figure users compare
with `ollama run --verbose` and which the UI shows once the turn is done.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["FramePacer", "GenerationStats", "TokenMeter"]

Clock = Callable[[], float]


@dataclass(frozen=True)
class GenerationStats:
    """The server's own figures from the final (`done: true`) chunk; durations in ns."""

    eval_count: int = 0
    eval_duration_ns: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration_ns: int = 0
    load_duration_ns: int = 0
    total_duration_ns: int = 0
    done_reason: str | None = None
    # Tokens the engine counted as reasoning (vLLM's completion_tokens_details); None where not reported.
    reasoning_count: int | None = None

    @classmethod
    def from_response(cls, response: Any) -> "GenerationStats":
        def get(name: str) -> Any:
            value = getattr(response, name, None)
            if value is None and isinstance(response, dict):
                value = response.get(name)
            return value

        return cls(
            eval_count=int(get("eval_count") or 0),
            eval_duration_ns=int(get("eval_duration") or 0),
            prompt_eval_count=int(get("prompt_eval_count") or 0),
            prompt_eval_duration_ns=int(get("prompt_eval_duration") or 0),
            load_duration_ns=int(get("load_duration") or 0),
            total_duration_ns=int(get("total_duration") or 0),
            done_reason=get("done_reason"),
        )

    @property
    def eval_rate(self) -> float | None:
        """Tokens/s as Ollama reports it: eval_count / eval_duration."""
        if not self.eval_count or not self.eval_duration_ns:
            return None
        return self.eval_count / (self.eval_duration_ns / 1e9)

    @property
    def prompt_eval_rate(self) -> float | None:
        if not self.prompt_eval_count or not self.prompt_eval_duration_ns:
            return None
        return self.prompt_eval_count / (self.prompt_eval_duration_ns / 1e9)

    @property
    def load_seconds(self) -> float:
        return self.load_duration_ns / 1e9


class TokenMeter:
    """Client-side timing of one turn, cheap enough to call on every chunk."""

    def __init__(self, clock: Clock = time.monotonic, window_seconds: float = 2.0) -> None:
        self._clock = clock
        self._window = window_seconds
        self._recent: deque[float] = deque()
        self.sent_at = clock()
        self.first_token_at: float | None = None
        self.reasoning_started_at: float | None = None
        self.reasoning_ended_at: float | None = None
        self.finished_at: float | None = None
        self.reasoning_tokens = 0
        self.answer_tokens = 0
        self.stats: GenerationStats | None = None
        self.rate_history: list[float] = []

    def now(self) -> float:
        """This meter's clock (tests freeze it)."""
        return self._clock()

    def record(self, reasoning: bool, answer: bool) -> None:
        """Count one stream chunk (one token) as reasoning, answer, or neither (tags, whitespace)."""
        now = self._clock()
        if self.first_token_at is None:
            self.first_token_at = now
        if reasoning:
            self.reasoning_tokens += 1
            if self.reasoning_started_at is None:
                self.reasoning_started_at = now
        if answer:
            self.answer_tokens += 1
            if self.reasoning_started_at is not None and self.reasoning_ended_at is None:
                self.reasoning_ended_at = now
        self._recent.append(now)
        cutoff = now - self._window
        while self._recent and self._recent[0] < cutoff:
            self._recent.popleft()

    def end_reasoning(self) -> None:
        """The reasoning was cut (a thinking budget, "answer now"): its time ends now, not at the first answer token."""
        if self.reasoning_started_at is not None and self.reasoning_ended_at is None:
            self.reasoning_ended_at = self._clock()

    def finish(self, stats: GenerationStats | None = None) -> None:
        self.finished_at = self._clock()
        if self.reasoning_started_at is not None and self.reasoning_ended_at is None:
            self.reasoning_ended_at = self.finished_at
        self.stats = stats

    @property
    def thinking(self) -> bool:
        return self.reasoning_started_at is not None and self.reasoning_ended_at is None

    @property
    def think_seconds(self) -> float:
        if self.reasoning_started_at is None:
            return 0.0
        end = self.reasoning_ended_at if self.reasoning_ended_at is not None else self._clock()
        # From the first thought, not the request: load time is not thinking.
        return max(0.0, end - self.reasoning_started_at)

    @property
    def ttft_seconds(self) -> float | None:
        if self.first_token_at is None:
            return None
        return self.first_token_at - self.sent_at

    def live_rate(self) -> float:
        """Tokens/s over the sliding window, as the stream is arriving."""
        if len(self._recent) < 2:
            return 0.0
        span = self._recent[-1] - self._recent[0]
        if span <= 0:
            return 0.0
        return (len(self._recent) - 1) / span

    def sample_rate(self) -> float:
        """Append the live rate to the turn's history (for a sparkline) and return it."""
        rate = self.live_rate()
        self.rate_history.append(rate)
        return rate

    @property
    def rate(self) -> float | None:
        """The best figure available: the server's after the turn, the live one during it."""
        if self.stats is not None and self.stats.eval_rate is not None:
            return self.stats.eval_rate
        return self.live_rate() or None


class FramePacer:
    """When queued text goes to the screen.

    A slow stream gets about 12 frames a second, so each token shows almost at
    once. A fast one gets fewer, fuller frames: every frame that scrolls the
    conversation repaints the screen, and over SSH those bytes add up.
    """

    def __init__(
        self,
        clock: Clock = time.monotonic,
        slow_interval: float = 1 / 12,
        fast_interval: float = 1 / 3,
        fast_rate: float = 120.0,
    ) -> None:
        self._clock = clock
        self.slow_interval = slow_interval
        self.fast_interval = fast_interval
        self.fast_rate = fast_rate
        self._last = float("-inf")

    def due(self, tokens_per_second: float) -> bool:
        now = self._clock()
        interval = self.fast_interval if tokens_per_second > self.fast_rate else self.slow_interval
        if now - self._last >= interval:
            self._last = now
            return True
        return False
