"""Helpers to drive the real app against the simulated server with Textual's Pilot."""

from __future__ import annotations

import time
from typing import Any, Callable

from textual.app import App
from textual.pilot import Pilot

from tui.app import R1App
from tui.core.backend import OllamaBackend
from tui.core.config import Settings
from tui.core.conversation import TurnState


def make_app(url: str, *, model: str | None = "deepseek-r1:7b", frozen_clock: bool = False, nvml: object = None,
             **settings: object) -> R1App:
    """The real app against `url`; the hardware panel is hidden unless asked for (live figures vary)."""
    clock = (lambda: 0.0) if frozen_clock else time.monotonic
    settings.setdefault("show_panel", False)
    backend = OllamaBackend(url, stall_timeout=float(settings.pop("stall_timeout", 30.0)))  # type: ignore[arg-type]
    return R1App(backend, Settings(**settings), requested_model=model, clock=clock, nvml=nvml)  # type: ignore[arg-type]


def screen_text(app: R1App) -> str:
    """What the terminal shows right now, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; screen was:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)


async def wait_connected(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.connected)


async def type_and_send(pilot: Pilot, text: str) -> None:
    prompt = pilot.app.screen.query_one("#prompt")
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def send_and_wait(pilot: Pilot, text: str, timeout: float = 20.0) -> None:
    screen = pilot.app.screen
    count = len(screen.conversation.turns)
    await type_and_send(pilot, text)
    await wait_for(pilot, lambda: len(screen.conversation.turns) > count, timeout)
    await wait_turn_finished(pilot, timeout)


async def wait_turn_finished(pilot: Pilot, timeout: float = 20.0) -> None:
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.conversation.turns and screen.conversation.turns[-1].state is not TurnState.STREAMING, timeout)
    await wait_for(pilot, lambda: screen.query("TurnView").last().finished, timeout)
    await pilot.pause()


async def wait_for_text(pilot: Pilot, *needles: str, timeout: float = 20.0) -> str:
    """Wait until every needle is on screen (a layout pass may still be pending); returns the screen."""
    await wait_for(pilot, lambda: all(needle in screen_text(pilot.app) for needle in needles), timeout)
    return screen_text(pilot.app)


class ScreenHost(App[None]):
    """A bare app showing one screen and keeping what it was dismissed with."""

    TITLE = "Host"  # what the screen snapshots were taken with

    def __init__(self, factory: Callable[[], Any]) -> None:
        super().__init__()
        self.factory = factory
        self.result: object = "not dismissed"

    def on_mount(self) -> None:
        from tui.themes import register_themes

        register_themes(self)
        self.theme = "r1-dark"
        self.push_screen(self.factory(), callback=lambda value: setattr(self, "result", value))


def unsafe_output(app: App[Any]) -> list[str]:
    """What on the current screen could act on a terminal or the app: control characters in the
    text, links to anywhere, or clicks that run app actions other than Textual's own key hints."""
    found: list[str] = []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            text, style = segment.text, segment.style
            if any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text):
                found.append(f"control character in {text!r}")
            if style is not None and style.link:
                found.append(f"link to {style.link!r}")
            meta = style.meta if style is not None else {}
            click = str(meta.get("@click", ""))
            if click and "simulate_key" not in click and "command_palette" not in click:
                found.append(f"click runs {click!r}")
    return found


async def open_compare(pilot: Pilot, models: list[str], gpu_reader: Callable[[], Any]) -> Any:
    """The compare view over the connected server, with exactly `models` ticked; its GPU from `gpu_reader`."""
    from textual.widgets import SelectionList

    from tui.screens.compare import CompareScreen

    await wait_connected(pilot)
    screen = CompareScreen("deepseek-r1:7b", gpu_reader=gpu_reader)
    await pilot.app.push_screen(screen)
    await wait_for(pilot, lambda: bool(screen.installed))
    selection = screen.query_one("#compare-models", SelectionList)
    selection.deselect_all()
    for model in models:
        selection.select(model)
    await pilot.pause()
    return screen
