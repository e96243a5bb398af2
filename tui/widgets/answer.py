"""The answer pane: streamed Markdown drawn line by line, at a cost per token that stays flat.

One widget per answer, drawn with Textual's Line API. The text that has
settled (see `tui.widgets.markdown_render`) is rendered once per width and kept as
strips; each frame re-renders only the unsettled tail and repaints only the
rows that changed. Textual's own Markdown widget mounts a widget per block and
table cell, and each one makes the whole chat lay out again: in a 10,000-token
answer that doubled the cost of every token (issue 9).

Colours come from the app's theme, so answers follow a theme change.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Mapping

from rich.segment import Segment
from rich.style import Style
from textual.color import Color, ColorParseError
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets.live_growth import LiveWindow, RowReserve
from tui.widgets.markdown_render import (MarkdownRenderer, code_seam, estimated_rows, list_seam, settled_pieces,
                                         shown_while_written)

if TYPE_CHECKING:
    from textual.app import App

# The tail (rendered again at every frame, 15 a second) is the block being written: every finished block
# settles. Blocks that finish together (a fast stream, an answer shown at once) are rendered together in
# chunks of at least this many characters, since each render has a fixed cost (about 0.8 ms here).
# A table or code block stays whole unless over TAIL_LIMIT; loose list items (blank lines between them)
# settle apart and keep a blank row between them, streamed or shown at once alike.
CHUNK_CHARACTERS = 400
# A code block being written settles its finished lines in pieces of at least this many characters (see
# markdown_render.code_seam): Rich highlights and wraps a code block whole at each render, and a 100-line
# block rendered again 15 times a second took most of a core here.
CODE_PIECE_CHARACTERS = 240
# A list being written (one block while its items follow each other) settles its finished items the same
# way: a 40-item list rendered again 15 times a second took ~6 ms a frame, and R1 answers in long lists.
LIST_PIECE_CHARACTERS = 240
# Folding switches between two widths, and Textual's fr rounding can ask for one a cell narrower.
_WIDTHS_KEPT = 3


# A finished answer longer than this (a resumed chat, a fold), or that much text arriving at
# once, is drawn from its end: the screen's worth the user sees at once, the rest in the
# background a few chunks per tick.
PROGRESSIVE_CHARACTERS = 20_000
_BACKGROUND_SLICE_SECONDS = 0.02
# A tail with no block start to settle at (one huge line, a deeply indented list) is cut at a
# line end or a space once this long, so no frame re-renders more than this. Its pieces are
# drawn one under the other without a blank line, as the same block.
TAIL_LIMIT = 8_000
# Text arriving in one write beyond this is cut at line ends or spaces without looking for
# block starts (a Python pass over every line of megabytes would stall the app).
_WINDOW = 1_000_000
# Rows kept: past this the earliest chunks are dropped, under CUT_NOTICE. A widget a hundred
# thousand rows tall (one huge chunk) costs Textual a second or more in every layout.
MAX_ROWS = 5_000
CUT_NOTICE = "… the beginning of this answer is not drawn here (too long to show); the saved conversation keeps all of it"


class _Rendered:
    """The settled chunks rendered at one width: chunks [first, chunks) as lines, and an
    estimated number of rows standing in for chunks [0, first) until they are rendered.
    `cut`: chunks [0, first) are dropped for good (MAX_ROWS), a notice shown in their place."""

    def __init__(self) -> None:
        self.lines: list[Strip] = []
        self.sizes: list[int] = []  # lines of each rendered chunk, in order (with its blank line)
        self.first = 0
        self.chunks = 0
        self.estimate = 0
        self.cut = False

    @property
    def rows(self) -> int:
        return int(self.cut) + self.estimate + len(self.lines)

    @property
    def pending(self) -> bool:
        """Chunks before the drawn ones are still to be rendered (estimated rows stand in for them)."""
        return bool(self.first) and not self.cut

    def append(self, strips: list[Strip], joined: bool) -> None:
        """A chunk after the drawn ones, a blank line between unless it continues the one before."""
        added = list(strips)
        if strips and self.lines and not joined:
            added.insert(0, Strip.blank(0))
        self.lines.extend(added)
        self.sizes.append(len(added))

    def prepend(self, strips: list[Strip], next_joined: bool) -> None:
        """A chunk before the drawn ones, a blank line between unless the next continues it."""
        if strips and self.lines and not next_joined:
            strips = [*strips, Strip.blank(0)]
        self.lines[:0] = strips
        self.sizes.insert(0, len(strips))

    def drop_early(self) -> bool:
        """Drop the earliest chunks' lines past MAX_ROWS; whether any were."""
        excess = len(self.lines) - MAX_ROWS
        dropped = 0
        while excess > 0 and len(self.sizes) > 1:
            size = self.sizes.pop(0)
            dropped += size
            excess -= size
            self.first += 1
        if dropped:
            del self.lines[:dropped]
            self.cut, self.estimate = True, 0
        return bool(dropped)


