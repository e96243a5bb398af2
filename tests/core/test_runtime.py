"""The managed runtime: start, watch and stop a stand-in `ollama` found on PATH.

The stand-in (tests/fake_ollama/ollama) runs the package's simulated server, so
these tests start and stop a real process listening on a real port.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.processes import FAKE_DIR, free_port, pid_alive

from tui.core.backend import OllamaBackend
from tui.core.config import Settings, state_dir
from tui.core.runtime import (
    RUNTIME_KEYS,
    ManagedRuntime,
    RuntimeConfig,
    RuntimeFailure,
    StartupPlan,
    bind_address,
    configured_env,
    find_ollama,
    install_guidance,
    plan_startup,
    probe,
    server_supports_think,
    version_note,
)

@pytest.fixture
def fake_ollama(monkeypatch) -> Path:
    """The stand-in `ollama` first on PATH, running servers with this test's Python."""
    monkeypatch.setenv("PATH", f"{FAKE_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_OLLAMA_PYTHON", sys.executable)
    monkeypatch.delenv("FAKE_OLLAMA_MODE", raising=False)
    for name in list(os.environ):
        if name.startswith("OLLAMA_"):
            monkeypatch.delenv(name)
    return FAKE_DIR / "ollama"


@pytest.fixture
async def runtime(fake_ollama):
    """A runtime for a free local port; whatever it started is stopped afterwards."""
    managed = ManagedRuntime(f"http://127.0.0.1:{free_port()}", RuntimeConfig(start_timeout=15, stop_grace=3))
    yield managed
    await asyncio.to_thread(managed.stop)


# -- start, stop, restart ---------------------------------------------------------------


async def test_start_waits_until_healthy_then_the_chat_backend_works(runtime) -> None:
    status = await runtime.start()
    assert status.state == "running" and status.started_by_us and status.version == "0.12.6"
    assert status.binary == str(FAKE_DIR / "ollama")
    again = await runtime.start()  # a second start finds ours running: same process, still ours
    assert again.pid == status.pid and again.started_by_us
    backend = OllamaBackend(runtime.url)
    try:
        assert "deepseek-r1:7b" in {m.name for m in await backend.list_models()}
    finally:
        await backend.aclose()


async def test_log_is_captured_privately_under_the_state_dir(runtime) -> None:
    runtime.log_path.parent.mkdir(parents=True, exist_ok=True)
    runtime.log_path.write_text("previous run\n")
    await runtime.start()
    assert runtime.log_path.parent == state_dir()
    assert stat.S_IMODE(os.stat(runtime.log_path).st_mode) == 0o600
    port = runtime.url.rsplit(":", 1)[1]
    assert any(f"Listening on 127.0.0.1:{port}" in line for line in runtime.log_tail(10))
    assert runtime.log_path.with_name(runtime.log_path.name + ".1").read_text() == "previous run\n"


async def test_configured_environment_reaches_the_server(runtime) -> None:
    runtime.config = RuntimeConfig(keep_alive="1h", flash_attention=True, kv_cache_type="q8_0",
                                   context_length=8192, num_parallel=2, max_loaded_models=1)
    await runtime.start()
    logged = "\n".join(runtime.log_tail(10))
    port = runtime.url.rsplit(":", 1)[1]
    for expected in (f"OLLAMA_HOST:127.0.0.1:{port}", "OLLAMA_KEEP_ALIVE:1h", "OLLAMA_FLASH_ATTENTION:1",
                     "OLLAMA_KV_CACHE_TYPE:q8_0", "OLLAMA_CONTEXT_LENGTH:8192", "OLLAMA_NUM_PARALLEL:2",
                     "OLLAMA_MAX_LOADED_MODELS:1"):
        assert expected in logged
    assert runtime.status().env["OLLAMA_KV_CACHE_TYPE"] == "q8_0"


def test_only_the_variables_the_user_set_are_passed() -> None:
    url = "http://127.0.0.1:11500"
    assert configured_env(RuntimeConfig(), url) == {"OLLAMA_HOST": "127.0.0.1:11500"}
    assert configured_env(RuntimeConfig(flash_attention=False), url)["OLLAMA_FLASH_ATTENTION"] == "0"


