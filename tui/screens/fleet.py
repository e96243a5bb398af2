"""The fleet screen: every configured host at a glance, and the fastest way into a chat on any of them.

Why a screen of its own: people who serve DeepSeek-R1 on several boxes otherwise
open one SSH session per box to run `nvidia-smi` or `nvitop`. Each host is a card
(engine and version, or why it is unreachable; its models; requests, KV cache and
tokens/s; its GPUs; a sparkline of the last minutes) that updates as soon as that
host answers: hosts are polled by `tui.core.fleet.FleetPoller`, each on its own loop
and under its own timeout, so a hung host never holds back the others.

Up/Down move between hosts and their models; Enter on a host opens the chat there,
Enter on a model opens the chat there with that model. Host-supplied text (model and
GPU names, error pages) is made inert and rendered as `Content`, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Sparkline, Static

from tui.core.fleet import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, FleetPoller, HostRow, ModelRow
from tui.core.fleet_format import engine_text, flag_text, gpu_text, load_text, model_text
from tui.core.hosts import HostProfile
from tui.core.sanitize import inert
from tui.keymap import TEXTUAL_KEYS

__all__ = ["FleetChoice", "FleetLine", "FleetScreen", "HostCard", "HostChosen"]

SHOW_EVERY_SECONDS = 0.25  # how often the answers that came in are drawn


@dataclass(frozen=True)
class FleetChoice:
    """Where the user pressed Enter: a host, and a model on it (None: the host's usual model)."""

    host: HostProfile
    model: str | None = None


class HostChosen(Message):
    """Enter on a host's line or one of its models."""

    def __init__(self, host: str, model: str | None) -> None:
        super().__init__()
        self.host = host
        self.model = model


class FleetLine(Static, can_focus=True):
    """A focusable line of a card; Enter on it opens the chat there."""

    BINDINGS = [Binding("enter", "choose", "Chat here", key_display="⏎")]

    def __init__(self, host: str, model: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host
        self.model = model

    def action_choose(self) -> None:
        self.post_message(HostChosen(self.host, self.model))


class HostCard(Vertical):
    """One host: a header line, its models, its load beside a sparkline, and its GPUs."""

    DEFAULT_CSS = """
    HostCard { height: auto; margin-bottom: 1; }
    HostCard FleetLine { height: auto; padding: 0 1; }
    HostCard FleetLine:focus { background: $accent 30%; }
    HostCard .host-line { text-style: bold; }
    HostCard .models { height: auto; }
    HostCard .model-line { padding-left: 3; }
    HostCard .load-row { height: 1; padding-left: 3; }
    HostCard .load { width: 1fr; height: 1; }
    HostCard .trend-label { width: auto; color: $text-muted; padding-right: 1; }
    HostCard Sparkline { width: 24; height: 1; }
    FleetScreen.-narrow HostCard Sparkline { width: 14; }
    HostCard .gpus { height: auto; padding-left: 3; }
    HostCard .flags { height: auto; padding-left: 3; color: $warning; }
    HostCard.-unreachable .host-detail { display: none; }
    """

    def __init__(self, row: HostRow) -> None:
        super().__init__()
        self.row = row
        self._model_names: tuple[str, ...] | None = None
        self._shown: dict[int, Content] = {}  # what each line shows now, by the line's id()

    def compose(self) -> ComposeResult:
        yield FleetLine(self.row.name, classes="host-line")
        yield Vertical(classes="models host-detail")
        with Horizontal(classes="load-row host-detail"):
            yield Static(classes="load")
            yield Static(classes="trend-label")
            yield Sparkline([], summary_function=max)
        yield Static(classes="gpus")
        yield Static(classes="flags")

    def on_mount(self) -> None:
        self.show(self.row)

    def show(self, row: HostRow) -> None:
        """Update in place, touching only what changed: with 50 hosts answering every 2 s, a repaint
        of every line of every card would keep the screen busy (models are re-mounted only when
        they change, so the focus stays put)."""
        self.row = row
        self.set_class(row.reachable is False, "-unreachable")
        self._put(self.query_one(".host-line", FleetLine), _header(row))
        names = tuple(m.name for m in row.models) if row.reachable else ()
        if names != self._model_names:
            self._model_names = names
            self._remount_models(row)
        else:
            for line, model in zip(self.query(".model-line").results(FleetLine), row.models):
                self._put(line, _model_label(model))
        self._put(self.query_one(".load", Static), Content(load_text(row) if row.reachable else ""))
        history, label = (row.util_history, "GPU %") if row.util_history else (row.tps_history, "tok/s")
        self._put(self.query_one(".trend-label", Static), Content(label if len(history) > 1 else ""))
        sparkline = self.query_one(Sparkline)
        sparkline.display = len(history) > 1
        if list(history) != sparkline.data:
            sparkline.data = list(history)
        gpus = [gpu_text(gpu) for gpu in row.gpus]
        if not gpus and row.gpu_error and row.reachable:
            gpus = [inert(row.gpu_error)]
        self._put(self.query_one(".gpus", Static), Content("\n".join(gpus)), hide_empty=True)
        self._put(self.query_one(".flags", Static), Content("\n".join(flag_text(f) for f in row.flags)),
                  hide_empty=True)

    def _put(self, static: Static, content: Content, *, hide_empty: bool = False) -> None:
        """Update a line only when its text changed; `hide_empty`: an empty block takes no line
        (no blank lines under an unreachable host)."""
        if hide_empty:
            static.display = bool(content.plain)
        if self._shown.get(id(static)) != content:
            self._shown[id(static)] = content
            static.update(content)

    def _remount_models(self, row: HostRow) -> None:
        box = self.query_one(".models", Vertical)
        had_focus = any(line.has_focus for line in box.query(FleetLine))
        box.remove_children()
        box.mount_all(FleetLine(row.name, m.name, content=_model_label(m), classes="model-line")
                      for m in row.models if row.reachable)
        if not row.models and row.reachable:
            box.mount(Static(Content.styled("no model loaded", "$text-muted"), classes="model-line"))
        if had_focus:
            self.query_one(".host-line", FleetLine).focus()


def _model_label(model: ModelRow) -> Content:
    return Content(f"▸ {model_text(model)}")


def _header(row: HostRow) -> Content:
    mark = ("● ", "$accent") if row.current else ("  ", "")
    if row.reachable is None:
        state = Content.styled("polling…", "$text-muted")
    elif row.reachable:
        state = Content.styled("reachable", "$success")
    else:
        state = Content.styled(f"unreachable: {inert(row.error)}", "$error")
    parts = [Content(inert(row.name)), Content(engine_text(row)), Content.styled(row.url, "$text-muted"), state]
    return Content.assemble(mark, Content("  ").join(part for part in parts if part.plain))


class FleetHostList(VerticalScroll, can_focus=False):
    """The cards; the lines inside them take the focus, not the list."""


class FleetScreen(Screen[FleetChoice | None]):
    """Every host, refreshed as each answers; dismisses with a FleetChoice on Enter, None on Esc."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("down", "app.focus_next", "Next", show=False, tooltip="the next host or model (Up: previous)"),
        Binding("up", "app.focus_previous", "", show=False),
    ]
    HELP_BINDINGS = [
        Binding("enter", "choose", "Chat here",
                tooltip="open the chat on this host (on a model line: with that model)"),
        *BINDINGS,
        *TEXTUAL_KEYS,
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    DEFAULT_CSS = """
    FleetScreen { padding: 0 1; }
    FleetScreen #fleet-status { height: auto; color: $text-muted; padding: 0 1; margin: 1 0; }
    FleetScreen FleetHostList { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, hosts: list[HostProfile], *, current_url: str | None = None, nvml: Any = None,
                 interval: float = DEFAULT_INTERVAL, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.hosts = {host.name: host for host in hosts}
        self.interval = interval
        self.poller = FleetPoller(hosts, timeout=timeout, nvml=nvml, current_url=current_url)
        self.rows: dict[str, HostRow] = {host.name: self.poller.pending_row(host) for host in hosts}
        self.cards = {name: HostCard(row) for name, row in self.rows.items()}
        self._arrived: dict[str, HostRow] = {}  # answers not on screen yet

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="fleet-status")
        with FleetHostList():
            yield from self.cards.values()
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "fleet"
        self._say_status()
        lines = list(self.query(".host-line").results(FleetLine))
        current = next((line for line in lines if self.rows[line.host].current), None)
        (current or (lines[0] if lines else self)).focus()
        self.set_interval(SHOW_EVERY_SECONDS, self._show_arrived)
        self.watch_hosts()

    @work(exclusive=True, group="fleet-poll")
    async def watch_hosts(self) -> None:
        try:
            await self.poller.watch(self._show_row, self.interval)
        finally:
            await self.poller.aclose()

    def _show_row(self, row: HostRow) -> None:
        self._arrived[row.name] = row

    def _show_arrived(self) -> None:
        """The answers of the last fraction of a second, drawn in one go: with 50 hosts, one layout
        pass per answer would keep the screen busy."""
        if not self._arrived or not self.is_attached:
            return
        arrived, self._arrived = self._arrived, {}
        with self.app.batch_update():
            for name, row in arrived.items():
                self.rows[name] = row
                self.cards[name].show(row)
            self._say_status()

    def _say_status(self) -> None:
        rows = list(self.rows.values())
        up = sum(1 for row in rows if row.reachable)
        flagged = sum(1 for row in rows if row.flags)
        text = (f"{len(rows)} host{'s' if len(rows) != 1 else ''} · {up} reachable"
                + (f" · {flagged} need a look" if flagged else "")
                + f" · polled every {self.interval:g} s · trends: 5 min")
        self.query_one("#fleet-status", Static).update(Content(text))

    def on_host_chosen(self, message: HostChosen) -> None:
        message.stop()
        host = self.hosts.get(message.host)
        if host is not None:
            self.dismiss(FleetChoice(host, message.model))
