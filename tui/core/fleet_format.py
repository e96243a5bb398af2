"""The fleet's figures as short texts, written once for the fleet screen and `r1tui fleet`.

Why apart from `tui.core.fleet`: polling and wording change for different reasons,
and the screen and the command must say the same thing the same way ("87 %",
"69.3/79.6 GiB", "—" for a figure the host does not report). Plain strings: the
screen styles them, the command prints them; every host-supplied text (names, versions,
error pages) is made inert, so no escape sequence reaches a terminal.
"""

from __future__ import annotations

from tui.core.engines import engine_label
from tui.core.fleet import HostRow, ModelRow
from tui.core.hardware import GpuSnapshot
from tui.core.sanitize import inert
from tui.core.units import format_gib

__all__ = ["NOT_REPORTED", "engine_text", "flag_text", "gpu_text", "load_text", "model_text", "state_text"]

NOT_REPORTED = "—"


def state_text(row: HostRow) -> str:
    """"reachable", "polling…" or the reason it is not reachable."""
    if row.reachable is None:
        return "polling…"
    return "reachable" if row.reachable else f"unreachable: {inert(row.error)}"


def engine_text(row: HostRow) -> str:
    """"vLLM 0.16.0", "Ollama 0.12.6"; "" before the engine is known."""
    if not row.engine:
        return ""
    return " ".join(part for part in (engine_label(row.engine), inert(row.version)) if part)


def model_text(model: ModelRow) -> str:
    """"deepseek-r1:7b · 40%/60% CPU/GPU · ctx 4096" (max_model_len for the engines other than Ollama)."""
    parts = [inert(model.name)]
    if model.processor:
        parts.append(model.processor)
    if model.context_length:
        parts.append(f"ctx {model.context_length}")
    return " · ".join(parts)


def _count(value: int | None) -> str:
    return NOT_REPORTED if value is None else str(value)


def load_text(row: HostRow) -> str:
    """"2 running · 0 waiting · KV 12 % · 45.3 tok/s"; Ollama reports none of these."""
    if row.requests_running is None and row.requests_waiting is None and row.kv_cache_usage is None \
            and row.generation_tps is None:
        if row.engine == "ollama":
            return "Ollama reports no request queue, KV cache or tokens/s"
        return f"no load figures ({inert(row.metrics_error)})" if row.metrics_error else "no load figures"
    kv = NOT_REPORTED if row.kv_cache_usage is None else f"{row.kv_cache_usage * 100:.0f} %"
    tps = NOT_REPORTED if row.generation_tps is None else f"{row.generation_tps:.1f}"
    return (f"{_count(row.requests_running)} running · {_count(row.requests_waiting)} waiting · "
            f"KV {kv} · {tps} tok/s")


def gpu_text(gpu: GpuSnapshot) -> str:
    """"GPU0 NVIDIA H100 80GB HBM3 · 87 % · 69.3/79.6 GiB · 512 W · 64 °C"."""
    util = NOT_REPORTED if gpu.utilization_percent is None else f"{gpu.utilization_percent:.0f} %"
    vram = (f"{format_gib(gpu.vram_used_bytes, unit=False)}/{format_gib(gpu.vram_total_bytes)}"
            if gpu.vram_total_bytes else NOT_REPORTED)
    power = NOT_REPORTED if gpu.power_watts is None else f"{gpu.power_watts:.0f} W"
    temp = NOT_REPORTED if gpu.temperature_c is None else f"{gpu.temperature_c:.0f} °C"
    return f"GPU{gpu.index} {inert(gpu.name)} · {util} · {vram} · {power} · {temp}"


def flag_text(flag: str) -> str:
    """"⚠ GPU0 memory 98% full" (a flag may name a model: made inert)."""
    return f"⚠ {inert(flag)}"
