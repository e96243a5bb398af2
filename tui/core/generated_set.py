"""A prompt set made by code: arithmetic and algebra problems with exact answers.

Why: a result must be reproducible (the same `--seed` gives the same problems
on every machine, so two users' figures compare) and must not measure
memory: problems drawn afresh cannot be in any model's training data, unlike
MATH-500 or AIME. Answers are computed exactly (integers and `Fraction`s),
never by floating point, and written as math-verify reads them.

`solve` reads one of these problems back and returns its answer: the
simulated server's answer mode uses it to answer generated problems (right
or wrong on purpose) without knowing the seed.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction
from typing import Callable

from tui.core.prompt_sets import PromptSet

__all__ = ["DEFAULT_COUNT", "DEFAULT_SEED", "MAX_COUNT", "generate", "solve", "write_answer"]

DEFAULT_SEED = 1
DEFAULT_COUNT = 10
MAX_COUNT = 1000


def write_answer(value: Fraction | int) -> str:
    """An exact answer as LaTeX: `42`, `-\\frac{3}{7}`."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


# Each kind: a problem from a random source, and a reader that solves that wording back.
def _product(rng: random.Random) -> str:
    return f"Compute {rng.randint(12, 99)} * {rng.randint(12, 99)} - {rng.randint(10, 999)}."


def _linear(rng: random.Random) -> str:
    a = rng.randint(2, 12)
    c = rng.choice([n for n in range(2, 13) if n != a])
    return f"Solve for x: {a}x + {rng.randint(1, 50)} = {c}x + {rng.randint(1, 50)}. Give x exactly."


def _fractions(rng: random.Random) -> str:
    p, q, r, s = rng.randint(1, 9), rng.randint(2, 12), rng.randint(1, 9), rng.randint(2, 12)
    return f"What is {p}/{q} + {r}/{s}? Give the answer as a fraction in lowest terms."


def _series(rng: random.Random) -> str:
    start = rng.randint(-50, 50)
    return f"What is the sum of all integers from {start} to {start + rng.randint(10, 200)}, inclusive?"


def _power_mod(rng: random.Random) -> str:
    return (f"What is the remainder when {rng.randint(2, 19)}^{rng.randint(5, 40)} "
            f"is divided by {rng.randint(3, 97)}?")


_KINDS: tuple[Callable[[random.Random], str], ...] = (_product, _linear, _fractions, _series, _power_mod)

_SOLVERS: tuple[tuple[re.Pattern[str], Callable[..., Fraction | int]], ...] = (
    (re.compile(r"Compute (\d+) \* (\d+) - (\d+)\."), lambda a, b, c: a * b - c),
    (re.compile(r"Solve for x: (\d+)x \+ (\d+) = (\d+)x \+ (\d+)\."), lambda a, b, c, d: Fraction(d - b, a - c)),
    (re.compile(r"What is (\d+)/(\d+) \+ (\d+)/(\d+)\?"), lambda p, q, r, s: Fraction(p, q) + Fraction(r, s)),
    (re.compile(r"sum of all integers from (-?\d+) to (-?\d+), inclusive"),
     lambda a, b: (a + b) * (b - a + 1) // 2),
    (re.compile(r"remainder when (\d+)\^(\d+) is divided by (\d+)\?"), lambda a, k, m: pow(a, k, m)),
)


def solve(prompt: str) -> str | None:
    """The exact answer to a problem this module wrote; None for any other text."""
    for pattern, answer in _SOLVERS:
        match = pattern.search(prompt)
        if match:
            return write_answer(answer(*(int(group) for group in match.groups())))
    return None


def generate(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> PromptSet:
    """`count` problems, the kinds taken in turn, all drawn from `seed`: the same seed, the same set."""
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be 1 to {MAX_COUNT}")
    rng = random.Random(seed)
    prompts = tuple(_KINDS[index % len(_KINDS)](rng) for index in range(count))
    answers = tuple(solve(prompt) for prompt in prompts)
    return PromptSet("generated", f"{count} generated arithmetic/algebra problems (seed {seed})", prompts, answers)