async def test_stop_ends_the_server_it_started(runtime) -> None:
    status = await runtime.start()
    assert runtime.stop() is True
    assert not pid_alive(status.pid)
    assert await probe(runtime.url) is None
    assert runtime.status().state == "stopped" and not runtime.status().started_by_us


async def test_a_server_someone_else_runs_is_used_but_never_stopped(sim, fake_ollama) -> None:
    runtime = ManagedRuntime(sim.url)
    status = await runtime.start()
    assert status.state == "running" and not status.started_by_us and status.version == "0.12.6"
    assert runtime.stop() is False
    with pytest.raises(RuntimeFailure, match="not started by r1tui"):
        await runtime.restart()
    assert await probe(sim.url) == "0.12.6"


async def test_restart_brings_up_a_new_server_on_the_same_url(runtime) -> None:
    first = await runtime.start()
    second = await runtime.restart()
    assert second.state == "running" and second.started_by_us and second.pid != first.pid
    assert not pid_alive(first.pid)
    assert await probe(runtime.url) == "0.12.6"


async def test_restart_starts_our_server_again_after_it_died(runtime) -> None:
    first = await runtime.start()
    psutil.Process(first.pid).kill()
    await asyncio.sleep(0.2)
    assert runtime.status().state == "exited"
    second = await runtime.restart()
    assert second.state == "running" and second.pid != first.pid


