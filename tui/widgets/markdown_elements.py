"""The Rich elements r1tui renders Markdown with, and the shared markdown-it parser.

Kept apart from `tui.widgets.markdown_render` (which settles streamed text and owns
the renderer) because importing these (markdown-it, Rich's Markdown and Syntax,
Pygments) costs tens of milliseconds that the first frame does not need: the
renderer imports this module when it is first built, and the app imports it in a
thread a second after start-up (`warm_lexers`). Nothing here imports Textual.
"""

from __future__ import annotations

import functools
from typing import ClassVar

from markdown_it import MarkdownIt
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Heading, ListItem, Markdown, MarkdownElement, TableElement
from rich.segment import Segment
from rich.syntax import Syntax, SyntaxTheme
from rich.table import Table

# CommonMark with tables and strikethrough, as GitHub and the models write it; raw HTML off.
_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
# Block containers whose content markdown-it drops, silently, once nested `maxNesting` (20) deep.
_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})

class LeftHeading(Heading):
    """Headings flush left, as in a chat (Rich centres `#` headings, as in a document)."""

    LEVEL_ALIGN: ClassVar[dict[str, str]] = {f"h{level}": "left" for level in range(1, 7)}  # type: ignore[assignment]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text.copy()
        text.justify = "left"
        yield text


class DottedListItem(ListItem):
    """Ordered items numbered "1." as written (Rich drops the dot), each by its own number.

    Rich pads every number to the width of the list's last one; here " 9." and "10." take the same
    three cells and only a hundredth item takes more. An item is then drawn the same however long its
    list grows, so a list being written can settle its finished items (`markdown_render.list_seam`).
    """

    def render_number(self, console: Console, options: ConsoleOptions, number: int, last_number: int) -> RenderResult:
        number_width = max(3, len(str(number)) + 1)
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


def too_deep(tokens: list) -> bool:  # type: ignore[type-arg]
    """Whether markdown-it hit its nesting limit: a container opened where its content is no longer parsed."""
    limit = _PARSER.options.maxNesting - 1
    return any(token.level >= limit and token.type in _CONTAINERS for token in tokens)
