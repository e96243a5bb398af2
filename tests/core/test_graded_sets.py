"""Prompt files with reference answers (JSON Lines), built-in references and the generated set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.generated_set import generate, solve
from tui.core.grading import grade
from tui.core.prompt_sets import PromptSetError, get_builtin, load_prompt_file


def test_jsonl_gives_prompts_and_answers(tmp_path: Path) -> None:
    path = tmp_path / "quiz.jsonl"
    path.write_text(
        '{"prompt": "What is 6 times 7?", "answer": "42", "source": "mine", "level": 1}\n'
        "\n"
        '{"prompt": "84 / 2?", "answer": 42}\n'
        '{"prompt": "Tell me about primes."}\n', encoding="utf-8")
    prompts = load_prompt_file(path)
    assert prompts.prompts == ("What is 6 times 7?", "84 / 2?", "Tell me about primes.")
    assert prompts.references() == ["42", "42", None]  # a number is its text; no answer: not graded
    assert prompts.graded == 2


def test_a_file_is_jsonl_by_its_first_line_too(tmp_path: Path) -> None:
    path = tmp_path / "quiz.txt"
    path.write_text('{"prompt": "One?", "answer": "1"}\n{"prompt": "Two?"}\n')
    assert load_prompt_file(path).references() == ["1", None]


def test_plain_text_files_still_work_without_answers(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("One?\n\nTwo? {not json}\n")
    prompts = load_prompt_file(path)
    assert prompts.prompts == ("One?", "Two? {not json}") and prompts.references() == [None, None]


@pytest.mark.parametrize("line, message", [
    ('{"prompt": "ok"}\n{"prompt": "broken"\n', "line 2: not JSON"),
    ('{"prompt": "ok"}\n["a list"]\n', "line 2: a JSON object is needed"),
    ('{"answer": "42"}\n', 'line 1: "prompt" must be non-empty text'),
    ('{"prompt": "ok", "answer": ["42"]}\n', 'line 1: "answer" must be text or a number'),
])
def test_bad_jsonl_lines_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line)
    with pytest.raises(PromptSetError, match=message):
        load_prompt_file(path)


def test_built_in_sets_have_references_where_there_is_one() -> None:
    classic, math = get_builtin("classic"), get_builtin("math")
    assert classic.references() == ["23, 12", "6/11", None, None]  # code and a syllogism: nothing to compute
    assert math.references()[:3] == ["233168", "4", "24"]
    assert grade("So $\\boxed{233168}$", math.answer(0)).correct is True


def test_generated_set_is_reproducible_and_exact() -> None:
    first, again, other = generate(7, 10), generate(7, 10), generate(8, 10)
    assert first == again and first.prompts != other.prompts
    assert len(first.prompts) == 10 and first.graded == 10
    for prompt, answer in zip(first.prompts, first.answers):
        assert solve(prompt) == answer
        assert grade(f"The answer is $\\boxed{{{answer}}}$.", answer).correct is True
    assert solve("What is love?") is None


def test_generated_answers_are_computed_exactly() -> None:
    assert solve("Solve for x: 12x + 5 = 2x + 35. Give x exactly.") == "3"
    assert solve("Solve for x: 7x + 5 = 3x + 8. Give x exactly.") == "\\frac{3}{4}"
    assert solve("What is 2/7 + 1/10? Give the answer as a fraction in lowest terms.") == "\\frac{27}{70}"
    assert solve("What is the sum of all integers from -3 to 5, inclusive?") == "9"
    assert solve("What is the remainder when 4^32 is divided by 56?") == str(pow(4, 32, 56))
    assert solve("Compute 53 * 31 - 414.") == "1229"
