"""The truth about context: how much of it a turn used, what a length cut means, and `num_ctx = "auto"`.

Why this matters for R1: a long reasoning fills the context silently. Ollama then
stops with `done_reason: "length"` (or drops the oldest messages of the next prompt),
and the answer looks finished when it was cut. The figures here come from the
server's own counts: the context a turn used is `prompt_eval_count + eval_count`
(on OpenAI-compatible engines `usage.prompt_tokens + usage.completion_tokens`), and
its size the `num_ctx` sent or the loaded `context_length` in `/api/ps`
(`max_model_len` elsewhere).

`num_ctx = "auto"` picks the largest context that keeps the model fully on the
GPU, from the fit estimator (`tui.core.fit`) and the VRAM free now, within the
model's native length and never below 4,096: a context the user never has to
think about, said in the panel with the reason it was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from tui.core import catalog
from tui.core.fit import GIB, estimate, free_vram_for

__all__ = ["AUTO", "CONTEXT_FLOOR", "CONTEXT_STEP", "FULL_SHARE", "VRAM_MARGIN", "ContextChoice", "ContextUsage", "auto_context",
           "choose_context", "length_cut_text", "memory_at"]

AUTO = "auto"
CONTEXT_FLOOR = 4096  # never less: a short R1 reasoning alone takes a few thousand tokens
CONTEXT_STEP = 1024  # auto contexts are whole multiples of this
FULL_SHARE = 0.9  # past this share of the context in use, the user is warned
VRAM_MARGIN = 0.05  # of the free VRAM, kept back: the estimate is an estimate, and the desktop grows


@dataclass(frozen=True)
class ContextUsage:
    """A turn's context in use against the context size, as the server counted it."""

    used: int
    size: int

    @classmethod
    def of(cls, stats: Any, size: int) -> "ContextUsage | None":
        """From a turn's GenerationStats and its context size; None when either is unknown."""
        if stats is None or size <= 0:
            return None
        used = int(getattr(stats, "prompt_eval_count", 0) or 0) + int(getattr(stats, "eval_count", 0) or 0)
        return cls(used, size) if used > 0 else None

    @property
    def share(self) -> float:
        return self.used / self.size if self.size else 0.0

    @property
    def label(self) -> str:
        return f"ctx {self.used:,} / {self.size:,}"

    @property
    def nearly_full(self) -> bool:
        return self.share >= FULL_SHARE

    def warning(self) -> str | None:
        """Past 90 %: what will happen, and what to do about it."""
        if not self.nearly_full:
            return None
        if self.used > self.size:
            return ("the context overflowed: the server dropped the start of the conversation (or of the "
                    "reasoning) to go on, so the model no longer sees all of it — start a new chat (Ctrl+N) or "
                    "raise num_ctx (F7)")
        return (f"context {self.share:.0%} full: the next prompt may push the start of this conversation out "
                "of the model's memory, or cut its reasoning short — start a new chat (Ctrl+N) or raise num_ctx "
                "(F7)")


def memory_at(model: str, ctx: int, model_info: dict[str, Any] | None = None, size: int | None = None) -> float | None:
    """GiB the model takes loaded at `ctx` tokens of context (fit estimator); None outside the catalog."""
    entry = catalog.find(model)
    if entry is None:
        return None
    entry = catalog.with_server_figures(entry, model_info, size)
    return estimate(entry, ctx, ram_bytes=1 << 62).total_bytes / GIB


def length_cut_text(size: int, model: str = "", model_info: dict[str, Any] | None = None,
                    model_size: int | None = None, answered: bool = True) -> str:
    """The mark of a reply the server cut at the length limit, with the remedy and its memory cost."""
    what = "the answer is incomplete" if answered else "the reasoning was cut before any answer"
    if size <= 0:
        return f"cut off at the length limit: {what} — raise num_ctx (F7) and press Ctrl+R"
    larger = size * 2
    cost = ""
    now, then = memory_at(model, size, model_info, model_size), memory_at(model, larger, model_info, model_size)
    if now is not None and then is not None:
        cost = f" (+{then - now:.2f} GiB: {then:.1f} GiB loaded)"
    return (f"cut off at the length limit (ctx {size:,}): {what} — num_ctx = {larger:,}{cost} would leave room; "
            "set it in F7 and press Ctrl+R")


@dataclass(frozen=True)
class ContextChoice:
    """The context a chat sends, and why (shown in the panel)."""

    ctx: int
    reason: str
    auto: bool = True
    setting: str = "num_ctx"  # "max_model_len" on an engine whose context is fixed at launch

    @property
    def label(self) -> str:
        return f"{self.setting} {self.ctx:,} ({'auto: ' if self.auto else ''}{self.reason})"


def auto_context(model: str, *, gpu_free_bytes: Sequence[int], native: int = 0, model_info: dict[str, Any] | None = None,
                 size: int | None = None, loaded: Sequence[Any] = (), gpu_total_bytes: Sequence[int] | None = None,
                 kv_cache: str = "f16") -> ContextChoice:
    """The largest context (a multiple of 1,024) that keeps `model` fully on the GPU, within its native
    length, never below 4,096. The model's own loaded memory counts as free (`free_vram_for`)."""
    entry = catalog.find(model)
    arch_native = catalog.architecture_from_model_info(model_info or {})
    native = native or (arch_native.context_length if arch_native else 0) or (
        entry.architecture.context_length if entry else 0) or CONTEXT_FLOOR
    if entry is None:
        return ContextChoice(CONTEXT_FLOOR, "not in r1tui's catalog: the floor")
    if not any(f > 0 for f in gpu_free_bytes):
        return ContextChoice(CONTEXT_FLOOR, "no GPU seen: the floor")
    entry = catalog.with_server_figures(entry, model_info, size)
    free = [int(f * (1 - VRAM_MARGIN)) for f in free_vram_for(model, gpu_free_bytes, loaded, gpu_total_bytes)]

    def fits(ctx: int) -> bool:
        return estimate(entry, ctx, gpu_free_bytes=free, ram_bytes=1 << 62, kv_cache=kv_cache).verdict == "gpu"

    low, high = CONTEXT_FLOOR // CONTEXT_STEP, max(CONTEXT_FLOOR, native) // CONTEXT_STEP
    if not fits(low * CONTEXT_STEP):
        return ContextChoice(CONTEXT_FLOOR, "the model does not fit fully on the GPU even at the floor")
    while low < high:  # the largest step that fits: memory grows with the context
        middle = (low + high + 1) // 2
        if fits(middle * CONTEXT_STEP):
            low = middle
        else:
            high = middle - 1
    ctx = low * CONTEXT_STEP
    free_gib = sum(f for f in gpu_free_bytes if f > 0) / GIB
    if ctx >= native:
        return ContextChoice(ctx, f"the model's native length; fits in {free_gib:.1f} GiB free")
    return ContextChoice(ctx, f"largest that stays on the GPU with {free_gib:.1f} GiB free")


def choose_context(setting: int | str, model: str, **facts: Any) -> ContextChoice:
    """A number in the config wins; "auto" asks `auto_context` with the facts given (see its arguments)."""
    if isinstance(setting, int):
        return ContextChoice(setting, "set in config.toml", auto=False)
    return auto_context(model, **facts)
