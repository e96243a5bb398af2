"""Markdown → terminal lines, one settled stretch at a time, so a long answer costs the same per token at its end as at its start.

A streamed answer is split at safe points (a blank line outside any code
fence, followed by a new block at column 0). Text before the last such point
is *settled*: rendered once and kept as lines. Only the unsettled tail is
rendered again when more text arrives; it is a block or two long however long
the answer grows. Textual's Markdown widget instead makes a widget per block
and table cell, and every new one makes the whole screen lay out again.

Rendering is Rich's Markdown (markdown-it underneath) with two changes that
matter for untrusted model output: HTML is shown as text rather than dropped
(`<think>` in an answer stays visible), and links are shown as text with their
address, never as clickable OSC 8 hyperlinks. Nothing here imports Textual.
"""

from __future__ import annotations

import functools
import io
from typing import ClassVar, Mapping

from markdown_it import MarkdownIt
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.console import Console, ConsoleOptions, RenderResult
from rich import box
from rich.markdown import CodeBlock, Heading, ListItem, Markdown, MarkdownElement, TableElement
from rich.table import Table
from rich.segment import Segment
from rich.syntax import Syntax, SyntaxTheme
from rich.text import Text
from rich.theme import Theme

from tui.core.math_text import present_math

Line = list[Segment]

# CommonMark with tables and strikethrough, as GitHub and the models write it; raw HTML off.
_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
# Block containers whose content markdown-it drops, silently, once nested `maxNesting` (20) deep.
_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})

# Style names Rich's Markdown looks up, with what they fall back to when a theme gives nothing.
DEFAULT_STYLES: dict[str, str] = {
    "markdown.h1": "bold underline",
    "markdown.h2": "bold",
    "markdown.h3": "bold",
    "markdown.h4": "bold italic",
    "markdown.h5": "italic",
    "markdown.h6": "italic",
    "markdown.paragraph": "",
    "markdown.text": "",
    "markdown.em": "italic",
    "markdown.strong": "bold",
    "markdown.s": "strike",
    "markdown.code": "bold",
    "markdown.code_block": "",
    "markdown.block_quote": "italic",
    "markdown.list": "",
    "markdown.item": "",
    "markdown.item.bullet": "bold",
    "markdown.item.number": "bold",
    "markdown.hr": "dim",
    "markdown.link": "underline",
    "markdown.link_url": "dim",
    "markdown.table.border": "dim",
    "markdown.table.header": "bold",
}


def block_starts(text: str) -> list[int]:
    """Where text can be cut for good: the start of each block after the first.

    A block starts after a blank line, outside any code fence, at column 0: an
    indented line after a blank line may still belong to the list item above.
    One pass over the lines, so a whole answer shown at once costs linear time.
    """
    starts: list[int] = []
    position = 0
    in_fence = False
    after_blank = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if after_blank and not in_fence and stripped and not line[0].isspace():
            starts.append(position)
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        after_blank = not stripped
        position += len(line)
    return starts


def settled_pieces(text: str, piece: int) -> tuple[list[str], str]:
    """`text` cut at block starts into settled pieces, and the tail: its last block, still being written.

    Blocks that arrive together are grouped into pieces of at least `piece` characters (the last
    piece may be shorter): each is rendered once, and a render has a fixed cost of its own.
    """
    pieces: list[str] = []
    last = 0
    starts = block_starts(text)
    for index, start in enumerate(starts):
        if start - last >= piece or index == len(starts) - 1:
            pieces.append(text[last:start])
            last = start
    return pieces, text[last:]


class LeftHeading(Heading):
    """Headings flush left, as in a chat (Rich centres `#` headings, as in a document)."""

    LEVEL_ALIGN: ClassVar[dict[str, str]] = {f"h{level}": "left" for level in range(1, 7)}  # type: ignore[assignment]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text.copy()
        text.justify = "left"
        yield text


class DottedListItem(ListItem):
    """Ordered items numbered "1." as written (Rich drops the dot)."""

    def render_number(self, console: Console, options: ConsoleOptions, number: int, last_number: int) -> RenderResult:
        number_width = len(str(last_number)) + 2
        lines = console.render_lines(self.elements, options.update(width=options.max_width - number_width - 1),
                                     style=self.style)
        number_style = console.get_style("markdown.item.number", default="none")
        numeral = Segment(f"{number}.".rjust(number_width) + " ", number_style)
        padding = Segment(" " * (number_width + 1), number_style)
        for index, line in enumerate(lines):
            yield numeral if index == 0 else padding
            yield from line
            yield Segment("\n")


