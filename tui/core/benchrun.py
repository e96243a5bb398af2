"""Run one prompt on several models and measure each run: the core of `r1tui bench` and the compare view.

Figures come from two sources on purpose, as in `tui.core.metrics`:
- the client's clock: `ttft_s` (request sent → first thinking or content
  chunk), `think_s`, `total_s` (request sent → final chunk) and the
  reasoning/answer token counts (one stream chunk is one token);
- the server's final chunk: `load_s` (load_duration), `eval_count`,
  `eval_tps` (eval_count / eval_duration, what `ollama run --verbose` prints)
  and `prompt_eval_tps`.

`peak_vram_bytes` is the highest VRAM in use on this machine's GPUs (all
processes, summed over GPUs) sampled in a thread while the run streams. It
is None without an NVIDIA GPU, or when the server is remote (this machine's
GPUs would say nothing about it). Runs that overlap (concurrent mode) see the
same GPUs, so their peaks are shared, not per model.

`energy_j` is the GPUs' power draw (NVML, summed over GPUs) integrated over
the run, in joules, by the same sampling thread: on a GPU box the cost of an
answer is power as much as time. None where NVML reports no power (or no
GPU, or a remote server); it includes whatever else the GPUs were doing.

`correct` and `extracted` grade the answer against the prompt's reference
(`tui.core.grading`, off the event loop): None without a reference. A run
that failed or was stopped on a graded prompt gave no answer, so it counts
as not correct.

One model failing never stops the others: its `RunResult.error` says why and
the next model runs. Models run one after another by default (one GPU: the
figures of one do not disturb the other's), or all at once when asked.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from tui.core.backend import OllamaBackend

if TYPE_CHECKING:
    from tui.core.engines import Backend
from tui.core.conversation import Turn, TurnState
from tui.core.grading import Grade, grade_async
from tui.core.hardware import GpuSnapshot, NvmlReader
from tui.core.metrics import Clock, GenerationStats, TokenMeter
from tui.core.session import DeltaCallback, stream_turn
from tui.core.thinking_budget import ReasoningControl

__all__ = ["VRAM_SAMPLE_SECONDS", "Job", "ModelRun", "RunResult", "VramPeak", "plan", "run_bench"]

GpuReader = Callable[[], tuple[Sequence[GpuSnapshot], str | None]]
VRAM_SAMPLE_SECONDS = 0.25


# -- results ---------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    """One model's run of one prompt; numeric fields a failed run could not measure are 0."""

    model: str
    run: int = 1
    prompt: int = 1
    load_s: float = 0.0
    ttft_s: float = 0.0
    think_s: float = 0.0
    reasoning_tokens: int = 0
    answer_tokens: int = 0
    eval_count: int = 0
    eval_tps: float = 0.0
    prompt_eval_tps: float | None = None
    total_s: float = 0.0
    peak_vram_bytes: int | None = None
    error: str | None = None
    correct: bool | None = None
    extracted: str | None = None
    energy_j: float | None = None
    think_budget: int = 0  # reasoning tokens before the cut (0: none)
    thinking_cut: str | None = None  # "budget" / "answer_now" when the reasoning was cut
    loop_flagged: bool = False
    done_reason: str | None = None  # the server's: "length" means the answer was cut off
    context_used: int = 0  # prompt_eval_count + eval_count of the last request
    context_size: int = 0

    def to_json(self) -> dict[str, Any]:
        """The `r1tui bench --json` shape (a contract: keys may be added, never renamed)."""
        return {
            "model": self.model,
            "run": self.run,
            "load_s": round(self.load_s, 4),
            "ttft_s": round(self.ttft_s, 4),
            "think_s": round(self.think_s, 4),
            "reasoning_tokens": self.reasoning_tokens,
            "answer_tokens": self.answer_tokens,
            "eval_count": self.eval_count,
            "eval_tps": round(self.eval_tps, 3),
            "prompt_eval_tps": None if self.prompt_eval_tps is None else round(self.prompt_eval_tps, 3),
            "total_s": round(self.total_s, 4),
            "peak_vram_bytes": self.peak_vram_bytes,
            "error": self.error,
            "prompt": self.prompt,
            "correct": self.correct,
            "extracted": self.extracted,
            "energy_j": None if self.energy_j is None else round(self.energy_j, 2),
            "think_budget": self.think_budget,
            "thinking_cut": self.thinking_cut,
            "loop_flagged": self.loop_flagged,
            "done_reason": self.done_reason,
            "context_used": self.context_used,
            "context_size": self.context_size,
        }


# -- VRAM sampling ---------------------------------------------------------------------


