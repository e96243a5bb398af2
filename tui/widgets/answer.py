"""The answer pane: streamed Markdown whose cost per token stays flat however long it gets.

`Markdown.append` (what Textual's `MarkdownStream` calls) re-parses only the
last block. r1tui already batches text into frames, so it calls `append`
directly and awaits it: `MarkdownStream.stop()` can drop text that was queued
before its task first ran. Every append still re-lays-out the whole Markdown
widget, and a long answer has hundreds of blocks. So the answer is cut into several Markdown widgets at safe block
boundaries (a blank line outside any code fence): finished pieces are never
touched again, and each frame only lays out the piece being written.
"""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.events import Mount
from textual.containers import Vertical
from textual.widgets import Markdown

PIECE_CHARACTERS = 3000


def safe_cut(text: str, minimum: int) -> int | None:
    """An index just after a blank line, at least `minimum` in, where no code fence is open."""
    search_from = minimum
    while True:
        index = text.find("\n\n", search_from)
        if index < 0:
            return None
        cut = index + 2
        if _fences_balanced(text[:cut]):
            return cut
        search_from = cut


def _fences_balanced(text: str) -> bool:
    fences = sum(1 for line in text.splitlines() if line.lstrip().startswith(("```", "~~~")))
    return fences % 2 == 0


class AnswerPiece(Markdown):
    """A Markdown widget that says when it is ready for `append`.

    Markdown's own mount handler renders its initial text, replacing whatever
    was appended before it ran; appends must wait for it.
    """

    def __init__(self) -> None:
        super().__init__(open_links=False)
        self.ready = asyncio.Event()

    async def _on_mount(self, event: Mount) -> None:
        await super()._on_mount(event)
        self.ready.set()


class AnswerMarkdown(Vertical):
    DEFAULT_CSS = """
    AnswerMarkdown { height: auto; }
    AnswerMarkdown > Markdown { margin: 0; padding: 0; background: transparent; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._pieces: list[str] = []
        self._current: AnswerPiece | None = None

    @property
    def source(self) -> str:
        return "".join(self._pieces)

    def compose(self) -> ComposeResult:
        yield from ()

    async def write(self, text: str) -> None:
        """Append Markdown; starts a new piece once the current one is long and at a safe cut."""
        if not text:
            return
        if self._current is None:
            await self._start_piece()
        written = len(self._pieces[-1])
        current = self._pieces[-1] + text
        # Only cut inside the new text (what was written is on screen already).
        cut = safe_cut(current, max(PIECE_CHARACTERS, written - 1)) if len(current) > PIECE_CHARACTERS else None
        if cut is None:
            self._pieces[-1] = current
            assert self._current is not None
            await self._current.append(text)
            return
        head = current[written:cut]
        tail = current[cut:]
        self._pieces[-1] = current[:cut]
        assert self._current is not None
        await self._current.append(head)
        await self._start_piece()
        if tail:
            await self.write(tail)

    async def _start_piece(self) -> None:
        piece = AnswerPiece()
        await self.mount(piece)
        await piece.ready.wait()
        self._pieces.append("")
        self._current = piece

    async def finish(self) -> None:
        """The answer is complete: the next write (if any) starts a new piece."""
        self._current = None

    async def show(self, text: str) -> None:
        """Show a finished answer at once (a resumed conversation)."""
        await self.write(text)
        await self.finish()
