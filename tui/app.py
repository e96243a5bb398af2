"""The Textual application: owns the long-lived parts (backend, settings, history, pulls,
hardware sampler, managed server) and shows the chat screen. Screens only render them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui import __version__
from tui.core.backend import OllamaBackend
from tui.core.config import Settings, default_config_path, read_state, remember
from tui.core.pulls import Pull, PullManager, PullState
from tui.core.sanitize import inert
from tui.screens.chat import ChatScreen

if TYPE_CHECKING:
    from tui.core.hardware import HardwareSampler
    from tui.core.runtime import ManagedRuntime
    from tui.screens.picker import MachineFigures
    from tui.core.store import HistoryStore


class R1App(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "r1tui"
    BINDINGS = [Binding("f1", "toggle_help", "Help")]

    def __init__(
        self,
        backend: OllamaBackend,
        settings: Settings | None = None,
        *,
        requested_model: str | None = None,
        demo: bool = False,
        clock: Callable[[], float] = time.monotonic,
        startup_messages: list[str] | None = None,
        runtime: "ManagedRuntime | None" = None,
        config_path: Path | None = None,
        nvml: Any = None,
        history: bool = True,
    ) -> None:
        super().__init__()
        self.backend = backend
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
        self._nvml = nvml
        self._history_enabled = history
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
        self.push_screen(ChatScreen())
        for message in problems:
            self.notify(inert(message), severity="warning", timeout=15, markup=False)

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
            self.store = HistoryStore()
        except StoreError as error:
            return [f"History is off for this session: {error}"]
        return []

    async def on_unmount(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        await self.pulls.aclose()
        if self.store is not None:
            self.store.close()
        await self.backend.aclose()

    # -- shared services ---------------------------------------------------------

    def remember_model(self, model: str) -> None:
        self.last_model = model
        remember(last_model=model)

    def redact(self, text: str) -> str:
        """Error text may echo a bearer token (a proxy's 401 page): never show or save it."""
        from tui.core.hosts import redact, secrets

        return redact(text, secrets(self.settings.hosts.values()))

    def _pull_changed(self, pull: Pull) -> None:
        """Pulls outlive the picker: say when one ends, whichever screen is showing."""
        if pull.state is PullState.DONE:
            self.notify(inert(pull.summary()), markup=False)
            self.chat.refresh_installed()
        elif pull.state is PullState.FAILED:
            self.notify(inert(pull.summary()), severity="error", markup=False, timeout=15)

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

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, ChatScreen):
            return
        for title, help_text, action in (
            ("Choose model", "Quick list of installed models (Ctrl+O)", screen.action_choose_model),
            ("Model library", "Every deepseek-r1 tag with GPU fit, pull and delete (F3)", screen.action_open_picker),
            ("Compare models", "One prompt, several models side by side (F4)", screen.action_compare),
            ("History", "Search, resume, rename, export or delete saved chats (F5)", screen.action_history),
            ("Server", "Ollama server: version, log, restart (F6)", screen.action_server),
            ("Settings", "Edit and save config.toml (F7)", screen.action_settings),
            ("Toggle hardware panel", "VRAM, GPU, CPU, RAM and tokens/s (F2)", screen.action_toggle_panel),
            ("Unload model", "Free the current model's memory now (keep_alive 0)", screen.action_unload),
            ("Preload model", "Load the current model so the next answer starts at once", screen.action_preload),
            ("New chat", "Start an empty conversation (Ctrl+N)", screen.action_new_chat),
            ("Copy answer", "Copy the last answer to the clipboard (Ctrl+Y)", screen.action_copy_answer),
        ):
            yield SystemCommand(title, help_text, action)
        for name, host in self.settings.hosts.items():
            yield SystemCommand(f"Switch host: {name}", host.url, lambda host=host: screen.switch_host(host))
