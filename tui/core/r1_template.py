"""DeepSeek-R1's chat format, written out for a raw continuation after the reasoning.

Why r1tui renders it itself: "answer from what you have thought" needs a prompt that
ends inside the assistant's turn, right after `</think>`. Ollama's `/api/generate`
with `raw: true` takes such a prompt as-is; every R1 distill on Ollama uses DeepSeek's
template (`<｜User｜>…<｜Assistant｜>…<｜end▁of▁sentence｜>`), whose rendering is
reproduced here (the server adds the beginning-of-sentence token itself when it
tokenizes). A model whose template is not DeepSeek's is continued through the chat
endpoint instead (see `OllamaBackend.continue_after_thinking`).
"""

from __future__ import annotations

from typing import Iterable, Mapping

__all__ = ["ASSISTANT", "END_OF_SENTENCE", "USER", "continuation_prompt", "is_deepseek_template",
           "reasoning_prefill"]

USER = "<｜User｜>"
ASSISTANT = "<｜Assistant｜>"
END_OF_SENTENCE = "<｜end▁of▁sentence｜>"


def is_deepseek_template(template: str) -> bool:
    """Whether a model's Ollama template is DeepSeek's chat format."""
    return USER in template and ASSISTANT in template


def reasoning_prefill(reasoning: str) -> str:
    """The assistant's unfinished turn: the reasoning so far, closed, and the answer about to begin."""
    return f"<think>\n{reasoning.strip()}\n</think>\n\n"


def continuation_prompt(messages: Iterable[Mapping[str, str]], reasoning: str) -> str:
    """The conversation in DeepSeek's format, ending with the assistant's closed reasoning."""
    parts: list[str] = []
    for message in messages:
        role, content = message.get("role"), message.get("content", "")
        if role == "system":
            parts.append(content)
        elif role == "user":
            parts.append(USER + content)
        elif role == "assistant":
            parts.append(ASSISTANT + content + END_OF_SENTENCE)
    return "".join(parts) + ASSISTANT + reasoning_prefill(reasoning)
