"""Reaching a server: retry with backoff, pick the model to open on, and say where things stand.

UI-free so that the TUI's status line and the headless commands word a server's
state the same way; the app runs `reach` in a worker and shows what it reports.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

from tui.core.backend import BackendError, InstalledModel, OllamaBackend

__all__ = ["MODEL_FAMILY", "RECONNECT_MAX_SECONDS", "ServerState", "choose_start_model", "installed_count", "reach",
           "status_line"]

RECONNECT_MAX_SECONDS = 10.0
MODEL_FAMILY = "deepseek-r1"


@dataclass(frozen=True)
class ServerState:
    """What r1tui knows of the server it talks to."""

    url: str
    version: str | None = None
    installed: list[InstalledModel] = field(default_factory=list)


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


async def reach(backend: OllamaBackend, on_wait: Callable[[BackendError, int], None],
                max_delay: float = RECONNECT_MAX_SECONDS) -> ServerState:
    """Ask the server its version and models until it answers; between tries, `on_wait(error, seconds
    left)` once a second, so the user sees the countdown and knows r1tui is alive."""
    delay = 1.0
    while True:
        try:
            version = await backend.version()
            return ServerState(backend.url, version, await backend.list_models())
        except BackendError as error:
            for left in range(int(delay), 0, -1):
                on_wait(error, left)
                await asyncio.sleep(1)
            delay = min(delay * 2, max_delay)


def installed_count(count: int) -> str:
    return f"{count} model{'' if count == 1 else 's'} installed"


def status_line(state: ServerState, model: str | None) -> tuple[str, str]:
    """The chat's status line once connected, and its level ("success" or "warning")."""
    version = f" (Ollama {state.version})" if state.version else ""
    names = {m.name for m in state.installed}
    head = f"● connected to {state.url}{version}"
    if model is None:
        return (f"{head} — no model installed: run `ollama pull {MODEL_FAMILY}:7b` "
                f"(or `r1tui pull {MODEL_FAMILY}:7b`)", "warning")
    if model not in names:
        return (f"{head} — {model} is not installed: pull it with `r1tui pull {model}`, "
                "or choose another with Ctrl+O", "warning")
    return f"{head} · {installed_count(len(names))}", "success"
