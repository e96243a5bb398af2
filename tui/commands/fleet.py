"""`r1tui fleet [--json] [--watch]`: every configured host at a glance, without opening the TUI.

The hosts are the configured `[hosts.NAME]` entries plus the current server
(`--host`, `server.host`, `OLLAMA_HOST`). Each is polled concurrently under its
own timeout (`--timeout`, 3 s), so the command answers within a few seconds
whatever the hosts do (hosts whose tokens/s is a counter's rise, vLLM, are read
twice, a second apart). Exit status: 0 when every host answered, 1 when one did not.

`--json` prints one object whose shape is a contract (keys may be added, never renamed):
{"hosts": [{"name", "url", "reachable", "error", "engine", "version", "models": [{"name",
"size_bytes", "vram_bytes", "context_length", "processor"}], "requests_running",
"requests_waiting", "kv_cache_usage" (0-1), "generation_tps", "gpus": [{"index", "name",
"util_percent", "vram_used_bytes", "vram_total_bytes", "power_watts", "temp_c"}],
"gpu_source", "gpu_error", "metrics_error", "flags", "current", "poll_seconds"}]}.
With `--watch`, it polls again every `--interval` seconds until Ctrl+C: the text
view redraws, `--json` prints one such object per line (JSON Lines).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.core.fleet import HostRow

SOME_HOST_DOWN_EXIT = 1
RATE_WINDOW_SECONDS = 1.0  # between the two reads a counter-based tokens/s needs


def register(subparsers: Any) -> None:
    from tui.commands._shared import add_host_argument

    parser = subparsers.add_parser(
        "fleet",
        help="every configured host: engine, models, load, GPUs",
        description="Poll every [hosts.NAME] from the config and the current server at once: engine and "
                    "version, models, requests running and waiting, KV cache, tokens/s and GPUs. Exit status 0 "
                    f"when every host answered, {SOME_HOST_DOWN_EXIT} when one did not.",
    )
    add_host_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object (a stable shape for scripts)")
    parser.add_argument("--watch", action="store_true", help="poll again and again until Ctrl+C")
    parser.add_argument("--interval", type=_seconds, default=2.0, metavar="S",
                        help="seconds between polls with --watch (default: 2)")
    parser.add_argument("--timeout", type=_seconds, default=3.0, metavar="S",
                        help="seconds each host may take to answer (default: 3)")
    parser.set_defaults(func=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.1 <= value <= 600:
        raise argparse.ArgumentTypeError("must be between 0.1 and 600 seconds")
    return value


def run(args: argparse.Namespace, nvml: Any = None) -> int:
    """`nvml` stands in for the pynvml module (tests)."""
    import asyncio

    from tui.core.config import load_settings
    from tui.core.fleet import FleetPoller, fleet_hosts

    settings = load_settings(getattr(args, "config", None)).settings
    hosts = fleet_hosts(settings.hosts, args.host)
    poller = FleetPoller(hosts, timeout=args.timeout, nvml=nvml, current_url=args.host)
    try:
        return asyncio.run(_run(poller, args))
    except KeyboardInterrupt:
        return 0


async def _run(poller: Any, args: argparse.Namespace) -> int:
    import asyncio
    import time

    from tui.core.fleet import fleet_json

    try:
        while True:
            started = time.monotonic()
            rows = await (poller.poll_all() if args.watch else _poll_once(poller))
            if args.json:
                print(json.dumps(fleet_json(rows), indent=None if args.watch else 2), flush=True)
            else:
                if args.watch and sys.stdout.isatty():
                    print("\x1b[H\x1b[2J", end="")  # redraw in place, as `watch` does
                print(render_text(rows), flush=True)
                if args.watch:
                    print(f"(every {args.interval:g} s; Ctrl+C stops)", flush=True)
            if not args.watch:
                return 0 if all(row.reachable for row in rows) else SOME_HOST_DOWN_EXIT
            await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - started)))
    finally:
        await poller.aclose()


async def _poll_once(poller: Any) -> list["HostRow"]:
    """Every host once. vLLM's tokens/s is the rise of a counter between two reads, so a host that
    answered without a rate is asked again a second later, while the slower hosts are still awaited."""
    import asyncio

    again: dict[int, asyncio.Future["HostRow"]] = {}
    index_of = {host.name: index for index, host in enumerate(poller.hosts)}

    async def reread(index: int) -> "HostRow":
        await asyncio.sleep(RATE_WINDOW_SECONDS)
        return await poller.poll_host(poller.hosts[index])

    def arrived(row: "HostRow") -> None:
        if row.reachable and row.generation_tps is None and row.requests_running is not None:
            index = index_of[row.name]
            again[index] = asyncio.ensure_future(reread(index))

    rows = await poller.poll_all(arrived)
    for index, future in again.items():
        rows[index] = await future
    return rows


def render_text(rows: list["HostRow"]) -> str:
    """One block per host: its state line, then models, load, GPUs and what needs a look."""
    from tui.core.fleet_format import engine_text, flag_text, gpu_text, load_text, model_text, state_text
    from tui.core.sanitize import inert

    width = max((len(row.name) for row in rows), default=0)
    lines: list[str] = []
    for row in rows:
        mark = "●" if row.current else " "
        head = [f"{mark} {row.name:<{width}}", engine_text(row), row.url, state_text(row)]
        lines.append("  ".join(part for part in head if part))
        if row.reachable:
            models = [model_text(m) for m in row.models] or ["no model loaded"]
            lines += [f"    models  {text}" if i == 0 else f"            {text}" for i, text in enumerate(models)]
            lines.append(f"    load    {load_text(row)}")
        gpus = [gpu_text(gpu) for gpu in row.gpus] or [inert(row.gpu_error) or "no GPU figures"]
        if row.reachable or row.gpus:  # this machine's "no GPU" says nothing about a host that is down
            lines += [f"    GPUs    {text}" if i == 0 else f"            {text}" for i, text in enumerate(gpus)]
        lines += [f"    {flag_text(flag)}" for flag in row.flags]
    return "\n".join(lines)
