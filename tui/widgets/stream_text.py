"""Plain text that grows at its end, drawn line by line (Textual's Line API).

Reasoning runs to tens of thousands of tokens. As one widget per paragraph it
would add hundreds of widgets to every layout pass; as one re-rendered block
it would cost more per token the longer it gets. Here appending re-wraps only
the last row of the last logical line, and only rows that changed are
repainted, so the cost per token stays flat and little is sent over the SSH link.

Wrapping never takes more than a few milliseconds per frame, whatever one
chunk holds (a hostile server can send megabytes on one line): text not yet
wrapped counts as estimated rows, and is wrapped in the background, a slice
per tick, until it is all drawn. At most MAX_ROWS rows are kept, the newest:
text beyond that is never readable in a pane anyway, and every layout of a
widget costs Textual time in proportion to its height.
"""

from __future__ import annotations

import re
import time

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets.live_growth import LiveWindow, RowReserve

_PIECES = re.compile(r"\S+\s*|\s+")
# Wrapping work per frame (seconds), then the rest waits for the next tick.
WRAP_SLICE_SECONDS = 0.02
# Rows kept: beyond this the earliest are dropped, under CUT_NOTICE. Reasoning runs to a few
# thousand rows; a widget a hundred thousand rows tall (one huge chunk) costs Textual a second
# or more in every layout of the screen.
MAX_ROWS = 5_000
CUT_NOTICE = "… earlier text is not drawn here (too long to show); the saved conversation keeps all of it"
# A word longer than this is cut into rows a block at a time (Rich measures it character by character).
_CHOP_BLOCK = 8192


def wrap_line(line: str, width: int) -> list[str]:
    """Greedy word wrap by terminal cells (CJK counts double); words longer than a row are cut."""
    if width <= 0:
        return [line]
    if cell_len(line) <= width:
        return [line]
    rows, _ = wrap_rows(line, width)
    return [row for _, row in rows]


def wrap_rows(line: str, width: int, start: int = 0,
              deadline: float | None = None) -> tuple[list[tuple[int, str]], int | None]:
    """The rows of `line[start:]` as (offset in `line` where the row starts, row text).

    Greedy wrapping starts each row afresh, so wrapping from a row's start gives
    the same rows as wrapping the whole line: text appended to a line is wrapped
    from its last row only, and a long line can be wrapped a slice at a time.
    Past `deadline` (time.perf_counter()) it stops early and also returns the
    offset to resume from: the start of the row it was building, not included.
    """
    if width <= 0:
        return [(start, line[start:])], None
    rows: list[tuple[int, str]] = []
    current, current_cells, row_start = "", 0, start
    for count, match in enumerate(_PIECES.finditer(line, start)):
        if deadline is not None and count % 64 == 63 and time.perf_counter() > deadline:
            return rows, row_start
        piece = match.group()
        word = piece.rstrip()
        # Rich measures a word that is not plain ASCII character by character: never a huge one at once.
        word_cells = cell_len(word) if len(word) <= _CHOP_BLOCK else width + 1
        if current_cells + word_cells <= width:
            if not current:
                row_start = match.start()
            current += piece
            current_cells += cell_len(piece)
            continue
        if current.strip():
            rows.append((row_start, current.rstrip()))
        current, current_cells = "", 0
        position, word_end = match.start(), match.start() + len(word)
        while word_cells > width:  # cut into rows, a block at a time
            block_end = min(word_end, position + max(_CHOP_BLOCK, 4 * width))
            heads = chop_cells(line[position:block_end], width)
            if len(heads) > 1:
                heads.pop()  # the last may be short: it starts the next row, or continues in the next block
            before = position
            for head in heads:
                if head:
                    rows.append((position, head))
                    position += len(head)
            if position == before:  # a wide character in a one-cell row: it gets a row of its own
                rows.append((position, line[position]))
                position += 1
            rest = word_end - position
            word_cells = cell_len(line[position:word_end]) if rest <= _CHOP_BLOCK else width + 1
            if deadline is not None and time.perf_counter() > deadline:
                return rows, position
        if position < word_end:
            current = line[position:match.end()]
            current_cells = cell_len(current)
            row_start = position
    if current.strip() or not rows:
        rows.append((row_start, current.rstrip()))
    return rows, None


