"""Answers graded against references with math-verify: equivalence, extraction, threads."""

from __future__ import annotations

import threading

import pytest

from tui.core.grading import Grade, grade, grade_async


@pytest.mark.parametrize("answer, reference", [
    ("The answer is 42.", "42"),
    ("So the result is 42.0.", "42"),
    ("$\\boxed{84/2}$", "42"),
    ("$\\boxed{\\frac{84}{2}}$", "42.0"),
    ("Half of it: $\\boxed{0.5}$", "\\frac{1}{2}"),
    ("$\\boxed{\\frac{1}{2}}$", "0.5"),
    ("Alice wins with probability $\\boxed{\\dfrac{6}{11}}$.", "6/11"),
    ("Therefore $\\boxed{x = 4}$.", "4"),
    ("There are $\\boxed{23, 12}$ chickens and rabbits.", "23, 12"),
])
def test_equivalent_answers_are_right(answer: str, reference: str) -> None:
    assert grade(answer, reference).correct is True


def test_the_boxed_answer_is_the_one_used() -> None:
    # Numbers met on the way (and the wrong one before) do not count: the boxed one does.
    text = "First I got 41, then 7 × 6 = 42, so $\\boxed{42}$. (Earlier guess: 41.)"
    assert grade(text, "42") == Grade(True, "42")
    assert grade("I considered 42 but it is $\\boxed{41}$.", "42") == Grade(False, "41")


def test_wrong_and_missing_answers() -> None:
    assert grade("The answer is $\\boxed{43}$.", "42").correct is False
    assert grade("I cannot tell.", "42") == Grade(False, None)  # nothing found: wrong, nothing shown


def test_without_a_reference_the_answer_is_reported_not_graded() -> None:
    assert grade("So $\\boxed{17}$.", None) == Grade(None, "17")
    assert grade("So $\\boxed{17}$.", "   ") == Grade(None, "17")
    # A reference math-verify cannot read is not held against the model either.
    assert grade("So $\\boxed{17}$.", "\\").correct is None


def test_grading_works_off_the_main_thread() -> None:
    # math-verify's default signal-based timeouts raise on any other thread; the TUI grades on workers.
    seen: list[Grade] = []
    worker = threading.Thread(target=lambda: seen.append(grade("$\\boxed{\\frac{84}{2}}$", "42")))
    worker.start()
    worker.join(timeout=60)
    assert seen == [Grade(True, "\\frac{84}{2}")]


async def test_grade_async_does_not_hold_the_event_loop() -> None:
    assert (await grade_async("$\\boxed{0.5}$", "1/2")).correct is True


def test_a_huge_answer_is_graded_on_its_tail() -> None:
    text = "blah " * 200_000 + "so $\\boxed{7}$"
    assert grade(text, "7").correct is True


async def test_grading_that_takes_too_long_is_reported_not_graded(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr("tui.core.grading.grade", lambda answer, reference: time.sleep(0.5) or Grade(True, "1"))
    assert await grade_async("$\\boxed{1}$", "1", timeout=0.05) == Grade(None, None)
