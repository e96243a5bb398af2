"""What every headless command shares: the --host argument and a backend that carries the
credentials configured for that host, exactly as the TUI sends them.

Kept apart from `tui.cli` (which imports every command) so a command imports no cycle.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.core.engines import Backend

DEFAULT_HOST = "http://127.0.0.1:11434"


def default_host() -> str:
    """The server URL a user means when they name none: OLLAMA_HOST, then Ollama's default."""
    return os.environ.get("OLLAMA_HOST") or DEFAULT_HOST


def add_host_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        # SUPPRESS: a subcommand's own --host must not reset one given before it.
        default=argparse.SUPPRESS,
        help=f"Ollama server URL or a [hosts.NAME] from the config (default: $OLLAMA_HOST, then {DEFAULT_HOST})",
    )


def add_engine_argument(parser: argparse.ArgumentParser) -> None:
    from tui.core.engine_names import ENGINE_CHOICES

    parser.add_argument(
        "--engine", default=argparse.SUPPRESS, choices=ENGINE_CHOICES,
        help="the server's engine (default: [hosts.NAME] engine, else detected: "
             "Ollama, vLLM, SGLang, llama.cpp or another OpenAI-compatible server)")


async def open_backend(url: str, engine: str | None = None, **options: Any) -> "Backend":
    """A backend for the engine at `url`, with the token of the configured host at that URL, if any
    (never another's). The engine is `engine`, else the host's `engine` key, else detected; when
    nothing answers, the Ollama backend, whose errors then say what is wrong."""
    from tui.core.backend import BackendError
    from tui.core.config import load_settings
    from tui.core.engines import AUTO, detect_engine, make_backend
    from tui.core.hosts import profile_for_url

    profile = profile_for_url(url, load_settings().settings.hosts)
    headers = profile.headers() if profile is not None else None
    engine = engine or (profile.engine if profile is not None else AUTO)
    if engine == AUTO:
        try:
            engine = (await detect_engine(url, headers)).engine
        except BackendError:
            engine = "ollama"
    return make_backend(url, engine, headers=headers, **options)
