"""`r1tui --demo`: the canned reply matches the question's topic, and says it is canned."""

from __future__ import annotations

import json

import httpx
import pytest

from tui.demo import SimulatedOllama, demo_reply


def answer_to(question: str) -> str:
    return demo_reply([{"role": "user", "content": question}]).answer


def test_a_primes_question_gets_a_primes_answer_not_a_palindrome() -> None:
    answer = answer_to("Write a function that checks whether a number is prime")
    assert "def is_prime" in answer and "palindrome" not in answer


@pytest.mark.parametrize(("question", "expected"), [
    ("Is 97 prime?", "**97 is prime.**"),
    ("Is 91 a prime number?", "91 = 7 × 13"),
    ("List the primes below 30", "2, 3, 5, 7, 11, 13, 17, 19, 23, 29."),
    ("Chickens and rabbits: 35 heads and 94 legs. How many of each?", "**23 chickens** and **12 rabbits**"),
    ("Write a Python function is_palindrome(text)", "def is_palindrome"),
])
def test_each_canned_topic_answers_its_own_question(question: str, expected: str) -> None:
    assert expected in answer_to(question)


@pytest.mark.parametrize("question", [
    "What is the capital of France?",
    "Write a bash script that backs up my home directory",
    "Is 97 prime?",
])
def test_every_canned_reply_says_it_is_canned(question: str) -> None:
    assert "canned" in answer_to(question)


def test_anything_else_is_not_passed_off_as_an_answer() -> None:
    answer = answer_to("What is the capital of France?")
    assert answer.startswith("**Canned demo reply**") and "cannot answer" in answer
    assert "Here is what I found" not in answer


def test_the_demo_server_streams_it(sim: SimulatedOllama) -> None:
    with httpx.stream("POST", f"{sim.url}/api/chat", json={
            "model": "deepseek-r1:7b", "think": True,
            "messages": [{"role": "user", "content": "Is 91 prime?"}]}, timeout=30) as response:
        chunks = [json.loads(line) for line in response.iter_lines() if line.strip()]
    text = "".join(chunk.get("message", {}).get("content", "") for chunk in chunks)
    assert "91 = 7 × 13" in text


@pytest.mark.parametrize("shape", ["mixed", "long-code", "long-list"])
def test_the_benchmarks_synthetic_answer_has_the_shape_and_length_asked_for(shape: str) -> None:
    from tui.demo import synthetic_reply, tokens

    reply = synthetic_reply(300, 2000, shape)
    assert 1950 <= len(tokens(reply.answer)) <= 2100 and 290 <= len(tokens(reply.reasoning)) <= 320
    fences = reply.answer.count("```")
    if shape == "long-code":  # one block of a whole program's length, nothing else
        assert fences == 2 and reply.answer.startswith("```python\n") and reply.answer.endswith("```\n")
        assert reply.answer.count("\n") > 100
    elif shape == "long-list":  # one numbered list, numbered as it goes, some items with a nested note
        numbers = [int(line.split(".")[0]) for line in reply.answer.splitlines() if line[:1].isdigit()]
        assert fences == 0 and numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 50
        assert "\n    - note: " in reply.answer and "\n\n" not in reply.answer.split("\n\n", 1)[1]
    else:  # prose, tables and several short code blocks
        assert fences > 2 and "|---|" in reply.answer and "## Part" in reply.answer