class AnswerMarkdown(LiveWindow, Widget):
    DEFAULT_CSS = """
    AnswerMarkdown { height: auto; }
    """

    def __init__(self, placeholder: str | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._settled: list[str] = []
        self._joined: list[bool] = []  # per settled chunk: it continues the one before (a forced cut)
        self._prefixes: list[str] = []  # per settled chunk: the fence it was cut inside, reopened to render it
        self._tail = ""
        self._tail_joined = False
        self._tail_prefix = ""
        self._renderer: MarkdownRenderer | None = None
        self._by_width: dict[int, _Rendered] = {}
        self._tail_lines: list[Strip] = []
        self._tail_width = -1
        self._width = -1
        self._placeholder = placeholder  # see set_placeholder
        self.reserve = RowReserve()  # live in a pane: the window jumps ahead of the rows (see live_growth)
        self._background_pending = False  # a timer will render earlier chunks (see _keep_drawing)


    @property
    def source(self) -> str:
        return "".join(self._settled) + self._tail

    @property
    def drawn(self) -> bool:
        """Whether all the settled text is rendered at the current width: none of it is waiting for the
        background, drawn blank in rows only estimated (see `_render_from_the_end`)."""
        rendered = self._by_width.get(self._width)
        return rendered is not None and rendered.chunks == len(self._settled) and not rendered.pending

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _: object) -> None:
        self._renderer = None
        self._by_width.clear()
        self._tail_width = -1
        self.refresh(layout=True)

    # -- writing -----------------------------------------------------------------

    async def write(self, text: str) -> None:
        """Append Markdown (already made inert); the tail is re-rendered, settled text is not."""
        if not text:
            return
        self._tail += text
        self._settle()
        self._redraw()

    def _settle(self) -> None:
        """Move text from the tail into settled chunks: at block starts, or cut if there are none."""
        tail, position, joined, prefix = self._tail, 0, self._tail_joined, self._tail_prefix

        def settle(end: int, continues: bool, fence: str) -> None:
            nonlocal position
            self._settled.append(tail[position:end])
            self._joined.append(continues)
            self._prefixes.append(fence)
            position = end

        while len(tail) - position > _WINDOW:  # megabytes at once: cut without a look at blocks
            settle(_forced_cut(tail, position), joined, prefix)
            joined, prefix = True, ""
        if position:
            tail, position = tail[position:], 0
        # The prefix (a fence cut open) goes first, so that block starts inside that fence are not taken.
        pieces, _ = settled_pieces(prefix + tail, CHUNK_CHARACTERS)
        for index, piece in enumerate(pieces):
            end = position + len(piece) - (len(prefix) if index == 0 else 0)
            while end - position > TAIL_LIMIT:  # no block start for that long: cut it all the same
                cut = _forced_cut(tail, position)
                fence = _open_fence(prefix + tail[position:cut])
                settle(cut, joined, prefix)
                joined, prefix = True, fence
            settle(end, joined, prefix)
            joined, prefix = False, ""
        while len(tail) - position > TAIL_LIMIT:
            cut = _forced_cut(tail, position)
            fence = _open_fence(prefix + tail[position:cut])
            settle(cut, joined, prefix)
            joined, prefix = True, fence
        self._tail, self._tail_joined, self._tail_prefix = tail[position:], joined, prefix
        self._settle_code_lines()
        self._settle_list_items()

    def _settle_code_lines(self) -> None:
        """The tail is a code block being written: its finished lines settle, in pieces drawn as one block."""
        prefix = self._tail_prefix
        found = code_seam(prefix + self._tail, CODE_PIECE_CHARACTERS)
        if found is None:
            return
        opener, seam = found
        cut = seam - len(prefix)
        if cut > 0:
            self._settle_tail_start(cut, opener)

    def _settle_list_items(self) -> None:
        """The tail is a list being written: its finished items settle, in pieces drawn as one list."""
        if self._tail_prefix:
            return  # the rest of a code block cut open
        cut = list_seam(self._tail, LIST_PIECE_CHARACTERS)
        if cut is not None:
            self._settle_tail_start(cut, "")

    def _settle_tail_start(self, cut: int, reopen: str) -> None:
        """The tail's first `cut` characters settle as a chunk; the rest goes on as the same block (drawn
        joined to it), reopened by `reopen` (a code block's fence line, or "")."""
        self._settled.append(self._tail[:cut])
        self._joined.append(self._tail_joined)
        self._prefixes.append(self._tail_prefix)
        self._tail, self._tail_joined, self._tail_prefix = self._tail[cut:], True, reopen

    def set_placeholder(self, text: str | None) -> None:
        """A dim line in the answer's place until it has text ("waiting for the model…"); None: none.

        Drawn as this widget's first row rather than by a widget above it: hiding that widget
        when the answer began changed the pane's rows and laid the whole screen out twice,
        mid-stream. Here the first text simply takes the row.
        """
        if text == self._placeholder:
            return
        was_shown = self._placeholder_shown()
        self._placeholder = text
        if self._placeholder_shown() != was_shown and not self.live:
            self.refresh(layout=True)  # a row more or less
        elif self._placeholder_shown() or was_shown:
            self.refresh(Region(0, 0, self.size.width, 1))

    def _placeholder_shown(self) -> bool:
        return bool(self._placeholder) and not self._text_rows()

    async def show(self, text: str) -> None:
        """Show a finished answer at once (a resumed conversation)."""
        await self.write(text)

    def _redraw(self) -> None:
        if self._width < 0 or self.content_size.width != self._width:
            # Not laid out yet (or about to be, at another width): render once, when the layout asks.
            self._tail_width = -1
            self.refresh(layout=True)
            return
        old_rows = self._text_rows()
        old_tail_start = self._tail_start()
        old_tail = self._tail_lines
        self._tail_width = -1
        self._ensure_rendered(self._width)
        rows = self._text_rows()
        if rows != old_rows and not self.live:
            self.refresh(layout=True)
            return
        if self._tail_start() != old_tail_start:
            # Text settled: the rows from the old tail's start on were drawn again, whatever they hold now.
            first_changed = min(old_tail_start, self._tail_start())
        else:
            first_changed = old_tail_start + _first_difference(old_tail, self._tail_lines)
        end = max(old_rows, rows)
        if self.live:
            self.show_rows(first_changed, end)
        elif first_changed < end:
            self.refresh(Region(0, first_changed, self.size.width, end - first_changed))

    # -- rendering ---------------------------------------------------------------

    def _markdown_renderer(self) -> MarkdownRenderer:
        if self._renderer is None:
            self._renderer = _renderer_for(self.app)
        return self._renderer

    def _ensure_rendered(self, width: int) -> None:
        self._width = width
        rendered = self._by_width.get(width)
        if rendered is None:
            while len(self._by_width) >= _WIDTHS_KEPT:
                del self._by_width[next(iter(self._by_width))]
            rendered = self._by_width[width] = _Rendered()
        waiting = self._settled[rendered.chunks:]
        if len(waiting) > 1 and (sum(len(chunk) for chunk in waiting) > PROGRESSIVE_CHARACTERS
                                 or (not rendered.chunks and self._end_in_sight())):
            # A huge text, or nothing drawn at this width yet while the chat shows its end (a resumed answer,
            # the reasoning folded at a turn's end, F2 or a resize while following the chat): the end first,
            # the rest in the background. Rendered whole, a 2,000-token answer held the event loop for
            # 80-200 ms at the end of every long-reasoning turn. Scrolled back to read, it is drawn whole:
            # from its end, the rows in sight would be blank for a moment, then move.
            rendered = self._by_width[width] = _Rendered()
            self._render_from_the_end(rendered, width)
        if rendered.chunks < len(self._settled):
            for index in range(rendered.chunks, len(self._settled)):
                rendered.append(self._chunk_strips(index, width), self._joined[index])
            rendered.chunks = len(self._settled)
            rendered.drop_early()
        if self._tail_width != width:
            self._tail_width = width
            self._tail_lines = self._piece_strips(self._tail_prefix, self._shown_tail(), width, continues=False)
        self._keep_drawing(rendered)  # a width left part-drawn (F2 twice, a resize back) goes on being drawn

    def _shown_tail(self) -> str:
        """The tail as drawn: while the answer is written live, markup still open on its last line is
        drawn as it will look, not as raw marks (`shown_while_written`); once written, as it is."""
        if not self.live or _open_fence(self._tail_prefix + self._tail):
            return self._tail
        return shown_while_written(self._tail)

    def set_live(self, live: bool) -> None:
        if live != self.live:
            self._tail_width = -1  # the tail drawn anew: as written, or as shown while it is written
        super().set_live(live)

    def _end_in_sight(self) -> bool:
        """Whether the scroller this answer is in shows its end (following the chat, as at a turn's end or
        a resume), or has nothing to scroll: then what is in sight is the end, drawn first."""
        for node in self.ancestors:
            if isinstance(node, Widget) and node.allow_vertical_scroll:
                return node.scroll_y >= node.max_scroll_y - 1
        return True

    def _chunk_strips(self, index: int, width: int) -> list[Strip]:
        prefix, text = self._prefixes[index], self._settled[index]
        return self._piece_strips(prefix, text, width, continues=bool(_open_fence(prefix + text)))

    def _piece_strips(self, prefix: str, text: str, width: int, continues: bool) -> list[Strip]:
        """A piece's rows; a code block cut into pieces is drawn as one: no padding row at a cut."""
        strips = self._strips(prefix + text, width)
        if prefix and strips and not strips[0].text.strip():
            strips = strips[1:]  # the rest of a code block (`prefix` reopens its fence): its top padding
        if continues and strips and not strips[-1].text.strip():
            strips = strips[:-1]  # the code block goes on in the next piece: its bottom padding
        return strips

    def _strips(self, markdown: str, width: int) -> list[Strip]:
        return [Strip(line) for line in self._markdown_renderer().render(markdown, width)]

    def _render_from_the_end(self, rendered: _Rendered, width: int) -> None:
        """Render the last chunks (two screens' worth), estimate the rows of the others."""
        rendered.first = rendered.chunks = len(self._settled)
        rendered.estimate = 0
        for chunk in reversed(self._settled):  # no further than MAX_ROWS: the rest will be dropped
            rendered.estimate += _estimated_rows(chunk, width)
            if rendered.estimate > MAX_ROWS:
                break
        # A screen's worth whatever it takes (the rows in sight are never drawn blank), then up to two
        # within the time slice, so that scrolling up does not at once meet rows not drawn yet.
        screen = max(self.app.size.height, 24)
        deadline = time.perf_counter() + _BACKGROUND_SLICE_SECONDS
        while rendered.first and (len(rendered.lines) < screen
                                  or (len(rendered.lines) < 2 * screen and time.perf_counter() < deadline)):
            self._render_one_earlier(rendered, width)
        self._keep_drawing(rendered)

    def _keep_drawing(self, rendered: _Rendered) -> None:
        """Render the chunks before the drawn ones in the background, unless that is under way already.

        One timer at a time: it renders at the width of the moment, so a width left part-drawn and
        come back to would otherwise keep its estimated rows, blank, for good."""
        if rendered.pending and not self._background_pending:
            self._background_pending = True
            self.set_timer(0.01, self._render_earlier)

    def _render_one_earlier(self, rendered: _Rendered, width: int) -> None:
        """Render the chunk just before the drawn ones, in place of its estimated rows."""
        rendered.first -= 1
        next_joined = self._joined[rendered.first + 1] if rendered.first + 1 < len(self._joined) else False
        before = len(rendered.lines)
        rendered.prepend(self._chunk_strips(rendered.first, width), next_joined)
        # The rows drawn take the place of estimated ones: the height stays as it was while it can,
        # so the rows below do not move and no layout of the screen is needed.
        rendered.estimate = max(0, rendered.estimate - (len(rendered.lines) - before))
        if not rendered.first:
            rendered.estimate = 0
        elif len(rendered.lines) >= MAX_ROWS:
            rendered.cut, rendered.estimate = True, 0

    @property
    def drawing_in_background(self) -> bool:
        """Chunks before the drawn ones are still to be rendered (their rows are estimated meanwhile)."""
        rendered = self._by_width.get(self._width)
        return rendered is not None and rendered.pending

    def draw_rest(self) -> None:
        """Render now what the background would: a scroll is coming, and one counted in estimated rows
        lands elsewhere (or on blank rows) once they are drawn (see ConversationScroll.finish_drawing)."""
        self._render_earlier(seconds=None)

    def _render_earlier(self, seconds: float | None = _BACKGROUND_SLICE_SECONDS) -> None:
        """Render pending chunks before the drawn ones for a few milliseconds (`seconds`; None: all of
        them), then yield to the app."""
        if seconds is not None:
            self._background_pending = False  # this is the timer's call
        width = self._width
        rendered = self._by_width.get(width)
        if rendered is None or not rendered.pending:
            return
        old_rows = self._text_rows()
        deadline = time.perf_counter() + seconds if seconds is not None else float("inf")
        while rendered.pending and time.perf_counter() < deadline:
            self._render_one_earlier(rendered, width)
        if self.live and self._text_rows() != old_rows:
            self.rows_recounted()  # the estimate was off: the window's place was counted in other rows
        elif self.live:
            self.show_rows(0, old_rows)
        elif self._text_rows() != old_rows:
            self.refresh(layout=True)
        else:
            self.refresh()
        self._keep_drawing(rendered)

    def _settled_rows(self) -> int:
        rendered = self._by_width.get(self._width)
        return rendered.rows if rendered is not None else 0

    def _tail_start(self) -> int:
        settled = self._settled_rows()
        return settled + 1 if settled and self._tail_lines and not self._tail_joined else settled

    def _text_rows(self) -> int:
        return self._tail_start() + len(self._tail_lines)

    def _laid_out(self) -> bool:
        return self._width >= 0

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure_rendered(width)
        return self._text_rows() or int(bool(self._placeholder))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        self._ensure_rendered(width)
        rendered = self._by_width.get(width)
        base = self.visual_style.rich_style  # cached by Textual (rich_style walks every ancestor, per line)
        marker = self.below_marker(y, width, base)
        if marker is not None:
            return marker
        if y == 0 and self._placeholder_shown():
            placeholder = Strip([Segment(self._placeholder or "", Style(dim=True, italic=True))])
            return placeholder.apply_style(base).crop_extend(0, width, base)
        y = self.window_row(y)
        if rendered is not None and rendered.cut:
            if y == 0:
                notice = Strip([Segment(CUT_NOTICE, Style(dim=True, italic=True))])
                return notice.apply_style(base).crop_extend(0, width, base)
            y -= 1
        estimate = rendered.estimate if rendered is not None else 0
        settled = rendered.lines if rendered is not None else []
        tail_start = self._tail_start() - (1 if rendered is not None and rendered.cut else 0)
        if y < estimate:
            strip = Strip.blank(0)  # not rendered yet: drawn in a moment
        elif y - estimate < len(settled):
            strip = settled[y - estimate]
        elif y >= tail_start and y - tail_start < len(self._tail_lines):
            strip = self._tail_lines[y - tail_start]
        else:
            strip = Strip.blank(0)
        return strip.apply_style(base).crop_extend(0, width, base)


