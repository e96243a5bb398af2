"""`r1tui` without a subcommand: the settings from the config file reach the app and its backend."""

from __future__ import annotations

import pytest

from tui.app import R1App
from tui.cli import main


@pytest.fixture
def started(monkeypatch) -> list[R1App]:
    """R1App.run records the app instead of taking over the terminal."""
    apps: list[R1App] = []

    def run(self: R1App, *args, **kwargs) -> None:
        apps.append(self)

    monkeypatch.setattr(R1App, "run", run)
    return apps


@pytest.mark.parametrize("demo", [False, True])
def test_config_stall_timeout_and_model_reach_the_backend(tmp_path, started, demo: bool) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\nstall_timeout = 42\nhost = "http://127.0.0.1:9"\n'
                      '[chat]\nmodel = "deepseek-r1:14b"\ntemperature = 0.3\n')
    argv = ["--config", str(config)] + (["--demo"] if demo else [])
    assert main(argv) == 0
    [app] = started
    assert app.backend.client._client.timeout.read == 42
    assert app.settings.stall_timeout == 42 and app.settings.temperature == 0.3
    assert app.requested_model == "deepseek-r1:14b"
    assert app.config_path == config
    assert app.demo is demo
    if demo:
        assert app.backend.url != "http://127.0.0.1:9"  # the built-in simulated server
    else:
        assert app.backend.url == "http://127.0.0.1:9"


def test_default_stall_timeout_without_a_config(started) -> None:
    from tui.core.backend import DEFAULT_STALL_TIMEOUT

    assert main(["--host", "http://127.0.0.1:9"]) == 0
    [app] = started
    assert app.backend.client._client.timeout.read == DEFAULT_STALL_TIMEOUT


async def test_the_backend_s_clients_are_made_in_a_thread_before_the_first_request(sim) -> None:
    """Importing the client libraries and making the clients takes a third of a second on a busy
    machine: the app does it in a thread once its first frame is drawn, not on the event loop."""
    import threading
    from unittest.mock import patch

    from tests.apphelpers import make_app, wait_connected
    from tui.core.backend import OllamaBackend

    made: list[tuple[bool, int]] = []  # (on the main thread, requests the server had seen)
    real_prepare = OllamaBackend.prepare

    def prepare(self: OllamaBackend) -> None:
        made.append((threading.current_thread() is threading.main_thread(), len(sim.requests)))
        real_prepare(self)

    with patch.object(OllamaBackend, "prepare", prepare):
        app = make_app(sim.url)
        async with app.run_test() as pilot:
            await wait_connected(pilot)
    assert made and made[0] == (False, 0)


async def test_certificates_that_cannot_be_loaded_are_said_on_screen(sim, tmp_path, monkeypatch) -> None:
    """SSL_CERT_FILE naming a file that is not there: the status line says which and how to mend it, and
    the app keeps running with what is typed (r1tui used to end with a traceback before its screen)."""
    from tests.apphelpers import make_app, screen_text, wait_for_text
    from tui.core.transport import shared_ssl_context

    missing = tmp_path / "missing.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    shared_ssl_context.cache_clear()  # a context made by an earlier test would hide the bad file
    try:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for_text(pilot, "Cannot load the TLS certificates", "fix or unset SSL_CERT_FILE")
            await pilot.press(*"still here")
            await pilot.pause()
            assert "still here" in screen_text(app)
            assert not app.connected
    finally:
        shared_ssl_context.cache_clear()
