"""The streaming widgets: wrapping by terminal cells, and long answers cut into pieces safely."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tui.widgets.answer import PIECE_CHARACTERS, AnswerMarkdown, safe_cut
from tui.widgets.stream_text import StreamingText, wrap_line


def test_wrap_line_respects_cells_and_cuts_long_words() -> None:
    assert wrap_line("alpha beta gamma", 11) == ["alpha beta", "gamma"]
    assert wrap_line("中文中文中文", 4) == ["中文", "中文", "中文"]
    assert wrap_line("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert wrap_line("", 10) == [""]


def test_safe_cut_never_splits_a_code_fence() -> None:
    text = "intro\n\n```python\nx = 1\n\ny = 2\n```\n\nafter\n\nmore"
    cut = safe_cut(text, 3)
    assert text[:cut] == "intro\n\n"
    cut = safe_cut(text, 10)
    assert text[:cut].endswith("```\n\n") and text[cut:] == "after\n\nmore"


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield StreamingText(id="text")
        yield AnswerMarkdown(id="answer")


async def test_streaming_text_grows_and_keeps_every_character() -> None:
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        text = app.query_one(StreamingText)
        for word in ("first ", "line\n", "second ", "line ", "that is long enough to wrap twice here\n\n", "end"):
            text.append(word)
            await pilot.pause()
        assert text.text == "first line\nsecond line that is long enough to wrap twice here\n\nend"
        rows = [text.render_line(y).text.rstrip() for y in range(text.size.height)]
        assert rows == ["first line", "second line that is long enough to wrap", "twice here", "", "end"]


async def test_long_answer_is_split_into_pieces_without_losing_text() -> None:
    app = Host()
    block = "Some prose about the step.\n\n```python\nprint('x')\n\nprint('y')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    async with app.run_test(size=(80, 20)) as pilot:
        answer = app.query_one(AnswerMarkdown)
        full = block * 60
        for start in range(0, len(full), 37):
            await answer.write(full[start:start + 37])
        await answer.finish()
        await pilot.pause()
        pieces = list(answer.query(Markdown))
        assert len(pieces) >= len(full) // PIECE_CHARACTERS
        assert answer.source == full
        assert "".join(piece.source for piece in pieces) == full
        assert all(piece.source.count("```") % 2 == 0 for piece in pieces)


async def test_first_short_line_becomes_visible() -> None:
    """Empty text has no height; a first one-row append must grow it (a layout pass, not a repaint)."""
    app = Host()
    async with app.run_test(size=(40, 20)) as pilot:
        text = app.query_one(StreamingText)
        await pilot.pause()
        assert text.size.height == 0
        text.append("short")
        await pilot.pause()
        assert text.size.height == 1
