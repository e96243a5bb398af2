"""The chat screen: conversation, prompt, connection status; it only renders the core.

All server work runs in Textual workers on the event loop through the async
ollama client, so the screen never waits on the network. Stream chunks are
queued on the turn view and flushed at a bounded frame rate, so a model
streaming hundreds of tokens/s costs a few redraws a second, not one per token.
"""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from tui.backend import BackendError, InstalledModel, StreamDelta, StreamDone
from tui.conversation import Conversation, Turn, TurnState
from tui.metrics import FramePacer, TokenMeter
from tui.sanitize import inert
from tui.screens.model_select import ModelSelectScreen
from tui.widgets.prompt import PromptArea
from tui.widgets.turn import TurnView

RECONNECT_MAX_SECONDS = 10.0
MODEL_FAMILY = "deepseek-r1"


def choose_start_model(installed: list[InstalledModel], requested: str | None, last_used: str | None) -> str | None:
    """--model wins; then the last model used, if still installed; then the first deepseek-r1 tag."""
    if requested:
        return requested
    names = [m.name for m in installed]
    if last_used and last_used in names:
        return last_used
    for name in names:
        if name.startswith(MODEL_FAMILY + ":"):
            return name
    return names[0] if names else None


WELCOME = """\
Ask a question below and press Enter. The model's reasoning streams on the left,
its answer on the right (stacked on narrow terminals).

  Enter  send            Ctrl+J  newline         Esc     stop generating
  Ctrl+O choose model    Ctrl+T  fold reasoning  Ctrl+Y  copy last answer
  Ctrl+N new chat        Ctrl+Q  quit
"""


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "stop", "Stop", priority=True),
        Binding("ctrl+o", "choose_model", "Model"),
        Binding("ctrl+t", "toggle_reasoning", "Fold"),
        Binding("ctrl+y", "copy_answer", "Copy", priority=True),  # over the prompt's redo
        Binding("ctrl+n", "new_chat", "New chat"),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(self) -> None:
        super().__init__()
        self.conversation = Conversation(system_prompt=self.app.settings.system_prompt)
        self.model: str | None = None
        self.installed: list[InstalledModel] = []
        self.connected = False
        self.server_version: str | None = None
        self._flush_timer: Timer | None = None
        self._chat_worker: Worker[None] | None = None
        self._streaming_view: TurnView | None = None
        self._pacer = FramePacer()

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static("", id="status")
        with VerticalScroll(id="conversation"):
            yield Static(Content(WELCOME), id="welcome")
        yield PromptArea(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversation", VerticalScroll).anchor()
        self.query_one(PromptArea).focus()
        self._set_status(f"connecting to {self.app.backend.url} …", "dim")
        self.connect()

    # -- connection ------------------------------------------------------------

    @work(exclusive=True, group="connect")
    async def connect(self) -> None:
        """Reach the server, list its models and pick one; retry with backoff until it answers."""
        backend = self.app.backend
        delay = 1.0
        while True:
            try:
                self.server_version = await backend.version()
                self.installed = await backend.list_models()
                break
            except BackendError as error:
                self.connected = False
                self._set_status(f"✖ {error.message} — retrying in {delay:.0f} s (what you type is kept)", "$error")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
        self.connected = True
        if self.model is None:
            self.model = choose_start_model(self.installed, self.app.requested_model, self.app.last_model)
        self._show_connected()

    def _show_connected(self) -> None:
        names = {m.name for m in self.installed}
        self._update_title()
        version = f" (Ollama {self.server_version})" if self.server_version else ""
        if self.model is None:
            self._set_status(
                f"● connected to {self.app.backend.url}{version} — no model installed: "
                f"run `ollama pull {MODEL_FAMILY}:7b` (or `r1tui pull {MODEL_FAMILY}:7b`)", "$warning")
        elif self.model not in names:
            self._set_status(
                f"● connected to {self.app.backend.url}{version} — {self.model} is not installed: "
                f"pull it with `r1tui pull {self.model}`, or choose another with Ctrl+O", "$warning")
        else:
            self._set_status(f"● connected to {self.app.backend.url}{version} · {len(names)} models installed", "$success")

    def _update_title(self) -> None:
        demo = " · simulated server" if self.app.demo else ""
        self.app.sub_title = f"{self.model or 'no model'} @ {self.app.backend.url}{demo}"

    def _set_status(self, text: str, style: str) -> None:
        self.query_one("#status", Static).update(Content.styled(inert(text), style))

    # -- sending -----------------------------------------------------------------

    def on_prompt_area_submitted(self, event: PromptArea.Submitted) -> None:
        text = event.text.strip()
        if not text:
            return
        if self.conversation.streaming:
            self.notify("Still generating: press Esc to stop it first.", severity="warning")
            return
        if self.model is None:
            self.notify("No model chosen yet: press Ctrl+O (or wait for the server).", severity="warning")
            return
        if not self.connected:
            self.notify(f"Not connected to {self.app.backend.url} yet; your prompt is kept.", severity="warning")
            return
        event.prompt.clear()
        self.send(text)

    def send(self, text: str) -> None:
        for view in self.query(TurnView):
            view.set_folded(True)  # earlier turns keep their reasoning, folded
        welcome = self.query("#welcome")
        if welcome:
            welcome.remove()
        turn = self.conversation.start_turn(text, self.model or "")
        meter = TokenMeter(clock=self.app.clock)
        view = TurnView(turn, meter)
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.mount(view)
        conversation.anchor()
        self._streaming_view = view
        self._pacer = FramePacer()
        self._flush_timer = self.set_interval(self._pacer.slow_interval, self._flush)
        self._chat_worker = self.stream_turn(turn, view)
        self.app.remember_model(turn.model)

    async def _flush(self) -> None:
        view = self._streaming_view
        if view is not None and self._pacer.due(view.meter.live_rate()):
            await view.flush()

    @work(exclusive=True, group="chat")
    async def stream_turn(self, turn: Turn, view: TurnView) -> None:
        meter = view.meter
        settings = self.app.settings
        try:
            async for event in self.app.backend.chat(
                turn.model,
                self.conversation.messages_for_next(),
                options=settings.chat_options(),
                keep_alive=settings.keep_alive,
            ):
                if isinstance(event, StreamDelta):
                    meter.record(reasoning=bool(event.reasoning), answer=bool(event.answer))
                    turn.reasoning += event.reasoning
                    turn.answer += event.answer
                    view.add(inert(event.reasoning), inert(event.answer))
                elif isinstance(event, StreamDone):
                    meter.finish(event.stats)
                    turn.stats = event.stats
            turn.state = TurnState.DONE
        except asyncio.CancelledError:
            turn.state = TurnState.STOPPED
            raise
        except BackendError as error:
            turn.state = TurnState.FAILED
            turn.error = str(error)
            if error.kind in ("unreachable", "dropped"):
                self.connected = False
                self.connect()
        finally:
            await self._finish_turn(turn, view)

    async def _finish_turn(self, turn: Turn, view: TurnView) -> None:
        meter = view.meter
        if meter.finished_at is None:
            meter.finish(None)
        turn.think_seconds = meter.think_seconds
        turn.ttft_seconds = meter.ttft_seconds
        turn.reasoning_tokens = meter.reasoning_tokens
        turn.answer_tokens = meter.answer_tokens
        # Order matters: stopping the timer cancels a frame mid-flush, losing its text.
        # Detach the view first, let finish() wait for any frame in flight, then stop it.
        self._streaming_view = None
        await view.finish()
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    # -- actions -------------------------------------------------------------------

    def action_stop(self) -> None:
        """Cancel the stream; closing the HTTP response makes Ollama stop generating."""
        if self._chat_worker is not None and self._chat_worker.is_running:
            self._chat_worker.cancel()

    def action_new_chat(self) -> None:
        if self.conversation.streaming:
            self.notify("Stop the current answer first (Esc).", severity="warning")
            return
        self.conversation = Conversation(system_prompt=self.app.settings.system_prompt)
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.remove_children()
        conversation.mount(Static(Content(WELCOME), id="welcome"))
        self.query_one(PromptArea).focus()

    def action_toggle_reasoning(self) -> None:
        views = list(self.query(TurnView))
        if views:
            views[-1].set_folded(not views[-1].has_class("-folded"))

    def action_copy_answer(self) -> None:
        answered = [turn for turn in self.conversation.turns if turn.answer]
        if not answered:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(answered[-1].answer)
        self.notify(f"Copied the last answer ({len(answered[-1].answer)} characters) to the clipboard.")

    @work(group="models")
    async def action_choose_model(self) -> None:
        loaded: set[str] = set()
        try:
            self.installed = await self.app.backend.list_models()
            loaded = {m.name for m in await self.app.backend.ps()}
        except BackendError as error:
            self.notify(str(error), severity="error")
        choice = await self.app.push_screen_wait(ModelSelectScreen(self.installed, self.model, loaded))
        if choice and choice != self.model:
            self.model = choice
            self.app.remember_model(choice)
            self.notify(f"Next answers come from {choice}.")
            if self.connected:
                self._show_connected()
            self._update_title()
        self.query_one(PromptArea).focus()
