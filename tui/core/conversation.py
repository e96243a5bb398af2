"""A conversation as data: turns, what each model said, and what goes back to the model.

DeepSeek's guidance for R1 is that earlier turns go back to the model without
their reasoning, so `messages_for_next` sends only prompts and answers. A turn
that produced no answer (stopped or failed while thinking) is left out of the
context entirely: a user message without its reply would confuse the model.

A regenerated turn keeps its earlier answers as alternatives (`versions`); `turns`
holds the one shown, and only that one goes back to the model. Editing an earlier
prompt forks: the turns after it are dropped here (the history keeps the original).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from tui.core.metrics import GenerationStats

__all__ = ["LIVE_CHARACTERS", "Conversation", "Turn", "TurnState", "turn_figures", "turns_to_summarise"]


class TurnState(str, Enum):
    QUEUED = "queued"  # waiting for its model (compare, bench)
    STREAMING = "streaming"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass
class Turn:
    """One prompt and the reply a given model wrote to it (raw text, not sanitised)."""

    prompt: str
    model: str
    reasoning: str = ""
    answer: str = ""
    state: TurnState = TurnState.STREAMING
    error: str | None = None
    error_kind: str | None = None  # BackendError.kind of a failed turn ("dropped", "oom", ...)
    stats: GenerationStats | None = None
    think_seconds: float = 0.0
    ttft_seconds: float | None = None
    reasoning_tokens: int = 0
    answer_tokens: int = 0
    # Reasoning control (tui.core.thinking_budget): the budget it ran under (0: none), how its
    # reasoning was cut ("budget", "answer_now", or None), whether the loop watch flagged it,
    # and whether thinking was off for it.
    think_budget: int = 0
    thinking_cut: str | None = None
    loop_flagged: bool = False
    thinking_off: bool = False
    # The context size it ran in (num_ctx sent, or the loaded context_length); 0: unknown.
    context_size: int = 0

    @property
    def finished(self) -> bool:
        return self.state not in (TurnState.QUEUED, TurnState.STREAMING)

    def extend(self, reasoning: str, answer: str) -> None:
        """Append streamed text. Why not `turn.reasoning += delta`: on an attribute that copies the whole
        text at every token (250,000 tokens: about 50 s of CPU); with the attribute's reference dropped
        first, the local string is the only one, and CPython grows it in place (0.03 s for the same)."""
        if reasoning:
            text, self.reasoning = self.reasoning, ""
            text += reasoning
            self.reasoning = text
        if answer:
            text, self.answer = self.answer, ""
            text += answer
            self.answer = text

    @property
    def cut_at_length(self) -> bool:
        """The server stopped it at the length limit (num_predict or the context): the answer is incomplete."""
        return self.stats is not None and self.stats.done_reason == "length"


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    system_prompt: str = ""
    # Turn index → every answer written to that prompt, oldest first (only for turns answered more than once).
    alternatives: dict[int, list[Turn]] = field(default_factory=dict)

    def start_turn(self, prompt: str, model: str) -> Turn:
        turn = Turn(prompt=prompt, model=model)
        self.turns.append(turn)
        return turn

    def versions(self, index: int) -> list[Turn]:
        """Every answer to turn `index`'s prompt, oldest first; the shown one is `turns[index]`."""
        return self.alternatives.get(index) or [self.turns[index]]

    def version_of(self, index: int) -> tuple[int, int]:
        """(number of the shown answer, how many there are), counted from 1."""
        versions = self.versions(index)
        shown = self.turns[index]
        return next(i for i, turn in enumerate(versions, 1) if turn is shown), len(versions)

    def regenerate(self, model: str) -> Turn:
        """A new answer to the last prompt from `model`; the earlier answers stay as alternatives."""
        index = len(self.turns) - 1
        if index < 0:
            raise IndexError("no turn to regenerate")
        versions = self.alternatives.setdefault(index, [self.turns[index]])
        turn = Turn(prompt=self.turns[index].prompt, model=model)
        versions.append(turn)
        self.turns[index] = turn
        return turn

    def show_version(self, index: int, number: int) -> Turn:
        """Show answer `number` (from 1) of turn `index`; later turns then follow from that answer."""
        versions = self.versions(index)
        self.turns[index] = versions[max(1, min(number, len(versions))) - 1]
        return self.turns[index]

    def fork(self, index: int, prompt: str, model: str) -> Turn:
        """Continue from before turn `index` with a new prompt: that turn and those after it are dropped."""
        del self.turns[index:]
        self.alternatives = {i: versions for i, versions in self.alternatives.items() if i < index}
        return self.start_turn(prompt, model)

    def messages_for_next(self) -> list[dict[str, str]]:
        """The chat history for the newest turn: earlier answers without reasoning, then its prompt."""
        messages: list[dict[str, str]] = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        *earlier, latest = self.turns
        for turn in earlier:
            if not turn.answer.strip():
                continue
            messages.append({"role": "user", "content": turn.prompt})
            messages.append({"role": "assistant", "content": turn.answer})
        messages.append({"role": "user", "content": latest.prompt})
        return messages

    @property
    def streaming(self) -> bool:
        return bool(self.turns) and not self.turns[-1].finished


# Characters of reasoning and answer kept drawn at once: ~75k tokens, dozens of ordinary turns or one
# very long R1 turn. Drawing more costs memory and start-up time and shows nothing more on screen.
LIVE_CHARACTERS = 300_000


def turns_to_summarise(turns: list[Turn], budget: int | None = None, keep_last: int = 2) -> list[int]:
    """Indexes of older turns to show as one-line summaries, so a long conversation stays light.

    The newest turns stay drawn while their text fits the budget (always the
    last `keep_last`); older ones are drawn again only when the user opens
    them. Their text stays in the conversation and the history either way.
    """
    budget = LIVE_CHARACTERS if budget is None else budget
    used = 0
    summarised: list[int] = []
    for index in range(len(turns) - 1, -1, -1):
        turn = turns[index]
        used += len(turn.reasoning) + len(turn.answer)
        if index < len(turns) - keep_last and used > budget:
            summarised.append(index)
    return sorted(summarised)


def turn_figures(turn: Turn) -> str:
    """One line of figures after a turn, the ones `ollama run --verbose` users look for."""
    parts: list[str] = []
    stats = turn.stats
    if turn.reasoning_tokens or turn.answer_tokens:
        parts.append(f"{turn.reasoning_tokens:,} reasoning + {turn.answer_tokens:,} answer tokens")
    if stats is not None and stats.eval_rate is not None:
        parts.append(f"{stats.eval_rate:.1f} tok/s")
    if stats is not None and stats.prompt_eval_rate is not None:
        parts.append(f"prompt {stats.prompt_eval_rate:.0f} tok/s")
    if turn.ttft_seconds is not None:
        parts.append(f"first token {turn.ttft_seconds:.2f} s")
    if stats is not None and stats.load_duration_ns > 50_000_000:
        parts.append(f"load {stats.load_seconds:.1f} s")
    return " · ".join(parts)
