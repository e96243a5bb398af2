"""Will this model run on this machine's GPU at this context? A pure estimate.

Why an estimate and not Ollama's answer: the user decides before pulling
20 GB, when the server cannot tell yet. The model follows Ollama's own
accounting (llm/memory.go), simplified:

    weights (the file) + KV cache + compute graph + per-GPU runtime overhead

compared with the GPUs' free VRAM (total minus what other processes hold).
Calibrated against the reference's rules of thumb (at 4096 context, f16
cache: 7b ≈ 5.3 GiB, 14b ≈ 9.9, 32b ≈ 20.3, 70b ≈ 41.8) and pinned by
tests/test_fit.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Sequence

from tui.core.catalog import Architecture, CatalogEntry, normalize_tag
from tui.core.units import GIB  # noqa: F401 - fit's callers import it from here

__all__ = ["ASSUMED_CPU_BANDWIDTH", "BATCH", "GIB", "CPU_HEADROOM_MIN_BYTES", "CPU_HEADROOM_SHARE", "GPU_OVERHEAD_BYTES",
           "KV_BYTES_PER_ELEMENT", "KV_CACHE_TYPES", "MIB", "MOE_ACTIVE_SHARE", "TYPICAL_VOCAB",
           "USABLE_TOKENS_PER_SECOND", "VERDICTS", "VERDICT_LABELS", "CpuRecommendation", "Estimate",
           "Recommendation", "bytes_read_per_token", "context_label", "cpu_headroom_bytes", "cpu_tokens_per_second",
           "estimate", "free_vram_for", "graph_bytes", "kv_cache_bytes", "recommend", "recommend_for_cpu",
           "recommend_usable"]

MIB = 1024**2

Verdict = Literal["gpu", "partial", "cpu", "none"]
VERDICTS: tuple[Verdict, ...] = ("gpu", "partial", "cpu", "none")
VERDICT_LABELS: dict[str, str] = {
    "gpu": "fits on GPU",
    "partial": "partial offload",
    "cpu": "CPU only",
    "none": "does not fit",
}

# Bytes per cached element for OLLAMA_KV_CACHE_TYPE; the quantized types carry
# a small per-block scale, hence not exactly 1 and 0.5.
KV_BYTES_PER_ELEMENT: dict[str, float] = {"f16": 2.0, "q8_0": 1.0625, "q4_0": 0.5625}
KV_CACHE_TYPES: tuple[str, ...] = tuple(KV_BYTES_PER_ELEMENT)  # the values OLLAMA_KV_CACHE_TYPE takes

# What the CUDA runtime and Ollama's runner reserve on every GPU they use
# before any tensor: Ollama's own figure for CUDA (457 MiB), inside the
# reference's 0.3–0.5 GB.
GPU_OVERHEAD_BYTES = 457 * MIB
# llama.cpp's prompt-processing batch; the compute graph scales with it.
BATCH = 512
# Where an architecture's vocabulary is unknown: Qwen2's, the family's largest.
TYPICAL_VOCAB = 152_064


@dataclass(frozen=True)
class Estimate:
    """One model at one context on one machine.

    `cpu_layer_share` is the fraction of layers left on the CPU (0 when fully
    on GPU, 1 when CPU only): a partial offload runs at roughly CPU speed for
    that share, which is what a user needs to hear before pulling.
    """

    tag: str
    weights_bytes: int
    kv_bytes: int
    graph_bytes: int
    overhead_bytes: int
    verdict: Verdict
    layers: int
    gpu_layers: int
    gpus_used: int

    @property
    def total_bytes(self) -> int:
        """Memory the model takes when loaded: what to compare with `ollama ps`."""
        return self.weights_bytes + self.kv_bytes + self.graph_bytes + self.overhead_bytes

    @property
    def total_gib(self) -> float:
        return self.total_bytes / GIB

    @property
    def cpu_layer_share(self) -> float:
        return (self.layers - self.gpu_layers) / self.layers if self.layers else 1.0

    @property
    def label(self) -> str:
        if self.verdict == "partial":
            return f"partial, {self.cpu_layer_share:.0%} of layers on CPU"
        return VERDICT_LABELS[self.verdict]


def kv_cache_bytes(arch: Architecture, ctx: int, kv_cache: str = "f16") -> int:
    """2 (K and V) × layers × context × KV heads × head dim × bytes per element."""
    per_element = KV_BYTES_PER_ELEMENT[kv_cache]
    return int(2 * arch.layers * ctx * arch.kv_heads * arch.head_dim * per_element)


def graph_bytes(arch: Architecture, ctx: int) -> int:
    """Scratch memory for one batch, after Ollama's GraphSize for llama-like models.

    The larger of the output logits (batch × (embedding + vocab) floats) and
    the attention scores (batch × context × heads floats): the latter is what
    makes long contexts cost more than the KV cache alone. Flash attention
    shrinks it; ignoring that errs on the side of "won't fit".
    """
    vocab = arch.vocab_size or TYPICAL_VOCAB
    logits = 4 * BATCH * (arch.embedding_length + vocab)
    attention = 4 * BATCH * (1 + 2 * arch.embedding_length + ctx * (1 + arch.heads))
    return max(logits, attention)


def _gpus_needed(need: int, free: Sequence[int]) -> int | None:
    """How many GPUs (largest free first) hold `need` bytes after their overhead; None if all can't."""
    capacity = 0
    for count, free_bytes in enumerate(sorted(free, reverse=True), start=1):
        capacity += max(0, free_bytes - GPU_OVERHEAD_BYTES)
        if need <= capacity:
            return count
    return None


