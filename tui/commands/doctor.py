"""`r1tui doctor [--host URL] [--json]`: what the hardware panel knows, printed once.

For bug reports and scripts: the server (reachable? which version?), this
machine's GPUs, CPU and RAM, and the models the server has loaded, as
`ollama ps` shows them. A server that is down is still reported in full (text
or JSON), and the exit status says so for scripts: 0 when the server answered,
1 when it could not be reached (or is not an Ollama server). The `--json` shape
is a contract for scripts: fields may be added, never removed or renamed.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone
from typing import Any

from tui.core.units import ps_size

# Long enough for psutil's non-blocking CPU % to mean something in a one-shot run.
MIN_CPU_WINDOW_SECONDS = 0.25
# Exit status when the server cannot be reached (the report is still printed), as `bench` and `pull` use.
SERVER_DOWN_EXIT = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    from tui.commands._shared import add_host_argument

    parser = subparsers.add_parser(
        "doctor",
        help="print the server, GPUs, CPU, RAM and loaded models once",
        description="Print what r1tui's hardware panel knows, once: for bug reports and scripts. The "
                    "report is printed either way; exit status 0 when the Ollama server answered, "
                    f"{SERVER_DOWN_EXIT} when it could not be reached.",
    )
    add_host_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object (a stable shape for scripts)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui.commands._shared import default_host

    report = collect(args.host or default_host())
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_text(report))
    return 0 if report["server"]["reachable"] else SERVER_DOWN_EXIT


# -- collecting ---------------------------------------------------------------


def collect(host: str | None, nvml: Any | None = None) -> dict[str, Any]:
    """Everything `doctor` reports, as the JSON-ready dict `--json` prints.

    `nvml` stands in for the pynvml module (tests); None uses the real one.
    """
    from tui import __version__
    from tui.core.backend import is_local_host, normalize_host
    from tui.core.hardware import HardwareSampler

    url = normalize_host(host)
    sampler = HardwareSampler(nvml=nvml, nvml_retry_seconds=0.0)
    try:
        started = time.monotonic()
        sampler.sample_once()  # primes CPU % baselines; the server calls fill the wait
        server, models = _server_facts(url)
        time.sleep(max(0.0, MIN_CPU_WINDOW_SECONDS - (time.monotonic() - started)))
        snapshot = sampler.sample_once()
    finally:
        sampler.stop()
    server["local"] = is_local_host(url)
    return {
        "r1tui_version": __version__,
        "server": server,
        **_hardware_dict(snapshot),
        "loaded_models": models,
    }


def _server_facts(url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import asyncio

    return asyncio.run(_ask_server(url))


async def _ask_server(url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from tui.commands._shared import open_backend
    from tui.core.backend import BackendError

    backend = await open_backend(url, stall_timeout=15.0)
    server: dict[str, Any] = {"url": backend.url, "reachable": False, "version": None, "error": None,
                              "engine": backend.engine}
    models: list[dict[str, Any]] = []
    try:
        server["version"] = await backend.version() or None
        server["reachable"] = True
        models = [_model_dict(model) for model in await backend.ps()]
    except BackendError as exc:
        server["error"] = _describe(exc, backend.url, answered_version=server["reachable"])
    finally:
        await backend.aclose()
    return server, models


def _describe(exc: Any, url: str, *, answered_version: bool) -> str:
    """The backend's message, except for an HTTP error on /api/version.

    The backend words a 404 as a missing model, but here no model was asked
    for: something answered that is not an Ollama server (or a proxy is in between).
    """
    if not answered_version and exc.status_code is not None:
        return f"{url} answered HTTP {exc.status_code} to /api/version: is it an Ollama server?"
    return str(exc)


def _model_dict(model: Any) -> dict[str, Any]:
    expires = model.expires_at
    return {
        "name": model.name,
        "size_bytes": model.size,
        "size_vram_bytes": model.size_vram,
        "context_length": model.context_length,
        "processor": model.processor,
        "expires_at": expires.isoformat() if expires is not None else None,
    }


def _hardware_dict(snapshot: Any) -> dict[str, Any]:
    return {
        "gpus": [
            {
                "index": gpu.index,
                "name": gpu.name,
                "vram_total_bytes": gpu.vram_total_bytes,
                "vram_used_bytes": gpu.vram_used_bytes,
                "vram_free_bytes": gpu.vram_free_bytes,
                "utilization_percent": gpu.utilization_percent,
                "temperature_c": gpu.temperature_c,
                "power_watts": gpu.power_watts,
                "power_limit_watts": gpu.power_limit_watts,
                "ollama_vram_bytes": snapshot.ollama_vram_bytes(gpu),
                "processes": [{"pid": p.pid, "name": p.name, "vram_bytes": p.vram_bytes} for p in gpu.processes],
            }
            for gpu in snapshot.gpus
        ],
        "gpu_error": snapshot.gpu_error,
        "cpu": {
            "count": snapshot.cpu.count,
            "percent": snapshot.cpu.percent,
            "per_core": list(snapshot.cpu.per_core),
            "load_average": list(snapshot.cpu.load_average) if snapshot.cpu.load_average else None,
        },
        "ram": {
            "total_bytes": snapshot.memory.total_bytes,
            "available_bytes": snapshot.memory.available_bytes,
            "used_bytes": snapshot.memory.used_bytes,
            "swap_total_bytes": snapshot.memory.swap_total_bytes,
            "swap_used_bytes": snapshot.memory.swap_used_bytes,
        },
        "ollama_processes": [
            {"pid": p.pid, "name": p.name, "rss_bytes": p.rss_bytes, "cpu_percent": p.cpu_percent}
            for p in snapshot.ollama_processes
        ],
    }


# -- the plain-text report -------------------------------------------------------


def render_text(report: dict[str, Any], now: datetime | None = None) -> str:
    """The report for people: one labelled block per source, columns aligned."""
    lines = _server_lines(report["server"])
    lines += _gpu_lines(report["gpus"], report["gpu_error"])
    lines += _cpu_ram_lines(report["cpu"], report["ram"], report.get("ollama_processes", []))
    lines += [""] + _model_lines(report["loaded_models"], report["server"], now or datetime.now(timezone.utc))
    return "\n".join(lines)


def _label(name: str, text: str) -> str:
    return f"{name:<9}{text}"


def _server_lines(server: dict[str, Any]) -> list[str]:
    where = "this machine" if server.get("local") else "remote"
    if server["reachable"]:
        status = f"reachable, Ollama {server['version'] or '(version unknown)'}"
    else:
        status = "NOT reachable"
    lines = [_label("Server", f"{server['url']}  {status}  ({where})")]
    if server.get("error"):
        lines.append(_label("", server["error"]))
    if not server.get("local"):
        lines.append(_label("", "note: the hardware figures below are of this machine, not of the server;"))
        lines.append(_label("", "the loaded models are the server's own view (/api/ps)."))
    return lines


def _gib(value: int) -> str:
    from tui.core.units import format_gib

    return format_gib(value, unit=False)


def _gpu_lines(gpus: list[dict[str, Any]], error: str | None) -> list[str]:
    if not gpus:
        return [_label("GPUs", error or "no NVIDIA GPU")]
    width = max(len(gpu["name"]) for gpu in gpus)
    lines = [_label("GPUs", f"{len(gpus)} NVIDIA GPU{'s' if len(gpus) > 1 else ''}")]
    for gpu in gpus:
        total = gpu["vram_total_bytes"]
        percent = 100 * gpu["vram_used_bytes"] / total if total else 0.0
        parts = [f"{gpu['index']}  {gpu['name']:<{width}}",
                 f"VRAM {_gib(gpu['vram_used_bytes']):>5} / {_gib(total):>5} GiB ({percent:3.0f}%)"]
        if gpu.get("utilization_percent") is not None:
            parts.append(f"util {gpu['utilization_percent']:3.0f}%")
        if gpu.get("temperature_c") is not None:
            parts.append(f"{gpu['temperature_c']:.0f}°C")
        if gpu.get("power_watts") is not None:
            limit = gpu.get("power_limit_watts")
            parts.append(f"{gpu['power_watts']:.0f}/{limit:.0f} W" if limit else f"{gpu['power_watts']:.0f} W")
        if gpu.get("ollama_vram_bytes") is not None:
            parts.append(f"ollama {_gib(gpu['ollama_vram_bytes'])} GiB")
        lines.append(_label("", "  ".join(parts)))
    return lines


def _cpu_ram_lines(cpu: dict[str, Any], ram: dict[str, Any], processes: list[dict[str, Any]]) -> list[str]:
    load = cpu.get("load_average")
    load_text = f", load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" if load else ""
    lines = [_label("CPU", f"{cpu['count']} cores, {cpu['percent']:.1f}% busy{load_text}")]
    used = ram.get("used_bytes", ram["total_bytes"] - ram["available_bytes"])
    swap = ""
    if ram.get("swap_total_bytes"):
        swap = f", swap {_gib(ram['swap_used_bytes'])} / {_gib(ram['swap_total_bytes'])} GiB"
    lines.append(_label("RAM", f"{_gib(used)} / {_gib(ram['total_bytes'])} GiB used "
                               f"({_gib(ram['available_bytes'])} GiB available){swap}"))
    for index, process in enumerate(processes):
        lines.append(_label("Ollama" if index == 0 else "",
                            f"pid {process['pid']:<8} {process['name']:<14} RSS {_gib(process['rss_bytes']):>5} GiB"
                            f"  CPU {process['cpu_percent']:.1f}%"))
    return lines


def _until(expires_at: str | None, now: datetime) -> str:
    from tui.core.keep_alive import until_column

    return until_column(datetime.fromisoformat(expires_at) if expires_at else None, now)


def _model_lines(models: list[dict[str, Any]], server: dict[str, Any], now: datetime) -> list[str]:
    if not server["reachable"]:
        return ["Loaded models: unknown (server not reachable)"]
    if not models:
        return ["Loaded models: none"]
    header = ("NAME", "SIZE", "VRAM", "PROCESSOR", "CONTEXT", "UNTIL")
    rows = [header] + [
        (m["name"], ps_size(m["size_bytes"]), ps_size(m["size_vram_bytes"]), m["processor"],
         str(m["context_length"] or ""), _until(m.get("expires_at"), now))
        for m in models
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return ["Loaded models"] + ["   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
