"""Plain text that grows at its end, drawn line by line (Textual's Line API).

Reasoning runs to tens of thousands of tokens. As one widget per paragraph it
would add hundreds of widgets to every layout pass; as one re-rendered block
it would cost more per token the longer it gets. Here appending re-wraps only
the last logical line, and only rows that changed are repainted, so the cost
per token stays flat and little is sent over the SSH link.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

_PIECES = re.compile(r"\S+\s*|\s+")


def wrap_line(line: str, width: int) -> list[str]:
    """Greedy word wrap by terminal cells (CJK counts double); words longer than a row are cut."""
    if width <= 0:
        return [line]
    if cell_len(line) <= width:
        return [line]
    rows: list[str] = []
    current, current_cells = "", 0
    for piece in _PIECES.findall(line):
        word = piece.rstrip()
        if current_cells + cell_len(word) <= width:
            current += piece
            current_cells += cell_len(piece)
            continue
        if current.strip():
            rows.append(current.rstrip())
        current, current_cells = "", 0
        while cell_len(word) > width:
            head, *_ = chop_cells(word, width)
            rows.append(head)
            word = word[len(head):]
        if word:
            current = word + piece[len(piece.rstrip()):]
            current_cells = cell_len(current)
    if current.strip() or not rows:
        rows.append(current.rstrip())
    return rows


class StreamingText(Widget):
    DEFAULT_CSS = """
    StreamingText { height: auto; }
    """

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lines: list[str] = [""]
        self._rows: list[str] = []
        self._last_line_first_row = 0
        self._wrap_width = -1
        if text:
            self._lines = text.split("\n")

    @property
    def text(self) -> str:
        return "\n".join(self._lines)

    def append(self, text: str) -> None:
        if not text:
            return
        first, *rest = text.split("\n")
        changed_line = len(self._lines) - 1
        self._lines[-1] += first
        self._lines.extend(rest)
        if self._wrap_width < 0:
            self.refresh(layout=True)
            return
        old_count = len(self._rows)
        old_height = self._height()
        first_changed_row = self._rewrap_from(changed_line)
        if self._height() != old_height:
            self.refresh(layout=True)
        else:
            self.refresh(Region(0, first_changed_row, self.size.width, old_count - first_changed_row))

    def _rewrap_from(self, line_index: int) -> int:
        """Re-wrap logical lines from `line_index` (only ever the last one, or new ones)."""
        del self._rows[self._last_line_first_row:]
        first_row = self._last_line_first_row
        for line in self._lines[line_index:]:
            self._last_line_first_row = len(self._rows)
            self._rows.extend(wrap_line(line, self._wrap_width))
        return first_row

    def _ensure_wrapped(self, width: int) -> None:
        if width == self._wrap_width:
            return
        self._wrap_width = width
        self._rows = []
        self._last_line_first_row = 0
        for line in self._lines:
            self._last_line_first_row = len(self._rows)
            self._rows.extend(wrap_line(line, width))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def _height(self) -> int:
        """Rows shown: none at all while the text is empty."""
        return 0 if self._rows == [""] else len(self._rows)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure_wrapped(width)
        return self._height()

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        self._ensure_wrapped(width)
        if y >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        return Strip([Segment(self._rows[y], self.rich_style)]).crop_extend(0, width, self.rich_style)