def estimate(entry: CatalogEntry, ctx: int, *, gpu_free_bytes: Sequence[int] = (),
             ram_bytes: int, kv_cache: str = "f16") -> Estimate:
    """Place one model: all on GPU, split by layers, CPU only, or nowhere.

    Several GPUs add up, each minus its own overhead; a model that fits on
    one GPU uses one, as Ollama does. On a split, the GPUs take whole layers
    and the rest (with a CPU-side graph) must fit in RAM.
    """
    if ctx <= 0:
        raise ValueError("context length must be positive")
    arch = entry.architecture
    weights = entry.download_bytes
    kv = kv_cache_bytes(arch, ctx, kv_cache)
    graph = graph_bytes(arch, ctx)
    need = weights + kv + graph
    free = [int(f) for f in gpu_free_bytes if f > 0]

    def result(verdict: Verdict, gpu_layers: int, gpus_used: int) -> Estimate:
        return Estimate(entry.tag, weights, kv, graph, GPU_OVERHEAD_BYTES * max(1, gpus_used), verdict,
                        arch.layers, gpu_layers, gpus_used)

    used = _gpus_needed(need, free) if free else None
    if used is not None:
        return result("gpu", arch.layers, used)
    if free:
        capacity = sum(max(0, f - GPU_OVERHEAD_BYTES) for f in free) - graph
        per_layer = (weights + kv) / arch.layers
        gpu_layers = max(0, min(arch.layers - 1, math.floor(capacity / per_layer))) if capacity > 0 else 0
        if gpu_layers > 0:
            on_cpu = (arch.layers - gpu_layers) * per_layer + graph
            if on_cpu <= ram_bytes:
                return result("partial", gpu_layers, len(free))
    if need <= ram_bytes:
        return result("cpu", 0, 0)
    return result("none", 0, 0)


