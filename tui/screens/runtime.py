"""The runtime screen: which Ollama server this is, who started it, its environment and log.

Why a screen: when a model fails to load, the answer is almost always in the
server's log (out of memory, a CUDA error, a wrong OLLAMA_* value), and over
SSH the user may not know where that log is. It only renders
`tui.core.runtime.ManagedRuntime`; the restart runs in a worker so the UI stays live.
"""

from __future__ import annotations

import asyncio
from typing import Callable, Sequence

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.content import Content
from textual.widgets import Footer, Log, Static

from tui.core.backend import LoadedModel
from tui.core.runtime import ManagedRuntime, RuntimeFailure, RuntimeStatus, version_note
from tui.core.sanitize import inert
from tui.screens.dialog import Dialog

LOG_LINES = 200
REFRESH_SECONDS = 1.0
_background: set[asyncio.Task[RuntimeStatus]] = set()

_STATE_TEXT = {
    "running": ("● running", "$success"),
    "starting": ("◌ starting…", "$warning"),
    "stopped": ("○ not answering", "$error"),
    "exited": ("✖ exited", "$error"),
    "not_installed": ("✖ Ollama is not installed", "$error"),
    "remote": ("○ not answering (remote: r1tui cannot start it)", "$error"),
}


def summary(status: RuntimeStatus, loaded: Sequence[LoadedModel] = ()) -> Content:
    """The facts at the top of the screen, one per line; `loaded` is the server's `/api/ps`."""
    label, style = _STATE_TEXT.get(status.state, (status.state, ""))
    if status.state == "running":
        who = (f"started by r1tui (pid {status.pid})" if status.started_by_us
               else "not started by r1tui (left running on exit)")
    else:
        who = "r1tui started it" if status.started_by_us else ""
    rows: list[tuple[str, Content]] = [
        ("Server", Content.styled(label, style)),
        ("URL", Content(status.url)),
        ("Version", Content(status.version or "unknown")),
        ("Process", Content(who or "—")),
        ("Binary", Content(status.binary or "no `ollama` on PATH here (the server runs elsewhere, e.g. Docker)"
                           if status.state == "running" else status.binary or "no `ollama` on PATH")),
        ("Loaded", Content(", ".join(f"{inert(m.name)} ({m.processor})" for m in loaded) or "no model in memory")
         if status.state == "running" else Content("—")),
        ("Log", Content(str(status.log_path) if status.log_path else "none yet (r1tui has not started a server)")),
    ]
    lines = [Content.assemble((f"{name:<9}", "bold"), value) for name, value in rows]
    note = version_note(status.version) if status.state == "running" and status.version is not None else ""
    for extra in (status.message, note):
        if extra:
            lines.append(Content.styled(inert(extra), "$text-muted"))
    return Content("\n").join(lines)


def env_text(env: dict[str, str]) -> Content:
    if not env:
        return Content.styled("no OLLAMA_* variables set: server defaults", "$text-muted")
    return Content("\n").join(Content.assemble((f"{key}=", "bold"), inert(value)) for key, value in env.items())


class RuntimeScreen(Dialog[None]):
    """Server facts, environment and live log tail; `r` restarts (or starts) the server."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("r", "restart", "Restart server"),
    ]
    DEFAULT_CSS = """
    RuntimeScreen > Vertical { width: 100; max-width: 98%; height: 90%; }
    RuntimeScreen #runtime-summary { height: auto; }
    RuntimeScreen .section { margin-top: 1; color: $text-primary; text-style: bold; }
    RuntimeScreen #runtime-env { height: auto; max-height: 9; }
    RuntimeScreen #runtime-log { height: 1fr; border: none; }
    """

    def __init__(self, runtime: ManagedRuntime, *, on_restarted: Callable[[], object] | None = None,
                 loaded: Callable[[], Sequence[LoadedModel]] = tuple) -> None:
        """`on_restarted` runs once the server answers again after `r` (the app reconnects at once);
        `loaded` gives what the server holds in memory now (the app's `/api/ps`)."""
        super().__init__()
        self.runtime = runtime
        self.loaded = loaded
        self.on_restarted = on_restarted
        self.restarting = False
        self._shown_log: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Ollama server", "bold"))
            yield Static(id="runtime-summary")
            yield Static("Environment", classes="section")
            yield Static(id="runtime-env")
            yield Static("Log (last lines)", classes="section")
            yield Log(id="runtime-log", max_lines=LOG_LINES, auto_scroll=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show(self.runtime.status())
        self.refresh_status()
        self.set_interval(REFRESH_SECONDS, self.refresh_status)

    @work(exclusive=True, group="runtime-check")
    async def refresh_status(self) -> None:
        if not self.restarting:
            self._show(await self.runtime.check())

    def _show(self, status: RuntimeStatus) -> None:
        if not self.is_attached:  # a check finished after the screen was closed
            return
        try:
            summary_line = self.query_one("#runtime-summary", Static)
            env_line = self.query_one("#runtime-env", Static)
            log = self.query_one("#runtime-log", Log)
        except NoMatches:  # or while the app is closing, its widgets already gone: nothing to show it in
            return
        summary_line.update(summary(status, self.loaded()))
        env_line.update(env_text(status.env))
        self._show_log(log, self.runtime.log_tail(LOG_LINES))

    def _show_log(self, log: Log, lines: list[str]) -> None:
        if lines == self._shown_log:
            return
        self._shown_log = lines
        log.clear()
        log.write_lines([inert(line) for line in lines])

    def action_restart(self) -> None:
        if not self.restarting:
            self.restart()

    @work(exclusive=True, group="runtime-restart")
    async def restart(self) -> None:
        self.restarting = True
        self.query_one("#runtime-summary", Static).update(Content.styled("◌ restarting the server…", "$warning"))
        task = asyncio.ensure_future(self.runtime.restart())
        _background.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(_background.discard)
        try:
            # Shielded: closing this screen mid-restart must not kill the server that is coming up.
            status = await asyncio.shield(task)
        except RuntimeFailure as failure:
            self.notify(inert(str(failure)), severity="error", timeout=15, markup=False)
            status = self.runtime.status()  # carries the failure as its message
        else:
            if self.on_restarted is not None:
                self.on_restarted()
        finally:
            self.restarting = False
        self._show(status)
