"""R1's `\\boxed{…}` final answers read as plain bold text; code and other dollars stay as written."""

from __future__ import annotations

import pytest

from tui.widgets.markdown_render import MarkdownRenderer
from tui.core.math_text import latex_to_text, present_math


@pytest.mark.parametrize(("written", "shown"), [
    (r"$\boxed{23 \text{ chickens}, 12 \text{ rabbits}}$", "**23 chickens, 12 rabbits**"),
    ("**Final Answer**\n\n\\[\n\\boxed{\\frac{1}{2}}\n\\]\n", "**Final Answer**\n\n**1/2**\n"),
    (r"so $\boxed{2^{61}-1}$ and $5 costs", "so **2⁶¹-1** and $5 costs"),
    (r"$\boxed{x = \dfrac{-b \pm \sqrt{b^2-4ac}}{2a}}$", "**x = (-b ± √(b²-4ac))/2a**"),
    (r"$$\boxed{3 \times 4 = 12}$$", "**3 × 4 = 12**"),
])
def test_boxed_answers_become_bold_text(written: str, shown: str) -> None:
    assert present_math(written) == shown


@pytest.mark.parametrize("written", [
    "```latex\n$\\boxed{1}$\n```\n",  # code is code
    r"costs $5 and $6",  # dollars, not math
    r"$x^2 + 1$ with no box",  # math without an answer box is left alone
    r"$\boxed{\frac{1}{2",  # still streaming: unbalanced, shown raw until complete
])
def test_everything_else_is_left_as_written(written: str) -> None:
    assert present_math(written) == written


def test_markdown_in_an_answer_box_is_not_interpreted() -> None:
    assert latex_to_text(r"\boxed{a*b*c}") == "a*b*c"
    rows = ["".join(s.text for s in line) for line in MarkdownRenderer().render(r"$\boxed{a*b*c}$", 40)]
    assert rows[0].strip() == "a*b*c"


def test_the_rendered_answer_is_bold_and_has_no_latex() -> None:
    lines = MarkdownRenderer().render(r"The answer is $\boxed{23 \text{ chickens}}$.", 60)
    text = "".join(segment.text for segment in lines[0])
    assert text.strip() == "The answer is 23 chickens."
    assert any(segment.style and segment.style.bold and "23 chickens" in segment.text for segment in lines[0])


def test_a_boxed_answer_still_being_written_is_found_where_it_opens() -> None:
    from tui.core.math_text import unfinished_answer_math

    assert unfinished_answer_math(r"So $\boxed{23 \text{ chick") == 3
    assert unfinished_answer_math(r"x $a$ and \(\boxed{2") == 10 and unfinished_answer_math(r"\[ \boxed{4") == 0
    assert unfinished_answer_math(r"So $\boxed{23}$ in all") is None  # closed: converted as it is
    assert unfinished_answer_math("costs $5 and $6") is None  # no boxed answer: shown as written anyway
    # Not yet known to be one: an opener with nothing after it, the start of \boxed, a last backslash.
    assert unfinished_answer_math("So the answer is $") == 17 and unfinished_answer_math(r"So $$\bo") == 3
    assert unfinished_answer_math("So \\") == 3 and unfinished_answer_math("costs $5") is None
