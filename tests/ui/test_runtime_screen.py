"""The runtime and install-help screens, driven with Pilot against the stand-in `ollama`."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from textual.app import App
from textual.widgets import Log

from tests.apphelpers import screen_text, wait_for
from tests.processes import FAKE_DIR, free_port, pid_alive
from tui.core.runtime import ManagedRuntime, RuntimeConfig
from tui.screens.install_help import InstallHelpScreen
from tui.screens.runtime import RuntimeScreen


class Host(App[None]):
    """A bare app to show one screen, recording what it dismissed with and any restart."""

    def __init__(self, screen_factory) -> None:
        super().__init__()
        self.screen_factory = screen_factory
        self.result: object = "not dismissed"
        self.restarted: list[int | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.screen_factory(), callback=lambda value: setattr(self, "result", value))

    def record_restart(self, runtime: ManagedRuntime) -> None:
        self.restarted.append(runtime.process.pid if runtime.process is not None else None)


@pytest.fixture
def fake_on_path(monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{FAKE_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_OLLAMA_PYTHON", sys.executable)
    monkeypatch.delenv("FAKE_OLLAMA_MODE", raising=False)


@pytest.fixture
async def started(fake_on_path):
    runtime = ManagedRuntime(f"http://127.0.0.1:{free_port()}", RuntimeConfig(keep_alive="1h", stop_grace=3))
    await runtime.start()
    yield runtime
    await asyncio.to_thread(runtime.stop)


async def test_shows_version_url_ownership_env_and_log_then_restarts(started) -> None:
    first_pid = started.process.pid
    app = Host(lambda: RuntimeScreen(started, on_restarted=lambda: app.record_restart(started)))
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_for(pilot, lambda: "0.12.6" in screen_text(app))
        text = screen_text(app)
        assert started.url in text and f"started by r1tui (pid {first_pid})" in text
        assert "OLLAMA_KEEP_ALIVE=1h" in text
        log = app.screen.query_one("#runtime-log", Log)
        assert any("Listening on" in line for line in log.lines)

        await pilot.press("r")
        await wait_for(pilot, lambda: app.restarted, timeout=15)
        new_pid = app.restarted[0]
        assert new_pid != first_pid and not pid_alive(first_pid)
        await wait_for(pilot, lambda: f"started by r1tui (pid {new_pid})" in screen_text(app))

        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None and not isinstance(app.screen, RuntimeScreen)


async def test_a_server_r1tui_did_not_start_is_not_restarted(sim, fake_on_path) -> None:
    runtime = ManagedRuntime(sim.url)
    app = Host(lambda: RuntimeScreen(runtime, on_restarted=lambda: app.record_restart(runtime)))
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_for(pilot, lambda: "not started by r1tui" in screen_text(app))
        await pilot.press("r")
        await wait_for(pilot, lambda: "was not started by r1tui" in screen_text(app))
        assert app.restarted == [] and sim.running


async def test_log_lines_with_escape_sequences_are_shown_inert(fake_on_path, tmp_path) -> None:
    log_path = tmp_path / "serve.log"
    log_path.write_text("ok\n\x1b]52;c;ZXZpbA==\x07clipboard\n\x1b[31mred\x1b[0m\n")
    runtime = ManagedRuntime(f"http://127.0.0.1:{free_port()}", log_path=log_path)
    app = Host(lambda: RuntimeScreen(runtime))
    async with app.run_test(size=(110, 40)) as pilot:
        log = app.screen.query_one("#runtime-log", Log)
        await wait_for(pilot, lambda: len(log.lines) == 3)
        assert not any("\x1b" in line or "\x07" in line for line in log.lines)
        assert "␛]52;c;ZXZpbA==␇clipboard" in log.lines[1]
        assert "not answering" in screen_text(app)


async def test_install_help_shows_the_command_copies_it_and_can_check_again() -> None:
    app = Host(lambda: InstallHelpScreen("linux"))
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        assert "curl -fsSL https://ollama.com/install.sh | sh" in screen_text(app)
        assert "ollama pull deepseek-r1:7b" in screen_text(app)
        await pilot.press("c")
        assert app.clipboard == "curl -fsSL https://ollama.com/install.sh | sh"
        await pilot.press("r")
        await pilot.pause()
        assert app.result is True


async def test_closing_the_screen_mid_restart_still_brings_the_server_back(started, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_MODE", "stubborn")  # the next server ignores SIGTERM: its stop takes the grace
    await asyncio.to_thread(started.stop)
    await started.start()
    started.config = RuntimeConfig(stop_grace=1.0)
    first_pid = started.process.pid
    app = Host(lambda: RuntimeScreen(started))
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("r")
        await pilot.pause(0.2)  # now waiting out the old server's grace period
        await pilot.press("escape")
        await wait_for(pilot, lambda: started.process is not None and started.process.pid != first_pid
                       and started.state == "running", timeout=15)
    assert not pid_alive(first_pid)


async def test_a_restart_from_f6_reconnects_the_chat_at_once(started) -> None:
    """Through the real app: the restart reaches the app, which reconnects (no waiting out a backoff)."""
    from tui.app import R1App
    from tui.core.backend import OllamaBackend
    from tui.core.config import Settings

    app = R1App(OllamaBackend(started.url), Settings(show_panel=False), requested_model="deepseek-r1:7b",
                runtime=started)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_for(pilot, lambda: app.connected)
        before = app.server
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, RuntimeScreen))
        await pilot.press("r")
        await wait_for(pilot, lambda: app.server is not before and app.connected, timeout=20)
        assert app.server.version == "0.12.6"


async def test_f6_on_a_server_running_elsewhere_shows_what_is_known(sim, monkeypatch) -> None:
    """No `ollama` on this machine's PATH, yet connected (Docker, another user's service): F6 says what
    it knows — running, version, URL, loaded models, not started by r1tui — not "not installed"."""
    from tests.apphelpers import send_and_wait
    from tui.app import R1App
    from tui.core.backend import OllamaBackend
    from tui.core.config import Settings

    monkeypatch.setenv("PATH", "")
    app = R1App(OllamaBackend(sim.url), Settings(show_panel=False), requested_model="deepseek-r1:7b",
                runtime=ManagedRuntime(sim.url))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.connected)
        await send_and_wait(pilot, "load the model")
        await wait_for(pilot, lambda: bool(app.loaded))
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, RuntimeScreen) and "● running" in screen_text(app))
        shown = screen_text(app)
        assert "not installed" not in shown and "not started by r1tui" in shown and "0.12.6" in shown
        assert sim.url in shown and "deepseek-r1:7b (100% GPU)" in shown


async def test_a_check_that_finishes_while_the_app_closes_is_dropped_quietly(started) -> None:
    """Closing the app tears the screen's widgets down while a status check may still be in flight:
    its result has nowhere to go, and must not fail the app on the way out."""
    app = Host(lambda: RuntimeScreen(started))
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_for(pilot, lambda: "0.12.6" in screen_text(app))
        screen = app.screen
        await screen.query_one("#runtime-log").parent.remove_children()  # as the app's shutdown does
        screen.refresh_status()
        await wait_for(pilot, lambda: not screen.workers or all(w.is_finished for w in screen.workers))
        await pilot.pause()
    assert app.return_code in (0, None)
