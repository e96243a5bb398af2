"""A hostile server: names with escape sequences and markup, echoed credentials. Everything it
sends is shown as inert text wherever it appears (title, status, lists, turn labels, toasts)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.apphelpers import make_app, screen_text, send_and_wait, unsafe_output, wait_connected, wait_for
from tui.demo import HOSTILE_NAME, SimulatedOllama, default_models, hostile_models


@pytest.fixture
def hostile() -> Iterator[SimulatedOllama]:
    """A server that also lists a model whose name and details carry escapes and markup."""
    server = SimulatedOllama(models=hostile_models() + default_models()[:2], rate=0.0)
    server.start()
    yield server
    server.stop()


async def test_a_hostile_model_name_is_inert_in_the_switcher_title_label_and_toasts(hostile: SimulatedOllama) -> None:
    app = make_app(hostile.url)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: "pwned" in screen_text(app))
        assert unsafe_output(app) == []
        assert "[link=https://evil.example]" in screen_text(app)  # shown as typed, not a link
        app.use_model(HOSTILE_NAME)
        await pilot.press("escape")
        await send_and_wait(pilot, "hello")
        shown = screen_text(app)
        assert "␛]52;c;ZXZpbA==" in shown and "[@click=app.quit]" in shown  # the label, inert
        assert unsafe_output(app) == []
        assert all("\x1b" not in n.message for n in app._notifications)  # "Next answers come from …"
        assert "\x1b" not in app.sub_title


async def test_the_compare_view_shows_hostile_names_inert(hostile: SimulatedOllama) -> None:
    from tui.screens.compare import CompareScreen

    app = make_app(hostile.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and bool(app.screen.installed))
        await app.screen.start("hi", [HOSTILE_NAME, "deepseek-r1:1.5b"])
        await wait_for(pilot, lambda: not app.screen.running, timeout=30)
        assert "pwned" in screen_text(app)
        assert unsafe_output(app) == []


async def test_an_echoed_token_never_reaches_the_screen(sim: SimulatedOllama) -> None:
    """A proxy's error page that repeats the Authorization header (here: a missing model's 404)."""
    from tui.app import R1App
    from tui.core.backend import OllamaBackend
    from tui.core.config import Settings

    sim.echo_credentials = True
    token = "sk-very-secret-token-1234"
    backend = OllamaBackend(sim.url, headers={"Authorization": f"Bearer {token}"})
    app = R1App(backend, Settings(show_panel=False), requested_model="deepseek-r1:99b")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "hello")
        shown = " ".join(screen_text(app).split())  # the error wraps over lines
        assert "request had Authorization: Bearer [redacted]" in shown
        assert token not in shown
        assert all(token not in n.message for n in app._notifications)
        assert app.store is not None
        saved = app.store.load(app.screen.conversation_id)
        assert token not in (saved.turns[-1].error or "") and "[redacted]" in (saved.turns[-1].error or "")


async def test_the_model_library_and_panel_show_hostile_names_inert(hostile: SimulatedOllama) -> None:
    from tui.screens.picker import ModelPickerScreen

    app = make_app(hostile.url, show_panel=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_connected(pilot)
        app.use_model(HOSTILE_NAME)
        await send_and_wait(pilot, "load it")  # the panel's loaded-models list now holds the name
        app.refresh_loaded()
        await wait_for(pilot, lambda: any(m.name == HOSTILE_NAME for m in app.loaded))
        await pilot.pause(0.2)
        assert unsafe_output(app) == []
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPickerScreen) and "pwned" in screen_text(app))
        assert unsafe_output(app) == []


async def test_a_server_refusing_the_credentials_is_said_so(auth_proxy) -> None:
    """Not "Nothing answers… no `ollama` on PATH: press F6 to install" (what a 401 used to get)."""
    from tui.app import R1App
    from tui.core.backend import OllamaBackend
    from tui.core.config import Settings
    from tui.core.runtime import ManagedRuntime

    url, _ = auth_proxy
    backend = OllamaBackend(url, headers={"Authorization": "Bearer wrong-token"})
    app = R1App(backend, Settings(show_panel=False), runtime=ManagedRuntime(url, path=""))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: "refused r1tui's credentials (401)" in app.status[0])
        assert "retrying" in app.status[0] and "wrong-token" not in app.status[0]
        assert not any("ollama" in n.message and "PATH" in n.message for n in app._notifications)