def free_vram_for(model: str, gpu_free_bytes: Sequence[int], loaded: Iterable[Any] = (),
                  gpu_total_bytes: Sequence[int] | None = None) -> list[int]:
    """Free VRAM per GPU as `model` would find it: its own loaded memory counts as free.

    NVML's free VRAM is total minus used, and "used" includes a model the server
    has already loaded; judged against that, a loaded 7b on an 8 GiB card looks
    like it no longer fits itself. `loaded` is `/api/ps`'s rows (anything with
    `name` and `size_vram`, e.g. backend.LoadedModel); only rows naming `model`
    count. Where the GPUs' totals are given, that memory goes back to each GPU
    in proportion to what it has in use (Ollama splits a model over the GPUs it
    uses), never past a GPU's total; without them it is split evenly.
    """
    free = [int(f) for f in gpu_free_bytes]
    wanted = normalize_tag(model)
    own = sum(int(getattr(row, "size_vram", 0) or 0) for row in loaded
              if normalize_tag(str(getattr(row, "name", ""))) == wanted)
    if own <= 0 or not free:
        return free
    if gpu_total_bytes is not None and len(gpu_total_bytes) == len(free):
        used = [max(0, int(total) - f) for total, f in zip(gpu_total_bytes, free)]
        in_use = sum(used)
        if in_use <= 0:
            return free
        return [f + min(u, own * u // in_use) for f, u in zip(free, used)]
    share, rest = divmod(own, len(free))
    return [f + share + (1 if i < rest else 0) for i, f in enumerate(free)]


@dataclass(frozen=True)
class Recommendation:
    """The pick and why, plus every estimate it was chosen from (in the order given)."""

    best: str | None
    reason: str
    estimates: tuple[Estimate, ...]
    on_gpu: bool


def context_label(ctx: int) -> str:
    """8192 → "8k": how users say context sizes."""
    return f"{ctx // 1024}k" if ctx % 1024 == 0 else str(ctx)


def recommend(entries: Iterable[CatalogEntry], ctx: int, *, gpu_free_bytes: Sequence[int] = (),
              ram_bytes: int, kv_cache: str = "f16", no_gpu_reason: str | None = None,
              loaded: Sequence[Any] = (), gpu_total_bytes: Sequence[int] | None = None) -> Recommendation:
    """The largest default tag that fits fully on the GPU(s), with a one-line reason.

    Only default tags compete (a user asks "which size"), compared by
    parameter count. Without a GPU, the same rule runs against RAM and the
    reason says so: a CPU-only pick is still a useful answer, just a slow one.
    A model in `loaded` (`/api/ps` rows) is judged with its own memory counted
    as free (see `free_vram_for`).
    """
    entries = list(entries)
    estimates = tuple(estimate(e, ctx, gpu_free_bytes=free_vram_for(e.tag, gpu_free_bytes, loaded, gpu_total_bytes),
                               ram_bytes=ram_bytes, kv_cache=kv_cache)
                      for e in entries)
    on_gpu = any(f > 0 for f in gpu_free_bytes)
    wanted: Verdict = "gpu" if on_gpu else "cpu"
    candidates = [(entry, est) for entry, est in zip(entries, estimates) if entry.default and est.verdict == wanted]
    best = max(candidates, key=lambda pair: pair[0].parameter_count, default=None)
    at = f"at {context_label(ctx)} context"
    if on_gpu:
        vram = sum(f for f in gpu_free_bytes if f > 0) / GIB
        gpus = sum(1 for f in gpu_free_bytes if f > 0)
        where = f"{vram:.1f} GiB" + (f" free on {gpus} GPUs" if gpus > 1 else "")
        if best is not None:
            reason = f"largest that fits fully in {where} {at}"
        else:
            reason = f"no size fits fully in {where} {at}; try a shorter context or a quantized KV cache"
    else:
        ram = f"{ram_bytes / GIB:.1f} GiB of RAM"
        prefix = f"{no_gpu_reason or 'no GPU'}; recommending for CPU"
        if best is not None:
            reason = f"{prefix}: largest that fits in {ram} {at} (CPU only: expect a few tokens/s)"
        else:
            reason = f"{prefix}: no size fits in {ram} {at}"
    return Recommendation(best[0].tag if best else None, reason, estimates, on_gpu)


# -- without a GPU: what is usable, not only what fits ------------------------------------

# Decode is memory-bound: each new token reads every weight once, so
# tokens/s ≈ memory bandwidth / bytes of weights read per token. Machines
# differ (one DDR4 channel ≈ 20 GB/s, a dual-channel desktop 40–60, a
# many-channel server well over 100), and a small VM's couple of cores rarely
# reach even its memory's peak; hence a conservative assumption, said as one,
# that the user may replace with their own figure.
ASSUMED_CPU_BANDWIDTH = 20e9  # bytes/s
# Below this a reasoning model, which writes hundreds of tokens of thought
# before answering, keeps the user waiting minutes for every answer.
USABLE_TOKENS_PER_SECOND = 5.0
# RAM left to the OS, the shell and the page cache besides the model (whose
# estimate already holds its KV cache): the larger of a floor and a share.
CPU_HEADROOM_MIN_BYTES = 2 * GIB
CPU_HEADROOM_SHARE = 0.10
# DeepSeek-V3/R1 is a mixture of experts: 37B of its 671B parameters are read per token.
MOE_ACTIVE_SHARE: dict[str, float] = {"deepseek2": 37 / 671}


def cpu_headroom_bytes(ram_bytes: int) -> int:
    """RAM a CPU-only recommendation leaves free for everything else."""
    return max(CPU_HEADROOM_MIN_BYTES, int(ram_bytes * CPU_HEADROOM_SHARE))


def bytes_read_per_token(entry: CatalogEntry) -> int:
    """The weights one decoding step reads: all of them for a dense model, the active experts' for MoE."""
    return int(entry.download_bytes * MOE_ACTIVE_SHARE.get(entry.architecture.family, 1.0))


def cpu_tokens_per_second(entry: CatalogEntry, bandwidth: float = ASSUMED_CPU_BANDWIDTH) -> float:
    """Decode speed on the CPU, from memory bandwidth (bytes/s): an estimate, an upper bound in practice."""
    return bandwidth / max(1, bytes_read_per_token(entry))


@dataclass(frozen=True)
class CpuRecommendation(Recommendation):
    """A CPU-only pick: the largest size that fits with headroom *and* decodes at a usable speed.

    `tokens_per_second` has one estimate per entry (in the order given);
    `bandwidth` is the memory bandwidth they assume (bytes/s), `bandwidth_given`
    whether the user gave it; `usable_ram_bytes` is RAM minus the headroom.
    """

    tokens_per_second: tuple[float, ...] = ()
    bandwidth: float = ASSUMED_CPU_BANDWIDTH
    bandwidth_given: bool = False
    usable_ram_bytes: int = 0
    min_tokens_per_second: float = USABLE_TOKENS_PER_SECOND


def recommend_for_cpu(entries: Iterable[CatalogEntry], ctx: int, *, ram_bytes: int, kv_cache: str = "f16",
                      bandwidth: float | None = None, min_tokens_per_second: float = USABLE_TOKENS_PER_SECOND,
                      no_gpu_reason: str | None = None) -> CpuRecommendation:
    """Without a GPU, the largest default tag that fits in RAM minus headroom and reaches
    `min_tokens_per_second` at `bandwidth` (None: the conservative assumption).

    "Largest that fits" alone is a trap on CPU: a 32b that squeezes into 22 GiB
    decodes at well under 1 token/s. When nothing fitting is fast enough, the
    fastest that fits is named with the expected speed; when nothing fits,
    nothing is.
    """
    entries = list(entries)
    given = bandwidth is not None and bandwidth > 0
    bandwidth = float(bandwidth) if given else ASSUMED_CPU_BANDWIDTH
    usable = max(0, ram_bytes - cpu_headroom_bytes(ram_bytes))
    estimates = tuple(estimate(e, ctx, ram_bytes=usable, kv_cache=kv_cache) for e in entries)
    speeds = tuple(cpu_tokens_per_second(e, bandwidth) for e in entries)
    fitting = [(entry, est, speed) for entry, est, speed in zip(entries, estimates, speeds)
               if entry.default and est.verdict == "cpu"]
    fast = [item for item in fitting if item[2] >= min_tokens_per_second]
    at = f"at {context_label(ctx)} context"
    ram = (f"{usable / GIB:.1f} GiB of RAM ({cpu_headroom_bytes(ram_bytes) / GIB:.1f} GiB of "
           f"{ram_bytes / GIB:.1f} kept free)")
    assumed = f"{bandwidth / 1e9:.0f} GB/s memory bandwidth" + ("" if given else " (assumed; --mem-bandwidth sets yours)")
    prefix = f"{no_gpu_reason or 'no GPU'}; recommending for CPU"
    if fast:
        entry, _, speed = max(fast, key=lambda item: item[0].parameter_count)
        reason = (f"{prefix}: largest that fits in {ram} {at} and reaches {min_tokens_per_second:g} tokens/s: "
                  f"about {speed:.0f} tokens/s at {assumed}")
        best: str | None = entry.tag
    elif fitting:
        entry, _, speed = max(fitting, key=lambda item: item[2])
        reason = (f"{prefix}: nothing that fits in {ram} reaches {min_tokens_per_second:g} tokens/s at {assumed}; "
                  f"the fastest is about {speed:.1f} tokens/s {at}")
        best = entry.tag
    else:
        reason = f"{prefix}: no size fits in {ram} {at}"
        best = None
    return CpuRecommendation(best, reason, estimates, False, tokens_per_second=speeds, bandwidth=bandwidth,
                             bandwidth_given=given, usable_ram_bytes=usable,
                             min_tokens_per_second=min_tokens_per_second)


def recommend_usable(entries: Iterable[CatalogEntry], ctx: int, *, gpu_free_bytes: Sequence[int] = (),
                     ram_bytes: int, kv_cache: str = "f16", no_gpu_reason: str | None = None,
                     cpu_bandwidth: float | None = None, loaded: Sequence[Any] = (),
                     gpu_total_bytes: Sequence[int] | None = None) -> Recommendation:
    """`recommend` on a GPU (a loaded model judged with its own VRAM, see `free_vram_for`);
    `recommend_for_cpu` without one. What screens and commands should call."""
    if any(f > 0 for f in gpu_free_bytes):
        return recommend(entries, ctx, gpu_free_bytes=gpu_free_bytes, ram_bytes=ram_bytes, kv_cache=kv_cache,
                         loaded=loaded, gpu_total_bytes=gpu_total_bytes)
    return recommend_for_cpu(entries, ctx, ram_bytes=ram_bytes, kv_cache=kv_cache, bandwidth=cpu_bandwidth,
                             no_gpu_reason=no_gpu_reason)
