"""The panel's engine section: which engine serves the chat, and its own load (vLLM, SGLang, llama.cpp).

Why apart from the hardware figures: on an engine that batches many users'
requests, the question "will my prompt wait, is the KV cache full?" is answered
by the engine's /metrics, not by the GPU. KV-cache use is a bar like VRAM's.
"""

from __future__ import annotations

from textual.content import Content

from tui.core.engine_metrics import EngineLoad
from tui.core.sanitize import inert

__all__ = ["engine_section"]


def _bar(fraction: float, width: int) -> Content:
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    style = "$error" if fraction >= 0.9 else "$warning" if fraction >= 0.7 else "$success"
    return Content.assemble((("█" * filled), style), ("░" * (width - filled), "dim"))


def engine_section(label: str, version: str, load: EngineLoad | None, compact: bool) -> Content | None:
    """None on Ollama (its models section says it all); else the engine's name, version and load."""
    if not label:
        return None
    head = Content.styled(f"{inert(label)} {inert(version)}".strip(), "bold")
    parts: list[Content | str] = []
    if load is None:
        parts.append(Content.styled("reading /metrics…", "dim"))
    elif load.problem:
        parts.append(Content.styled(inert(load.problem), "$warning"))
    else:
        if load.requests_running is not None or load.requests_waiting is not None:
            waiting = load.requests_waiting or 0
            parts.append(Content.assemble(f"{load.requests_running or 0} running · ",
                                          (f"{waiting} waiting", "$warning" if waiting else "")))
        if load.kv_cache_usage is not None:
            parts.append(Content.assemble("KV ", _bar(load.kv_cache_usage, 8 if compact else 16),
                                          f" {load.kv_cache_usage * 100:3.0f}%"))
        if load.generation_tps is not None:
            parts.append(f"{load.generation_tps:,.0f} tok/s (all requests)")
    if compact:
        return Content(" · ").join([head, *(p if isinstance(p, Content) else Content(p) for p in parts)])
    lines = [head, *(Content.assemble(" ", p) for p in parts)]
    return Content("\n").join(lines)
