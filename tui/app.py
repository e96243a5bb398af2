"""The Textual application: holds the backend and settings, and shows the chat screen."""

from __future__ import annotations

import time
from typing import Callable

from textual.app import App

from tui import __version__
from tui.backend import OllamaBackend
from tui.config import Settings, read_state, remember
from tui.screens.chat import ChatScreen


class R1App(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "r1tui"

    def __init__(
        self,
        backend: OllamaBackend,
        settings: Settings | None = None,
        *,
        requested_model: str | None = None,
        demo: bool = False,
        clock: Callable[[], float] = time.monotonic,
        startup_messages: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.settings = settings or Settings()
        self.requested_model = requested_model or self.settings.model or None
        self.demo = demo
        self.clock = clock
        self.startup_messages = startup_messages or []
        self.last_model: str | None = read_state().get("last_model")
        self.title = f"r1tui {__version__}" + (" · DEMO" if demo else "")

    def on_mount(self) -> None:
        from tui.themes import choose_theme, register_themes

        loaded = register_themes(self)
        self.theme, missing = choose_theme(self.settings.theme, self.available_themes)
        problems = [*loaded.problems, *([missing] if missing else [])]
        self.push_screen(ChatScreen())
        for message in [*self.startup_messages, *problems]:
            self.notify(message, severity="warning", timeout=15)

    def remember_model(self, model: str) -> None:
        self.last_model = model
        remember(last_model=model)

    async def on_unmount(self) -> None:
        await self.backend.aclose()
