"""One exchange on screen: the prompt, the model's reasoning beside its answer, and the figures.

Streaming text is appended, never re-rendered whole: reasoning and answer are
both Line API widgets that repaint only the rows that changed, and the answer
re-renders only its unsettled Markdown tail (`tui.widgets.answer`).
Text arrives already made inert (`tui.sanitize`) and is shown as `Content`,
so nothing the model writes is read as markup.
"""

from __future__ import annotations

import asyncio

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tui.conversation import Turn, TurnState
from tui.metrics import TokenMeter
from tui.sanitize import inert
from tui.widgets.answer import AnswerMarkdown
from tui.widgets.stream_text import StreamingText


class ReasoningText(StreamingText):
    """The reasoning pane's body: plain text, appended as it streams."""


class ReasoningHeader(Static):
    """"thinking 12.4 s" while streaming, "thought for 14.2 s · 812 tokens" after; click to fold."""

    class Toggled(Message):
        pass

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Toggled())


class TurnView(Vertical):
    """A turn as the user sees it. The chat screen feeds it deltas and flushes it once per frame.

    Folding changes inline styles of a few widgets rather than a CSS class on
    the turn: a class change restyles every descendant of every turn.
    """

    def __init__(self, turn: Turn, meter: TokenMeter) -> None:
        super().__init__(classes="turn")
        self.turn = turn
        self.meter = meter
        self.folded = False
        self.finished = False
        # Decided now, not at mount: a fast stream can finish before this view is mounted.
        self._replay = turn.finished
        self._pending_reasoning: list[str] = []
        self._pending_answer: list[str] = []
        self._unsaved_reasoning: list[str] = []
        self._unsaved_answer: list[str] = []
        self._answer_started = False
        self._last_header = ""
        self._flush_lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("You ", "bold $accent"), inert(self.turn.prompt)), classes="prompt")
        yield Static(Content.styled(self.turn.model, "bold $secondary"), classes="model-label")
        with Horizontal(classes="panes"):
            with Vertical(classes="reasoning-pane"):
                yield ReasoningHeader(self._header_text(), classes="reasoning-header")
                yield ReasoningText(classes="reasoning-text")
            with Vertical(classes="answer-pane"):
                yield Static(Content.styled("Answer", "bold"), classes="answer-title")
                yield Static(Content.styled("waiting for the model…", "dim italic"), classes="answer-placeholder")
                yield AnswerMarkdown(classes="answer")
        yield Static("", classes="turn-error")
        yield Static("", classes="turn-stats")

    async def on_mount(self) -> None:
        if self._replay:
            await self.load_finished()

    @property
    def answer_source(self) -> str:
        return self.query_one(AnswerMarkdown).source

    # -- streaming ---------------------------------------------------------------

    def add(self, reasoning: str, answer: str) -> None:
        """Queue the model's raw text; it is made inert when the next frame shows it."""
        if reasoning:
            self._pending_reasoning.append(reasoning)
            self._unsaved_reasoning.append(reasoning)
        if answer:
            self._pending_answer.append(answer)
            self._unsaved_answer.append(answer)

    def pending_raw(self) -> tuple[str, str]:
        """Text received since the last call, exactly as the model wrote it (for the history)."""
        reasoning, answer = "".join(self._unsaved_reasoning), "".join(self._unsaved_answer)
        self._unsaved_reasoning.clear()
        self._unsaved_answer.clear()
        return reasoning, answer

    async def flush(self) -> None:
        """Push queued text to the widgets (called at a bounded frame rate)."""
        async with self._flush_lock:  # the frame timer and the end of the stream may overlap
            await self._flush_pending()

    async def _flush_pending(self) -> None:
        if self._pending_reasoning:
            text = inert("".join(self._pending_reasoning))
            self._pending_reasoning.clear()
            self.query_one(ReasoningText).append(text)
        if self._pending_answer:
            text = inert("".join(self._pending_answer))
            self._pending_answer.clear()
            if not self._answer_started:
                self._answer_started = True
                self.query_one(".answer-placeholder").display = False
            await self.query_one(AnswerMarkdown).write(text)
        self._update_header()

    async def finish(self) -> None:
        await self.flush()
        await self.query_one(AnswerMarkdown).finish()
        self._show_outcome()

    async def load_finished(self) -> None:
        """Show a turn that finished before this view existed (e.g. resumed from history)."""
        self.query_one(ReasoningText).append(inert(self.turn.reasoning))
        if self.turn.answer:
            self.query_one(".answer-placeholder").display = False
            await self.query_one(AnswerMarkdown).show(inert(self.turn.answer))
        self._show_outcome()

    # -- presentation ------------------------------------------------------------

    def _header_text(self) -> Content:
        arrow = "▶" if self.folded else "▼"
        if not self.turn.finished and self.meter.reasoning_started_at is None:
            return Content.styled(f"{arrow} Reasoning", "bold")
        tokens = self.meter.reasoning_tokens or self.turn.reasoning_tokens
        seconds = self.meter.think_seconds if not self.turn.finished else self.turn.think_seconds
        if self.meter.thinking and not self.turn.finished:
            return Content.styled(f"{arrow} thinking {seconds:.1f} s", "bold $warning")
        return Content.styled(f"{arrow} thought for {seconds:.1f} s · {tokens} tokens", "bold")

    def _update_header(self) -> None:
        header = self._header_text()
        if header.plain != self._last_header:
            self._last_header = header.plain
            self.query_one(ReasoningHeader).update(header)

    def _show_outcome(self) -> None:
        turn = self.turn
        if not turn.reasoning.strip():
            self.query_one(".reasoning-pane").display = False
        if not turn.answer:
            placeholder = self.query_one(".answer-placeholder", Static)
            placeholder.update(Content.styled("(no answer)", "dim italic"))
        self._update_header()
        error = self.query_one(".turn-error", Static)
        if turn.state is TurnState.FAILED and turn.error:
            error.update(Content.styled(f"⚠ {inert(turn.error)}", "bold $error"))
        elif turn.state is TurnState.STOPPED:
            error.update(Content.styled("■ stopped: the server was told to stop generating", "$warning"))
        self.query_one(".turn-stats", Static).update(Content.styled(turn_figures(turn), "dim"))
        self.finished = True

    def set_folded(self, folded: bool) -> None:
        """Folded: the reasoning is a one-line header above a full-width answer."""
        if folded == self.folded:
            return
        self.folded = folded
        self.query_one(ReasoningText).display = not folded
        panes = self.query_one(".panes")
        for pane in (self.query_one(".reasoning-pane"), self.query_one(".answer-pane")):
            if folded:
                pane.styles.width = "100%"
            else:
                pane.styles.clear_rule("width")
        if folded:
            panes.styles.layout = "vertical"
        else:
            panes.styles.clear_rule("layout")
        panes.refresh(layout=True)
        self._last_header = ""
        self._update_header()

    def on_reasoning_header_toggled(self, _: ReasoningHeader.Toggled) -> None:
        self.set_folded(not self.folded)


def turn_figures(turn: Turn) -> str:
    """One line of figures after a turn, the ones `ollama run --verbose` users look for."""
    parts: list[str] = []
    stats = turn.stats
    if turn.reasoning_tokens or turn.answer_tokens:
        parts.append(f"{turn.reasoning_tokens} reasoning + {turn.answer_tokens} answer tokens")
    if stats is not None and stats.eval_rate is not None:
        parts.append(f"{stats.eval_rate:.1f} tok/s")
    if stats is not None and stats.prompt_eval_rate is not None:
        parts.append(f"prompt {stats.prompt_eval_rate:.0f} tok/s")
    if turn.ttft_seconds is not None:
        parts.append(f"first token {turn.ttft_seconds:.2f} s")
    if stats is not None and stats.load_duration_ns > 50_000_000:
        parts.append(f"load {stats.load_seconds:.1f} s")
    return " · ".join(parts)
