"""The chat screen: conversation, prompt and status line. It renders what the core reports.

A turn streams through the one stream path (`tui.core.session.stream_turn`), which
also records it in history (`tui.core.recorder`); the connection, the chosen model
and the services belong to the app (`tui.app.R1App`), whose reactives this screen
watches. Stream chunks are queued on the turn view and flushed on a clock (FRAME_SECONDS),
whatever the token rate: a slow stream shows each token at once, a fast one looks as smooth,
and the work per frame does not grow with the rate (see benchmarks/PROFILE.md).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import Worker

from tui.core.backend import LoadedModel, is_local_host
from tui.core.conversation import Conversation, Turn, TurnState, turns_to_summarise
from tui.core.metrics import TokenMeter
from tui.core.recorder import HistoryRecorder
from tui.core.sanitize import inert
from tui.core.session import stream_turn
from tui.keymap import (CHAT_BINDINGS, FOCUSED_TURN_BINDINGS, PROMPT_BINDINGS, PROMPT_KEYS, SCROLL_BINDINGS,
                        SCROLL_KEYS, TEXTUAL_KEYS)
from tui.screens.chat_turns import TurnActions
from tui.widgets.backdrop import Backdrop, BackdropHorizontal, BackdropVertical
from tui.widgets.conversation import ConversationScroll, Welcome
from tui.widgets.hardware_panel import HardwarePanel
from tui.widgets.prompt import PromptArea
from tui.widgets.status_line import StatusLine
from tui.widgets.turn import TurnView

if TYPE_CHECKING:
    from tui.app import R1App

SPEED_REFRESH_SECONDS = 0.5
FRAME_SECONDS = 1 / 15  # how often streamed text goes to the screen: paced by time, not by tokens
LIVE_PANES_MIN_ROWS = 6
LIVE_TURN_CHROME_ROWS = 6  # margin, prompt, model label (with its margin), error and figures lines
SMALL_TERMINAL_ROWS = 30
PANEL_MIN_WIDTH = 140  # narrower: the panel becomes a short strip, so the chat keeps its width


class ChatScreen(TurnActions, Backdrop, Screen[None]):
    BINDINGS = [*CHAT_BINDINGS, *SCROLL_BINDINGS]
    HELP_BINDINGS = [*PROMPT_BINDINGS, *PROMPT_KEYS, *CHAT_BINDINGS, *SCROLL_BINDINGS, *FOCUSED_TURN_BINDINGS,
                     *SCROLL_KEYS, *TEXTUAL_KEYS]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    app: "R1App"

    def __init__(self) -> None:
        super().__init__()
        self.conversation = Conversation(system_prompt=self.app.settings.system_prompt)
        self.recorder = self._new_recorder()
        self._chat_worker: Worker[None] | None = None
        self._streaming_view: TurnView | None = None
        self._stream_timers: list[Timer] = []
        self._panel_choice: bool | None = None  # set once the user toggles the panel

    def _new_recorder(self, conversation_id: int | None = None) -> HistoryRecorder:
        report = lambda text: self.app.report(text, severity="warning")  # noqa: E731
        return HistoryRecorder(self.app.store, report, conversation_id=conversation_id,
                               system_prompt=self.conversation.system_prompt)

    @property
    def conversation_id(self) -> int | None:
        return self.recorder.conversation_id

    def compose(self) -> ComposeResult:
        # The bars, the status line, the prompt and the panel sit in blank holders of their own, so that a frame
        # that changes the conversation does not render them again (see `tui.widgets.backdrop`).
        with BackdropVertical(id="top-bar"):
            yield Header(show_clock=False)
        with BackdropHorizontal(id="body"):
            with BackdropVertical(id="chat-column"):
                with BackdropVertical(id="status-holder"):
                    yield StatusLine(id="status")
                with ConversationScroll(id="conversation"):
                    yield Welcome()
                with BackdropVertical(id="prompt-holder"):
                    yield PromptArea(id="prompt")
            with BackdropVertical(id="panel-holder"):
                yield HardwarePanel(id="hardware")
        with BackdropVertical(id="bottom-bar"):
            yield Footer()

    def on_mount(self) -> None:
        self.query_one(ConversationScroll).anchor()
        prompt = self.query_one(PromptArea)
        prompt.recall_source = lambda: [turn.prompt for turn in self.conversation.turns]
        prompt.focus()
        self.query_one(HardwarePanel).display = self.app.settings.show_panel
        # Poll the sampler's latest snapshot on the loop: nothing crosses threads,
        # and the panel ignores a snapshot it has already shown.
        self.set_interval(self.app.settings.sample_interval, self._show_hardware)
        self.watch(self.app, "status", self._update_title)
        self.watch(self.app, "model", self._update_title)
        self.watch(self.app, "loaded", self._show_loaded)
        self.watch(self.app, "engine_load", lambda _: self.query_one(HardwarePanel).show_engine(*self.app.engine_view()))

    def on_resize(self, event: events.Resize) -> None:
        panel = self.query_one(HardwarePanel)
        panel.compact = event.size.width < PANEL_MIN_WIDTH
        self.query_one("#panel-holder").set_class(panel.compact, "-compact")
        if self._panel_choice is None:
            # On a small terminal the chat needs the rows; F2 shows the panel anyway.
            panel.display = self.app.settings.show_panel and event.size.height >= SMALL_TERMINAL_ROWS

    def _show_hardware(self) -> None:
        sampler = self.app.sampler
        if sampler is not None and sampler.latest is not None:
            self.query_one(HardwarePanel).show_hardware(sampler.latest)

    def _show_loaded(self, loaded: tuple[LoadedModel, ...]) -> None:
        self.query_one(HardwarePanel).show_loaded(list(loaded))

    def _update_title(self, _: object = None) -> None:
        demo = " · simulated server, demo history" if self.app.demo else ""
        url = self.app.backend.url
        self.app.sub_title = inert(f"{self.app.model or 'no model'} @ {url}{demo}")
        self.query_one(HardwarePanel).set_remote(None if is_local_host(url) else url)

    # -- sending -----------------------------------------------------------------

    def on_prompt_area_submitted(self, event: PromptArea.Submitted) -> None:
        text = event.text.strip()
        if not text or not self.ready_to_send():
            return
        event.prompt.remove_sent(event.text)
        if self._fork_from is not None:
            self.run_worker(self.fork_at(self._fork_from, text), group="fork")
        else:
            self.send(text)

    def ready_to_send(self) -> bool:
        if self.conversation.streaming:
            self.notify("Still generating: press Esc to stop it first.", severity="warning")
        elif self.app.model is None:
            self.notify("No model chosen yet: press Ctrl+O (or wait for the server).", severity="warning")
        elif not self.app.connected:
            self.app.report(f"Not connected to {self.app.backend.url} yet; your prompt is kept.", severity="warning")
        else:
            return True
        return False

    def send(self, text: str) -> None:
        self.start_turn_view(self.conversation.start_turn(text, self.app.model or ""))

    def start_turn_view(self, turn: Turn, replacing: TurnView | None = None) -> None:
        """Show `turn` (new, or a new answer in place of `replacing`) and stream the model's reply into it."""
        for view in self.query(TurnView):
            view.set_folded(True)  # earlier turns keep their reasoning, folded
        welcome = self.query("#welcome")
        if welcome:
            welcome.remove()
        meter = TokenMeter(clock=self.app.clock)
        index = len(self.conversation.turns) - 1
        number, count = self.conversation.version_of(index)
        view = TurnView(turn, meter, version=(number, count) if count > 1 else None)
        conversation = self.query_one(ConversationScroll)
        view.set_live_rows(self._live_rows())
        if replacing is not None:
            conversation.mount(view, after=replacing)
            replacing.remove()
        else:
            conversation.mount(view)
        conversation.anchor()
        self.call_later(self._summarise_old_turns)
        self._streaming_view = view
        panel = self.query_one(HardwarePanel)
        panel.show_speed(meter, streaming=True)
        self._stream_timers = [self.set_interval(FRAME_SECONDS, self._flush),
                        self.set_interval(SPEED_REFRESH_SECONDS, lambda: self._show_speed(view, panel))]
        self._chat_worker = self.stream(turn, view)
        self.app.remember_model(turn.model)

    @staticmethod
    def _show_speed(view: TurnView, panel: HardwarePanel) -> None:
        """The turn's header and the panel read the think time at the same moment: they never disagree."""
        view.sample_think_time()
        view.meter.sample_rate()  # a sparkline point every tick, whether or not the panel is drawn
        panel.show_speed(view.meter, streaming=True)

    def _live_rows(self) -> int:
        """The streaming turn's panes fill the conversation's height, less the prompt and figure lines."""
        visible = self.query_one(ConversationScroll).scrollable_content_region.height
        return max(LIVE_PANES_MIN_ROWS, visible - LIVE_TURN_CHROME_ROWS)

    def on_conversation_scroll_resized(self, _: "ConversationScroll.Resized") -> None:
        view = self._streaming_view
        if view is not None and view.live_rows is not None:
            view.set_live_rows(self._live_rows())

    async def _summarise_old_turns(self) -> None:
        """Older turns past the drawing budget become one-line summaries (Enter shows one again)."""
        views = list(self.query(TurnView))
        for index in turns_to_summarise(self.conversation.turns):
            if index < len(views):
                await views[index].summarise()

    async def _flush(self) -> None:
        view = self._streaming_view
        if view is not None:
            await view.flush()

    @work(exclusive=True, group="chat")
    async def stream(self, turn: Turn, view: TurnView) -> None:
        settings = self.app.settings

        def on_delta(reasoning: str, answer: str) -> None:
            if view.meter.reasoning_tokens + view.meter.answer_tokens == 1:
                self.app.refresh_loaded()  # the model is loaded now: show it in the panel
            view.add(reasoning, answer)

        try:
            await stream_turn(self.app.backend, turn, self.conversation.messages_for_next(), meter=view.meter,
                              options=await self.request_options(turn), keep_alive=settings.keep_alive,
                              recording=self.recorder, on_delta=on_delta, redact=self.app.redact,
                              control=self.reasoning_control(view))
        finally:
            await self._show_finished(view)
            self.turn_ended(turn, view)
        if turn.state is TurnState.FAILED and turn.error_kind in ("unreachable", "dropped"):
            self.app.server_lost()

    async def _show_finished(self, view: TurnView) -> None:
        # Order matters: stopping the timer cancels a frame mid-flush, losing its text.
        # Detach the view first, let finish() wait for any frame in flight, then stop it.
        self._streaming_view = None
        await view.finish()
        for timer in self._stream_timers:
            timer.stop()
        self._stream_timers = []
        self.query_one(HardwarePanel).show_speed(view.meter, streaming=False)
        self.app.refresh_loaded()  # the first prompt loads the model: show it now, not in 5 s

    # -- actions -------------------------------------------------------------------

    def _idle_or_warn(self) -> bool:
        if self.conversation.streaming:
            self.notify("Stop the current answer first (Esc).", severity="warning")
            return False
        return True

    def action_stop(self) -> None:
        """Cancel the stream; closing the HTTP response makes Ollama stop generating. Idle: Esc ends an
        edit of an earlier prompt, or brings the focus back to the prompt."""
        if self._chat_worker is not None and self._chat_worker.is_running:
            self._chat_worker.cancel()
        elif not self.cancel_edit():
            self.query_one(PromptArea).focus()

    async def action_new_chat(self) -> None:
        if not self._idle_or_warn():
            return
        self.cancel_edit()
        self.conversation = Conversation(system_prompt=self.app.settings.system_prompt)
        self.recorder = self._new_recorder()
        self.reset_reasoning_setting()
        conversation = self.query_one(ConversationScroll)
        await conversation.remove_children()  # awaited: the new welcome reuses the old one's id
        await conversation.mount(Welcome())
        self.query_one(PromptArea).focus()

    def action_toggle_reasoning(self) -> None:
        views = list(self.query(TurnView))
        if views:
            views[-1].set_folded(not views[-1].folded)

    def action_toggle_panel(self) -> None:
        panel = self.query_one(HardwarePanel)
        panel.display = not panel.display
        self._panel_choice = panel.display

    def action_compare(self) -> None:
        """One prompt, several models side by side; Esc comes back to the chat."""
        from tui.screens.compare import CompareScreen

        if self._idle_or_warn():
            self.app.push_screen(CompareScreen(self.app.model))

    @work(group="history")
    async def action_history(self) -> None:
        store = self.app.store
        if store is None:
            self.notify("History is off for this session (see the message at start).", severity="warning")
            return
        if not self._idle_or_warn():
            return
        from tui.core.store import ConversationNotFound
        from tui.screens.history import HistoryScreen

        result = await self.app.push_screen_wait(HistoryScreen(store, self.conversation_id))
        if result and result[0] == "resume":
            await self.resume(result[1])
        elif self.conversation_id is not None:
            try:  # the open conversation may have been deleted there: start a fresh one then
                await asyncio.to_thread(store.info, self.conversation_id)
            except ConversationNotFound:
                self.recorder = self._new_recorder()

    def action_server(self) -> None:
        """The server: what is known of it, its log and restart when r1tui can manage it."""
        runtime = self.app.runtime
        if runtime is None or not self.app.backend.manages_models:  # the demo, or an engine r1tui cannot start
            self.app.report(self.app.server_note(), severity="information", timeout=20)
            return
        if runtime.binary is None and not self.app.connected:
            from tui.screens.install_help import InstallHelpScreen

            self.app.push_screen(InstallHelpScreen(), callback=lambda again: again and self.app.connect())
            return
        from tui.screens.runtime import RuntimeScreen

        self.app.push_screen(RuntimeScreen(runtime, on_restarted=self.app.connect, loaded=lambda: self.app.loaded))

    @work(group="settings")
    async def action_settings(self) -> None:
        from tui.screens.settings import SettingsScreen

        app = self.app
        new = await app.push_screen_wait(SettingsScreen(app.settings, app.config_path, sorted(app.available_themes)))
        if new is None:
            return
        app.apply_settings(new)
        self.query_one(HardwarePanel).display = new.show_panel
        self._panel_choice = new.show_panel
        self.conversation.system_prompt = new.system_prompt
        self.recorder.system_prompt = new.system_prompt

    # -- history -------------------------------------------------------------------------

    async def resume(self, conversation_id: int) -> None:
        """Show a saved conversation and continue it."""
        store = self.app.store
        if store is None:
            return
        from tui.core.store import StoreError

        try:
            conversation = await asyncio.to_thread(store.load, conversation_id)
        except (StoreError, LookupError) as error:
            self.app.report(f"Could not open that conversation: {error}")
            return
        self.cancel_edit()
        self.conversation = conversation
        self.recorder = self._new_recorder(conversation_id)
        await self.query_one(ConversationScroll).show_saved(conversation, self.app.clock)
        if conversation.turns:
            self.app.model = conversation.turns[-1].model
        self.query_one(PromptArea).focus()
