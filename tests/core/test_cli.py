"""The command line: version, help, host resolution."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tui import __version__
from tui.launch import resolve_host


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60)


def test_version_prints_the_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"r1tui {__version__}"


def test_version_and_help_load_no_client_or_ui_library() -> None:
    """`r1tui --version` / `--help` over SSH answer at once: the command line names the engines and
    builds every subcommand's options without importing the HTTP clients or Textual (~0.4 s)."""
    probe = ("import sys; from tui.cli import build_parser; build_parser(); "
             "print(sorted(m for m in ('httpx', 'ollama', 'openai', 'textual', 'rich') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("engine", ["ollama", "vllm"])
def test_the_tui_starts_drawing_before_the_client_libraries_load(engine: str) -> None:
    """Everything `r1tui` does before the app draws its first frame leaves out the HTTP and engine
    clients (httpx, ollama with pydantic, openai) and the Markdown renderer's parser: a third of the
    start-up, which the app now spends in threads once the screen is up (R1App.connect, warm_lexers)."""
    probe = ("import sys; from tui.app import R1App; "
             "R1App.run = lambda self, *a, **k: print(sorted(m for m in "
             "('httpx', 'ollama', 'openai', 'pydantic', 'prometheus_client', 'markdown_it') if m in sys.modules)); "
             f"from tui.cli import main; main(['--host', 'http://127.0.0.1:9', '--engine', '{engine}'])")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_lists_the_options_and_subcommands() -> None:
    from tui.cli import command_modules

    result = run("--help")
    assert result.returncode == 0
    for word in ("--host", "--model", "--config", "--demo", "--version"):
        assert re.search(rf"^  {word}\b", result.stdout, flags=re.M), word
    commands = command_modules()
    assert commands == ["bench", "doctor", "export", "fleet", "history", "pull", "recommend"]
    for command in commands:
        assert re.search(rf"^    {command} +\S", result.stdout, flags=re.M), command  # with its one-line help
        sub = run(command, "--help")
        assert sub.returncode == 0 and sub.stdout.startswith(f"usage: r1tui {command}"), command


def test_host_resolution_order(monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "env-host:1234")
    assert resolve_host("cli-host", "config-host") == "cli-host"
    assert resolve_host(None, "config-host") == "config-host"
    assert resolve_host(None, "") == "env-host:1234"
    monkeypatch.delenv("OLLAMA_HOST")
    assert resolve_host(None, "") == "http://127.0.0.1:11434"
