"""`r1tui recommend`: which deepseek-r1 size runs fully on this GPU at this context.

For scripts and SSH sessions before anything is pulled. `--json` prints one
object whose shape is a contract (other tools parse it):
{"vram_gib", "ctx", "best", "models": [{"tag", "est_vram_gib", "fit", "installed"}]}.
The server is optional: it only says which tags are installed (and, for
those, its own architecture figures replace the catalog's).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

KV_CACHE_TYPES = ("f16", "q8_0", "q4_0")
DEFAULT_CTX = 8192


def register(subparsers: Any) -> None:
    from tui.commands._shared import add_host_argument

    parser = subparsers.add_parser(
        "recommend",
        help="which deepseek-r1 tag fits this GPU at a given context",
        description="Estimate every deepseek-r1 tag's memory at a context length and recommend the largest "
                    "that runs fully on the GPU (or, without a GPU, in RAM).",
    )
    parser.add_argument("--vram", type=_gib_list, default=None, metavar="GiB",
                        help="free VRAM in GiB; several GPUs as 24,24 (default: detected NVIDIA GPUs' free VRAM)")
    parser.add_argument("--ram", type=_positive_float, default=None, metavar="GiB",
                        help="RAM the model may use, in GiB (default: available system memory)")
    parser.add_argument("--ctx", type=_positive_int, default=DEFAULT_CTX, metavar="N",
                        help=f"context length in tokens (default: {DEFAULT_CTX})")
    parser.add_argument("--kv-cache", choices=KV_CACHE_TYPES, default="f16",
                        help="KV cache type, as OLLAMA_KV_CACHE_TYPE (default: f16)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_host_argument(parser)
    parser.set_defaults(func=run)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _gib_list(text: str) -> list[float]:
    return [_positive_float(part) for part in text.split(",") if part.strip()]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def _detect_gpus(host: str) -> tuple[list[int], str | None]:
    """Free VRAM of each local NVIDIA GPU, or ([], why not)."""
    from tui.core.backend import is_local_host, normalize_host
    from tui.core.hardware import read_gpus

    gpus, error = read_gpus()
    if gpus and not is_local_host(normalize_host(host)):
        _note(f"the server at {host} is not this machine; these are this machine's GPUs (pass --vram for the server's)")
    return [gpu.vram_free_bytes for gpu in gpus], (error if not gpus else None)


def _server_entries(host: str) -> tuple[list[Any], set[str]]:
    """The catalog with installed tags' own figures, and the installed tag names.

    Never fails: an unreachable server only means "nothing known installed".
    """
    import asyncio

    from tui.core import catalog
    from tui.commands._shared import open_backend
    from tui.core.backend import BackendError

    async def query() -> tuple[list[Any], set[str]]:
        backend = open_backend(host)
        try:
            installed = {catalog.normalize_tag(m.name): m for m in await backend.list_models()}
            entries = []
            for entry in catalog.CATALOG:
                model = installed.get(entry.tag)
                if model is None:
                    entries.append(entry)
                    continue
                try:
                    details = await backend.show(entry.tag)
                    entries.append(catalog.with_server_figures(entry, details.model_info, model.size))
                except BackendError:
                    entries.append(catalog.with_server_figures(entry, None, model.size))
            return entries, set(installed)
        finally:
            await backend.aclose()

    try:
        return asyncio.run(query())
    except BackendError as exc:
        _note(f"{exc.message}; showing every tag as not installed")
        return list(catalog.CATALOG), set()


def run(args: argparse.Namespace) -> int:
    import psutil

    from tui.commands._shared import default_host
    from tui.core.fit import GIB, recommend

    host = args.host or default_host()
    no_gpu_reason: str | None = None
    if args.vram is None:
        gpu_free, no_gpu_reason = _detect_gpus(host)
    else:
        gpu_free = [int(v * GIB) for v in args.vram if v > 0]
        if not gpu_free:
            no_gpu_reason = "no VRAM given"
    ram = int(args.ram * GIB) if args.ram is not None else int(psutil.virtual_memory().available)

    entries, installed = _server_entries(host)
    result = recommend(entries, args.ctx, gpu_free_bytes=gpu_free, ram_bytes=ram, kv_cache=args.kv_cache,
                       no_gpu_reason=no_gpu_reason)
    vram_gib = sum(gpu_free) / GIB
    if args.json:
        print(json.dumps({
            "vram_gib": round(vram_gib, 2),
            "ctx": args.ctx,
            "best": result.best,
            "models": [
                {"tag": est.tag, "est_vram_gib": round(est.total_gib, 2), "fit": est.verdict,
                 "installed": est.tag in installed}
                for est in result.estimates
            ],
        }))
    else:
        print(_table(entries, result, installed, vram_gib, ram / GIB, len(gpu_free), args))
    return 0


def _table(entries: list[Any], result: Any, installed: set[str], vram_gib: float, ram_gib: float,
           gpu_count: int, args: argparse.Namespace) -> str:
    from tui.core.fit import context_label
    from tui.core.pull_progress import format_bytes

    source = "given" if args.vram is not None else "detected"
    gpus = f" on {gpu_count} GPUs" if gpu_count > 1 else ""
    vram = f"{vram_gib:.1f} GiB free{gpus} ({source})" if gpu_count else "no GPU"
    lines = [f"VRAM: {vram}   RAM: {ram_gib:.1f} GiB   context: {context_label(args.ctx)} ({args.ctx} tokens)"
             f"   KV cache: {args.kv_cache}", ""]
    header = ("", "TAG", "BASE MODEL", "QUANT", "DOWNLOAD", "MEMORY", "VERDICT", "AIME24", "MATH500", "INSTALLED")
    rows: list[tuple[str, ...]] = []
    previous_default = False
    for entry, est in zip(entries, result.estimates):
        if previous_default and not entry.default:
            rows.append(())  # a blank line between the size tags and their variants
        previous_default = entry.default
        quality = entry.quality
        rows.append((
            "*" if est.tag == result.best else "",
            est.tag,
            entry.base_model.removeprefix("DeepSeek-R1-Distill-"),
            entry.quantization,
            format_bytes(entry.download_bytes),
            f"{est.total_gib:.1f} GiB",
            est.label,
            f"{quality.aime_2024:.1f}" if quality else "-",
            f"{quality.math_500:.1f}" if quality else "-",
            "yes" if est.tag in installed else "",
        ))
    widths = [max(len(header[i]), *(len(row[i]) for row in rows if row)) for i in range(len(header))]
    right = {4, 5, 7, 8}

    def fmt(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    lines.append(fmt(header))
    lines.extend(fmt(row) if row else "" for row in rows)
    lines.append("")
    if result.best:
        lines.append(f"* recommended: {result.best} — {result.reason}")
    else:
        lines.append(f"no recommendation: {result.reason}")
    if any(est.verdict == "partial" for est in result.estimates):
        lines.append("partial offload runs the CPU's share of layers at CPU speed: expect it to be much slower.")
    return "\n".join(lines)
