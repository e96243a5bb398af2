"""Command line entry point: the TUI by default, headless subcommands for scripts.

Heavy imports (Textual, the ollama client) are deferred until a command needs
them, so that `r1tui --version` and `--help` answer instantly over SSH.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from tui import __version__

from tui.commands._shared import add_engine_argument, add_host_argument, default_host


def command_modules() -> list[str]:
    """Each headless subcommand is a module in tui/commands/ exposing `register(subparsers)`.

    Discovered rather than listed so that adding a command touches one file.
    Command modules keep their heavy imports inside functions.
    """
    import pkgutil

    import tui.commands

    return sorted(info.name for info in pkgutil.iter_modules(tui.commands.__path__) if not info.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="r1tui",
        description="Chat with DeepSeek-R1 on Ollama, vLLM, SGLang or llama.cpp: reasoning and answer side by side.",
    )
    parser.add_argument("--version", action="version", version=f"r1tui {__version__}")
    add_host_argument(parser)
    add_engine_argument(parser)
    parser.set_defaults(host=None, func=None, engine=None)
    parser.add_argument("--model", default=None, help="open the chat on this model tag")
    parser.add_argument("--config", default=None, help="config file (default: $XDG_CONFIG_HOME/r1tui/config.toml)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start built-in simulated servers (an Ollama and a vLLM host) and use them (no server or GPU needed)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in command_modules():
        importlib.import_module(f"tui.commands.{module_name}").register(subparsers)
    return parser


def resolve_command_host(given: str | None) -> str:
    """The server a headless command talks to: --host (a URL or a configured host name),
    then `server.host` in the config, then OLLAMA_HOST, then Ollama's default; as a URL."""
    from tui.core.config import load_settings
    from tui.core.hosts import choose_host
    from tui.launch import resolve_host

    settings = load_settings().settings
    return choose_host(resolve_host(given, settings.host), settings.hosts).url


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.host is not None or getattr(args, "func", None) is not None:
        try:
            resolved = resolve_command_host(args.host)
        except ValueError as error:  # e.g. a port out of range, a broken IPv6 address
            parser.error(f"--host {args.host or default_host()!r} is not a valid server address: {error}")
        if getattr(args, "func", None) is not None:
            args.host = resolved
    if getattr(args, "func", None) is not None:
        from tui.commands import run_command

        return run_command(args.func, args)
    from tui.launch import run_tui

    return run_tui(args)


if __name__ == "__main__":
    sys.exit(main())
