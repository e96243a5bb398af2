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
address, never as clickable OSC 8 hyperlinks (the elements: `tui.widgets.markdown_elements`,
imported when the first renderer is built). Nothing here imports Textual.
"""

from __future__ import annotations

import io
import re
from typing import Mapping

from rich.console import Console
from rich.segment import Segment
from rich.text import Text
from rich.theme import Theme

from tui.core.math_text import present_math, unfinished_answer_math

Line = list[Segment]

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


# What spans lines inside code and changes how a lexer reads the lines after it: a block is cut only
# where none of it is open, so that every piece starts in the state its lexer starts in and is
# highlighted as the whole block would be. Heuristics, on the safe side: what they cannot tell only
# prevents a cut (the block is then rendered whole, as before).
_MULTILINE_QUOTES = ('"""', "'''")
_ONE_LINE_STRING = re.compile(r"'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_]\w*)\1")
_BRACKETS = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
# Fences whose heredocs (`<<EOF` … `EOF`) are tracked; elsewhere `<<` is a shift (`cout << endl`).
_HEREDOC_LANGUAGES = frozenset({"", "sh", "bash", "shell", "zsh", "ksh", "console", "shell-session",
                                "dockerfile", "perl", "ruby", "php", "make", "makefile"})


class _CodeState:
    """Whether code read line by line is at a place where a cut changes no highlighting."""

    def __init__(self, heredocs: bool) -> None:
        self.heredocs = heredocs
        self.triple = dict.fromkeys(_MULTILINE_QUOTES, 0)
        self.backquotes = 0  # template strings (JS), raw strings (Go), command substitution (shell)
        self.comments = 0  # /* */ still open
        self.depth = 0  # brackets still open: a C function's body, a call's arguments, a literal
        self.heredoc: str | None = None  # the word that ends an open shell heredoc
        self.continued = False  # the last line ended with a backslash

    def read(self, line: str) -> None:
        if self.heredoc is not None:
            if line.strip() == self.heredoc:
                self.heredoc = None
            return
        plain = line
        for quote in self.triple:
            self.triple[quote] += line.count(quote)
            plain = plain.replace(quote, "")
        plain = _ONE_LINE_STRING.sub("", plain)  # what is quoted on one line opens nothing
        self.backquotes += plain.count("`")
        self.comments = max(0, self.comments + plain.count("/*") - plain.count("*/"))
        self.depth += sum(_BRACKETS.get(character, 0) for character in plain)
        heredoc = _HEREDOC.search(line) if self.heredocs else None
        if heredoc is not None:
            self.heredoc = heredoc.group(2)
        self.continued = line.rstrip().endswith("\\")

    @property
    def at_rest(self) -> bool:
        return (all(count % 2 == 0 for count in self.triple.values()) and self.backquotes % 2 == 0
                and self.comments == 0 and self.depth == 0 and self.heredoc is None and not self.continued)


def code_seam(text: str, minimum: int) -> tuple[str, int] | None:
    """Where a fenced code block still being written can be cut for good: (its opening line, the cut).

    `text` must start with the fence's opening line. The cut is at the start of a line, after at least
    `minimum` characters of code, with text on the line before it and on the line after it (so each
    piece's padding rows are exactly its first and last), where nothing that spans lines is open (a
    docstring, a template string, a block comment, a bracket, a heredoc, a continued line).
    None when the fence has closed, or there is no such place yet.
    """
    opener_end = text.find("\n")
    if opener_end < 0 or not text.startswith(("```", "~~~")):
        return None
    code_start = position = opener_end + 1
    info = text[:opener_end].lstrip("`~").split()
    state = _CodeState(heredocs=(info[0].lower() if info else "") in _HEREDOC_LANGUAGES)
    previous_has_text = False
    seam: int | None = None
    while position < len(text):
        end = text.find("\n", position)
        line = text[position:] if end < 0 else text[position:end]
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            return None  # the fence closed: the block settles whole when the next one starts
        if end < 0 and stripped.startswith(("`", "~")):
            break  # the line being written may become the closing fence
        if stripped and previous_has_text and state.at_rest and position - code_start >= minimum:
            seam = position
        if end < 0:
            break
        state.read(line)
        previous_has_text = bool(stripped)
        position = end + 1
    return (text[:code_start], seam) if seam is not None else None


# A list item's first line at column 0: its marker (a bullet, or a number and its delimiter), the spaces
# after it and its text. "- - -" and "* * *" are rules, not items.
_LIST_ITEM = re.compile(r"(?:([-*+])|(\d{1,9})([.)]))([ \t]+)\S")
_THEMATIC_BREAK = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*$")


def _list_item(line: str) -> tuple[str, int | None, int] | None:
    """A column-0 list item's kind (its bullet, or a numbered one's delimiter), number (None: a bullet) and
    content column (where its text starts: lines indented less do not belong to it)."""
    found = None if _THEMATIC_BREAK.match(line) else _LIST_ITEM.match(line)
    if found is None:
        return None
    bullet, number, delimiter, spaces = found.groups()
    marker_width = found.start(4)
    spaces_width = len(spaces.expandtabs(4))
    content_column = marker_width + (spaces_width if spaces_width <= 4 else 1)  # 5 spaces: indented code
    if bullet is not None:
        return bullet, None, content_column
    return delimiter, int(number), content_column


