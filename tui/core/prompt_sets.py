"""Prompt sets for quick checks of a model: built-in ones, and the user's own file.

Built-in sets hold questions with one checkable answer, so two models can be
compared at a glance (the "classic" set is the one people paste into issues:
chickens and rabbits, a dice game, a palindrome function, a syllogism).

A file of your own is plain UTF-8 text, chosen over TOML/JSON because prompts
are prose and code that nobody wants to quote or escape:

- prompts are separated by a line holding only ``---``;
- a file without any ``---`` line is split on blank lines instead, so a list
  of one-paragraph questions needs no markup at all (use ``---`` as soon as a
  prompt has a blank line of its own, e.g. around a code block);
- leading and trailing blank lines of each prompt are dropped; nothing else is
  interpreted (no comments), so a prompt is sent exactly as written.

A file may also give reference answers, so that answers can be graded
(`tui.core.grading`): JSON Lines, one object per line,
``{"prompt": "...", "answer": "..."}``. `answer` is optional (that prompt is
reported, not graded); a number is taken as its text; other keys are kept in
the file and ignored here, so a file exported from a dataset works as it is.
A file is read as JSON Lines when its name ends in `.jsonl` or its first
non-blank line is a JSON object; then every line must be one.

Problems (no such file, not UTF-8, no prompt in it, a line that is not a
JSON object) raise `PromptSetError` with a message that names the file (and
line) and what to do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUILTIN_SETS", "DEFAULT_SET", "MAX_FILE_BYTES", "SEPARATOR", "PromptSet", "PromptSetError",
           "builtin_names", "get_builtin", "load_prompt_file", "parse_jsonl", "parse_prompts"]

SEPARATOR = "---"
# Prompt files are read whole; a runaway file (a log, a binary) is a mistake, not a prompt set.
MAX_FILE_BYTES = 1_000_000


class PromptSetError(Exception):
    """A prompt set that cannot be used, with a message a user can act on."""


@dataclass(frozen=True)
class PromptSet:
    """Prompts, and where known each one's reference answer (`answers` is parallel to `prompts`,
    or empty when no prompt has one)."""

    name: str
    description: str
    prompts: tuple[str, ...]
    answers: tuple[str | None, ...] = ()

    def answer(self, index: int) -> str | None:
        """Prompt `index`'s reference answer, None when it has none (reported, not graded)."""
        return self.answers[index] if index < len(self.answers) else None

    def references(self) -> list[str | None]:
        """One reference (or None) per prompt, in order."""
        return [self.answer(i) for i in range(len(self.prompts))]

    @property
    def graded(self) -> int:
        """How many prompts have a reference answer."""
        return sum(1 for answer in self.references() if answer is not None)

    def title(self, index: int, width: int = 50) -> str:
        """A one-line label for prompt `index`: its first line, shortened to `width`."""
        first = self.prompts[index].strip().splitlines()[0] if self.prompts[index].strip() else ""
        return first if len(first) <= width else first[: width - 1].rstrip() + "…"


BUILTIN_SETS: dict[str, PromptSet] = {
    prompt_set.name: prompt_set
    for prompt_set in (
        PromptSet(
            "classic",
            "the four classic reasoning checks",
            (
                "A farm has chickens and rabbits: 35 heads and 94 legs in all. "
                "How many chickens and how many rabbits are there?",
                "Alice and Bob take turns rolling a fair six-sided die, Alice first. "
                "The first to roll a 6 wins. What is the probability that Alice wins?",
                "Write a Python function is_palindrome(text) that returns True when text reads "
                "the same backwards, ignoring case, spaces and punctuation. Include two examples.",
                "All bloops are razzies. All razzies are lazzies. Are all bloops definitely lazzies? "
                "And are all lazzies definitely bloops? Explain briefly.",
            ),
            ("23, 12", "6/11", None, None),
        ),
        PromptSet(
            "math",
            "arithmetic and algebra with exact answers",
            (
                "What is the sum of all positive integers below 1000 that are multiples of 3 or 5?",
                "Solve for x: 3x + 7 = 2x - 5 + 4x.",
                "How many trailing zeros does 100! have?",
                "A train leaves at 14:20 and travels 245 km at 70 km/h. At what time does it arrive?",
            ),
            # A clock time is not something math-verify compares: that one is reported, not graded.
            ("233168", "4", "24", None),
        ),
        PromptSet(
            "code",
            "small programming tasks",
            (
                "Write a Python function that returns the n-th Fibonacci number in O(log n) time.",
                "Write a Python function that merges overlapping intervals, "
                "e.g. [(1,3),(2,6),(8,10)] -> [(1,6),(8,10)].",
                "Explain the bug in this Python code and fix it: def add(item, items=[]): "
                "items.append(item); return items",
            ),
        ),
    )
}

