"""One exchange on screen: the prompt, the model's reasoning beside its answer, and the figures.

Streaming text is appended, never re-rendered whole: reasoning grows paragraph
by paragraph (only the last one is redrawn) and the answer goes through
Textual's `MarkdownStream`, which re-parses only the last Markdown block.
Text arrives already made inert (`tui.sanitize`) and is shown as `Content`,
so nothing the model writes is read as markup.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Markdown, Static

from tui.conversation import Turn, TurnState
from tui.metrics import TokenMeter
from tui.sanitize import inert


class ReasoningText(Vertical):
    """Reasoning as plain paragraphs; appending redraws only the paragraph being written."""

    DEFAULT_CSS = """
    ReasoningText { height: auto; }
    ReasoningText > Static { height: auto; margin-bottom: 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._paragraphs: list[str] = []
        self._widgets: list[Static] = []

    @property
    def text(self) -> str:
        return "\n\n".join(self._paragraphs)

    def append(self, text: str) -> None:
        if not text:
            return
        if not self._paragraphs:
            self._new_paragraph("")
        first, *rest = (self._paragraphs[-1] + text).split("\n\n")
        self._set_last(first)
        for paragraph in rest:
            self._new_paragraph(paragraph)

    def _new_paragraph(self, text: str) -> None:
        widget = Static()
        self._paragraphs.append("")
        self._widgets.append(widget)
        self.mount(widget)
        self._set_last(text)

    def _set_last(self, text: str) -> None:
        self._paragraphs[-1] = text
        shown = text.strip("\n")
        widget = self._widgets[-1]
        widget.update(Content(shown))
        widget.display = bool(shown.strip())


class ReasoningHeader(Static):
    """"thinking 12.4 s" while streaming, "thought for 14.2 s · 812 tokens" after; click to fold."""

    class Toggled(Message):
        pass

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Toggled())


class TurnView(Vertical):
    """A turn as the user sees it. The chat screen feeds it deltas and flushes it once per frame."""

    def __init__(self, turn: Turn, meter: TokenMeter) -> None:
        super().__init__(classes="turn")
        self.turn = turn
        self.meter = meter
        self._pending_reasoning: list[str] = []
        self._pending_answer: list[str] = []
        self._answer_stream = None
        self._answer_started = False
        self._last_header = ""

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
                yield Markdown(open_links=False, classes="answer")
        yield Static("", classes="turn-error")
        yield Static("", classes="turn-stats")

    def on_mount(self) -> None:
        self._answer_stream = Markdown.get_stream(self.query_one(".answer", Markdown))
        if self.turn.finished:
            self.load_finished()

    # -- streaming ---------------------------------------------------------------

    def add(self, reasoning: str, answer: str) -> None:
        """Queue inert text for the next frame."""
        if reasoning:
            self._pending_reasoning.append(reasoning)
        if answer:
            self._pending_answer.append(answer)

    async def flush(self) -> None:
        """Push queued text to the widgets (called at a bounded frame rate)."""
        if self._pending_reasoning:
            text = "".join(self._pending_reasoning)
            self._pending_reasoning.clear()
            self.query_one(ReasoningText).append(text)
        if self._pending_answer:
            text = "".join(self._pending_answer)
            self._pending_answer.clear()
            if not self._answer_started:
                self._answer_started = True
                self.query_one(".answer-placeholder").display = False
            if self._answer_stream is not None:
                await self._answer_stream.write(text)
        self._update_header()

    async def finish(self) -> None:
        await self.flush()
        if self._answer_stream is not None:
            await self._answer_stream.stop()
            self._answer_stream = None
        self._show_outcome()

    def load_finished(self) -> None:
        """Show a turn that finished before this view existed (e.g. resumed from history)."""
        self.query_one(ReasoningText).append(inert(self.turn.reasoning))
        if self.turn.answer:
            self.query_one(".answer-placeholder").display = False
            self.query_one(".answer", Markdown).update(inert(self.turn.answer))
        self._show_outcome()

    # -- presentation ------------------------------------------------------------

    def _header_text(self) -> Content:
        arrow = "▶" if self.has_class("-folded") else "▼"
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
        self.set_class(not turn.reasoning.strip(), "-no-reasoning")
        if not turn.answer:
            placeholder = self.query_one(".answer-placeholder", Static)
            placeholder.update(Content.styled("(no answer)", "dim italic"))
        self._update_header()
        error = self.query_one(".turn-error", Static)
        if turn.state is TurnState.FAILED and turn.error:
            error.update(Content.styled(f"⚠ {inert(turn.error)}", "bold $error"))
        elif turn.state is TurnState.STOPPED:
            error.update(Content.styled("■ stopped: the server was told to stop generating", "$warning"))
        self.set_class(turn.state is TurnState.FAILED, "-failed")
        self.add_class("-finished")
        self.query_one(".turn-stats", Static).update(Content.styled(turn_figures(turn), "dim"))

    def set_folded(self, folded: bool) -> None:
        self.set_class(folded, "-folded")
        self._last_header = ""
        self._update_header()

    def on_reasoning_header_toggled(self, _: ReasoningHeader.Toggled) -> None:
        self.set_folded(not self.has_class("-folded"))


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
