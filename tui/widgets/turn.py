"""One exchange on screen: the prompt, the model's reasoning beside its answer, and the figures.

Streaming text is appended, never re-rendered whole: reasoning and answer are
both Line API widgets that repaint only the rows that changed, and the answer
re-renders only its unsettled Markdown tail (`tui.widgets.answer`).
Text arrives already made inert (`tui.core.sanitize`) and is shown as `Content`,
so nothing the model writes is read as markup.
"""

from __future__ import annotations

import asyncio
import re

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tui.core.conversation import Turn, TurnState, turn_figures
from tui.core.metrics import TokenMeter
from tui.core.sanitize import inert
from tui.core.turn_marks import LOOP_TEXT, context_line, turn_marks
from tui.keymap import FOCUSED_TURN_BINDINGS
from tui.widgets.answer import AnswerMarkdown
from tui.widgets.backdrop import Backdrop, BackdropHorizontal, BackdropVertical
from tui.widgets.markdown_render import estimated_rows
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


class TurnSummary(Static, can_focus=True):
    """An older turn drawn as one line; Enter or a click draws it in full."""

    BINDINGS = [("enter", "open", "Show turn")]

    class Open(Message):
        pass

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Open())

    def action_open(self) -> None:
        self.post_message(self.Open())


def shown_error(error: str) -> str:
    """A turn's error as shown: the way to try again is Ctrl+R, not retyping the prompt."""
    return error.replace("send the prompt again", "press Ctrl+R to retry")


