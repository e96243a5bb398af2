"""Containers that draw nothing but their background, drawn as blank lines.

Textual's compositor renders every widget that overlaps a frame's changed rows at the
widget's full visible height, then keeps only the changed rows. A streaming turn sits
under six containers (the screen, the body, the chat column, the conversation, the turn,
its panes), so a frame that changes three rows of the answer used to render some 300
rows of empty containers first, each through the style cache and the line filters.
Textual's `BLANK` switch renders such a widget as one blank strip repeated instead.

It is only safe while no line filter would have changed those blank rows: under
NO_COLOR (monochrome) or the debug dim filter the rows must go through the filters like
everything else, so the switch turns itself off then.
"""

from __future__ import annotations

from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.filter import ANSIToTruecolor


class Backdrop:
    """Mixin for a container with no border and no content of its own: padding, margins and
    a background only (scrollbars are widgets of their own and are drawn as usual)."""

    @property
    def BLANK(self) -> bool:  # noqa: N802 - Textual's own name for the switch
        # ANSIToTruecolor maps ANSI colours only; a theme's backgrounds are not ANSI unless
        # the theme is an ANSI one, and then that filter is off.
        # The same filters a full render of this widget would apply (`Widget.get_line_filters`).
        return all(isinstance(line_filter, ANSIToTruecolor) for line_filter in self.get_line_filters())  # type: ignore[attr-defined]


class BackdropHorizontal(Backdrop, Horizontal):
    """A `Horizontal` drawn as blank rows."""


class BackdropVertical(Backdrop, Vertical):
    """A `Vertical` drawn as blank rows."""


class BackdropVerticalScroll(Backdrop, VerticalScroll):
    """A `VerticalScroll` drawn as blank rows (its scrollbar is drawn as usual)."""