class StreamingText(LiveWindow, Widget):
    DEFAULT_CSS = """
    StreamingText { height: auto; }
    """

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lines: list[str] = [""]
        if text:
            self._lines = text.split("\n")
        self._characters = len(text)  # in all lines, a newline counted as one
        self._wrap_width = -1
        self._background = False
        self.reserve = RowReserve()  # live in a pane: the window jumps ahead of the rows (see live_growth)
        self._reset_rows()

    def _reset_rows(self) -> None:
        # Rows that no appended text can change: every line before `_line`, and that line's
        # rows before `_offset`. `_open` is the row at (`_line`, `_offset`) when that is the
        # last row of all (the one appended text changes); otherwise wrapping is under way.
        self._rows: list[str] = []
        self._open: list[str] = []
        self._line = 0
        self._offset = 0
        self._wrapped_characters = 0
        self._cut = False  # earlier rows were dropped: MAX_ROWS are kept, under a notice

    @property
    def text(self) -> str:
        return "\n".join(self._lines)

    @property
    def wrapped(self) -> bool:
        """Whether every row is wrapped (otherwise some are estimated, drawn in a moment)."""
        return bool(self._open)

    def append(self, text: str) -> None:
        if not text:
            return
        first, *rest = text.split("\n")
        self._lines[-1] += first
        self._lines.extend(rest)
        self._characters += len(text)
        if self._wrap_width < 0:
            self.refresh(layout=True)
            return
        old_rows = self._text_rows()
        first_changed_row = self._first_row() + len(self._rows)
        self._open = []
        self._wrap(self._wrap_width)
        rows = self._text_rows()
        dropped = self._first_row() + len(self._rows) < first_changed_row  # earlier rows gave way (MAX_ROWS)
        if self.live:
            self.show_rows(0 if dropped else first_changed_row, max(old_rows, rows))
        elif rows != old_rows:
            self.refresh(layout=True)
        elif dropped:
            self.refresh()
        else:  # only the rows the text changed
            self.refresh(Region(0, first_changed_row, self.size.width, rows - first_changed_row))

    def _wrap(self, width: int) -> None:
        """Wrap from the first row that may change, for one slice of time at most."""
        deadline = time.perf_counter() + WRAP_SLICE_SECONDS
        self._skip_what_cannot_show(width)
        lines = self._lines
        while True:
            line = lines[self._line]
            last = self._line == len(lines) - 1
            if self._offset == 0 and len(line) <= 4 * width and cell_len(line) <= width:
                rows, resume = [(0, line)], None  # as `wrap_line`: a line that fits is kept whole
            else:
                rows, resume = wrap_rows(line, width, self._offset, deadline)
            if resume is not None:  # out of time in this line
                self._rows.extend(row for _, row in rows)
                self._wrapped_characters += resume - self._offset
                self._offset = resume
                break
            if last:
                open_start, open_row = rows[-1]
                self._rows.extend(row for _, row in rows[:-1])
                self._wrapped_characters += open_start - self._offset
                self._offset = open_start
                self._open = [open_row]
                self._drop_early_rows()
                return
            self._rows.extend(row for _, row in rows)
            self._wrapped_characters += len(line) - self._offset + 1
            self._line += 1
            self._offset = 0
            if time.perf_counter() > deadline:
                break
        self._drop_early_rows()
        if not self._background:
            self._background = True
            self.set_timer(0.01, self._wrap_more)

    def _drop_early_rows(self) -> None:
        """Keep the last MAX_ROWS rows: a taller widget costs Textual time in every layout."""
        excess = len(self._rows) + len(self._open) - MAX_ROWS
        if excess > 0:
            del self._rows[:excess]
            self._cut = True

    def _skip_what_cannot_show(self, width: int) -> None:
        """Jump over text that is sure to be dropped: each row holds at most `width` characters,
        so the last (MAX_ROWS + 1) * width characters fill every row that is kept."""
        keep = (MAX_ROWS + 1) * max(1, width)
        if self._characters - self._wrapped_characters <= 2 * keep:
            return
        target = self._characters - keep
        position = self._characters + 1
        line = len(self._lines)
        while position > target:  # from the end: the line holding character `target`
            line -= 1
            position -= len(self._lines[line]) + 1
        offset = target - position
        text = self._lines[line]
        space = text.find(" ", offset, offset + 256)  # start at a word if one starts nearby
        if space >= 0:
            offset = space + 1
        self._rows, self._open, self._cut = [], [], True
        self._line, self._offset = line, offset
        self._wrapped_characters = position + offset

    def _wrap_more(self) -> None:
        """One more slice of wrapping in the background, until every row is wrapped."""
        self._background = False
        if self._wrap_width < 0 or self._open:
            return
        old_rows = self._text_rows()
        self._wrap(self._wrap_width)
        if self.live:
            self.show_rows(0, max(old_rows, self._text_rows()))
        elif self._text_rows() != old_rows:
            self.refresh(layout=True)
        else:
            self.refresh()

    def _ensure_wrapped(self, width: int) -> None:
        if width == self._wrap_width:
            return
        self._wrap_width = width
        self._reset_rows()
        self._wrap(width)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def _first_row(self) -> int:
        """1 when the first row is the notice that earlier rows were dropped."""
        return 1 if self._cut else 0

    def _laid_out(self) -> bool:
        return self._wrap_width >= 0

    def _text_rows(self) -> int:
        """Rows of text: none at all while the text is empty; text not wrapped yet counts as estimated rows."""
        if self._open:
            if not self._rows and self._open == [""] and not self._cut:
                return 0
            return self._first_row() + len(self._rows) + 1
        unwrapped = self._characters - self._wrapped_characters
        estimate = len(self._lines) - self._line + unwrapped // max(1, self._wrap_width)
        return self._first_row() + min(MAX_ROWS, len(self._rows) + estimate)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure_wrapped(width)
        return self._text_rows()

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        self._ensure_wrapped(width)
        style = self.visual_style.rich_style  # cached by Textual (rich_style walks every ancestor, per line)
        marker = self.below_marker(y, width, style)
        if marker is not None:
            return marker
        y = self.window_row(y)
        if self._cut:
            if y == 0:
                return Strip([Segment(CUT_NOTICE, style + Style(dim=True, italic=True))]).crop_extend(0, width, style)
            y -= 1
        rows = self._rows
        if y < len(rows):
            row = rows[y]
        elif y == len(rows) and self._open:
            row = self._open[0]
        else:
            return Strip.blank(width, style)  # past the end, or not wrapped yet: drawn in a moment
        return Strip([Segment(row, style)]).crop_extend(0, width, style)