class TurnView(Backdrop, Vertical, can_focus=True):
    """A turn as the user sees it. The chat screen feeds it deltas and flushes it once per frame.

    Folding changes inline styles of a few widgets rather than a CSS class on
    the turn: a class change restyles every descendant of every turn.
    Focused (Alt+Up, Tab), its keys act on it (`tui.keymap.FOCUSED_TURN_BINDINGS`).
    """

    SCOPED_CSS = False  # its rules also follow the screen's -narrow class
    DEFAULT_CSS = """
    .turn {
        height: auto;
        margin: 1 0 0 0;
    }

    .turn .turn-head, .turn .turn-foot, .turn .answer-head {
        height: auto;
    }

    .turn .prompt {
        padding: 0 1;
        background: $boost;
    }

    .turn .model-label {
        margin-top: 1;
        padding: 0 1;
    }

    .turn .panes {
        height: auto;
    }

    .turn .reasoning-pane {
        width: 50%;  /* not 1fr: fr widths came out a cell apart between layout passes, and each width costs a render */
        height: auto;
        padding: 0 1;
        border-left: vkey $warning 50%;
        color: $text-muted;
    }

    .turn .answer-pane {
        width: 1fr;
        height: auto;
        padding: 0 1;
    }

    .turn .answer-title {
        color: $text-primary;
    }


    .turn .reasoning-header {
        height: 1;
    }

    .turn .turn-error {
        height: auto;
        padding: 0 1;
    }

    .turn .turn-stats {
        height: auto;
        padding: 0 1;
    }

    .turn .turn-marks {
        height: auto;
        padding: 0 1;
    }

    .turn .reasoning-body,
    .turn .answer-body {
        height: auto;
    }

    /* While the model writes, the panes have a fixed height and each text follows its newest line
       (a window of its own, see tui.widgets.live_growth: nothing is laid out while it streams). */
    .turn.-live .reasoning-pane,
    .turn.-live .answer-pane {
        height: 100%;
    }
    .turn.-live .reasoning-body,
    .turn.-live .answer-body {
        height: 1fr;
    }
    /* Stacked (narrow): the reasoning has the whole height until the answer begins, then half. */
    .-narrow .turn.-live .reasoning-pane {
        height: 1fr;
    }
    .-narrow .turn.-live .answer-pane {
        height: auto;
    }
    .-narrow .turn.-live.-answering .answer-pane {
        height: 1fr;
    }
    .-narrow .turn.-live .answer-body {
        height: auto;
    }
    .-narrow .turn.-live.-answering .answer-body {
        height: 1fr;
    }

    /* Narrow terminals: reasoning above the answer. */
    .-narrow .turn .panes {
        layout: vertical;
    }
    .-narrow .turn .reasoning-pane,
    .-narrow .turn .answer-pane {
        width: 100%;
    }


    .turn:focus-within {
        background: $accent 12%;
    }
    .turn:focus-within .prompt {
        background: $accent 40%;
        text-style: bold;
    }
    .turn .turn-summary {
        padding: 0 1;
    }
    .turn .turn-summary:focus {
        background: $accent 30%;
        text-style: bold;
    }
    """

    BINDINGS = FOCUSED_TURN_BINDINGS

    def __init__(self, turn: Turn, meter: TokenMeter, *, summarised: bool = False, folded: bool = False,
                 version: tuple[int, int] | None = None) -> None:
        super().__init__(classes="turn")
        self.turn = turn
        self.meter = meter
        self.version = version  # (answer shown, answers) once the prompt was answered more than once
        self.summarised = summarised and turn.finished
        self.folded = folded
        self.live_rows: int | None = None
        self.finished = False
        # Decided now, not at mount: a fast stream can finish before this view is mounted.
        self._replay = turn.finished
        self._pending_reasoning: list[str] = []
        self._pending_answer: list[str] = []
        self._answer_started = False
        self._reasoning_seen = False
        self._said_thinking = False
        self._think_sample: float | None = None  # the think time as last sampled with the panel's figures
        self._last_header = ""
        self._flush_lock = asyncio.Lock()
        self._live_mark: Content = Content("")  # while streaming: the budget, the answer-now key, a loop flag

    def compose(self) -> ComposeResult:
        if self.summarised:
            yield TurnSummary(summary_text(self.turn), classes="turn-summary")
        else:
            yield from self._full_widgets()

    def _full_widgets(self) -> list[Widget]:
        # The lines above and below the panes sit in blank holders of their own, so that a frame that
        # changes the panes does not render them again (see `tui.widgets.backdrop`).
        return [
            BackdropVertical(
                Static(Content.assemble(("You ", "bold $accent"), inert(self.turn.prompt)), classes="prompt"),
                Static(self._model_label(), classes="model-label"),
                classes="turn-head",
            ),
            self._panes(),
            BackdropVertical(
                Static("", classes="turn-error"),
                self._marks_widget(),
                Static("", classes="turn-stats"),
                classes="turn-foot",
            ),
        ]

    def _marks_widget(self) -> Static:
        """The marks line: hidden while empty, so a turn without marks takes no more rows than before."""
        marks = Static(self._live_mark, classes="turn-marks")
        marks.display = bool(self._live_mark.plain)
        return marks

    def _model_label(self) -> Content:
        label = Content.styled(inert(self.turn.model), "bold $secondary")
        if self.version is None:
            return label
        number, count = self.version
        return Content.assemble(label, (f" · answer {number} of {count}", "bold"),
                                ("  ([ ] or Alt+←/→ to flip)", "dim italic"))

    def action_fold(self) -> None:
        self.set_folded(not self.folded)

    async def action_open(self) -> None:
        await self.expand()

    def _panes(self) -> Horizontal:
        return BackdropHorizontal(
            Vertical(
                ReasoningHeader(self._header_text(), classes="reasoning-header"),
                ReasoningText(classes="reasoning-body"),
                classes="reasoning-pane",
            ),
            BackdropVertical(
                BackdropVertical(
                    Static(Content.styled("Answer", "bold"), classes="answer-title"),
                    classes="answer-head",
                ),
                AnswerMarkdown("waiting for the model…", classes="answer answer-body"),
                classes="answer-pane",
            ),
            classes="panes",
        )

    # -- live panes (while the model writes) ------------------------------------------

    def set_live_rows(self, rows: int | None) -> None:
        """While streaming, the panes are `rows` tall and each follows its own newest line.

        Growing with the text instead would put the answer's first lines at the top
        of a reasoning thousands of rows long, out of sight while the user watches
        the bottom, and would scroll (repaint) the whole screen at every frame.
        None: the panes take the height of their text again.
        """
        self.live_rows = rows
        if self.is_mounted and not self.summarised and self.query(".panes"):
            self._apply_live()

    def _apply_live(self) -> None:
        live = self.live_rows is not None
        self.set_class(live, "-live")
        panes = self.query_one(".panes")
        if live:
            panes.styles.height = max(1, self.live_rows - (1 if self._live_mark.plain else 0))  # room for the mark
        else:
            panes.styles.clear_rule("height")
        self.query_one(ReasoningText).set_live(live)
        self.query_one(AnswerMarkdown).set_live(live)
        self._apply_fold()

    async def on_mount(self) -> None:
        if self.summarised:
            self.finished = True
            return
        if self.live_rows is not None:
            self._apply_live()
        elif self.folded:
            self._apply_fold()  # before the first layout: the answer is drawn once, at its folded width
        if self._replay:
            await self.load_finished()

    # -- summarised (long conversations) --------------------------------------------

    async def summarise(self) -> None:
        """Draw this finished turn as one widget, freeing what its panes held (its text stays in `turn`).

        One widget, not five: every frame of a streaming answer lays out the
        whole chat, so each widget an old turn keeps costs a little per token.
        """
        if self.summarised or not self.finished:
            return
        self.summarised = True
        await self.remove_children()
        await self.mount(TurnSummary(summary_text(self.turn), classes="turn-summary"))

    async def expand(self) -> None:
        """Draw a summarised turn in full again."""
        if not self.summarised:
            return
        self.summarised = False
        await self.remove_children()
        await self.mount_all(self._full_widgets())
        if self.folded:
            self._apply_fold()
        await self.load_finished()
        self.query_one(".panes").scroll_visible(animate=False)

    async def on_turn_summary_open(self, event: "TurnSummary.Open") -> None:
        event.stop()
        await self.expand()

    @property
    def answer_source(self) -> str:
        return inert(self.turn.answer) if self.summarised else self.query_one(AnswerMarkdown).source

    # -- streaming ---------------------------------------------------------------

    def add(self, reasoning: str, answer: str) -> None:
        """Queue the model's raw text; it is made inert when the next frame shows it."""
        if reasoning:
            self._reasoning_seen = self._reasoning_seen or bool(reasoning.strip())
            self._pending_reasoning.append(reasoning)
        if answer:
            self._pending_answer.append(answer)

    async def flush(self) -> None:
        """Push queued text to the widgets (called at a bounded frame rate)."""
        async with self._flush_lock:  # the frame timer and the end of the stream may overlap
            await self._flush_pending()

    async def _flush_pending(self) -> None:
        if not (self._pending_reasoning or self._pending_answer):
            self._update_header()
            return
        if self._pending_reasoning:
            text = inert("".join(self._pending_reasoning))
            self._pending_reasoning.clear()
            self.query_one(ReasoningText).append(text)
            if not self._answer_started and self._reasoning_seen and not self._said_thinking:
                self._said_thinking = True
                self.query_one(AnswerMarkdown).set_placeholder("the model is thinking… (Ctrl+G: answer now)")
        if self._pending_answer:
            text = inert("".join(self._pending_answer))
            self._pending_answer.clear()
            if not self._answer_started:
                self._answer_started = True
                self.query_one(ReasoningText).close_window()  # its blank reserved rows would stay
                self.query_one(AnswerMarkdown).set_placeholder(None)
                self.add_class("-answering")
                if not self._reasoning_seen:
                    # No reasoning came first (an empty <think></think>): its pane would only take room.
                    self.query_one(".reasoning-pane").display = False
            await self.query_one(AnswerMarkdown).write(text)
        self._update_header()

    async def finish(self) -> None:
        """Show how the turn ended; then leave the live layout, once that is on screen.

        Leaving it lays out the whole turn at its full height (a long reasoning is thousands
        of rows), a costly frame: "stopped" (or the figures) must not wait for it.
        """
        await self.flush()
        self._show_outcome()
        live_rows = self.live_rows
        if live_rows is None:
            self.finished = True
        else:
            # Measured, or estimated where the text is still being laid out in the background
            # (a long burst is drawn from its end, in slices): a half-drawn answer must not
            # look short beside its reasoning and fold it.
            # A stream that ends before the first layout has no widths yet: half the chat's, as on resume.
            reasoning, answer = self.query_one(ReasoningText), self.query_one(AnswerMarkdown)
            half = max(20, (self.size.width or self.app.size.width) // 2 - 3)

            def width(widget: Widget) -> int:
                return widget.size.width if widget.size.width >= 20 else half

            fold = reasoning_dwarfs_answer(
                self.turn,
                max(reasoning.text_height(), estimated_rows(self.turn.reasoning, width(reasoning))),
                max(answer.text_height(), estimated_rows(self.turn.answer, width(answer))),
                live_rows)
            self.call_after_refresh(self._leave_live, fold)

    def _leave_live(self, fold: bool) -> None:
        if self.is_mounted and not self.summarised:
            self.set_live_rows(None)
            if fold:
                self.set_folded(True)
        self.finished = True

    async def load_finished(self) -> None:
        """Show a turn that finished before this view existed (e.g. resumed from history)."""
        self.query_one(ReasoningText).append(inert(self.turn.reasoning))
        if self.turn.answer:
            self.query_one(AnswerMarkdown).set_placeholder(None)
            await self.query_one(AnswerMarkdown).show(inert(self.turn.answer))
        self._show_outcome()
        self.finished = True

    # -- presentation ------------------------------------------------------------

    def _header_text(self) -> Content:
        arrow = "▶" if self.folded else "▼"
        if not self.turn.finished and self.meter.reasoning_started_at is None:
            return Content.styled(f"{arrow} Reasoning", "bold")
        tokens = self.meter.reasoning_tokens or self.turn.reasoning_tokens
        seconds = self.meter.think_seconds if not self.turn.finished else self.turn.think_seconds
        if self.meter.thinking and not self.turn.finished:
            if self._think_sample is not None:
                seconds = self._think_sample
            return Content.styled(f"{arrow} thinking {seconds:.1f} s", "bold $warning")
        return Content.styled(f"{arrow} thought for {seconds:.1f} s · {tokens:,} tokens", "bold")

    def sample_think_time(self) -> None:
        """While thinking, the header's time moves when the chat's speed figures do (twice a second),
        from the same reading of the meter, so the header and the panel show the same number."""
        self._think_sample = self.meter.think_seconds
        if not self.summarised and self.is_mounted:
            self._update_header()

    def _update_header(self) -> None:
        header = self._header_text()
        if header.plain != self._last_header:
            self._last_header = header.plain
            self.query_one(ReasoningHeader).update(header, layout=False)  # one row, whatever it says

    def _show_outcome(self) -> None:
        turn = self.turn
        if not turn.reasoning.strip():
            self.query_one(".reasoning-pane").display = False
        if not turn.answer:
            self.query_one(AnswerMarkdown).set_placeholder("(no answer)")
        self._update_header()
        error = self.query_one(".turn-error", Static)
        if turn.state is TurnState.FAILED and turn.error:
            error.update(Content.styled(f"⚠ {inert(shown_error(turn.error))}", "bold $error"))
        elif turn.state is TurnState.STOPPED:
            # A stopped turn with a reason was not stopped here (r1tui exited while it streamed): say that.
            reason = inert(turn.error) if turn.error else "stopped: the server was told to stop generating"
            error.update(Content.styled(f"■ {reason}", "$warning"))
        self._show_marks()
        self.query_one(".turn-stats", Static).update(Content.styled(turn_figures(turn), "dim"))

    # -- reasoning control and context marks (tui.core.turn_marks) -----------------------

    def show_live_mark(self, text: str) -> None:
        """A line under the panes while the model writes (this chat's budget, the answer-now key)."""
        self._set_live_mark(Content.styled(text, "dim italic") if text else Content(""))

    def show_loop_flag(self) -> None:
        """The loop watch flagged the reasoning: say so, with the way out, while it streams."""
        self._set_live_mark(Content.assemble((f"⟳ {LOOP_TEXT}", "bold $warning"),
                                             ("  Ctrl+G: stop thinking and answer now", "$warning")))

    def _set_live_mark(self, content: Content) -> None:
        had_mark, self._live_mark = bool(self._live_mark.plain), content  # composed with it when not composed yet
        for marks in self.query(".turn-marks").results(Static):
            marks.update(content)
            marks.display = bool(content.plain)
        if had_mark != bool(content.plain) and self.live_rows is not None:
            for panes in self.query(".panes"):  # the mark's row comes out of the live panes' height
                panes.styles.height = max(1, self.live_rows - (1 if content.plain else 0))

    def _show_marks(self) -> None:
        marks, content = self.query_one(".turn-marks", Static), marks_content(self.turn)
        marks.update(content)
        marks.display = bool(content.plain)

    def set_folded(self, folded: bool) -> None:
        """Folded: the reasoning is a one-line header above a full-width answer."""
        if folded == self.folded:
            return
        self.folded = folded
        if not self.summarised:
            self._apply_fold()

    def _apply_fold(self) -> None:
        folded = self.folded
        self.query_one(".reasoning-body").display = not folded
        panes = self.query_one(".panes")
        reasoning_pane, answer_pane = self.query_one(".reasoning-pane"), self.query_one(".answer-pane")
        for pane in (reasoning_pane, answer_pane):
            if folded:
                pane.styles.width = "100%"
            else:
                pane.styles.clear_rule("width")
        # Folded while live: the header line, then the answer in the rest of the panes' height.
        if folded and self.live_rows is not None:
            reasoning_pane.styles.height = "auto"
            answer_pane.styles.height = "1fr"
        else:
            reasoning_pane.styles.clear_rule("height")
            answer_pane.styles.clear_rule("height")
        if folded:
            panes.styles.layout = "vertical"
        else:
            panes.styles.clear_rule("layout")
        panes.refresh(layout=True)
        self._last_header = ""
        self._update_header()

    def on_reasoning_header_toggled(self, _: ReasoningHeader.Toggled) -> None:
        self.set_folded(not self.folded)


_MARKDOWN_LINE_START = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+|```\S*|~~~\S*|\|)+")
_MARKDOWN_INLINE = re.compile(r"(\*\*|__|`|~~|\|)")