def list_seam(text: str, minimum: int) -> int | None:
    """Where a list still being written can be cut for good: the start of one of its items, or None.

    `text` must start with the list's first item at column 0. Rich renders each item of a list on its own
    (numbered ones by their own number: see `DottedListItem`), so the items before a cut render the same
    as in the whole list, as long as nothing between them ends the list. A cut falls at a column-0 item of
    the same kind, numbered as the list numbers it, after at least `minimum` characters, on a line that is
    complete (the one being written may yet turn out a rule, "- - -"), outside any fence in an item. The
    scan stops at a line that may not belong to the list: one indented less than its item's text (a
    sibling list, a fence or heading that ends it, a lazy continuation) or anything else at column 0.
    """
    first = _list_item(text.split("\n", 1)[0])
    if first is None:
        return None
    kind, expected, content_column = first
    position, seam, in_fence = 0, None, False
    while True:
        end = text.find("\n", position)
        if end < 0:
            break  # the line being written
        line = text[position:end].expandtabs(4)
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if stripped and not indent:
            item = _list_item(line)
            if in_fence or item is None or item[:2] != (kind, expected):
                break  # not this list's next item: a cut after here could change how the list is drawn
            if position >= minimum and position > 0:
                seam = position
            expected = None if expected is None else expected + 1
            content_column = item[2]
        elif stripped and indent < content_column:
            break
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        position = end + 1
    return seam


def shown_while_written(text: str) -> str:
    """`text`, the block being written, as drawn meanwhile: on its last line, a boxed answer's maths not
    closed yet is left out until it closes (it turns into bold text then, `present_math`), and an open
    `**` or code span is drawn closed (`close_open_inline`): no raw markup flashes before it takes shape."""
    start = text.rfind("\n") + 1
    math = unfinished_answer_math(text[start:])
    if math is not None:
        text = _without_trailing_opener(text, start, math)
    return close_open_inline(text)


_BACKQUOTES = re.compile(r"`+")
_STRONG = re.compile(r"\*\*")


def close_open_inline(text: str) -> str:
    """`text` as shown while it is still being written: on its last line, an inline code span or a `**`
    opened and not closed yet is closed, or left out while nothing follows it yet.

    Streamed, "**Step 3**" arrives as "**Step" first: drawn as written, the raw stars showed until the
    closing pair came (a frame or two, the line wrapping otherwise meanwhile), at every bold word of
    R1's answers. Only the last line is looked at, `***` and table rows are left alone, and a `**`
    counts as an opener only before a non-space (as CommonMark reads it: "2 ** 3" opens nothing).
    """
    start = text.rfind("\n") + 1
    line = text[start:]
    if "***" in line or line.lstrip().startswith("|"):
        return text  # a table's row: stars added at its end would land in a cell of their own
    # Code spans first: a `**` inside one is text. A run of N backquotes is closed by the next run of N.
    outside: list[tuple[int, int]] = []  # spans of the line outside code
    position, opener = 0, None
    for run in _BACKQUOTES.finditer(line):
        if opener is None:
            outside.append((position, run.start()))
            opener = run
        elif len(run.group()) == len(opener.group()):
            opener, position = None, run.end()
    if opener is not None:
        if not line[opener.end():].strip():
            return _without_trailing_opener(text, start, opener.start())  # "use `": the code comes next
        return text[:start] + line.rstrip() + opener.group()
    outside.append((position, len(line)))
    strong = None
    for begin, end in outside:
        for pair in _STRONG.finditer(line, begin, end):
            after = line[pair.end():pair.end() + 1]
            before = line[pair.start() - 1:pair.start()] if pair.start() else " "
            if strong is None and (not after or not after.isspace()):
                strong = pair
            elif strong is not None and not before.isspace():
                strong = None
    if strong is None:
        return text
    if not line[strong.end():].strip():
        return _without_trailing_opener(text, start, strong.start())
    body = line.rstrip()
    if body.endswith("*") and len(body) > strong.end() + 1:
        body = body[:-1]  # the closing pair's first star has come: "**Step*" is drawn "**Step**"
    return text[:start] + body + "**"


_BARE_MARKER = re.compile(r"\s*(?:[-*+]|\d{1,9}[.)])\s*$")


def _without_trailing_opener(text: str, start: int, opener: int) -> str:
    """`text` without the opener that ends it, unless that leaves its last line a bare list marker ("- "
    under a paragraph is a heading's underline): then as written, the opener shown."""
    kept = text[start:start + opener]
    return text if _BARE_MARKER.fullmatch(kept) else text[:start] + kept


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
        from tui.widgets.markdown_elements import LiteralMarkdown, too_deep  # see that module: imported when needed

        if not text.strip():
            return []
        options = self._console.options.update_width(max(1, width))
        markdown = LiteralMarkdown(present_math(text), self.code_theme)
        shown: LiteralMarkdown | Text = markdown
        if too_deep(markdown.parsed):
            shown = Text(text, overflow="fold")  # flat, but every character is there
        lines = self._console.render_lines(shown, options, pad=False)
        while lines and _is_blank(lines[-1]):
            lines.pop()
        start = 0
        while start < len(lines) and _is_blank(lines[start]):
            start += 1
        return lines[start:]


def estimated_rows(text: str, width: int) -> int:
    """Rows `text` will probably take at `width`: a cheap stand-in until it is rendered."""
    width = max(1, width)
    return sum(max(1, -(-len(line) // width)) for line in text.rstrip("\n").split("\n"))


def _is_blank(line: Line) -> bool:
    return all(not segment.text.strip() and not (segment.style and segment.style.bgcolor) for segment in line)
