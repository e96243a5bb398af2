"""The Textual application: owns the long-lived parts (backend, settings, history, pulls,
hardware sampler, managed server), the connection to the server and the chosen model,
and shows the chat screen. Screens reach these through `R1App` and only render them.

Connection state and the model are reactives: the chat's status line, title and
panel follow them through watchers instead of being refreshed by hand.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.reactive import reactive
from textual.screen import Screen

from tui import __version__
from tui.core.backend import BackendError, LoadedModel
from tui.core.engine_metrics import EngineLoad
from tui.core.engines import AUTO, Backend, detect_engine, make_backend_async
from tui.core.config import Settings, default_config_path, read_state, remember
from tui.core.connection import ServerState, choose_start_model, reach, status_line
from tui.core.pulls import Pull, PullManager, PullState
from tui.core.sanitize import inert
from tui.keymap import APP_BINDINGS
from tui.screens.chat import ChatScreen

if TYPE_CHECKING:
    from tui.core.hardware import HardwareSampler
    from tui.core.hosts import HostProfile
    from tui.core.runtime import ManagedRuntime
    from tui.core.store import HistoryStore
    from tui.screens.picker import MachineFigures

# The Markdown renderer's modules are imported and the code lexers built this long after start-up:
# after the first frame and the first calls to the server.
WARM_AFTER_SECONDS = 1.0


class R1App(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "r1tui"
    BINDINGS = APP_BINDINGS

    model: reactive[str | None] = reactive(None, init=False)
    """The model the next prompt goes to."""
    connected: reactive[bool] = reactive(False, init=False)
    """The server answered its version and model list, and nothing has failed since."""
    status: reactive[tuple[str, str]] = reactive(("", "dim"), init=False)
    """The chat's status line: (text, level), level one of dim, success, warning, error."""
    # Polled every few seconds: the watchers draw what changed. Without repaint=False each poll
    # repainted the whole screen (a reactive of the App refreshes the App), idle or streaming.
    loaded: reactive[tuple[LoadedModel, ...]] = reactive((), init=False, always_update=True, repaint=False)
    """What the server has in memory (`/api/ps`), for the panel."""
    engine_load: reactive[EngineLoad | None] = reactive(None, init=False, always_update=True, repaint=False)
    """vLLM/SGLang/llama.cpp: the engine's own load from its /metrics (None on Ollama)."""

    def __init__(
        self,
        backend: Backend,
        settings: Settings | None = None,
        *,
        engine: str = AUTO,
        extra_hosts: "dict[str, HostProfile] | None" = None,
        requested_model: str | None = None,
        demo: bool = False,
        clock: Callable[[], float] = time.monotonic,
        startup_messages: list[str] | None = None,
        runtime: "ManagedRuntime | None" = None,
        config_path: Path | None = None,
        nvml: Any = None,
        history: bool = True,
        history_path: Path | None = None,
    ) -> None:
        super().__init__()
        from tui.terminal_keys import install

        install()  # Alt+Enter arrives as ESC CR: read it as alt+enter, not Enter
        self.backend = backend
        self.engine_choice = engine  # "auto": detected at each connect
        self.extra_hosts = dict(extra_hosts or {})  # --demo's simulated hosts: usable, never saved
        self._load_reader: Any = None
        self.settings = settings or Settings()
        self.config_path = config_path or default_config_path()
        self.requested_model = requested_model or self.settings.model or None
        self.demo = demo
        self.clock = clock
        self.startup_messages = startup_messages or []
        self.runtime = runtime
        self.runtimes: list[ManagedRuntime] = [runtime] if runtime is not None else []
        self.pulls = PullManager(self.backend, self._pull_changed)
        self.sampler: HardwareSampler | None = None
        self.store: HistoryStore | None = None
        self.server = ServerState(backend.url)
        self._nvml = nvml
        self._history_enabled = history
        self._history_path = history_path
        self.last_model: str | None = read_state().get("last_model")
        self.title = f"r1tui {__version__}" + (" · DEMO" if demo else "")

    def on_mount(self) -> None:
        from tui.core.hardware import HardwareSampler
        from tui.themes import choose_theme, register_themes

        loaded = register_themes(self)
        wanted = self.settings.theme
        if wanted == Settings().theme:  # not set in the config: the last theme picked in the app
            wanted = read_state().get("theme") or wanted
        self.theme, missing = choose_theme(wanted, self.available_themes)
        self._theme_ready = True
        problems = [*self.startup_messages, *loaded.problems, *([missing] if missing else [])]
        problems.extend(self._open_history())
        self.sampler = HardwareSampler(interval=self.settings.sample_interval, nvml=self._nvml).start()
        self.model = self.requested_model  # --model counts even before the server answers
        self.push_screen(ChatScreen())
        for message in problems:
            self.report(message, severity="warning")
        self.set_interval(5.0, self.refresh_loaded)
        self.set_interval(2.0, self.refresh_engine_load)
        self.call_after_refresh(self.connect)  # the first frame first: connecting starts with an import
        self.set_timer(WARM_AFTER_SECONDS, self._warm_code_highlighting)

    def _warm_code_highlighting(self) -> None:
        """The Markdown renderer's modules imported and the code lexers built in a thread while the app
        is idle, not on the event loop at the first answer or code block."""
        from tui.widgets.markdown_elements import warm_lexers

        self.run_worker(warm_lexers, thread=True, group="warm", exit_on_error=False)

    _theme_ready = False

    def watch_theme(self, theme: str) -> None:
        """A theme picked in the command palette sticks (config.toml's ui.theme still wins)."""
        if self._theme_ready:
            remember(theme=theme)

    def _open_history(self) -> list[str]:
        if not self._history_enabled:
            return []
        from tui.core.store import HistoryStore, StoreError

        try:
            self.store = HistoryStore(self._history_path)
        except StoreError as error:
            return [f"History is off for this session: {error}"]
        return []

    async def on_unmount(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        chats = [screen for screen in self.screen_stack if isinstance(screen, ChatScreen)]
        for chat in chats:  # a turn's final write may still be waiting for a locked history file
            try:
                await asyncio.wait_for(chat.recorder.saved(), timeout=10)
            except asyncio.TimeoutError:
                pass
            chat.recorder.close()
        await self.pulls.aclose()
        if self.store is not None:
            self.store.close()
        await self.backend.aclose()

    # -- telling the user ----------------------------------------------------------------

    def redact(self, text: str) -> str:
        """Error text may echo a bearer token (a proxy's 401 page): never show or save it."""
        from tui.core.hosts import redact, secrets

        return redact(text, [*secrets(self.settings.hosts.values()), *self.backend.secrets])

    def report(self, problem: BaseException | str, *, severity: str = "error", timeout: float = 15) -> None:
        """The one way a message reaches the screen: tokens redacted, control characters made
        visible, never parsed as markup (a server's error text is untrusted)."""
        self.notify(inert(self.redact(str(problem))), severity=severity, timeout=timeout,  # type: ignore[arg-type]
                    markup=False)

    # -- the server ----------------------------------------------------------------------

    def _say(self, text: str, level: str) -> None:
        self.status = (inert(self.redact(text)), level)

    @work(exclusive=True, group="connect")
    async def connect(self) -> None:
        """Reach the server, list its models and pick one; retry with backoff until it answers."""
        self.connected = False
        self._say(f"connecting to {self.backend.url} …", "dim")
        # The client libraries imported and the clients made in a thread: on the event loop, that froze the screen.
        try:
            await asyncio.to_thread(self.backend.prepare)
        except BackendError as error:  # e.g. certificates that cannot be loaded: no retry mends that
            self._say(f"✖ {error}", "error")  # its message and the way to mend it
            return
        await self._maybe_start_server()
        hint = " · F6: server" if self.runtime is not None and self.runtime.binary else ""

        def waiting(error: BackendError, left: int) -> None:
            self._say(f"✖ {error.message} — retrying in {left} s (what you type is kept){hint}", "error")

        detect = self._detected_backend if self.engine_choice == AUTO else None
        self.server, backend = await reach(self.backend, waiting, detect=detect)
        self._use_backend(backend)
        if self.model is None:
            self.model = choose_start_model(self.server.installed, self.requested_model, self.last_model)
        self.connected = True
        self.engine_load = None  # the panel shows (or hides) the engine section at once
        self.refresh_engine_load()
        self._show_connected()
        self.refresh_loaded()
        from tui.core.runtime import version_note

        if note := version_note(self.server.version):
            self.report(note, severity="information", timeout=15)
        self.check_fit()

    async def _detected_backend(self) -> Backend:
        """The backend for whichever engine answers at the host now (a host may move from Ollama to vLLM)."""
        info = await detect_engine(self.backend.url, self.backend.headers or None)
        if info.engine == self.backend.engine:
            return self.backend
        return await make_backend_async(self.backend.url, info.engine, headers=self.backend.headers or None,
                                        stall_timeout=self.settings.stall_timeout)

    def _use_backend(self, backend: Backend) -> None:
        """Talk through `backend` from now on; the one it replaces is closed in the background."""
        if backend is self.backend:
            return
        old, self.backend = self.backend, backend
        self.pulls = PullManager(self.backend, self._pull_changed)
        self._load_reader = None
        self.engine_load = None
        self.run_worker(old.aclose(), group="close-backend")

    def _show_connected(self) -> None:
        self._say(*status_line(self.server, self.model))

    async def _maybe_start_server(self) -> None:
        """Nothing answers at a local host: start `ollama serve`, offer to, or explain how to install it."""
        runtime = self.runtime
        if runtime is None or self.engine_choice not in (AUTO, "ollama"):
            return  # r1tui starts `ollama serve` only; other engines are launched by their users
        from tui.core.runtime import RuntimeFailure, StartupPlan, plan_startup, probe

        reachable = await probe(runtime.url, headers=self.backend.headers) is not None
        if not reachable and self.engine_choice == AUTO:
            try:  # no Ollama there, but is it another engine (vLLM, SGLang, llama.cpp)? Then nothing to start.
                await detect_engine(runtime.url, self.backend.headers or None, timeout=2.0)
                return
            except BackendError:
                pass
        plan = plan_startup(reachable=reachable, url=runtime.url, binary=runtime.binary,
                            autostart=runtime.config.autostart)
        if plan is StartupPlan.START:
            self._say(f"starting `ollama serve` for {runtime.url} …", "warning")
            try:
                await runtime.start()
            except RuntimeFailure as failure:
                self.report("\n".join([str(failure), *failure.log_tail[-5:]]), timeout=20)
        elif plan is StartupPlan.OFFER_START:
            self.report(f"Nothing answers at {runtime.url}: press F6, then r, to start `ollama serve` "
                        "(or set runtime.autostart = true)", severity="information", timeout=20)
        elif plan is StartupPlan.INSTALL_HELP:
            # A notice, not a dialog: a dialog's letter keys would swallow what the user is typing.
            self.report(f"Nothing answers at {runtime.url}, and no `ollama` is on PATH: "
                        "press F6 to see how to install Ollama.", severity="warning", timeout=20)

    def server_lost(self) -> None:
        """A stream found the server gone: show it and reconnect."""
        self.connected = False
        self.connect()

    @work(exclusive=True, group="ps")
    async def refresh_loaded(self) -> None:
        """What the server has in memory, for the panel (also right after a turn loads a model)."""
        if not self.connected:
            return
        try:
            self.loaded = tuple(await self.backend.ps())
        except BackendError:
            self.loaded = ()

    @work(exclusive=True, group="engine-load")
    async def refresh_engine_load(self) -> None:
        """vLLM, SGLang, llama.cpp: requests, KV-cache use and tokens/s from the engine's /metrics."""
        reader_for = getattr(self.backend, "load_reader", None)
        if not self.connected or reader_for is None:
            return
        if self._load_reader is None:
            self._load_reader = reader_for()
        self.engine_load = await self._load_reader.read()

    async def reload_installed(self) -> None:
        """Ask the server what it has installed now (raises BackendError)."""
        self.server = replace(self.server, installed=await self.backend.list_models())
        if self.connected:
            self._show_connected()

    @work(exclusive=True, group="installed")
    async def refresh_installed(self) -> None:
        """A pull or delete changed what the server has: update the count and the quick list."""
        try:
            await self.reload_installed()
        except BackendError:
            return

    # -- the model -------------------------------------------------------------------------

    def use_model(self, choice: str) -> None:
        """The next answers come from `choice`."""
        if choice != self.model:
            self.model = choice
            self.remember_model(choice)
            self.report(f"Next answers come from {choice}.", severity="information", timeout=5)
            self.check_fit()
        if self.connected:
            self._show_connected()

    def remember_model(self, model: str) -> None:
        self.last_model = model
        remember(last_model=model)

    async def hardware_now(self) -> "Any":
        """The latest hardware snapshot, sampled off the event loop if there is none yet."""
        sampler = self.sampler
        if sampler is None:
            return None
        return sampler.latest or await asyncio.to_thread(sampler.sample_once)

    def fit_verdicts(self) -> dict[str, str]:
        """Each installed catalog tag's fit on this machine's GPU now (local servers only)."""
        from tui.core.fit_advice import fit_verdicts

        sampler = self.sampler
        if not self.backend.is_local or sampler is None or sampler.latest is None:
            return {}
        return fit_verdicts(self.server.installed, sampler.latest, self.settings.context_for_estimates, self.loaded)

    @work(exclusive=True, group="fit")
    async def check_fit(self) -> None:
        """Before the first prompt: say so when the chosen model will only partly fit on this GPU."""
        from tui.core.fit_advice import estimate_installed, first_prompt_warning

        model = self.model
        if model is None or not self.backend.is_local or self.sampler is None:
            return
        snapshot = await self.hardware_now()
        try:
            details = await self.backend.show(model)
        except BackendError:
            return
        size = next((m.size for m in self.server.installed if m.name == model), None)
        ctx = self.settings.context_for_estimates
        fit = estimate_installed(model, size, details.model_info, snapshot, ctx, self.loaded)
        message = fit and first_prompt_warning(model, fit, ctx, bool(snapshot.gpus))
        if message:
            self.report(message, severity="warning", timeout=20)

    @work(group="models")
    async def action_choose_model(self) -> None:
        """Ctrl+O: the quick list of installed tags, with their fit and whether loaded."""
        from tui.screens.model_select import ModelSelectScreen

        from tui.core.host_models import models_on_hosts

        loaded: set[str] = set()
        others = asyncio.ensure_future(models_on_hosts(self.hosts.values(), exclude_url=self.backend.url))
        try:
            await self.reload_installed()
            self.loaded = tuple(await self.backend.ps())  # fit verdicts count a loaded model's own VRAM
            loaded = {m.name for m in self.loaded}
        except BackendError as error:
            self.report(error)
        choice = await self.push_screen_wait(
            ModelSelectScreen(self.server.installed, self.model, loaded, self.fit_verdicts(),
                              other_hosts=await others, here=self._here_label()))
        if isinstance(choice, tuple):
            host_name, model = choice
            await self.switch_host(self.hosts[host_name], model)
        elif choice:
            self.use_model(choice)

    @property
    def hosts(self) -> "dict[str, HostProfile]":
        """Every host r1tui can switch to: the configured `[hosts.NAME]`, then --demo's simulated ones."""
        return {**self.settings.hosts, **self.extra_hosts}

    def server_note(self) -> str:
        """F6 where there is no `ollama serve` to manage: what is known of the server instead."""
        from tui.core.engines import engine_label

        if self.backend.manages_models:
            return "This session talks to a simulated server: nothing to manage here."
        label = engine_label(self.backend.engine)
        served = ", ".join(m.name for m in self.server.installed) or "nothing yet"
        return (f"{label} {self.server.version or ''} at {self.backend.url} serves {served}. r1tui starts and "
                f"restarts only Ollama: {label} runs under its own launcher, and its log is there; "
                "its load is in the panel (F2).")

    def engine_view(self) -> tuple[str, str, EngineLoad | None]:
        """(engine label, version, load) for the panel; an empty label on Ollama, whose panel is unchanged."""
        from tui.core.engines import engine_label

        if self.server.engine == "ollama":
            return "", "", None
        return engine_label(self.server.engine), self.server.version or "", self.engine_load

    def _here_label(self) -> str:
        from tui.core.engines import engine_label
        from tui.core.hosts import profile_for_url

        profile = profile_for_url(self.backend.url, self.hosts)
        name = profile.name if profile is not None else self.backend.url
        return f"{name} ({engine_label(self.server.engine)})"

    @work(group="models")
    async def action_open_picker(self) -> None:
        """F3: the full library (fit, pulls, delete); Ctrl+O stays the quick list of installed tags."""
        from tui.screens.picker import ModelPickerScreen

        if not self.backend.manages_models:
            from tui.core.engines import engine_label

            self.report(f"{engine_label(self.backend.engine)} serves the model it was started with: there is "
                        "nothing to pull or delete there. Ctrl+O lists what it and your other hosts serve; "
                        "`r1tui recommend --engine vllm` says which distill your GPUs can serve.",
                        severity="information", timeout=20)
            return
        machine = await self.machine_figures()
        choice = await self.push_screen_wait(
            ModelPickerScreen(self.backend, self.pulls, machine, ctx=self.settings.context_for_estimates))
        self.refresh_installed()  # pulls and deletes change it
        if choice:
            self.use_model(choice)

    @work(group="models")
    async def action_unload(self) -> None:
        """Free the current model's memory now (keep_alive 0)."""
        if self.model is None:
            return
        try:
            await self.backend.unload(self.model)
        except BackendError as error:
            self.report(error)
            return
        self.report(f"Unloaded {self.model}: its memory is free.", severity="information")
        self.refresh_loaded()

    @work(group="models")
    async def action_preload(self) -> None:
        """Load the current model so the next answer starts at once."""
        if self.model is None:
            return
        self.report(f"Loading {self.model} …", severity="information")
        try:
            stats = await self.backend.load(self.model, keep_alive=self.settings.keep_alive)
        except BackendError as error:
            self.report(error)
            return
        self.report(f"{self.model} is loaded ({stats.load_seconds:.1f} s): the next answer starts at once.",
                    severity="information")
        self.refresh_loaded()

    # -- hosts and settings ------------------------------------------------------------------

    async def switch_host(self, host: "HostProfile", model: str | None = None) -> None:
        """Talk to another configured server from now on (the open chat stops first), on `model` if given."""
        from tui.core.runtime import ManagedRuntime, RuntimeConfig

        self.chat.action_stop()
        old = self.backend
        headers = host.headers()
        self.engine_choice = host.engine
        self.backend = await make_backend_async(host.url, "ollama" if host.engine == AUTO else host.engine,
                                                stall_timeout=self.settings.stall_timeout, headers=headers)
        self.pulls = PullManager(self.backend, self._pull_changed)
        self._load_reader = None
        self.engine_load = None
        if self.demo:  # the simulated hosts: nothing to start or restart
            self.runtime = None
        else:
            self.runtime = ManagedRuntime(host.url, RuntimeConfig.from_settings(self.settings), headers=headers)
            self.runtimes.append(self.runtime)
        await old.aclose()
        self.clear_notifications()  # "Nothing answers at the old host" no longer applies
        self.server = ServerState(self.backend.url)
        self.loaded = ()
        self.model = model
        self.connect()

    @work(group="fleet")
    async def action_open_fleet(self) -> None:
        """F8: every configured host and this one; Enter there opens the chat on that host (and model)."""
        from tui.core.fleet import fleet_hosts
        from tui.screens.fleet import FleetScreen

        hosts = fleet_hosts(self.settings.hosts, self.backend.url)
        choice = await self.push_screen_wait(FleetScreen(hosts, current_url=self.backend.url, nvml=self._nvml))
        if choice is None:
            return
        from tui.core.backend import normalize_host

        if normalize_host(choice.host.url) != normalize_host(self.backend.url):
            await self.switch_host(choice.host)
        if choice.model:
            self.use_model(choice.model)

    def apply_settings(self, new: Settings) -> None:
        """Settings saved from F7: what can change now does; the host and stall timeout at the next start."""
        old, self.settings = self.settings, new
        if new.theme != old.theme and new.theme in self.available_themes:
            self.theme = new.theme
        self.report(f"Settings saved to {self.config_path}.", severity="information")
        if new.host != old.host or new.stall_timeout != old.stall_timeout:
            self.report("The new host and stall timeout apply from the next start.", severity="information")

    def _pull_changed(self, pull: Pull) -> None:
        """Pulls outlive the picker: say when one ends, whichever screen is showing."""
        if pull.state is PullState.DONE:
            self.report(pull.summary(), severity="information")
            self.refresh_installed()
        elif pull.state is PullState.FAILED:
            self.report(pull.summary())

    async def machine_figures(self) -> "MachineFigures":
        """GPU and RAM figures for the picker, read off the event loop."""
        import psutil

        from tui.core.hardware import read_gpus
        from tui.screens.picker import MachineFigures

        latest = self.sampler.latest if self.sampler is not None else None
        if latest is not None:
            return MachineFigures(tuple(latest.gpus), latest.gpu_error, int(latest.memory.available_bytes))
        gpus, error = await asyncio.to_thread(read_gpus, self._nvml)
        ram = await asyncio.to_thread(lambda: psutil.virtual_memory().available)
        return MachineFigures(tuple(gpus), error, int(ram))

    @property
    def chat(self) -> ChatScreen:
        return next(screen for screen in self.screen_stack if isinstance(screen, ChatScreen))

    # -- help and the command palette ----------------------------------------------

    def action_toggle_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        screen = self.screen
        from tui.keymap import TEXTUAL_KEYS

        keys = getattr(screen, "HELP_BINDINGS", [*screen.BINDINGS, *TEXTUAL_KEYS])
        self.push_screen(HelpScreen([*keys, *APP_BINDINGS]))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: Textual's own commands, every documented key of the chat, and what has no key."""
        from tui.keymap import CHAT_BINDINGS, documented, key_label

        yield from super().get_system_commands(screen)
        if not isinstance(screen, ChatScreen):
            return
        for binding in documented(CHAT_BINDINGS):
            if binding.action == "stop" or "(" in binding.action:
                continue  # Esc, and keys that take a step (the previous / next turn or answer)
            owner, _, name = binding.action.rpartition(".")
            action = getattr(self if owner == "app" else screen, f"action_{name}")
            title = binding.tooltip.split(":")[0].split(" (")[0]
            yield SystemCommand(title[0].upper() + title[1:], f"{binding.tooltip} ({key_label(binding.key)})", action)
        yield SystemCommand("Unload model", "Free the current model's memory now (keep_alive 0)", self.action_unload)
        yield SystemCommand("Preload model", "Load the current model so the next answer starts at once",
                            self.action_preload)
        for name, host in self.settings.hosts.items():
            yield SystemCommand(f"Switch host: {name}", host.url, lambda host=host: self.switch_host(host))
