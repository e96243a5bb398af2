"""How the chosen and the installed models fit this machine right now (the quick switch's verdicts,
the warning before the first prompt), from a hardware snapshot and the server's own figures."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from tui.core import catalog
from tui.core.backend import InstalledModel, LoadedModel
from tui.core.fit import Estimate, estimate, free_vram_for
from tui.core.hardware import HardwareSnapshot

__all__ = ["estimate_installed", "first_prompt_warning", "fit_verdicts"]


def estimate_installed(name: str, size: int | None, model_info: dict[str, Any] | None,
                       snapshot: HardwareSnapshot, ctx: int, loaded: Sequence[LoadedModel] = ()) -> Estimate | None:
    """How `name` fits this machine now at `ctx` tokens of context; None for tags outside the catalog.

    `loaded` is the server's `/api/ps`: a model already in VRAM is judged with its own memory
    counted as free (NVML counts it as used, and it would seem not to fit itself)."""
    entry = catalog.find(name)
    if entry is None:
        return None
    entry = catalog.with_server_figures(entry, model_info, size)
    free = free_vram_for(name, [g.vram_free_bytes for g in snapshot.gpus], loaded,
                         [g.vram_total_bytes for g in snapshot.gpus])
    return estimate(entry, ctx, gpu_free_bytes=free, ram_bytes=snapshot.memory.available_bytes)


def fit_verdicts(installed: Iterable[InstalledModel], snapshot: HardwareSnapshot, ctx: int,
                 loaded: Sequence[LoadedModel] = ()) -> dict[str, str]:
    """Each installed catalog tag's fit label ("fits", "partial 40% CPU", ...)."""
    verdicts = {}
    for model in installed:
        fit = estimate_installed(model.name, model.size, None, snapshot, ctx, loaded)
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
