"""One section of the hardware panel, drawn line by line: an update repaints only the lines that changed.

The panel's sections change a figure or two at a time: the speed section twice a
second while a reply streams (the rate, the seconds spent thinking, the token
counts, the sparkline), the CPU section once a second. A `Static` renders its
whole text again at any change, wraps every line and repaints every row; on a
busy event loop that was a millisecond or more per update of the speed section.
Here each line of the text is rendered on its own and kept: an update renders
only the lines whose text or styles changed and repaints only their rows, and
the screen is laid out again only when the section's height changes.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

LineKey = tuple[str, tuple[object, ...]]


def _key(line: Content) -> LineKey:
    """What a line shows: its text and its styles (Content's own == compares the text only)."""
    return line.plain, tuple(line.spans)


class PanelSection(Widget):
    """A block of text (Content, one or more lines) that is redrawn only where it changed."""

    DEFAULT_CSS = """
    PanelSection { height: auto; }
    """

    def __init__(self, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._lines: list[Content] = []
        self._keys: list[LineKey] = []
        self._rows: list[list[Strip] | None] = []  # per line: its rows at _width (None: to render)
        self._width = -1

    @property
    def content(self) -> Content:
        """The whole text shown, as last updated."""
        return Content("\n").join(self._lines)

    def render(self) -> Content:
        # What Textual asks for the whole widget: its optimal width, and the text a selection copies.
        return self.content

    def update(self, content: Content) -> None:
        """Show `content`: the lines that changed are rendered again and only their rows repainted."""
        lines = content.split("\n")
        keys = [_key(line) for line in lines]
        if self._width < 0 or len(keys) != len(self._keys):
            self._lines, self._keys = lines, keys
            self._rows = [None] * len(lines)
            self.refresh(layout=True)
            return
        changed = [index for index, (old, new) in enumerate(zip(self._keys, keys)) if old != new]
        if not changed:
            return
        self._ensure_rendered(self._width)
        starts = self._row_starts()
        old_heights = [len(self._rows[index] or ()) for index in changed]
        for index in changed:
            self._lines[index], self._keys[index], self._rows[index] = lines[index], keys[index], None
        self._ensure_rendered(self._width)
        if any(len(self._rows[index] or ()) != height for index, height in zip(changed, old_heights)):
            self.refresh(layout=True)  # a line wraps onto more rows, or fewer: the rows below move
        else:
            self.refresh(*(Region(0, starts[index], self._width, height)
                           for index, height in zip(changed, old_heights)))

    # -- Textual's Line API ----------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure_rendered(width)
        return sum(len(rows or ()) for rows in self._rows)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.text_selection is not None:
            # A selection spans lines: render the whole text as a Static would, highlighted.
            strips = Visual.to_strips(self, self.content, width, None, self.visual_style)
            return strips[y] if y < len(strips) else Strip.blank(width, self.visual_style.rich_style)
        self._ensure_rendered(width)
        for rows in self._rows:
            if rows is not None and y < len(rows):
                return rows[y]
            y -= len(rows or ())
        return Strip.blank(width, self.visual_style.rich_style)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_rows()  # the theme or CSS changed: colours ($accent, …) resolve anew

    # -- rendering ---------------------------------------------------------------------

    def _forget_rows(self) -> None:
        self._rows = [None] * len(self._lines)

    def _ensure_rendered(self, width: int) -> None:
        """Render the lines not rendered at `width` yet, together: each render costs something of its own."""
        if width != self._width:
            self._width = width
            self._forget_rows()
        missing = [index for index, rows in enumerate(self._rows) if rows is None]
        if not missing:
            return
        strips = self._render_lines([self._lines[index] for index in missing], width)
        if len(strips) == len(missing):  # a row each (every line takes one at least): none wraps
            for index, strip in zip(missing, strips):
                self._rows[index] = [strip]
            return
        for index in missing:  # some line wraps: which one, and onto how many rows, line by line
            self._rows[index] = self._render_lines([self._lines[index]], width)

    def _render_lines(self, lines: list[Content], width: int) -> list[Strip]:
        """The rows `lines` take at `width`: one each, or more where one wraps."""
        if width <= 0:
            return []
        return Visual.to_strips(self, Content("\n").join(lines), width, None, self.visual_style) or [
            Strip.blank(width, self.visual_style.rich_style)]

    def _row_starts(self) -> list[int]:
        starts, row = [], 0
        for rows in self._rows:
            starts.append(row)
            row += len(rows or ())
        return starts
