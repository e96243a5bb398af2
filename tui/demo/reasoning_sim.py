"""What the simulated server needs for reasoning control: continuations, length limits, and two
model behaviours worth testing against (one that thinks for thousands of tokens, one that loops).

Kept apart from `simserver` so the engine flavours added beside it stay independent of this.
Wire behaviour follows Ollama: `/api/generate` with `raw: true` takes its prompt as-is (here:
DeepSeek's chat format, as `tui.core.r1_template` writes it); `/api/chat` whose last message is
the assistant's continues that message; generation stops with `done_reason: "length"` when
`num_predict` tokens were generated or the context (`num_ctx`) is full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Continuation", "answer_after", "chat_continuation", "generation_limit", "long_thinker_reply", "looping_reply", 
           "parse_raw_prompt", "prompt_token_count"]

_USER, _ASSISTANT, _END = "<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>"
TEMPLATE_TOKENS_PER_MESSAGE = 4  # role markers and separators the template adds around each message


@dataclass(frozen=True)
class Continuation:
    """A request that continues the assistant's unfinished turn."""

    messages: list[dict[str, str]]  # the conversation before that turn
    reasoning: str  # the reasoning already written (without tags)
    closed: bool  # it ends with </think>: only the answer is left to write


def parse_raw_prompt(prompt: str) -> Continuation:
    """A raw DeepSeek-format prompt back into messages and the assistant's prefilled reasoning."""
    head, _, tail = prompt.rpartition(_ASSISTANT)
    system, *turns = head.split(_USER)
    messages: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
    for part in turns:
        user, _, assistant = part.partition(_ASSISTANT)
        messages.append({"role": "user", "content": user})
        if assistant:
            messages.append({"role": "assistant", "content": assistant.removesuffix(_END)})
    return _continuation(messages, tail)


def chat_continuation(messages: list[dict[str, Any]]) -> Continuation | None:
    """A chat whose last message is the assistant's: that message is continued (None otherwise)."""
    if not messages or messages[-1].get("role") != "assistant":
        return None
    return _continuation(list(messages[:-1]), str(messages[-1].get("content", "")))


def _continuation(messages: list[dict[str, Any]], prefill: str) -> Continuation:
    text = prefill.strip()
    closed = text.endswith("</think>")
    reasoning = text.removeprefix("<think>").removesuffix("</think>").strip()
    return Continuation(messages, reasoning, closed)


def prompt_token_count(messages: list[dict[str, Any]], count: Callable[[str], int], extra: str = "") -> int:
    """Tokens the template makes of the conversation (what Ollama reports as `prompt_eval_count`)."""
    return (sum(count(str(m.get("content", ""))) for m in messages) + TEMPLATE_TOKENS_PER_MESSAGE * len(messages)
            + (count(extra) if extra else 0) + 1)


def generation_limit(options: dict[str, Any], prompt_tokens: int) -> int | None:
    """How many tokens may be generated before the server stops with "length"; None: no limit."""
    limits = []
    num_predict = options.get("num_predict")
    if isinstance(num_predict, int) and num_predict > 0:
        limits.append(num_predict)
    num_ctx = options.get("num_ctx")
    if isinstance(num_ctx, int) and num_ctx > 0:
        limits.append(max(0, num_ctx - prompt_tokens))
    return min(limits) if limits else None


_SUM_ANSWER = "The sum of the squares from 1 to {n} is **{total}**."
_STEP = re.compile(r"step (\d+): \1 squared")


def answer_after(reply: Any, reasoning: str) -> str:
    """The answer a model gives from a reasoning cut short: the long thinker sums up to the last step it
    reached (so a budget cut visibly changes the answer); any other reply answers as it would have."""
    steps = _STEP.findall(reasoning)
    first, newline, rest = reply.answer.partition("\n")
    if not steps or not first.startswith(_SUM_ANSWER.split("{n}")[0]):
        return reply.answer
    n = int(steps[-1])
    return _SUM_ANSWER.format(n=n, total=n * (n + 1) * (2 * n + 1) // 6) + newline + rest


def long_thinker_reply(reasoning_tokens: int = 3000, count: Callable[[str], int] | None = None) -> Any:
    """A model that works through a sum step by step for about `reasoning_tokens` tokens: ordinary long
    reasoning, never the same dozen words twice (no loop to flag)."""
    from tui.demo.simserver import Reply, tokens

    count = count or (lambda text: len(tokens(text)))
    openings = ("Next,", "Then", "Now", "After that,", "Moving on,", "Continuing,")
    steps, total, index = ["The user wants the sum of the squares from 1 upward, checked as I go."], 0, 1
    while total < reasoning_tokens:
        square, running = index * index, sum(k * k for k in range(1, index + 1))
        sentence = (f"{openings[index % len(openings)]} step {index}: {index} squared is {square}, so the running "
                    f"total becomes {running}; as a check, {index}·{index + 1}·{2 * index + 1}/6 = {running}.")
        if index % 7 == 0:
            sentence += f" That matches the formula again at n = {index}, which is reassuring."
        steps.append(sentence)
        total += count(sentence)
        index += 1
    n = index - 1
    answer = _SUM_ANSWER.format(n=n, total=n * (n + 1) * (2 * n + 1) // 6) + "\n"
    return Reply(reasoning="\n\n".join(steps), answer=answer)


def looping_reply(repeats: int = 80) -> Any:
    """A model caught in a loop: the same re-check, word for word, over and over."""
    from tui.demo.simserver import Reply

    loop = ("Wait, let me re-check the legs. 23 chickens have 46 legs and 12 rabbits have 48 legs, so that is "
            "94 legs in all. But did I count the heads right? 23 + 12 = 35. Yes. Hmm, but let me re-check "
            "the legs once more to be sure.")
    return Reply(reasoning="Let c be chickens and r rabbits: c + r = 35 and 2c + 4r = 94, so r = 12, c = 23.\n\n"
                 + "\n\n".join([loop] * repeats),
                 answer="There are **23 chickens** and **12 rabbits**.\n")
