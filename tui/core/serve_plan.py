"""Which distill a vLLM or SGLang deployment can serve, and the command that launches it.

Why: users who outgrow Ollama move to an engine that spreads one model over many
GPUs, and the first question is "on 4×80 GB, which distill, with which
`--tensor-parallel-size` and `--max-model-len`?". The arithmetic is the Ollama
fit's (`tui.core.fit.kv_cache_bytes`), on BF16 weights (2 bytes per parameter):

- tensor parallelism splits weights and KV heads over the GPUs of one node; its
  size must divide the attention heads (vLLM refuses otherwise), and beyond the
  KV-head count KV heads are replicated, not split;
- pipeline parallelism splits the layers over nodes, used only when one node is
  not enough;
- each GPU gives `--gpu-memory-utilization` of its memory (vLLM's default 0.9),
  minus the CUDA context and activations, to weights and KV cache; at least one
  full sequence of `--max-model-len` tokens must fit in the cache. The smallest
  split that leaves room for a few full sequences at once is preferred (an engine
  with room for one request at a time is an engine that queues).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from tui.core.catalog import CatalogEntry, default_entries
from tui.core.fit import GPU_OVERHEAD_BYTES, graph_bytes, kv_cache_bytes
from tui.core.units import GIB

__all__ = ["DEFAULT_MAX_MODEL_LEN", "DEFAULT_UTILIZATION", "ServePlan", "hf_repo", "launch_command", "plan_serving",
           "serveable_entries"]

DEFAULT_MAX_MODEL_LEN = 32768  # what DeepSeek's model card serves the distills with
DEFAULT_UTILIZATION = 0.90  # vLLM's --gpu-memory-utilization default
COMFORTABLE_SEQUENCES = 4  # full-length requests the KV cache should hold at once, when it can
BF16_BYTES = 2
_TP_SIZES = (1, 2, 4, 8)
# The 8b size tag is the newer Qwen3 build, published under its own name.
_REPOS = {"DeepSeek-R1-0528-Qwen3-8B": "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B"}


def hf_repo(entry: CatalogEntry) -> str:
    """The Hugging Face repository an engine loads for this distill."""
    return _REPOS.get(entry.base_model, f"deepseek-ai/{entry.base_model}")


def serveable_entries() -> list[CatalogEntry]:
    """The distills (the size tags, without the 671B MoE, which no node of this kind holds in BF16)."""
    return [e for e in default_entries() if "Distill" in e.base_model or "Qwen3" in e.base_model]


@dataclass(frozen=True)
class ServePlan:
    """One distill on the given GPUs: how to split it and whether it fits."""

    entry: CatalogEntry
    tensor_parallel: int
    pipeline_parallel: int
    max_model_len: int
    weights_bytes: int
    per_gpu_need_bytes: int
    per_gpu_budget_bytes: int
    fits: bool
    reason: str

    @property
    def repo(self) -> str:
        return hf_repo(self.entry)

    @property
    def gpus(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel


def _per_gpu_need(entry: CatalogEntry, tp: int, pp: int, max_model_len: int, sequences: int = 1) -> int:
    arch = entry.architecture
    weights = entry.parameter_count * BF16_BYTES
    # KV heads split over tp, replicated once tp exceeds them; layers split over pp.
    kv_heads_per_gpu = math.ceil(arch.kv_heads / tp)
    kv_one_sequence = kv_cache_bytes(arch, max_model_len) * kv_heads_per_gpu // arch.kv_heads
    activations = graph_bytes(arch, min(max_model_len, 8192)) // tp
    return weights // (tp * pp) + sequences * kv_one_sequence // pp + activations


def _plan_one(entry: CatalogEntry, gpus_per_node: int, gpu_bytes: int, nodes: int, max_model_len: int,
              utilization: float) -> ServePlan:
    budget = int(gpu_bytes * utilization) - GPU_OVERHEAD_BYTES
    weights = entry.parameter_count * BF16_BYTES
    sizes = [tp for tp in _TP_SIZES if tp <= gpus_per_node and entry.architecture.heads % tp == 0]
    if max_model_len > entry.architecture.context_length:
        return ServePlan(entry, 1, 1, max_model_len, weights, 0, budget, False,
                         f"its native context is {entry.architecture.context_length:,} tokens")
    best_need = 0
    splits = [(tp, pp) for pp in range(1, nodes + 1) for tp in sizes]
    for sequences in (COMFORTABLE_SEQUENCES, 1):
        for tp, pp in splits:
            need = _per_gpu_need(entry, tp, pp, max_model_len)
            best_need = need
            if _per_gpu_need(entry, tp, pp, max_model_len, sequences) <= budget:
                where = f"{tp} GPU{'s' if tp > 1 else ''}" + (f" on each of {pp} nodes" if pp > 1 else "")
                room = "room for several full-length requests" if sequences > 1 else "room for one full-length request"
                return ServePlan(entry, tp, pp, max_model_len, weights, need, budget, True,
                                 f"needs {need / GIB:.1f} GiB per GPU of {budget / GIB:.1f} GiB usable, on {where} "
                                 f"({room})")
    tp = sizes[-1] if sizes else 1
    return ServePlan(entry, tp, nodes, max_model_len, weights, best_need, budget, False,
                     f"needs {best_need / GIB:.1f} GiB per GPU even split {tp * nodes} ways; "
                     f"{budget / GIB:.1f} GiB usable")


def plan_serving(gpus_per_node: int, gpu_bytes: int, *, nodes: int = 1, max_model_len: int = DEFAULT_MAX_MODEL_LEN,
                 utilization: float = DEFAULT_UTILIZATION,
                 entries: Iterable[CatalogEntry] | None = None) -> tuple[list[ServePlan], ServePlan | None]:
    """Every distill's plan, smallest first, and the largest one that fits (None when none does)."""
    plans = [_plan_one(e, gpus_per_node, gpu_bytes, nodes, max_model_len, utilization)
             for e in (entries if entries is not None else serveable_entries())]
    fitting = [p for p in plans if p.fits]
    best = max(fitting, key=lambda p: p.entry.parameter_count) if fitting else None
    return plans, best


def launch_command(plan: ServePlan, engine: str = "vllm", utilization: float = DEFAULT_UTILIZATION) -> str:
    """The command that serves this plan, reasoning split on (so r1tui shows reasoning beside the answer)."""
    if engine == "sglang":
        parts = ["python -m sglang.launch_server", f"--model-path {plan.repo}",
                 f"--tp {plan.tensor_parallel * plan.pipeline_parallel}", f"--context-length {plan.max_model_len}",
                 "--reasoning-parser deepseek-r1", f"--mem-fraction-static {utilization:.2f}"]
        if plan.pipeline_parallel > 1:
            parts += [f"--nnodes {plan.pipeline_parallel}", "--node-rank 0", "--dist-init-addr HEAD_NODE_IP:50000"]
        return " ".join(parts)
    parts = ["vllm serve", plan.repo, f"--tensor-parallel-size {plan.tensor_parallel}"]
    if plan.pipeline_parallel > 1:
        parts += [f"--pipeline-parallel-size {plan.pipeline_parallel}", "--distributed-executor-backend ray"]
    parts += [f"--max-model-len {plan.max_model_len}", "--reasoning-parser deepseek_r1",
              f"--gpu-memory-utilization {utilization:.2f}"]
    return " ".join(parts)