class FoldingTable(TableElement):
    """Tables whose narrow columns wrap their words (Rich cuts them to "wi…"), with no blank edge rows."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(box=box.SIMPLE, pad_edge=False, style="markdown.table.border", show_edge=False,
                      collapse_padding=True)
        if self.header is not None and self.header.row is not None:
            for column in self.header.row.cells:
                heading = column.content.copy()
                heading.stylize("markdown.table.header")
                table.add_column(heading, overflow="fold", justify=column.justify)
        if self.body is not None:
            for row in self.body.rows:
                table.add_row(*(cell.content for cell in row.cells))
        yield table


class CachedCodeBlock(CodeBlock):
    """Rich's code block with its lexer and theme looked up once: Rich looks both up (and builds a
    new theme, losing its style cache) at every render, and the unsettled tail renders 15 times a second."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        yield Syntax(code, _lexer(self.lexer_name), theme=_syntax_theme(self.theme), word_wrap=True, padding=1)


# The languages R1's answers fence most often (Python far ahead): their lexers are built ahead of use.
COMMON_LANGUAGES = ("python", "bash", "cpp", "javascript", "json")


def warm_lexers(names: tuple[str, ...] = COMMON_LANGUAGES) -> None:
    """Build the lexers of the common languages now (the app does it in a thread after start-up).

    Pygments compiles a lexer's regular expressions when the first one is made: about 30 ms for
    Python. Left to the first code block, that is spent on the event loop in the middle of a stream,
    where it shows as a hitch.
    """
    for name in names:
        _lexer(name)


@functools.lru_cache(maxsize=64)
def _lexer(name: str) -> Lexer:
    """Pygments' lexer for a fence's language (plain text for one it does not know), as Rich would make it."""
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=4)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=True, tabsize=4)


@functools.lru_cache(maxsize=8)
def _syntax_theme(name: str) -> SyntaxTheme:
    return Syntax.get_theme(name)


class LiteralMarkdown(Markdown):
    """Rich's Markdown with raw HTML shown as written and links never made clickable."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements, "heading_open": LeftHeading, "list_item_open": DottedListItem,
        "table_open": FoldingTable, "fence": CachedCodeBlock, "code_block": CachedCodeBlock}

    def __init__(self, markup: str, code_theme: str) -> None:  # noqa: D107 - Rich's own __init__
        # Not super().__init__: it builds a MarkdownIt parser (with HTML on) per call; ours is shared.
        self.markup = markup
        self.parsed = _PARSER.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = False
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme


class MarkdownRenderer:
    """Renders Markdown to lines of segments at a given width, with one set of styles."""

    def __init__(self, styles: Mapping[str, str] | None = None, code_theme: str = "monokai") -> None:
        merged = {**DEFAULT_STYLES, **(styles or {})}
        self.code_theme = code_theme
        self._console = Console(
            file=io.StringIO(), width=80, theme=Theme(merged, inherit=True), force_terminal=True,
            color_system="truecolor", legacy_windows=False, markup=False, emoji=False, highlight=False,
        )

    def render(self, text: str, width: int) -> list[Line]:
        """The lines `text` takes at `width` cells, without blank lines at either end."""
        if not text.strip():
            return []
        options = self._console.options.update_width(max(1, width))
        markdown = LiteralMarkdown(present_math(text), self.code_theme)
        shown: Markdown | Text = markdown
        if _too_deep(markdown.parsed):
            shown = Text(text, overflow="fold")  # flat, but every character is there
        lines = self._console.render_lines(shown, options, pad=False)
        while lines and _is_blank(lines[-1]):
            lines.pop()
        start = 0
        while start < len(lines) and _is_blank(lines[start]):
            start += 1
        return lines[start:]


def _too_deep(tokens: list) -> bool:  # type: ignore[type-arg]
    """Whether markdown-it hit its nesting limit: a container opened where its content is no longer parsed."""
    limit = _PARSER.options.maxNesting - 1
    return any(token.level >= limit and token.type in _CONTAINERS for token in tokens)


def estimated_rows(text: str, width: int) -> int:
    """Rows `text` will probably take at `width`: a cheap stand-in until it is rendered."""
    width = max(1, width)
    return sum(max(1, -(-len(line) // width)) for line in text.rstrip("\n").split("\n"))


def _is_blank(line: Line) -> bool:
    return all(not segment.text.strip() and not (segment.style and segment.style.bgcolor) for segment in line)
