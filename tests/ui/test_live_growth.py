"""Jump scrolling in a live pane: a fast stream grows the pane a few times a second, a slow one row by row."""

from __future__ import annotations

import pytest

from tests.apphelpers import wait_for
from tui.widgets.live_growth import GROW_INTERVAL_SECONDS, MAX_SHARE, RowReserve


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stream_rows(reserve: RowReserve, clock: Clock, rows_per_second: float, seconds: float,
                frame: float = 1 / 15) -> list[tuple[int, int]]:
    """(rows of text, height reported) at each frame of a stream adding rows at a steady rate."""
    seen = []
    for step in range(int(seconds / frame)):
        clock.now = step * frame
        rows = int(rows_per_second * clock.now)
        seen.append((rows, reserve.height(rows)))
    return seen


def growths(seen: list[tuple[int, int]]) -> int:
    return sum(1 for (_, before), (_, after) in zip(seen, seen[1:]) if after != before)


def test_a_pane_that_is_not_live_reports_exactly_its_rows() -> None:
    reserve = RowReserve(Clock())
    assert [reserve.height(rows) for rows in (0, 5, 500, 3)] == [0, 5, 500, 3]


def test_a_fast_stream_grows_its_pane_a_few_times_a_second_and_keeps_its_newest_row_in() -> None:
    clock = Clock()
    reserve = RowReserve(clock)
    reserve.set_viewport(37)  # a 160x50 terminal; 300 tokens/s of reasoning is about 24 rows/s
    seen = stream_rows(reserve, clock, 24, seconds=10)
    assert growths(seen) <= 2 * 10 + 3  # row by row, it would be 240 layouts and full repaints
    assert all(height >= rows for rows, height in seen)  # the newest row is never below the pane
    assert all(height - rows <= 37 * MAX_SHARE for rows, height in seen)  # mostly text on screen


@pytest.mark.parametrize("rows_per_second", [6, 10, 17, 24, 31, 45, 60])
def test_text_that_fits_its_pane_starts_at_the_top(rows_per_second: float) -> None:
    clock = Clock()
    reserve = RowReserve(clock)
    reserve.set_viewport(37)
    seen = stream_rows(reserve, clock, rows_per_second, seconds=60 / rows_per_second)
    assert all(height <= 37 for rows, height in seen if rows <= 37)  # no overflow: nothing scrolls it up


def test_a_small_pane_jumps_at_most_once_a_frame_and_rows_wait_no_longer() -> None:
    clock = Clock()
    reserve = RowReserve(clock)
    reserve.set_viewport(6)  # 80x24, stacked panes: 1,000 tokens/s is about 150 rows/s
    seen = stream_rows(reserve, clock, 150, seconds=4)
    assert growths(seen) <= 4 / GROW_INTERVAL_SECONDS + 2
    waited = reserve.waiting(seen[-1][0] + 50)
    assert waited is not None and waited <= GROW_INTERVAL_SECONDS


def test_a_slow_stream_scrolls_row_by_row() -> None:
    clock = Clock()
    reserve = RowReserve(clock)
    reserve.set_viewport(37)
    seen = stream_rows(reserve, clock, 1.5, seconds=60)  # 30 tokens/s in a narrow pane
    assert all(height == max(rows, height) and height - rows <= 1 for rows, height in seen if rows > 37)


def test_leaving_the_live_pane_gives_the_exact_height_again() -> None:
    clock = Clock()
    reserve = RowReserve(clock)
    reserve.set_viewport(37)
    stream_rows(reserve, clock, 40, seconds=3)
    reserve.set_viewport(0)
    assert reserve.height(117) == 117


async def test_a_live_window_whose_text_fits_it_waits_on_nothing() -> None:
    """Text shorter than its window never waits for a jump: no timer may keep firing meanwhile
    (one did, every 5 ms, for as long as the text fit: a slow stream cost a quarter of a core)."""
    from textual.app import App, ComposeResult

    from tui.widgets.stream_text import StreamingText

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield StreamingText()

    app = Host()
    async with app.run_test(size=(40, 12)) as pilot:
        text = app.query_one(StreamingText)
        text.styles.height = 10
        await pilot.pause()
        text.set_live(True)
        await pilot.pause()
        grown = []
        real_grow = text._grow
        text._grow = lambda: (grown.append(1), real_grow())  # type: ignore[method-assign]
        for line in range(6):
            text.append(f"line {line}\n")
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        assert text.top == 0 and text.following
        assert len(grown) <= 1, len(grown)


@pytest.mark.parametrize("kind", ["answer", "reasoning"])
async def test_a_live_window_wrapped_anew_at_another_width_shows_the_text_s_end_at_once(kind: str) -> None:
    """Widened mid-stream (F2 hides the panel), the text takes fewer rows: the window must not keep its
    place past the text's end (the pane stood blank below the text until the stream caught up)."""
    from textual.app import App, ComposeResult

    from tui.widgets.answer import AnswerMarkdown
    from tui.widgets.stream_text import StreamingText

    widget = AnswerMarkdown() if kind == "answer" else StreamingText()

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield widget

    line = "value = combine(values, weights)  # a comment long enough to wrap at forty\n"
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        widget.styles.width, widget.styles.height = 40, 20
        await pilot.pause()
        widget.set_live(True)
        await pilot.pause()

        async def write(text: str) -> None:
            if isinstance(widget, AnswerMarkdown):
                await widget.write(text)
            else:
                widget.append(text)

        await write("```python\n" if kind == "answer" else "")
        for _ in range(80):  # more than two screens at any width; fast: the window jumps ahead, rows reserved below the text
            await write(line)
            await pilot.pause(0.01)
        await pilot.pause(0.1)
        assert widget.top > 0 and widget._text_rows() > 120  # two rows a line at 40 columns

        widget.styles.width = 96  # a row a line now: about half the rows
        await pilot.pause()
        await pilot.pause()
        if isinstance(widget, AnswerMarkdown):  # drawn again from its end, its earlier rows estimated a while
            await wait_for(pilot, lambda: widget.drawn)
            await pilot.pause()
        rows = [widget.render_line(y).text.strip() for y in range(widget.size.height)]
    assert rows[-1] or rows[-2], rows  # the newest rows at the bottom, not blank rows past the end
    assert sum("value = combine" in row for row in rows) >= 15  # the window full of text
