"""Reaching a server: retry with backoff, pick the model to open on, and say where things stand.

UI-free so that the TUI's status line and the headless commands word a server's
state the same way; the app runs `reach` in a worker and shows what it reports.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable

from tui.core.backend import BackendError, InstalledModel

if TYPE_CHECKING:
    from tui.core.engines import Backend

__all__ = ["MODEL_FAMILY", "RECONNECT_MAX_SECONDS", "ServerState", "choose_start_model", "installed_count", "reach",
           "served_count", "status_line"]

RECONNECT_MAX_SECONDS = 10.0
MODEL_FAMILY = "deepseek-r1"


@dataclass(frozen=True)
class ServerState:
    """What r1tui knows of the server it talks to."""

    url: str
    version: str | None = None
    installed: list[InstalledModel] = field(default_factory=list)
    engine: str = "ollama"

    @property
    def manages_models(self) -> bool:
        """Ollama installs and removes models; the other engines serve the one they were started with."""
        return self.engine == "ollama"


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


async def reach(backend: "Backend", on_wait: Callable[[BackendError, int], None],
                max_delay: float = RECONNECT_MAX_SECONDS,
                detect: "Callable[[], Awaitable[Backend]] | None" = None) -> tuple[ServerState, "Backend"]:
    """Ask the server its version and models until it answers; between tries, `on_wait(error, seconds
    left)` once a second, so the user sees the countdown and knows r1tui is alive.

    With `detect` (the host's engine is "auto"), each try first asks which engine
    answers there and gets the backend for it; the backend that reached the server is
    returned with its state, so the caller talks to the engine it found.
    """
    delay = 1.0
    while True:
        try:
            if detect is not None:
                backend = await detect()
            version = await backend.version()
            return ServerState(backend.url, version, await backend.list_models(), backend.engine), backend
        except BackendError as error:
            for left in range(int(delay), 0, -1):
                on_wait(error, left)
                await asyncio.sleep(1)
            delay = min(delay * 2, max_delay)


def installed_count(count: int) -> str:
    return f"{count} model{'' if count == 1 else 's'} installed"


def served_count(count: int) -> str:
    return f"{count} model{'' if count == 1 else 's'} served"


def status_line(state: ServerState, model: str | None) -> tuple[str, str]:
    """The chat's status line once connected, and its level ("success" or "warning")."""
    from tui.core.engines import engine_label

    label = engine_label(state.engine)
    version = f" ({label} {state.version})" if state.version else f" ({label})"
    names = {m.name for m in state.installed}
    head = f"● connected to {state.url}{version}"
    if not state.manages_models:
        if model is None:
            return f"{head} — it serves no model (its /v1/models is empty)", "warning"
        if model not in names:
            return (f"{head} — it does not serve {model}: choose one of its "
                    f"{served_count(len(names))} with Ctrl+O", "warning")
        return f"{head} · {served_count(len(names))}", "success"
    if model is None:
        return (f"{head} — no model installed: run `ollama pull {MODEL_FAMILY}:7b` "
                f"(or `r1tui pull {MODEL_FAMILY}:7b`)", "warning")
    if model not in names:
        return (f"{head} — {model} is not installed: pull it with `r1tui pull {model}`, "
                "or choose another with Ctrl+O", "warning")
    return f"{head} · {installed_count(len(names))}", "success"
