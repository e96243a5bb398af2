"""Shared fixtures: a simulated Ollama server per test, on a free port of 127.0.0.1."""

from __future__ import annotations

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