_RENDERERS: dict[tuple[str, str], MarkdownRenderer] = {}


def _renderer_for(app: "App[object]") -> MarkdownRenderer:
    """One renderer per theme, shared by every answer (building its console and styles is not free)."""
    theme = app.current_theme
    if theme.ansi:
        code_theme = "ansi_dark" if theme.dark else "ansi_light"
    else:
        code_theme = "monokai" if theme.dark else "friendly"
    variables = app.theme_variables
    key = (code_theme, repr(sorted(variables.items())))
    renderer = _RENDERERS.get(key)
    if renderer is None:
        if len(_RENDERERS) > 8:
            _RENDERERS.clear()
        renderer = _RENDERERS[key] = MarkdownRenderer(markdown_styles(variables), code_theme)
    return renderer


def _forced_cut(text: str, start: int) -> int:
    """Where to cut `text[start:]` with no block start in sight: the last end of a line with text on it
    (a code block drops the blank lines at the end of a piece), else the last space, in the second half
    of TAIL_LIMIT characters; else (one unbroken word) at TAIL_LIMIT."""
    stop = min(len(text), start + TAIL_LIMIT)
    earliest = start + TAIL_LIMIT // 2
    found = text.rfind("\n", earliest, stop)
    while found >= 0:
        if text[text.rfind("\n", 0, found) + 1:found].strip():
            return found + 1
        found = text.rfind("\n", earliest, found)
    found = text.rfind(" ", earliest, stop)
    return found + 1 if found >= 0 else stop


