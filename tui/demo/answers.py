"""The simulated server's answer mode: replies that end in a `\\boxed{…}` answer, right or wrong on purpose.

Graded comparison (`r1tui bench` with reference answers, the compare view's
✓/✗) needs a server whose answers can be checked and whose mistakes are
known in advance. In answer mode the simulated model answers every question
it knows the answer to:

- the prompts of an answer key (`key`, e.g. read from the same JSON Lines
  file the bench reads: `{"prompt": …, "answer": …}`),
- the built-in prompt sets' graded prompts,
- the generated set's problems (solved by `tui.core.generated_set.solve`);

and gets one wrong on purpose when the prompt contains one of `wrong`, or,
per model, for a stable share `error_rates[model]` of prompts (the same
prompt and model are always right, or always wrong, so results reproduce).
Larger tags think longer, as the real distills do. Other prompts get the
server's ordinary reply.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AnswerMode", "add_arguments", "from_arguments"]

_NOTE = "> r1tui's demo server, answer mode: this answer is {how} on purpose."


def _size_billions(model: str) -> float:
    match = re.search(r":(\d+(?:\.\d+)?)b", model)
    return float(match.group(1)) if match else 7.0


def wrong_answer(answer: str) -> str:
    """A different answer: one more for a whole number, else 0 (or 1 when the answer is 0)."""
    text = answer.strip()
    if re.fullmatch(r"-?\d+", text):
        return str(int(text) + 1)
    return "1" if text == "0" else "0"


@dataclass
class AnswerMode:
    key: dict[str, str] = field(default_factory=dict)
    wrong: tuple[str, ...] = ()
    error_rates: dict[str, float] = field(default_factory=dict)

    def answer_for(self, prompt: str) -> str | None:
        """The right answer to `prompt`, if this mode knows it."""
        from tui.core.generated_set import solve
        from tui.core.prompt_sets import BUILTIN_SETS

        text = prompt.strip()
        if text in self.key:
            return self.key[text]
        for prompt_set in BUILTIN_SETS.values():
            for index, known in enumerate(prompt_set.prompts):
                if known == text and prompt_set.answer(index) is not None:
                    return prompt_set.answer(index)
        return solve(text)

    def is_wrong(self, model: str, prompt: str) -> bool:
        if any(marker and marker in prompt for marker in self.wrong):
            return True
        rate = self.error_rates.get(model, 0.0)
        draw = int.from_bytes(hashlib.sha256(f"{model}\n{prompt.strip()}".encode()).digest()[:4], "big") / 2**32
        return draw < rate

    def reply(self, model: str, messages: list[dict[str, Any]]) -> Any | None:
        """A Reply ending in a boxed answer, or None for a prompt this mode has no answer for."""
        from tui.demo.simserver import Reply

        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        right = self.answer_for(prompt)
        if right is None:
            return None
        wrong = self.is_wrong(model, prompt)
        answer = wrong_answer(right) if wrong else right
        steps = 2 + round(_size_billions(model) ** 0.5 * 2)
        reasoning = " ".join(["Let me work through this carefully, one step at a time, and check each step."] * steps)
        reasoning += f" So the result is {answer}."
        return Reply(reasoning=reasoning,
                     answer=f"The answer is $\\boxed{{{answer}}}$.\n\n{_NOTE.format(how='wrong' if wrong else 'right')}\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`python -m tui.demo` options for answer mode."""
    parser.add_argument("--answer-mode", action="store_true",
                        help="answer known questions with a \\boxed{} answer (built-in sets, generated problems)")
    parser.add_argument("--answers", metavar="FILE",
                        help="an answer key: JSON Lines {\"prompt\": …, \"answer\": …} (implies --answer-mode)")
    parser.add_argument("--wrong", action="append", default=[], metavar="TEXT",
                        help="answer wrong on purpose when the prompt contains TEXT (repeatable)")
    parser.add_argument("--error-rate", action="append", default=[], metavar="TAG=SHARE",
                        help="answer this share (0–1) of prompts wrong on purpose for model TAG (repeatable)")


def from_arguments(args: argparse.Namespace) -> AnswerMode | None:
    """The answer mode the options ask for; None when they ask for none."""
    if not (args.answer_mode or args.answers or args.wrong or args.error_rate):
        return None
    key: dict[str, str] = {}
    if args.answers:
        from tui.core.prompt_sets import load_prompt_file

        prompt_set = load_prompt_file(Path(args.answers))
        key = {p: a for p, a in zip(prompt_set.prompts, prompt_set.references()) if a is not None}
    rates: dict[str, float] = {}
    for item in args.error_rate:
        tag, _, share = item.rpartition("=")
        rates[tag if ":" in tag else f"{tag}:latest"] = float(share)
    return AnswerMode(key=key, wrong=tuple(args.wrong), error_rates=rates)
