"""An engine's live load from its Prometheus `/metrics`: requests running and waiting, KV-cache use, tokens/s.

Why: on vLLM, SGLang and llama.cpp the question "is the server busy, is its KV cache
full?" is answered by the engine itself, not by the GPU figures. Parsed with
`prometheus_client`'s own text parser; the metric names are the engines' own:

- vLLM: `vllm:num_requests_running`, `vllm:num_requests_waiting`,
  `vllm:kv_cache_usage_perc` (older: `vllm:gpu_cache_usage_perc`), tokens/s from
  the rise of `vllm:generation_tokens_total` between two reads;
- SGLang: `sglang:num_running_reqs`, `sglang:num_queue_reqs`, `sglang:token_usage`,
  `sglang:gen_throughput`;
- llama.cpp: `llamacpp:requests_processing`, `llamacpp:requests_deferred`,
  `llamacpp:predicted_tokens_seconds` (served only with `--metrics`: a 501 says so).

Every figure is summed over the engine's label sets (one per model or DP rank);
a figure the engine does not report is None, never a made-up zero.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import httpx

__all__ = ["EngineLoad", "EngineLoadReader", "parse_engine_metrics"]

# engine -> figure -> metric names to try, in order (the first one present wins)
_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "vllm": {
        "running": ("vllm:num_requests_running",),
        "waiting": ("vllm:num_requests_waiting",),
        "kv": ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        "generated": ("vllm:generation_tokens_total",),
    },
    "sglang": {
        "running": ("sglang:num_running_reqs",),
        "waiting": ("sglang:num_queue_reqs",),
        "kv": ("sglang:token_usage",),
        "tps": ("sglang:gen_throughput",),
    },
    "llama.cpp": {
        "running": ("llamacpp:requests_processing",),
        "waiting": ("llamacpp:requests_deferred",),
        "kv": ("llamacpp:kv_cache_usage_ratio",),  # older builds only
        "tps": ("llamacpp:predicted_tokens_seconds",),
        "generated": ("llamacpp:tokens_predicted_total",),
    },
}


@dataclass(frozen=True)
class EngineLoad:
    """One read of an engine's metrics. `problem` says why figures are missing, for the user."""

    requests_running: int | None = None
    requests_waiting: int | None = None
    kv_cache_usage: float | None = None  # 0-1
    generation_tps: float | None = None
    generated_total: float | None = None
    problem: str = ""


def _sums(text: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families  # only engines with /metrics need it

    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            sums[sample.name] = sums.get(sample.name, 0.0) + float(sample.value)
    return sums


def parse_engine_metrics(text: str, engine: str) -> EngineLoad:
    """The figures in one `/metrics` page (tokens/s only where the engine reports a rate itself).

    Raises ValueError when the page is not Prometheus text.
    """
    sums = _sums(text)
    names = _NAMES.get(engine, {})

    def first(figure: str) -> float | None:
        return next((sums[name] for name in names.get(figure, ()) if name in sums), None)

    running, waiting, kv, tps, generated = (first(f) for f in ("running", "waiting", "kv", "tps", "generated"))
    return EngineLoad(
        requests_running=int(running) if running is not None else None,
        requests_waiting=int(waiting) if waiting is not None else None,
        kv_cache_usage=min(max(kv, 0.0), 1.0) if kv is not None else None,
        generation_tps=tps,
        generated_total=generated,
    )


class EngineLoadReader:
    """Reads an engine's `/metrics` again and again; tokens/s from counter rises where no rate is reported."""

    def __init__(self, http: httpx.AsyncClient, engine: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.engine = engine
        self._clock = clock
        self._last: tuple[float, float] | None = None  # (time, generated_total)

    async def read(self) -> EngineLoad:
        """One read; failures come back as an EngineLoad whose `problem` says what went wrong."""
        if self.engine not in _NAMES:
            return EngineLoad(problem=f"{self.engine} has no metrics r1tui knows")
        import httpx

        try:
            response = await self.http.get("/metrics")
        except httpx.HTTPError as exc:
            return EngineLoad(problem=f"/metrics did not answer ({type(exc).__name__})")
        if response.status_code == 501 and self.engine == "llama.cpp":
            return EngineLoad(problem="llama-server serves /metrics only when started with --metrics")
        if response.status_code != 200:
            return EngineLoad(problem=f"/metrics answered {response.status_code}")
        try:
            load = parse_engine_metrics(response.text, self.engine)
        except ValueError:
            return EngineLoad(problem="/metrics is not Prometheus text")
        now = self._clock()
        if load.generation_tps is None and load.generated_total is not None:
            previous, self._last = self._last, (now, load.generated_total)
            if previous is not None and now > previous[0]:
                rise = max(load.generated_total - previous[1], 0.0)
                load = EngineLoad(load.requests_running, load.requests_waiting, load.kv_cache_usage,
                                  rise / (now - previous[0]), load.generated_total)
        return load