async def test_a_server_ignoring_sigterm_is_killed_after_the_grace_period(runtime, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_MODE", "stubborn")
    runtime.config = RuntimeConfig(stop_grace=0.3)
    status = await runtime.start()
    started = time.monotonic()
    assert runtime.stop() is True
    assert time.monotonic() - started < 3
    assert not pid_alive(status.pid)


async def test_a_server_that_exits_at_once_is_reported_with_its_log_quickly(runtime, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_MODE", "exit")
    started = time.monotonic()
    with pytest.raises(RuntimeFailure) as caught:
        await runtime.start()
    assert time.monotonic() - started < 5  # not the 15 s start timeout
    assert "exited with code 1" in caught.value.message
    assert any("address already in use" in line for line in caught.value.log_tail)
    assert not runtime.status().started_by_us


async def test_a_server_that_never_answers_times_out_and_is_not_left_running(runtime, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_OLLAMA_MODE", "hang")
    runtime.config = RuntimeConfig(start_timeout=1, stop_grace=2)
    with pytest.raises(RuntimeFailure, match="did not answer .* within 1 s"):
        await runtime.start()
    leftovers = [p for p in psutil.Process().children(recursive=True) if "fake_ollama" in " ".join(p.cmdline())]
    assert leftovers == []


def test_the_server_is_stopped_when_the_program_exits_without_stopping_it(fake_ollama, tmp_path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    script = textwrap.dedent(f"""
        import asyncio
        from tui.core.runtime import ManagedRuntime
        status = asyncio.run(ManagedRuntime({url!r}).start())
        print(status.pid, flush=True)
    """)  # no stop(): the atexit hook must do it
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert not pid_alive(int(done.stdout.split()[0]))
    assert asyncio.run(probe(url)) is None


# -- not installed, remote, plans ---------------------------------------------------------


async def test_missing_ollama_is_reported_with_install_guidance(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    runtime = ManagedRuntime(f"http://127.0.0.1:{free_port()}")
    assert find_ollama() is None and runtime.status().state == "not_installed"
    with pytest.raises(RuntimeFailure, match="not installed") as caught:
        await runtime.start()
    if sys.platform.startswith("linux"):
        assert "curl -fsSL https://ollama.com/install.sh | sh" in caught.value.suggestion


def test_install_guidance_per_platform() -> None:
    assert install_guidance("linux").command == "curl -fsSL https://ollama.com/install.sh | sh"
    assert "brew install ollama" in [cmd for _, cmd in install_guidance("darwin").alternatives]
    assert install_guidance("win32").command == "https://ollama.com/download/windows"
    for platform in ("linux", "darwin", "win32"):
        assert "ollama pull deepseek-r1:7b" in [cmd for _, cmd in install_guidance(platform).then]


def test_configured_binary_path_is_used_instead_of_path(fake_ollama, tmp_path) -> None:
    assert find_ollama(str(fake_ollama), path=str(tmp_path)) == str(fake_ollama)
    assert find_ollama(str(tmp_path / "missing")) is None


def test_a_remote_host_is_never_started_here() -> None:
    runtime = ManagedRuntime("https://lab.example.org:443")
    assert runtime.status().state == "remote"


@pytest.mark.parametrize(
    ("reachable", "url", "binary", "autostart", "plan"),
    [
        (True, "http://127.0.0.1:11434", None, False, StartupPlan.CONNECT),
        (False, "http://127.0.0.1:11434", "/usr/bin/ollama", True, StartupPlan.START),
        (False, "http://localhost:11434", "/usr/bin/ollama", False, StartupPlan.OFFER_START),
        (False, "http://127.0.0.1:11434", None, True, StartupPlan.INSTALL_HELP),
        (False, "http://gpu-box:11434", "/usr/bin/ollama", True, StartupPlan.WAIT_REMOTE),
        (False, "https://localhost:443", "/usr/bin/ollama", True, StartupPlan.WAIT_REMOTE),
    ],
)
def test_startup_plan(reachable: bool, url: str, binary: str | None, autostart: bool, plan: StartupPlan) -> None:
    assert plan_startup(reachable=reachable, url=url, binary=binary, autostart=autostart) is plan


@pytest.mark.parametrize(
    ("host", "bound"),
    [("127.0.0.1:9999", "127.0.0.1:9999"), ("localhost", "localhost:11434"),
     ("http://0.0.0.0:8000", "0.0.0.0:8000"), ("[::1]:8080", "[::1]:8080"), ("", "127.0.0.1:11434")],
)
def test_the_server_listens_where_r1tui_connects(host: str, bound: str) -> None:
    assert bind_address(host) == bound


# -- version awareness ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "think"), [("0.12.6", True), ("0.9.0", True), ("0.8.0", False), ("", False), (None, False)]
)
def test_think_field_only_for_servers_that_accept_it(version: str | None, think: bool) -> None:
    assert server_supports_think(version) is think
    assert (version_note(version) == "") is think


def test_old_server_note_says_reasoning_is_parsed_from_text() -> None:
    note = version_note("0.8.0")
    assert "Ollama 0.8.0 is older than 0.9" in note and "<think>" in note


# -- config keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "bad", "allowed"),
    [
        ("kv_cache_type", "q5", "one of f16, q8_0, q4_0"),
        ("flash_attention", "yes", 'true, false, or ""'),
        ("context_length", 100, "0 (the server default) or a whole number from 512"),
        ("keep_alive", "forever", "a duration like"),
        ("binary", "ollama", "an absolute path"),
        ("start_timeout", 0, "a number from 1 to 600"),
    ],
)
def test_bad_runtime_values_say_what_is_allowed(key: str, bad: object, allowed: str) -> None:
    _, check = RUNTIME_KEYS[("runtime", key)]
    with pytest.raises(ValueError) as caught:
        check(bad)
    assert allowed in str(caught.value)


def test_runtime_settings_are_read_from_flat_attributes() -> None:
    settings = Settings()
    values = {"runtime_autostart": True, "runtime_kv_cache_type": "q4_0", "runtime_flash_attention": "",
              "runtime_context_length": 0}
    for attribute, value in values.items():
        setattr(settings, attribute, value)
    config = RuntimeConfig.from_settings(settings)
    assert config.autostart and config.kv_cache_type == "q4_0" and config.flash_attention is None
    assert configured_env(config, "http://127.0.0.1:11434") == {"OLLAMA_HOST": "127.0.0.1:11434",
                                                               "OLLAMA_KV_CACHE_TYPE": "q4_0"}


def test_log_tail_reads_the_end_of_a_large_log(tmp_path) -> None:
    runtime = ManagedRuntime("http://127.0.0.1:11434", log_path=tmp_path / "serve.log")
    assert runtime.log_tail() == []
    runtime.log_path.write_text("".join(f"line {n}\n" for n in range(100_000)))
    assert runtime.log_tail(3) == ["line 99997", "line 99998", "line 99999"]
