"""The chat screen: conversation, prompt, connection status; it only renders the core.

All server work runs in Textual workers on the event loop through the async
ollama client, so the screen never waits on the network. Stream chunks are
queued on the turn view and flushed at a bounded frame rate, so a model
streaming hundreds of tokens/s costs a few redraws a second, not one per token.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable, TypeVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from tui.core.backend import BackendError, InstalledModel, StreamDelta, StreamDone, is_local_host
from tui.core.conversation import Conversation, Turn, TurnState, turns_to_summarise
from tui.widgets.markdown_render import estimated_rows
from tui.core.metrics import FramePacer, TokenMeter
from tui.core.sanitize import inert
from tui.screens.model_select import ModelSelectScreen
from tui.widgets.hardware_panel import HardwarePanel
from tui.widgets.prompt import PromptArea
from tui.widgets.turn import TurnView, reasoning_dwarfs_answer

if TYPE_CHECKING:
    from tui.core.fit import Estimate
    from tui.core.hardware import HardwareSnapshot
    from tui.core.hosts import HostProfile

T = TypeVar("T")
RECONNECT_MAX_SECONDS = 10.0
PS_REFRESH_SECONDS = 5.0
SPEED_REFRESH_SECONDS = 0.5
LIVE_PANES_MIN_ROWS = 6
LIVE_TURN_CHROME_ROWS = 6  # margin, prompt, model label (with its margin), error and figures lines
SMALL_TERMINAL_ROWS = 30
PANEL_MIN_WIDTH = 140  # narrower: the panel becomes a short strip, so the chat keeps its width
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
  Ctrl+O switch model    Ctrl+T  fold reasoning  Ctrl+Y  copy last answer
  Ctrl+N new chat        F1      all keys        Ctrl+P  command palette
  F2 hardware panel  F3 model library  F4 compare  F5 history  F6 server  F7 settings
"""


class ConversationScroll(VerticalScroll):
    """The chat's scroller; says when its size changes (a terminal resize, the panel shown or hidden),
    so that a streaming turn's live panes can be sized to it again."""

    class Resized(Message):
        pass

    def on_resize(self, _: events.Resize) -> None:
        self.post_message(self.Resized())


class ChatScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "stop", "Stop", priority=True),
        Binding("ctrl+o", "choose_model", "Model"),
        Binding("ctrl+t", "toggle_reasoning", "Fold"),
        Binding("ctrl+y", "copy_answer", "Copy", priority=True, show=False),  # over the prompt's redo
        Binding("ctrl+n", "new_chat", "New chat"),
        # Priority: the prompt (a TextArea) binds F6 and F7 to selections of its own.
        Binding("f2", "toggle_panel", "Panel", priority=True),
        Binding("f3", "open_picker", "Models", priority=True),
        Binding("f4", "compare", "Compare", priority=True),
        Binding("f5", "history", "History", priority=True),
        # Shown in F1 and the command palette; the footer keeps room for the everyday keys.
        Binding("f6", "server", "Server", priority=True, show=False),
        Binding("f7", "settings", "Settings", priority=True, show=False),
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
        self._speed_timer: Timer | None = None
        self.conversation_id: int | None = None
        self._turn_id: int | None = None
        self._store_warned = False
        self._panel_choice: bool | None = None  # set once the user toggles the panel

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="body"):
            with Vertical(id="chat-column"):
                yield Static("", id="status")
                with ConversationScroll(id="conversation"):
                    yield Static(Content(WELCOME), id="welcome")
                yield PromptArea(id="prompt")
            yield HardwarePanel(id="hardware")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversation", VerticalScroll).anchor()
        self.query_one(PromptArea).focus()
        self._set_status(f"connecting to {self.app.backend.url} …", "dim")
        panel = self.query_one(HardwarePanel)
        panel.display = self.app.settings.show_panel
        url = self.app.backend.url
        panel.set_remote(None if is_local_host(url) else url)
        # Poll the sampler's latest snapshot on the loop: nothing crosses threads,
        # and the panel ignores a snapshot it has already shown.
        self.set_interval(self.app.settings.sample_interval, self._show_hardware)
        self.set_interval(PS_REFRESH_SECONDS, self.refresh_loaded)
        self.connect()

    def on_resize(self, event: events.Resize) -> None:
        panel = self.query_one(HardwarePanel)
        panel.compact = event.size.width < PANEL_MIN_WIDTH
        if self._panel_choice is None:
            # On a small terminal the chat needs the rows; F2 shows the panel anyway.
            panel.display = self.app.settings.show_panel and event.size.height >= SMALL_TERMINAL_ROWS

    def _show_hardware(self) -> None:
        sampler = self.app.sampler
        if sampler is not None and sampler.latest is not None:
            self.query_one(HardwarePanel).show_hardware(sampler.latest)

    @work(exclusive=True, group="ps")
    async def refresh_loaded(self) -> None:
        if not self.connected:
            return
        panel = self.query_one(HardwarePanel)
        try:
            panel.show_loaded(await self.app.backend.ps())
        except BackendError as error:
            panel.show_loaded([], self.app.redact(error.message))

    # -- connection ------------------------------------------------------------

    @work(exclusive=True, group="connect")
    async def connect(self) -> None:
        """Reach the server, list its models and pick one; retry with backoff until it answers."""
        backend = self.app.backend
        await self._maybe_start_server()
        delay = 1.0
        while True:
            try:
                self.server_version = await backend.version()
                self.installed = await backend.list_models()
                break
            except BackendError as error:
                self.connected = False
                hint = " · F6: server" if self.app.runtime is not None and self.app.runtime.binary else ""
                message = self.app.redact(error.message)
                for left in range(int(delay), 0, -1):  # count down, so the user sees it is alive
                    self._set_status(f"✖ {message} — retrying in {left} s (what you type is kept){hint}", "$error")
                    await asyncio.sleep(1)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
        self.connected = True
        if self.model is None:
            self.model = choose_start_model(self.installed, self.app.requested_model, self.app.last_model)
        self._show_connected()
        self.refresh_loaded()
        from tui.core.runtime import version_note

        if note := version_note(self.server_version):
            self.notify(note, timeout=15, markup=False)
        self.check_fit()

    async def _maybe_start_server(self) -> None:
        """Nothing answers at a local host: start `ollama serve`, offer to, or explain how to install it."""
        runtime = self.app.runtime
        if runtime is None:
            return
        from tui.core.runtime import RuntimeFailure, StartupPlan, plan_startup, probe

        headers = dict(self.app.backend.client._client.headers)
        reachable = await probe(runtime.url, headers=headers) is not None
        plan = plan_startup(reachable=reachable, url=runtime.url, binary=runtime.binary,
                            autostart=runtime.config.autostart)
        if plan is StartupPlan.START:
            self._set_status(f"starting `ollama serve` for {runtime.url} …", "$warning")
            try:
                await runtime.start()
            except RuntimeFailure as failure:
                details = "\n".join([str(failure), *failure.log_tail[-5:]])
                self.notify(inert(self.app.redact(details)), severity="error", timeout=20, markup=False)
        elif plan is StartupPlan.OFFER_START:
            self.notify(f"Nothing answers at {runtime.url}: press F6, then r, to start `ollama serve` "
                        "(or set runtime.autostart = true)", timeout=20, markup=False)
        elif plan is StartupPlan.INSTALL_HELP:
            # A notice, not a dialog: a dialog's letter keys would swallow what the user is typing.
            self.notify(f"Nothing answers at {runtime.url}, and no `ollama` is on PATH: "
                        "press F6 to see how to install Ollama.", severity="warning", timeout=20, markup=False)

    def _estimate(self, name: str, size: int | None, model_info: dict | None, snapshot: "HardwareSnapshot") -> "Estimate | None":
        """How `name` fits this machine now at the chat's context; None for tags outside the catalog."""
        from tui.core import catalog
        from tui.core.fit import estimate

        entry = catalog.find(name)
        if entry is None:
            return None
        entry = catalog.with_server_figures(entry, model_info, size)
        return estimate(entry, self.app.settings.num_ctx, gpu_free_bytes=[g.vram_free_bytes for g in snapshot.gpus],
                        ram_bytes=snapshot.memory.available_bytes)

    def _fit_verdicts(self) -> dict[str, str]:
        """Each installed catalog tag's fit on this machine's GPU now (local servers only)."""
        sampler = self.app.sampler
        if not self.app.backend.is_local or sampler is None or sampler.latest is None:
            return {}
        verdicts = {}
        for model in self.installed:
            fit = self._estimate(model.name, model.size, None, sampler.latest)
            if fit is not None:
                verdicts[model.name] = fit.label
        return verdicts

    @work(exclusive=True, group="fit")
    async def check_fit(self) -> None:
        """Before the first prompt: say so when the chosen model will only partly fit on this GPU."""
        model = self.model
        sampler = self.app.sampler
        if model is None or not self.app.backend.is_local or sampler is None:
            return
        snapshot = sampler.latest or await asyncio.to_thread(sampler.sample_once)  # off the loop: NVML
        try:
            details = await self.app.backend.show(model)
        except BackendError:
            return
        size = next((m.size for m in self.installed if m.name == model), None)
        fit = self._estimate(model, size, details.model_info, snapshot)
        if fit is None:
            return
        if fit.verdict == "partial":
            message = (f"{model} will only partly fit on this GPU at {self.app.settings.num_ctx} tokens of context: "
                       f"{fit.cpu_layer_share:.0%} of its layers run on the CPU, so answers will be much slower. "
                       "F3 lists models that fit.")
        elif fit.verdict == "cpu" and snapshot.gpus:
            message = f"{model} does not fit in free VRAM: it will run on the CPU, much slower. F3 lists models that fit."
        elif fit.verdict == "none":
            message = f"{model} needs about {fit.total_gib:.0f} GiB: more than this machine's free memory."
        else:
            return
        self.notify(message, severity="warning", timeout=20, markup=False)

    @work(exclusive=True, group="installed")
    async def refresh_installed(self) -> None:
        """A pull or delete changed what the server has: update the count and the quick list."""
        try:
            self.installed = await self.app.backend.list_models()
        except BackendError:
            return
        if self.connected:
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
        view.set_live_rows(self._live_rows())
        conversation.mount(view)
        conversation.anchor()
        self.call_later(self._summarise_old_turns)
        self._streaming_view = view
        self._pacer = FramePacer()
        self._flush_timer = self.set_interval(self._pacer.slow_interval, self._flush)
        panel = self.query_one(HardwarePanel)
        panel.show_speed(meter, streaming=True)
        self._speed_timer = self.set_interval(SPEED_REFRESH_SECONDS, lambda: panel.show_speed(meter, streaming=True))
        self._save_start(turn)
        self._chat_worker = self.stream_turn(turn, view)
        self.app.remember_model(turn.model)

    def _live_rows(self) -> int:
        """The streaming turn's panes fill the conversation's height, less the prompt and figure lines."""
        visible = self.query_one("#conversation", VerticalScroll).scrollable_content_region.height
        return max(LIVE_PANES_MIN_ROWS, visible - LIVE_TURN_CHROME_ROWS)

    def on_conversation_scroll_resized(self, _: "ConversationScroll.Resized") -> None:
        self._resize_live_panes()

    def _resize_live_panes(self) -> None:
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
        if view is not None and self._pacer.due(view.meter.live_rate()):
            reasoning, answer = view.pending_raw()
            self._save_append(reasoning, answer)
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
                    if meter.first_token_at is None:
                        self.refresh_loaded()  # the model is loaded now: show it in the panel
                    meter.record(reasoning=bool(event.reasoning), answer=bool(event.answer))
                    turn.reasoning += event.reasoning
                    turn.answer += event.answer
                    view.add(event.reasoning, event.answer)
                elif isinstance(event, StreamDone):
                    meter.finish(event.stats)
                    turn.stats = event.stats
            turn.state = TurnState.DONE
        except asyncio.CancelledError:
            turn.state = TurnState.STOPPED
            raise
        except BackendError as error:
            turn.state = TurnState.FAILED
            turn.error = self.app.redact(str(error))
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
        reasoning, answer = view.pending_raw()
        self._save_append(reasoning, answer)
        await view.finish()
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if self._speed_timer is not None:
            self._speed_timer.stop()
            self._speed_timer = None
        self.query_one(HardwarePanel).show_speed(meter, streaming=False)
        self._save_finish(turn)
        self.refresh_loaded()  # the first prompt loads the model: show it now, not in 5 s

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
        self.conversation_id = None
        conversation = self.query_one("#conversation", VerticalScroll)
        conversation.remove_children()
        conversation.mount(Static(Content(WELCOME), id="welcome"))
        self.query_one(PromptArea).focus()

    def action_toggle_reasoning(self) -> None:
        views = list(self.query(TurnView))
        if views:
            views[-1].set_folded(not views[-1].folded)

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
        verdicts = self._fit_verdicts()
        choice = await self.app.push_screen_wait(ModelSelectScreen(self.installed, self.model, loaded, verdicts))
        if choice:
            self._use_model(choice)
        self.query_one(PromptArea).focus()

    # -- history (saved as it streams) ---------------------------------------------

    def _store_call(self, call: Callable[[], T]) -> T | None:
        """Run a history write; on failure say so once and keep chatting without saving."""
        store = self.app.store
        if store is None:
            return None
        from tui.core.store import StoreError

        try:
            return call()
        except (StoreError, LookupError) as error:
            if not self._store_warned:
                self._store_warned = True
                self.notify(f"History not saved: {error}", severity="error", timeout=15, markup=False)
            return None

    def _save_start(self, turn: Turn) -> None:
        store = self.app.store
        if store is None:
            return
        if self.conversation_id is None:
            self.conversation_id = self._store_call(lambda: store.new_conversation(turn.model, self.conversation.system_prompt))
        conversation_id = self.conversation_id
        if conversation_id is not None:
            self._turn_id = self._store_call(
                lambda: store.start_turn(conversation_id, turn, self.app.settings.chat_options()))

    def _save_append(self, reasoning: str, answer: str) -> None:
        turn_id, store = self._turn_id, self.app.store
        if store is not None and turn_id is not None and (reasoning or answer):
            self._store_call(lambda: store.append(turn_id, reasoning, answer))

    def _save_finish(self, turn: Turn) -> None:
        turn_id, store = self._turn_id, self.app.store
        if store is not None and turn_id is not None:
            self._store_call(lambda: store.finish_turn(turn_id, turn))
        self._turn_id = None

    async def resume(self, conversation_id: int) -> None:
        """Show a saved conversation and continue it."""
        store = self.app.store
        if store is None:
            return
        conversation = self._store_call(lambda: store.load(conversation_id))
        if conversation is None:
            return
        self.conversation = conversation
        self.conversation_id = conversation_id
        scroll = self.query_one("#conversation", VerticalScroll)
        await scroll.remove_children()
        # Only the last turn is sure to be drawn: earlier ones only if they fit the budget.
        summarised = set(turns_to_summarise(conversation.turns, keep_last=1))
        last = len(conversation.turns) - 1
        visible = scroll.scrollable_content_region
        last_folded = False
        if conversation.turns:
            newest, pane_width = conversation.turns[-1], max(20, visible.width // 2 - 3)
            last_folded = reasoning_dwarfs_answer(newest, estimated_rows(newest.reasoning, pane_width),
                                                  estimated_rows(newest.answer, pane_width), visible.height)
        views = [TurnView(turn, TokenMeter(clock=self.app.clock), summarised=index in summarised,
                          folded=index < last or last_folded)
                 for index, turn in enumerate(conversation.turns)]
        await scroll.mount_all(views)
        if conversation.turns:
            self.model = conversation.turns[-1].model
            self._update_title()
        scroll.anchor()
        self.query_one(PromptArea).focus()

    # -- other screens ------------------------------------------------------------

    def _idle_or_warn(self) -> bool:
        if self.conversation.streaming:
            self.notify("Stop the current answer first (Esc).", severity="warning")
            return False
        return True

    def action_toggle_panel(self) -> None:
        panel = self.query_one(HardwarePanel)
        panel.display = not panel.display
        self._panel_choice = panel.display

    @work(group="models")
    async def action_open_picker(self) -> None:
        """The full library (fit, pulls, delete); Ctrl+O stays the quick list of installed tags."""
        from tui.screens.picker import ModelPickerScreen

        machine = await self.app.machine_figures()
        choice = await self.app.push_screen_wait(
            ModelPickerScreen(self.app.backend, self.app.pulls, machine, ctx=self.app.settings.num_ctx))
        try:
            self.installed = await self.app.backend.list_models()  # pulls and deletes change it
        except BackendError as error:
            self.notify(self.app.redact(str(error)), severity="error", markup=False)
        if choice:
            self._use_model(choice)
        elif self.connected:
            self._show_connected()
        self.query_one(PromptArea).focus()

    def _use_model(self, choice: str) -> None:
        if choice != self.model:
            self.model = choice
            self.app.remember_model(choice)
            self.notify(f"Next answers come from {choice}.", markup=False)
            self.check_fit()
        if self.connected:
            self._show_connected()
        self._update_title()

    def action_compare(self) -> None:
        """One prompt, several models side by side; Esc comes back to the chat."""
        from tui.screens.compare import CompareScreen

        if self._idle_or_warn():
            self.app.push_screen(CompareScreen(self.model))

    @work(group="history")
    async def action_history(self) -> None:
        if self.app.store is None:
            self.notify("History is off for this session (see the message at start).", severity="warning")
            return
        if not self._idle_or_warn():
            return
        from tui.screens.history import HistoryScreen

        result = await self.app.push_screen_wait(HistoryScreen(self.app.store, self.conversation_id))
        if result and result[0] == "resume":
            await self.resume(result[1])
        elif self.conversation_id is not None and self.app.store is not None:
            # The open conversation may have been deleted there: start a fresh one then.
            from tui.core.store import ConversationNotFound

            try:
                self.app.store.info(self.conversation_id)
            except ConversationNotFound:
                self.conversation_id = None

    def action_server(self) -> None:
        runtime = self.app.runtime
        if runtime is None:
            self.notify("This session talks to a simulated or remote server: nothing to manage here.", markup=False)
            return
        if runtime.binary is None:
            from tui.screens.install_help import InstallHelpScreen

            self.app.push_screen(InstallHelpScreen(), callback=lambda again: again and self.connect())
            return
        from tui.screens.runtime import RuntimeScreen

        self.app.push_screen(RuntimeScreen(runtime))

    def on_runtime_screen_restarted(self, _: object) -> None:
        self.connect()  # reconnect now instead of waiting out the backoff

    @work(group="settings")
    async def action_settings(self) -> None:
        from tui.screens.settings import SettingsScreen

        names = sorted(self.app.available_themes)
        new = await self.app.push_screen_wait(SettingsScreen(self.app.settings, self.app.config_path, names))
        if new is None:
            return
        old = self.app.settings
        self.app.settings = new
        if new.theme != old.theme and new.theme in self.app.available_themes:
            self.app.theme = new.theme
        self.query_one(HardwarePanel).display = new.show_panel
        self._panel_choice = new.show_panel
        self.conversation.system_prompt = new.system_prompt
        self.notify(f"Settings saved to {self.app.config_path}.", markup=False)
        if new.host != old.host or new.stall_timeout != old.stall_timeout:
            self.notify("The new host and stall timeout apply from the next start.", markup=False)

    @work(group="models")
    async def action_unload(self) -> None:
        if self.model is None:
            return
        try:
            await self.app.backend.unload(self.model)
        except BackendError as error:
            self.notify(self.app.redact(str(error)), severity="error", markup=False)
            return
        self.notify(f"Unloaded {self.model}: its memory is free.", markup=False)
        self.refresh_loaded()

    @work(group="models")
    async def action_preload(self) -> None:
        if self.model is None:
            return
        self.notify(f"Loading {self.model} …", markup=False)
        try:
            stats = await self.app.backend.load(self.model, keep_alive=self.app.settings.keep_alive)
        except BackendError as error:
            self.notify(self.app.redact(str(error)), severity="error", markup=False)
            return
        self.notify(f"{self.model} is loaded ({stats.load_seconds:.1f} s): the next answer starts at once.",
                    markup=False)
        self.refresh_loaded()

    async def switch_host(self, host: "HostProfile") -> None:
        """Talk to another configured server from now on."""
        from tui.core.backend import OllamaBackend
        from tui.core.runtime import ManagedRuntime, RuntimeConfig

        self.action_stop()
        old = self.app.backend
        self.app.backend = OllamaBackend(host.url, stall_timeout=self.app.settings.stall_timeout,
                                         headers=host.headers())
        self.app.runtime = ManagedRuntime(host.url, RuntimeConfig.from_settings(self.app.settings))
        self.app.runtimes.append(self.app.runtime)
        await old.aclose()
        self.connected = False
        self.model = None
        self.installed = []
        self.query_one(HardwarePanel).set_remote(None if is_local_host(host.url) else host.url)
        self._update_title()
        self.connect()