def _open_fence(text: str) -> str:
    """The line that opened a code fence `text` ends inside (with its newline), or ""."""
    opener = ""
    for line in text.splitlines(keepends=True):
        if line.strip().startswith(("```", "~~~")):
            opener = "" if opener else line if line.endswith("\n") else line + "\n"
    return opener


def _estimated_rows(chunk: str, width: int) -> int:
    """Rows a chunk will probably take, and the blank line after it."""
    return 1 + estimated_rows(chunk, width)


def _first_difference(old: list[Strip], new: list[Strip]) -> int:
    for index, (before, after) in enumerate(zip(old, new)):
        if list(before) != list(after):
            return index
    return min(len(old), len(new))


def markdown_styles(variables: Mapping[str, str]) -> dict[str, Style]:
    """Rich styles for Markdown elements taken from a Textual theme's CSS variables."""
    background = _colour(variables.get("background"))

    def colour(*names: str) -> Color | None:
        for name in names:
            parsed = _colour(variables.get(name))
            if parsed is not None:
                if parsed.a < 1 and background is not None and background.ansi is None:
                    parsed = background.blend(parsed.with_alpha(1), parsed.a)
                return parsed
        return None

    def style(*names: str, text_style: str = "", dim_fallback: bool = False) -> Style:
        found = colour(*names)
        base = Style.parse(text_style) if text_style and text_style != "none" else Style()
        if found is None or (found.ansi is not None and found.ansi < 0):
            return base + Style(dim=True) if dim_fallback else base
        return base + Style(color=found.rich_color)

    muted = _muted(colour("foreground"), background)
    styles = {
        f"markdown.h{level}": style(f"markdown-h{level}-color", "text-primary", "primary",
                                    text_style=variables.get(f"markdown-h{level}-text-style", "bold") or "bold")
        for level in range(1, 7)
    }
    styles["markdown.h1"] += Style(bold=True)
    styles.update({
        "markdown.code": style("text-accent", "accent", text_style="bold"),
        "markdown.item.bullet": style("text-accent", "accent", text_style="bold"),
        "markdown.item.number": style("text-accent", "accent", text_style="bold"),
        "markdown.link": style("text-primary", "primary", text_style="underline"),
        "markdown.table.header": style("text-primary", "primary", text_style="bold"),
        "markdown.block_quote": muted + Style(italic=True),
        "markdown.link_url": muted,
        "markdown.hr": muted,
        "markdown.table.border": muted,
    })
    return styles


def _colour(value: str | None) -> Color | None:
    if not value:
        return None
    try:
        return Color.parse(value)
    except ColorParseError:
        return None


def _muted(foreground: Color | None, background: Color | None) -> Style:
    """Foreground faded toward the background; `dim` where the theme uses the terminal's own colours."""
    if foreground is None or background is None or foreground.ansi is not None or background.ansi is not None:
        return Style(dim=True)
    return Style(color=foreground.blend(background, 0.4).rich_color)