def reasoning_dwarfs_answer(turn: Turn, reasoning_rows: int, answer_rows: int, visible_rows: int) -> bool:
    """Side by side, would the answer end above the bottom of the reasoning by more than a screen?

    Then the answer is out of sight where the user looks (the end of the chat):
    such a turn is shown with its reasoning folded. Rows are measured for a turn
    just drawn, estimated (`estimated_rows`) for one not drawn yet.
    """
    return bool(turn.answer.strip()) and reasoning_rows > answer_rows + visible_rows


def plain_line(line: str) -> str:
    """A Markdown line as a reader would say it: no heading marks, bullets, fences or emphasis marks."""
    return _MARKDOWN_INLINE.sub("", _MARKDOWN_LINE_START.sub("", line)).strip(" -|:")


def summary_text(turn: Turn) -> Content:
    """An older turn in a few lines: the prompt, the model, token counts and the answer's first words, the figures."""
    tokens = f"{turn.reasoning_tokens:,} reasoning + {turn.answer_tokens:,} answer tokens"
    first_line = next((plain_line(line) for line in turn.answer.splitlines() if plain_line(line)), "")
    if len(first_line) > 60:
        first_line = first_line[:59] + "…"
    parts: list[tuple[str, str] | Content] = [
        ("You ", "bold $accent"), inert(turn.prompt.splitlines()[0] if turn.prompt.strip() else ""), "\n",
        (inert(turn.model), "bold $secondary"), ("  ▶ ", "bold $accent"), (tokens, "bold"),
    ]
    if first_line:
        parts.append(f" · {inert(first_line)}")
    parts.append(("  (Enter or click to show)", "dim italic"))
    if turn.state is TurnState.FAILED and turn.error:
        parts += ["\n", (f"⚠ {inert(shown_error(turn.error))}", "bold $error")]
    elif turn.state is TurnState.STOPPED:
        parts += ["\n", (f"■ {inert(turn.error) if turn.error else 'stopped'}", "$warning")]
    marks = marks_content(turn)
    if marks.plain:
        parts += ["\n", marks]
    figures = turn_figures(turn)
    if figures:
        parts += ["\n", (figures, "dim")]
    return Content.assemble(*parts)


def marks_content(turn: Turn) -> Content:
    """A finished turn's marks (a length cut, a thinking cut, a loop, thinking off) and its context in use."""
    lines: list[Content] = []
    for mark in turn_marks(turn):
        if mark.startswith("cut off"):
            lines.append(Content.styled(f"✂ {mark}", "bold $error"))
        elif mark == LOOP_TEXT:
            lines.append(Content.styled(f"⟳ {mark}", "$warning"))
        else:
            lines.append(Content.styled(f"✂ {mark}" if "cut" in mark else f"· {mark}", "$warning"))
    label, warning = context_line(turn)
    if label:
        lines.append(Content.assemble((label, "bold $warning" if warning else "dim"),
                                      (f"  ⚠ {warning}" if warning else "", "$warning")))
    return Content("\n").join(lines)