DEFAULT_SET = "classic"


def builtin_names() -> list[str]:
    return list(BUILTIN_SETS)


def get_builtin(name: str) -> PromptSet:
    try:
        return BUILTIN_SETS[name]
    except KeyError:
        raise PromptSetError(
            f"There is no built-in prompt set named {name!r}: choose one of {', '.join(BUILTIN_SETS)}") from None


def parse_prompts(text: str) -> list[str]:
    """The prompts in a file's text, by the rules in this module's docstring."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if any(line.strip() == SEPARATOR for line in lines):
        chunks: list[list[str]] = [[]]
        for line in lines:
            if line.strip() == SEPARATOR:
                chunks.append([])
            else:
                chunks[-1].append(line)
        pieces = ["\n".join(chunk) for chunk in chunks]
    else:
        pieces = re.split(r"\n[ \t]*\n", text)
    return [piece.strip("\n").strip() for piece in pieces if piece.strip()]


def _looks_like_jsonl(name: str, text: str) -> bool:
    if name.lower().endswith((".jsonl", ".ndjson")):
        return True
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first.startswith("{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def parse_jsonl(text: str, source: str = "the file") -> tuple[list[str], list[str | None]]:
    """Prompts and reference answers from JSON Lines; raises PromptSetError naming the line."""
    prompts: list[str] = []
    answers: list[str | None] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise PromptSetError(f"{source}, line {number}: not JSON ({exc.msg}); write one object per line, "
                                 '{"prompt": "...", "answer": "..."}') from None
        if not isinstance(item, dict):
            raise PromptSetError(f"{source}, line {number}: a JSON object is needed, "
                                 '{"prompt": "...", "answer": "..."}')
        prompt = item.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise PromptSetError(f'{source}, line {number}: "prompt" must be non-empty text')
        answer = item.get("answer")
        if isinstance(answer, bool) or not isinstance(answer, (str, int, float, type(None))):
            raise PromptSetError(f'{source}, line {number}: "answer" must be text or a number')
        prompts.append(prompt.strip())
        answers.append(None if answer is None or not str(answer).strip() else str(answer).strip())
    return prompts, answers


def load_prompt_file(path: str | Path) -> PromptSet:
    """The user's own prompts; raises PromptSetError naming the file and the fix."""
    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PromptSetError(
                f"{file} is {size:,} bytes: too large for a prompt file (at most {MAX_FILE_BYTES:,}); "
                "is it the right file?")
        raw = file.read_bytes()
    except FileNotFoundError:
        raise PromptSetError(f"Prompt file {file} does not exist") from None
    except IsADirectoryError:
        raise PromptSetError(f"{file} is a folder: give a text file of prompts") from None
    except PermissionError:
        raise PromptSetError(f"Cannot read {file}: permission denied") from None
    except OSError as exc:
        raise PromptSetError(f"Cannot read {file}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PromptSetError(
            f"{file} is not UTF-8 text (byte {exc.start}): save it as UTF-8, "
            "one prompt per paragraph or prompts separated by '---' lines") from None
    answers: list[str | None] = []
    if _looks_like_jsonl(file.name, text):
        prompts, answers = parse_jsonl(text, str(file))
    else:
        prompts = parse_prompts(text)
    if not prompts:
        raise PromptSetError(
            f"{file} holds no prompt: write one prompt per paragraph, or separate prompts with '---' lines")
    return PromptSet(file.name, f"prompts from {file}", tuple(prompts), tuple(answers))
