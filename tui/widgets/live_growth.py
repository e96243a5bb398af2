"""Jump scrolling for a live pane: the text is its own window, and the window moves in jumps.

A live pane follows its newest line. As a text widget growing inside a scroll
container, every new row would change its height, which makes Textual lay out
the whole screen and then scroll the pane, repainting every row of it, twice
(the scroll container's virtual size asks for a second layout): at 300 tokens/s
most of the app's CPU and most of the bytes it sends over an SSH link.

So while live, the text widget has the pane's fixed height and draws its rows
from a `top` of its own (`LiveWindow`): new text changes no height and lays out
nothing; only the rows it changed are repainted. When the rows reach the bottom
the window jumps ahead, leaving blank rows for what is expected in the next
half second (from how fast rows have been arriving), at most half the pane
(`RowReserve`): terminals call this jump scrolling. It jumps at most
GROW_INTERVAL_SECONDS apart (about a frame): in a small pane a fast stream uses up
its reserve at every frame, so rows past the bottom wait for the next jump. A slow stream reserves nothing and scrolls row by
row; a finished turn is as tall as its text.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region
from textual.strip import Strip

# Rows reserved: what arrives in this long at the recent rate...
LOOKAHEAD_SECONDS = 0.5
# ...and at most this share of the pane, so what is on screen stays mostly text.
MAX_SHARE = 1 / 2
# The rate is measured over this long.
RATE_WINDOW_SECONDS = 1.0
# A live window that overflows jumps ahead (repaints itself whole) at most this often: about once a frame
# (a jump lays nothing out; waiting longer in a small pane left frames with nothing new in sight).
GROW_INTERVAL_SECONDS = 0.05
# Rows one notch of the mouse wheel moves a live window.
WHEEL_ROWS = 3


class RowReserve:
    """The height a live text widget reports: its rows, rounded up to a reserve that moves in jumps."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self.viewport = 0  # rows of the pane showing the text; 0: not live, heights are exact
        self._reserved = 0
        self._grown_at = float("-inf")

    @property
    def live(self) -> bool:
        return self.viewport > 0

    def set_viewport(self, rows: int, *, restart: bool = False) -> None:
        """Live in a pane `rows` tall (0: not live any more: report exact heights again).

        `restart`: forget what was reserved even in a pane as tall as before (the text was wrapped
        anew at another width: the rows reserved and their rate were counted in other rows).
        """
        if rows != self.viewport or restart:
            self.viewport = max(0, rows)
            self._reserved = 0
            self._grown_at = float("-inf")
            self._samples.clear()

    def rows_per_second(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (start, first), (end, last) = self._samples[0], self._samples[-1]
        return (last - first) / (end - start) if end > start else 0.0

    def height(self, rows: int) -> int:
        """The height to report for `rows` rows of text."""
        if not self.live:
            return rows
        now = self._clock()
        samples = self._samples
        if not samples or samples[-1][1] != rows:
            samples.append((now, rows))
        while len(samples) > 2 and now - samples[0][0] > RATE_WINDOW_SECONDS:
            samples.popleft()
        if rows <= self._reserved:
            return self._reserved
        if self._reserved > self.viewport and now - self._grown_at < GROW_INTERVAL_SECONDS:
            return self._reserved  # overflowing already, and grown a moment ago: the next rows wait
        slack = min(int(self.viewport * MAX_SHARE), math.ceil(self.rows_per_second() * LOOKAHEAD_SECONDS))
        reserved = rows + max(0, slack)
        if rows <= self.viewport:
            reserved = min(reserved, self.viewport)  # not overflowing yet: nothing to scroll, nothing pushed up
        self._reserved, self._grown_at = reserved, now
        return reserved

    def waiting(self, rows: int) -> float | None:
        """Seconds until rows past the reported height may be shown (None: none are waiting)."""
        if not self.live or rows <= self._reserved:
            return None
        return max(0.0, GROW_INTERVAL_SECONDS - (self._clock() - self._grown_at))


class LiveWindow:
    """Mixin for a Line API text widget that, while live, is its own scrolling window onto its rows.

    Live, the widget has the pane's fixed height (the turn's CSS) and draws the rows from `top` on:
    new text never changes its height, so the screen is never laid out while the model writes, and
    only the rows that changed are repainted. When the rows reach the bottom, `top` jumps ahead by
    the rows reserved (`RowReserve`): one repaint of the window, about once a frame at most.
    The mouse wheel moves `top` (the window stops following until it is back at the bottom).
    Not live, the widget is as tall as its text (height: auto) and `top` is 0.

    The widget provides `_text_rows()` (rows of text), `_laid_out()` (whether it knows its width)
    and draws row `y + top` on line `y` (`window_row`).
    """

    reserve: RowReserve
    live = False
    following = True  # live: the window keeps the newest row in sight
    top = 0  # live: the first row shown
    _growth_pending = False

    def _text_rows(self) -> int:
        raise NotImplementedError

    def _laid_out(self) -> bool:
        raise NotImplementedError

    def set_live(self, live: bool) -> None:
        """Live in a pane of fixed height (the turn's CSS gives it); not live: as tall as the text again."""
        if live == self.live:
            return
        self.live, self.following, self.top = live, True, 0
        self.reserve.set_viewport(self._window_height() if live else 0)
        self.refresh(layout=True)  # type: ignore[attr-defined]

    def _window_height(self) -> int:
        return max(1, self.size.height)  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        # At another width the text wraps into other rows (the layout has wrapped it already): the
        # rows reserved below the text, and so the window's place, were counted in rows that are gone
        # (the panel shown or hidden left the window past the text's end, the pane blank below it
        # for a second).
        self.rows_recounted()

    def rows_recounted(self) -> None:
        """Live: the text's rows were counted anew, not added to (wrapped at another width, estimated
        rows replaced by rendered ones): start the window afresh, the newest row at the bottom."""
        if self.live:
            self.reserve.set_viewport(self._window_height(), restart=True)
            self._move_window()
            self.refresh()  # type: ignore[attr-defined]

    def text_height(self) -> int:
        """Rows of text as last laid out (0 before the first layout)."""
        return self._text_rows() if self._laid_out() else 0

    def window_row(self, y: int) -> int:
        """The row of text drawn on line `y` of the widget."""
        return y + self.top if self.live else y

    def more_below(self) -> int:
        """Live and scrolled back by the user: rows of text below the window (shown on its last line)."""
        if not self.live or self.following:
            return 0
        return max(0, self._text_rows() - self.top - self._window_height())

    def below_marker(self, y: int, width: int, style: Style) -> Strip | None:
        """The window's last line while the user has scrolled back: how much is below, and how to follow."""
        more = self.more_below()
        if not more or y != self._window_height() - 1:
            return None
        text = f"▼ {more} more row{'s' if more != 1 else ''} below · wheel down to follow"
        return Strip([Segment(text, style + Style(dim=True, italic=True))]).crop_extend(0, width, style)

    def _move_window(self) -> bool:
        """Following: the window's top, in jumps (see RowReserve); whether it moved."""
        if not self.following:
            return False
        rows, height = self._text_rows(), self._window_height()
        reserved = self.reserve.height(rows)  # also while the text fits: the rate and what is reserved stay current
        top = 0 if rows <= height else max(0, reserved - height)
        moved, self.top = top != self.top, top
        return moved

    def close_window(self) -> None:
        """The text is complete while still live (the reasoning, once the answer begins): no rows stay
        reserved below it, so its last row sits at the bottom of the window."""
        if self.live and self.following:
            self.reserve.set_viewport(0)  # exact from here on: a timer still pending cannot reserve again
            if self._move_window():  # with nothing reserved, the last row at the bottom
                self.refresh()  # type: ignore[attr-defined]

    def show_rows(self, first: int, end: int) -> None:
        """Live: rows [first, end) of the text changed; repaint them where the window shows them,
        or the whole window when it moved."""
        if self._move_window():
            self.refresh()  # type: ignore[attr-defined]
        else:
            top, height, width = self.top, self._window_height(), self.size.width  # type: ignore[attr-defined]
            first, end = max(first, top), min(end, top + height)
            if end > first:
                self.refresh(Region(0, first - top, width, end - first))  # type: ignore[attr-defined]
            if self.more_below():  # scrolled back: only the marker's count changes on screen
                self.refresh(Region(0, height - 1, width, 1))  # type: ignore[attr-defined]
        self._grow_when_due()

    def _grow_when_due(self) -> None:
        """Rows wait past the bottom of a window moved a moment ago: move it when it may move again."""
        wait = self.reserve.waiting(self._text_rows())
        if wait is not None and not self._growth_pending and self.following:
            self._growth_pending = True
            self.set_timer(wait + 0.005, self._grow)  # type: ignore[attr-defined]

    def _grow(self) -> None:
        self._growth_pending = False
        if self.live and self._move_window():
            self.refresh()  # type: ignore[attr-defined]
        self._grow_when_due()

    def _scroll_window(self, rows: int) -> None:
        """The wheel: back (rows < 0) stops following; forward to the bottom follows again."""
        bottom = max(0, self._text_rows() - self._window_height())
        if rows < 0:
            self.top, self.following = max(0, min(self.top, bottom) + rows), False
        else:
            self.top = min(self.top + rows, bottom)
            if self.top >= bottom:
                self.following = True
                self.reserve.set_viewport(self._window_height())  # a fresh reserve from here
                self._move_window()
        self.refresh()  # type: ignore[attr-defined]

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.live and self._text_rows() > self._window_height():
            event.stop()
            self._scroll_window(-WHEEL_ROWS)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self.live and not self.following:
            event.stop()
            self._scroll_window(WHEEL_ROWS)