class VramPeak:
    """Samples GPU memory and power in a thread until stopped; `peak` is the highest memory
    total seen, `energy_joules` the power integrated over the samples (trapezoids).

    A thread, not a task: NVML calls block, and the event loop is busy streaming.
    Without a reader one NVML session is opened on the sampling thread and
    closed when sampling stops. Energy is None when any sample lacked a power
    reading (a board that does not report it): a partial sum would understate it.
    """

    def __init__(self, reader: GpuReader | None = None, interval: float = VRAM_SAMPLE_SECONDS,
                 clock: Clock = time.monotonic) -> None:
        self._reader = reader
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak: int | None = None
        self._energy = 0.0
        self._power_known = True
        self._last_power: tuple[float, float] | None = None  # (time, watts)

    @property
    def energy_joules(self) -> float | None:
        if not self._power_known or self._last_power is None:
            return None
        return self._energy

    def _sample(self, read: GpuReader) -> None:
        try:
            gpus, _error = read()
        except Exception:  # noqa: BLE001 - a sampling failure must never fail the run it measures
            return
        if gpus:
            used = sum(gpu.vram_used_bytes for gpu in gpus)
            self.peak = used if self.peak is None else max(self.peak, used)
            self._add_power(gpus)

    def _add_power(self, gpus: Sequence[GpuSnapshot]) -> None:
        if any(gpu.power_watts is None for gpu in gpus):
            self._power_known = False
            return
        now, watts = self._clock(), sum(gpu.power_watts or 0.0 for gpu in gpus)
        if self._last_power is not None:
            then, before = self._last_power
            self._energy += (before + watts) / 2 * max(0.0, now - then)
        self._last_power = (now, watts)

    def _loop(self) -> None:
        owned = NvmlReader() if self._reader is None else None
        read: GpuReader = owned.read if owned is not None else self._reader  # type: ignore[assignment]
        try:
            self._sample(read)
            while not self._stop.wait(self._interval):
                self._sample(read)
            self._sample(read)  # the last moment counts: a short run may fit between two ticks
        finally:
            if owned is not None:
                owned.close()

    def start(self) -> "VramPeak":
        self._thread = threading.Thread(target=self._loop, name="vram-peak", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> int | None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        return self.peak


# -- one run -------------------------------------------------------------------------


@dataclass
class ModelRun:
    """One model answering one prompt: a `Turn` (text, state, error, server figures) and its meter.

    The compare view shows `turn` with the chat's own turn widget and reads
    `meter` live; `result()` gives the figures at any point, including for a run
    that was stopped halfway.
    """

    model: str
    prompt: str
    run: int = 1
    prompt_index: int = 1
    clock: Clock = time.monotonic
    gpu_reader: GpuReader | None = None
    sample_vram: bool = True
    peak_vram_bytes: int | None = None
    energy_j: float | None = None
    reference: str | None = None  # the prompt's reference answer: the run is graded against it
    label: str = ""  # how results name the model ("big:deepseek-ai/…" for another host's); default: model
    grade: Grade | None = None  # set by `grade_answer` once the run is over
    turn: Turn = field(init=False)
    meter: TokenMeter = field(init=False)
    sent: bool = field(init=False, default=False)  # the chat request went out: client timings mean something

    def __post_init__(self) -> None:
        self.turn = Turn(prompt=self.prompt, model=self.model, state=TurnState.QUEUED)
        self.meter = TokenMeter(clock=self.clock)

    @property
    def state(self) -> TurnState:
        return self.turn.state

    @property
    def name(self) -> str:
        """The model as shown and recorded: `label` (with its host) when set."""
        return self.label or self.model

    @property
    def finished(self) -> bool:
        return self.turn.finished

    @property
    def stats(self) -> GenerationStats | None:
        return self.turn.stats

    @property
    def messages(self) -> list[dict[str, str]]:
        return [{"role": "user", "content": self.prompt}]

    def skip(self) -> None:
        """Stopped before it started (the compare view's Stop on a queued column)."""
        if self.turn.state is TurnState.QUEUED:
            self.turn.state = TurnState.STOPPED

    async def execute(
        self,
        backend: OllamaBackend,
        *,
        options: dict[str, Any] | None = None,
        keep_alive: str | float | None = None,
        on_delta: DeltaCallback | None = None,
        control: ReasoningControl | None = None,
    ) -> RunResult:
        """Stream the reply through the one stream path; a BackendError ends in FAILED, never raises.

        Cancelling the task stops the run (state STOPPED) and closes the
        stream, so the server stops generating too; the cancellation propagates.
        """
        sampler: VramPeak | None = None

        def sent() -> None:
            nonlocal sampler
            self.sent = True
            if self.sample_vram and backend.is_local:
                sampler = VramPeak(self.gpu_reader).start()

        try:
            await stream_turn(backend, self.turn, self.messages, meter=self.meter, options=options,
                              keep_alive=keep_alive, on_delta=on_delta, on_sent=sent, control=control)
        finally:
            if sampler is not None:
                self.peak_vram_bytes = await asyncio.to_thread(sampler.stop)
                self.energy_j = sampler.energy_joules
        return self.result()

    async def grade_answer(self) -> Grade:
        """Grade the finished answer against `reference` (on a worker thread); kept in `grade`.

        A failed or stopped run on a graded prompt gave no answer: not correct.
        """
        if self.reference is not None and self.state is not TurnState.DONE:
            self.grade = Grade(False, None)
        elif self.reference is None and not self.turn.answer.strip():
            self.grade = Grade(None, None)
        else:
            self.grade = await grade_async(self.turn.answer, self.reference)
        return self.grade

    def result(self) -> RunResult:
        meter, stats = self.meter, self.stats
        total = 0.0
        if self.sent:
            end = meter.finished_at if meter.finished_at is not None else self.clock()
            total = end - meter.sent_at
        return RunResult(
            model=self.label or self.model,
            run=self.run,
            prompt=self.prompt_index,
            load_s=stats.load_seconds if stats else 0.0,
            ttft_s=meter.ttft_seconds or 0.0,
            think_s=meter.think_seconds if self.sent else 0.0,
            reasoning_tokens=meter.reasoning_tokens,
            answer_tokens=meter.answer_tokens,
            eval_count=stats.eval_count if stats else 0,
            eval_tps=(stats.eval_rate or 0.0) if stats else 0.0,
            prompt_eval_tps=stats.prompt_eval_rate if stats else None,
            total_s=max(0.0, total),
            peak_vram_bytes=self.peak_vram_bytes,
            energy_j=self.energy_j,
            correct=self.grade.correct if self.grade else None,
            extracted=self.grade.extracted if self.grade else None,
            error=self.turn.error if self.state is TurnState.FAILED else ("stopped" if self.state is TurnState.STOPPED else None),
            think_budget=self.turn.think_budget,
            thinking_cut=self.turn.thinking_cut,
            loop_flagged=self.turn.loop_flagged,
            done_reason=stats.done_reason if stats else None,
            context_used=(stats.prompt_eval_count + stats.eval_count) if stats else 0,
            context_size=self.turn.context_size,
        )


# -- many runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    model: str
    prompt_index: int  # 1-based
    run: int  # 1-based


def plan(models: Sequence[str], prompt_count: int, runs: int = 1, concurrent: bool = False) -> list[list[Job]]:
    """The order of work, as batches whose jobs run together.

    Sequential: one job per batch, model by model, so each model is loaded
    once and its first run carries the load time. Concurrent: every model in
    one batch per (prompt, run).
    """
    if concurrent:
        return [[Job(model, p, r) for model in models]
                for p in range(1, prompt_count + 1) for r in range(1, runs + 1)]
    return [[Job(model, p, r)] for model in models for p in range(1, prompt_count + 1) for r in range(1, runs + 1)]


async def run_bench(
    backend: OllamaBackend,
    models: Sequence[str],
    prompts: Sequence[str],
    *,
    references: Sequence[str | None] = (),
    runs: int = 1,
    concurrent: bool = False,
    options: dict[str, Any] | None = None,
    keep_alive: str | float | None = None,
    clock: Clock = time.monotonic,
    gpu_reader: GpuReader | None = None,
    on_start: Callable[[Job], None] | None = None,
    on_result: Callable[[Job, RunResult], None] | None = None,
    targets: "Mapping[str, tuple[Backend, str]] | None" = None,
    think_budget: int = 0,
) -> list[RunResult]:
    """Every (model, prompt, run) once; results in plan order. Failures are results, not exceptions.

    `references[i]` is prompt i's reference answer (None or missing: not graded); every
    answer is graded on a worker thread once its run is over, before `on_result`.
    `targets` maps a model spec to the backend and model name it runs on (models of
    other hosts, `host:model`); a spec not in it runs on `backend` under its own name.
    `think_budget`: each run's reasoning is cut there and the answer asked for, as in the chat.
    """
    results: list[RunResult] = []
    for batch in plan(models, len(prompts), runs, concurrent):

        async def one(job: Job) -> RunResult:
            if on_start is not None:
                on_start(job)
            index = job.prompt_index - 1
            target, name = (targets or {}).get(job.model, (backend, job.model))
            run = ModelRun(name, prompts[index], run=job.run, prompt_index=job.prompt_index,
                           clock=clock, gpu_reader=gpu_reader, label=job.model,
                           reference=references[index] if index < len(references) else None)
            await run.execute(target, options=options, keep_alive=keep_alive,
                              control=ReasoningControl(budget=think_budget))
            await run.grade_answer()
            result = run.result()
            if on_result is not None:
                on_result(job, result)
            return result

        results.extend(await asyncio.gather(*(one(job) for job in batch)))
    return results
