"""Split a DeepSeek-R1 stream into reasoning and answer, whatever the chunking.

Servers older than Ollama 0.9 (or requests without `think`) leave the model's
`<think>...</think>` block inline in `content`; templates that pre-fill
`<think>` make the model emit only the closing tag. This module follows the
semantics of Ollama's own `thinking/parser.go` so that r1tui shows the same
split the server would have made, and never shows a tag:

- leading whitespace before `<think>` is skipped; any other text before the
  first `<think>` means there is no reasoning block (everything is answer);
- whitespace right after `<think>` and right after `</think>` is dropped;
- only the first block is split: a later `<think>` is answer text;
- a tag split across chunks is recognised, so the output never depends on
  how the stream was chunked;
- `in_reasoning=True` starts inside the block (pre-filled templates); a stray
  `<think>` at its very start is still swallowed, as some distills emit one
  anyway.
"""

from __future__ import annotations

from enum import Enum, auto

__all__ = ["CLOSING_TAG", "OPENING_TAG", "ThinkSplitter"]

OPENING_TAG = "<think>"
CLOSING_TAG = "</think>"


class _State(Enum):
    LOOKING_FOR_OPENING = auto()
    EATING_WHITESPACE_AFTER_OPENING = auto()
    THINKING = auto()
    EATING_WHITESPACE_AFTER_CLOSING = auto()
    DONE = auto()


def _overlap(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for length in range(min(len(text), len(tag) - 1), 0, -1):
        if text.endswith(tag[:length]):
            return length
    return 0


class ThinkSplitter:
    """Incremental `<think>` splitter: feed chunks, get (reasoning, answer) deltas safe to show now."""

    def __init__(self, in_reasoning: bool = False) -> None:
        self._state = _State.LOOKING_FOR_OPENING
        self._implicit_block = in_reasoning
        self._held = ""

    @property
    def in_reasoning(self) -> bool:
        """True while the text being received belongs to the reasoning block."""
        if self._state in (_State.EATING_WHITESPACE_AFTER_OPENING, _State.THINKING):
            return True
        return self._state is _State.LOOKING_FOR_OPENING and self._implicit_block

    def feed(self, text: str) -> tuple[str, str]:
        self._held += text
        reasoning: list[str] = []
        answer: list[str] = []
        while True:
            more, thought, said = self._step()
            reasoning.append(thought)
            answer.append(said)
            if not more:
                break
        return "".join(reasoning), "".join(answer)

    def finish(self) -> tuple[str, str]:
        """Flush what was held back waiting for a tag to complete."""
        held, self._held = self._held, ""
        state = self._state
        self._state = _State.DONE
        if state is _State.THINKING:
            return held, ""
        if state is _State.LOOKING_FOR_OPENING:
            if self._implicit_block:
                return held.lstrip(), ""
            return "", held
        return "", ""

    def _step(self) -> tuple[bool, str, str]:
        """One state transition; returns (keep_going, reasoning, answer)."""
        held = self._held
        if self._state is _State.LOOKING_FOR_OPENING:
            trimmed = held.lstrip()
            if trimmed.startswith(OPENING_TAG):
                after = trimmed[len(OPENING_TAG):].lstrip()
                self._held = after
                self._state = _State.THINKING if after else _State.EATING_WHITESPACE_AFTER_OPENING
                return True, "", ""
            if not trimmed or OPENING_TAG.startswith(trimmed):
                return False, "", ""  # whitespace or a partial tag so far: wait
            if self._implicit_block:
                self._held = trimmed
                self._state = _State.THINKING
                return True, "", ""
            self._held = ""
            self._state = _State.DONE
            return False, "", held  # untrimmed: no block, so the answer keeps its whitespace
        if self._state is _State.EATING_WHITESPACE_AFTER_OPENING:
            trimmed = held.lstrip()
            self._held = ""
            if not trimmed:
                return False, "", ""
            self._held = trimmed
            self._state = _State.THINKING
            return True, "", ""
        if self._state is _State.THINKING:
            if CLOSING_TAG in held:
                thought, _, rest = held.partition(CLOSING_TAG)
                rest = rest.lstrip()
                self._held = ""
                self._state = _State.DONE if rest else _State.EATING_WHITESPACE_AFTER_CLOSING
                return False, thought, rest
            keep = _overlap(held, CLOSING_TAG)
            self._held = held[len(held) - keep:] if keep else ""
            return False, held[: len(held) - keep], ""
        if self._state is _State.EATING_WHITESPACE_AFTER_CLOSING:
            trimmed = held.lstrip()
            self._held = ""
            if trimmed:
                self._state = _State.DONE
            return False, "", trimmed
        self._held = ""
        return False, "", held
