"""How the chosen and the installed models fit this machine right now (the quick switch's verdicts,
the warning before the first prompt), from a hardware snapshot and the server's own figures."""

from __future__ import annotations

from typing import Any, Iterable

from tui.core import catalog
from tui.core.backend import InstalledModel
from tui.core.fit import Estimate, estimate
from tui.core.hardware import HardwareSnapshot

__all__ = ["estimate_installed", "first_prompt_warning", "fit_verdicts"]


def estimate_installed(name: str, size: int | None, model_info: dict[str, Any] | None,
                       snapshot: HardwareSnapshot, ctx: int) -> Estimate | None:
    """How `name` fits this machine now at `ctx` tokens of context; None for tags outside the catalog."""
    entry = catalog.find(name)
    if entry is None:
        return None
    entry = catalog.with_server_figures(entry, model_info, size)
    return estimate(entry, ctx, gpu_free_bytes=[g.vram_free_bytes for g in snapshot.gpus],
                    ram_bytes=snapshot.memory.available_bytes)


def fit_verdicts(installed: Iterable[InstalledModel], snapshot: HardwareSnapshot, ctx: int) -> dict[str, str]:
    """Each installed catalog tag's fit label ("fits", "partial 40% CPU", ...)."""
    verdicts = {}
    for model in installed:
        fit = estimate_installed(model.name, model.size, None, snapshot, ctx)
        if fit is not None:
            verdicts[model.name] = fit.label
    return verdicts


def first_prompt_warning(model: str, fit: Estimate, ctx: int, has_gpu: bool) -> str | None:
    """What to tell the user before the first prompt when `model` will not run fully on the GPU."""
    if fit.verdict == "partial":
        return (f"{model} will only partly fit on this GPU at {ctx} tokens of context: "
                f"{fit.cpu_layer_share:.0%} of its layers run on the CPU, so answers will be much slower. "
                "F3 lists models that fit.")
    if fit.verdict == "cpu" and has_gpu:
        return f"{model} does not fit in free VRAM: it will run on the CPU, much slower. F3 lists models that fit."
    if fit.verdict == "none":
        return f"{model} needs about {fit.total_gib:.0f} GiB: more than this machine's free memory."
    return None
