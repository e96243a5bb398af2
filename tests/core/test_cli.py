"""The command line: version, help, host resolution."""

from __future__ import annotations

import subprocess
import sys

from tui import __version__
from tui.launch import resolve_host


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60)


def test_version_prints_the_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"r1tui {__version__}"


def test_help_lists_the_options_and_subcommands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for word in ("--host", "--model", "--config", "--demo"):
        assert word in result.stdout


def test_host_resolution_order(monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "env-host:1234")
    assert resolve_host("cli-host", "config-host") == "cli-host"
    assert resolve_host(None, "config-host") == "config-host"
    assert resolve_host(None, "") == "env-host:1234"
    monkeypatch.delenv("OLLAMA_HOST")
    assert resolve_host(None, "") == "http://127.0.0.1:11434"
