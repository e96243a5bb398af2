"""Shared fixtures: a simulated Ollama server per test, on a free port of 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from tui.demo import SimulatedOllama


@pytest.fixture
def sim() -> Iterator[SimulatedOllama]:
    """A fresh simulated server, unthrottled, reasoning in the `thinking` field."""
    server = SimulatedOllama(rate=0.0)
    server.start()
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
