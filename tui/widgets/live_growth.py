"""Jump scrolling for a live pane: its text reserves rows ahead, so the pane grows a few times a second.

A live pane follows its newest line. Grown one row at a time, every new row
changes the text widget's height, which makes Textual lay out the whole screen
and scroll the pane, which repaints every row of it: at 300 tokens/s that is
about 24 layouts and full-pane repaints a second, most of the app's CPU and
most of the bytes it sends over an SSH link.

So while a pane is live, its text widget reports a height a little taller than
its rows: the rows expected in the next half second (from how fast rows have
been arriving), at most half the pane. New rows then fill blank ones in place
(only those rows are repainted); the pane grows and scrolls again once they are
used up. Terminals call this jump scrolling. It also grows at most
GROW_INTERVAL_SECONDS apart: in a small pane a fast stream would use up its
reserve many times a second, so rows past the bottom wait for the next jump (a
quarter of a second at most). A slow stream reserves nothing and scrolls row by
row, as before; a finished turn has its exact height.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Callable

# Rows reserved: what arrives in this long at the recent rate...
LOOKAHEAD_SECONDS = 0.5
# ...and at most this share of the pane, so what is on screen stays mostly text.
MAX_SHARE = 1 / 2
# The rate is measured over this long.
RATE_WINDOW_SECONDS = 1.0
# A live pane that overflows grows (lays out the screen, repaints itself whole) at most this often.
GROW_INTERVAL_SECONDS = 0.25


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

    def set_viewport(self, rows: int) -> None:
        """Live in a pane `rows` tall (0: not live any more: report exact heights again)."""
        if rows != self.viewport:
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


class ReservedHeight:
    """Mixin for a Line API text widget in a live pane: the height it reports comes from a RowReserve.

    The widget provides `_text_rows()` (rows of text) and `_laid_out()` (whether it knows its width).
    """

    reserve: RowReserve
    _growth_pending = False

    def _text_rows(self) -> int:
        raise NotImplementedError

    def _laid_out(self) -> bool:
        raise NotImplementedError

    def set_live_rows(self, rows: int) -> None:
        """Live in a pane `rows` tall: reserve rows ahead (0: not live, the exact height again)."""
        if rows != self.reserve.viewport:
            self.reserve.set_viewport(rows)
            self.refresh(layout=True)  # type: ignore[attr-defined]

    def text_height(self) -> int:
        """Rows of text as last laid out, without the rows reserved below it (0 before the first layout)."""
        return self._text_rows() if self._laid_out() else 0

    def _height(self) -> int:
        """The height reported: the text's rows, and while live, blank rows reserved below them."""
        return self.reserve.height(self._text_rows())

    def _grow_when_due(self) -> None:
        """Rows wait past the bottom of a pane grown a moment ago: grow it when it may grow again."""
        wait = self.reserve.waiting(self._text_rows())
        if wait is not None and not self._growth_pending:
            self._growth_pending = True
            self.set_timer(wait + 0.005, self._grow)  # type: ignore[attr-defined]

    def _grow(self) -> None:
        self._growth_pending = False
        self.refresh(layout=True)  # type: ignore[attr-defined]
