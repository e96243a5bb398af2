"""`r1tui recommend`: which deepseek-r1 size runs fully on this GPU at this context.

For scripts and SSH sessions before anything is pulled. `--json` prints one
object whose shape is a contract (other tools parse it):
{"vram_gib", "ctx", "best", "models": [{"tag", "est_vram_gib", "fit", "installed", "est_tokens_per_s"}],
"on_gpu", "reason", "ram_gib", "cpu": null or {"mem_bandwidth_gbps", "mem_bandwidth_assumed",
"usable_ram_gib", "min_tokens_per_s"}} (keys may be added, never renamed).
Without a GPU the pick is the largest size that fits in RAM with headroom and
decodes at a usable speed (estimated from memory bandwidth), not merely the
largest that fits: a 32b in 22 GiB of RAM runs at well under 1 token/s.
The server is optional: it only says which tags are installed (and, for
those, its own architecture figures replace the catalog's).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui.core.fit import KV_CACHE_TYPES


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
    parser.add_argument("--ctx", type=_positive_int, default=None, metavar="N",
                        help="context length in tokens (default: num_ctx from the config, as the chat uses)")
    parser.add_argument("--kv-cache", choices=KV_CACHE_TYPES, default="f16",
                        help="KV cache type, as OLLAMA_KV_CACHE_TYPE (default: f16)")
    parser.add_argument("--mem-bandwidth", type=_positive_float, default=None, metavar="GB/s",
                        help="memory bandwidth for the CPU-only speed estimate (default: an assumed, conservative "
                             "20 GB/s)")
    parser.add_argument("--engine", choices=("ollama", "vllm", "sglang"), default="ollama",
                        help="ollama (default): which tag to pull; vllm or sglang: which distill to serve over "
                             "these GPUs, and the command that launches it")
    parser.add_argument("--gpus", type=_gpu_spec, default=None, metavar="NxGiB",
                        help="with --engine vllm/sglang: GPUs per node and memory of each, as 4x80 "
                             "(default: this machine's NVIDIA GPUs)")
    parser.add_argument("--nodes", type=_positive_int, default=1, metavar="N",
                        help="with --engine vllm/sglang: nodes of such GPUs (pipeline parallelism across them)")
    parser.add_argument("--gpu-memory-utilization", type=_fraction, default=None, metavar="F",
                        help="with --engine vllm/sglang: the share of each GPU the engine may use (default 0.90)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    add_host_argument(parser)
    parser.set_defaults(func=run)


def _gpu_spec(text: str) -> tuple[int, float]:
    """"4x80" -> (4, 80.0): GPUs per node and GiB each."""
    count, sep, size = text.lower().partition("x")
    if not sep:
        raise argparse.ArgumentTypeError(f"write GPUs as COUNTxGiB, like 4x80, not {text!r}")
    return _positive_int(count), _positive_float(size)


def _fraction(text: str) -> float:
    value = _positive_float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


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

    from tui.commands._shared import open_backend
    from tui.core import catalog
    from tui.core.backend import BackendError
    from tui.core.installed_catalog import installed_catalog

    async def query() -> tuple[list[Any], set[str]]:
        backend = await open_backend(host)
        try:
            merged = await installed_catalog(backend, await backend.list_models())
            return merged.catalog_entries, set(merged.installed)
        finally:
            await backend.aclose()

    try:
        return asyncio.run(query())
    except BackendError as exc:
        _note(f"{exc.message}; showing every tag as not installed")
        return list(catalog.CATALOG), set()


def run(args: argparse.Namespace) -> int:
    import psutil

    from tui.commands import configured_num_ctx, output_width
    from tui.commands._shared import default_host
    from tui.core.fit import GIB, CpuRecommendation, recommend_usable

    host = args.host or default_host()
    if args.engine != "ollama":
        from tui.commands._recommend_serving import run_serving

        return run_serving(args, output_width())
    if args.ctx is None:
        args.ctx = configured_num_ctx(args)
    no_gpu_reason: str | None = None
    if args.vram is None:
        gpu_free, no_gpu_reason = _detect_gpus(host)
    else:
        gpu_free = [int(v * GIB) for v in args.vram if v > 0]
        if not gpu_free:
            no_gpu_reason = "no VRAM given"
    ram = int(args.ram * GIB) if args.ram is not None else int(psutil.virtual_memory().available)

    entries, installed = _server_entries(host)
    bandwidth = args.mem_bandwidth * 1e9 if args.mem_bandwidth else None
    result = recommend_usable(entries, args.ctx, gpu_free_bytes=gpu_free, ram_bytes=ram, kv_cache=args.kv_cache,
                              no_gpu_reason=no_gpu_reason, cpu_bandwidth=bandwidth)
    cpu = result if isinstance(result, CpuRecommendation) else None
    speeds = cpu.tokens_per_second if cpu else (None,) * len(result.estimates)
    vram_gib = sum(gpu_free) / GIB
    if args.json:
        print(json.dumps({
            "vram_gib": round(vram_gib, 2),
            "ctx": args.ctx,
            "best": result.best,
            "models": [
                {"tag": est.tag, "est_vram_gib": round(est.total_gib, 2), "fit": est.verdict,
                 "installed": est.tag in installed,
                 "est_tokens_per_s": round(speed, 1) if speed is not None else None}
                for est, speed in zip(result.estimates, speeds)
            ],
            "on_gpu": result.on_gpu,
            "reason": result.reason,
            "ram_gib": round(ram / GIB, 2),
            "cpu": None if cpu is None else {
                "mem_bandwidth_gbps": round(cpu.bandwidth / 1e9, 1),
                "mem_bandwidth_assumed": not cpu.bandwidth_given,
                "usable_ram_gib": round(cpu.usable_ram_bytes / GIB, 2),
                "min_tokens_per_s": cpu.min_tokens_per_second,
            },
        }))
    else:
        print(_table(entries, result, installed, vram_gib, ram / GIB, len(gpu_free), args, output_width()))
    return 0


def _verdict(est: Any, short: bool) -> str:
    if short and est.verdict == "partial":
        return f"partial {est.cpu_layer_share:.0%} CPU"
    return str(est.label)


def _table(entries: list[Any], result: Any, installed: set[str], vram_gib: float, ram_gib: float,
           gpu_count: int, args: argparse.Namespace, width: int | None = None) -> str:
    """The table, fitted to `width` columns (None: no limit) by dropping the least needed columns
    first (base model, scores, quantization), then shortening tags and verdicts; prose is wrapped."""
    import textwrap

    from tui.core.catalog import MODEL
    from tui.core.fit import CpuRecommendation, context_label
    from tui.core.units import format_gib, human_bytes

    cpu = result if isinstance(result, CpuRecommendation) else None
    source = "given" if args.vram is not None else "detected"
    gpus = f" on {gpu_count} GPUs" if gpu_count > 1 else ""
    vram = f"{vram_gib:.1f} GiB free{gpus} ({source})" if gpu_count else "no GPU"
    summary = (f"VRAM: {vram}   RAM: {ram_gib:.1f} GiB   context: {context_label(args.ctx)} ({args.ctx} tokens)"
               f"   KV cache: {args.kv_cache}")
    speeds = cpu.tokens_per_second if cpu else ()

    def rows_for(drop: set[str], short: bool) -> list[tuple[str, ...]]:
        columns = [("", lambda e, s, i: "*" if s.tag == result.best else ""),
                   ("TAG", lambda e, s, i: s.tag.removeprefix(f"{MODEL}:") if short else s.tag),
                   ("BASE MODEL", lambda e, s, i: e.base_model.removeprefix("DeepSeek-R1-Distill-")),
                   ("QUANT", lambda e, s, i: e.quantization),
                   ("DOWNLOAD", lambda e, s, i: human_bytes(e.download_bytes)),
                   ("MEMORY", lambda e, s, i: format_gib(s.total_bytes)),
                   ("VERDICT", lambda e, s, i: _verdict(s, short))]
        if cpu:
            columns.append(("EST TOK/S", lambda e, s, i: f"~{speeds[i]:.1f}" if speeds[i] < 10 else f"~{speeds[i]:.0f}"))
        columns += [("AIME24", lambda e, s, i: f"{e.quality.aime_2024:.1f}" if e.quality else "-"),
                    ("MATH500", lambda e, s, i: f"{e.quality.math_500:.1f}" if e.quality else "-"),
                    ("INSTALLED", lambda e, s, i: "yes" if s.tag in installed else "")]
        columns = [c for c in columns if c[0] not in drop]
        rows: list[tuple[str, ...]] = [tuple(title for title, _ in columns)]
        previous_default = False
        for index, (entry, est) in enumerate(zip(entries, result.estimates)):
            if previous_default and not entry.default:
                rows.append(())  # a blank line between the size tags and their variants
            previous_default = entry.default
            rows.append(tuple(cell(entry, est, index) for _, cell in columns))
        return rows

    def render(rows: list[tuple[str, ...]]) -> list[str]:
        header = rows[0]
        widths = [max(len(row[i]) for row in rows if row) for i in range(len(header))]
        right = {"DOWNLOAD", "MEMORY", "EST TOK/S", "AIME24", "MATH500"}
        return ["  ".join(c.rjust(w) if header[i] in right else c.ljust(w)
                          for i, (c, w) in enumerate(zip(cells, widths))).rstrip() if cells else ""
                for cells in rows]

    layouts = [(set(), False), ({"BASE MODEL"}, False), ({"BASE MODEL", "AIME24", "MATH500"}, False),
               ({"BASE MODEL", "AIME24", "MATH500", "QUANT"}, True)]
    for drop, short in layouts:
        table = render(rows_for(drop, short))
        if width is None or max(len(line) for line in table) <= width:
            break

    def prose(text: str) -> list[str]:
        return textwrap.wrap(text, width, subsequent_indent="  ") if width else [text]

    lines = prose(summary) + [""] + table + [""]
    if result.best:
        lines += prose(f"* recommended: {result.best} — {result.reason}")
    else:
        lines += prose(f"no recommendation: {result.reason}")
    if cpu:
        lines += prose("EST TOK/S: decoding speed on the CPU, estimated as memory bandwidth / bytes of weights "
                       "read per token; real speed is lower on busy or few cores.")
    if any(est.verdict == "partial" for est in result.estimates):
        lines += prose("partial offload runs the CPU's share of layers at CPU speed: expect it to be much slower.")
    return "\n".join(lines)
