"""Shared fixtures: a simulated Ollama server per test, on a free port of 127.0.0.1.

`R1TUI_TEST_FAKE_GPU=1` runs the suite as on a GPU box: wherever r1tui would load
the real `pynvml`, it gets a stand-in 24 GiB card (tests/fake_nvml.py) whose used
memory follows what the test's simulated server has loaded. Every test passes
both ways; a test needing "no GPU" says so by passing its own `nvml=`.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from tests.fake_nvml import GIB, FakeGpu, FakeNvml
from tui.demo import SimulatedOllama
from tui.demo.engines import SimulatedEngine

FAKE_GPU = os.environ.get("R1TUI_TEST_FAKE_GPU", "") not in ("", "0")


def default_fake_gpu() -> FakeNvml:
    """The card plugged in under R1TUI_TEST_FAKE_GPU=1: a 24 GiB RTX 4090 with a desktop's 0.5 GiB in use."""
    return FakeNvml([FakeGpu(name="NVIDIA GeForce RTX 4090", total=24 * GIB, used=GIB // 2, processes=[])])


@pytest.fixture(autouse=True)
def default_nvml(monkeypatch) -> FakeNvml | None:
    """The NVML r1tui finds when a test passes none: the fake card under R1TUI_TEST_FAKE_GPU=1, else the real one."""
    if not FAKE_GPU:
        return None
    fake = default_fake_gpu()
    monkeypatch.setattr("tui.core.hardware._import_pynvml", lambda: fake)
    return fake


@pytest.fixture
def sim(default_nvml: FakeNvml | None) -> Iterator[SimulatedOllama]:
    """A fresh simulated server, unthrottled, reasoning in the `thinking` field."""
    server = SimulatedOllama(rate=0.0)
    if default_nvml is not None:
        default_nvml.gpus[0].follows = server  # what it loads takes memory on the fake card
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def engine_sim(request) -> Iterator[SimulatedEngine]:
    """A simulated OpenAI-compatible engine; parametrize indirectly with a flavour ("vllm" by default)."""
    server = SimulatedEngine(getattr(request, "param", "vllm")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch) -> None:
    """Keep config, history and state of every test inside its own temporary folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)


PROXY_TOKEN = "s3cret-token.ABC"  # what the stand-in proxy accepts


@pytest.fixture
def auth_proxy() -> Iterator[tuple[str, list[str]]]:
    """A stand-in authenticating proxy: answers /api/version only with the right bearer token."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            auth = self.headers.get("Authorization", "")
            seen.append(auth)
            ok = auth == f"Bearer {PROXY_TOKEN}"
            body = json.dumps({"version": "0.12.6"} if ok else {"error": f"bad credentials: {auth}"}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
