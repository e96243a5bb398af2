"""The bench core measured against a scripted server and a hand-driven clock, plus prompt sets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from tui.core.backend import BackendError, StreamDelta, StreamDone
from tui.core.benchrun import Job, ModelRun, VramPeak, plan, run_bench
from tui.core.conversation import TurnState
from tui.core.hardware import GpuSnapshot
from tui.core.metrics import GenerationStats
from tui.core.prompt_sets import (
    BUILTIN_SETS, PromptSetError, get_builtin, load_prompt_file, parse_prompts,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


STATS = GenerationStats(eval_count=6, eval_duration_ns=2_000_000_000, prompt_eval_count=30,
                        prompt_eval_duration_ns=100_000_000, load_duration_ns=1_500_000_000)


class ScriptedBackend:
    """Stands in for OllamaBackend: each model streams a script, advancing the clock between chunks."""

    url = "http://127.0.0.1:11434"

    def __init__(self, clock: FakeClock, *, local: bool = True, missing: set[str] | None = None,
                 step: float = 0.5, first_token_after: float = 2.0, pause: float = 0.0) -> None:
        self.clock = clock
        self.is_local = local
        self.missing = missing or set()
        self.step = step
        self.first_token_after = first_token_after
        self.pause = pause  # real seconds between chunks, to let runs overlap
        self.active = 0
        self.most_active = 0
        self.calls: list[str] = []

    async def uses_think_field(self, model: str) -> tuple[bool, bool]:
        self.clock.now += 7.0  # /api/show time must not count as the model's
        if model in self.missing:
            raise BackendError("not_found", f"Model {model} is not installed", "pull it first", 404)
        return True, False

    async def chat(self, model: str, messages: list[dict[str, str]], **_: Any) -> AsyncIterator[Any]:
        self.calls.append(model)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            self.clock.now += self.first_token_after
            script = [("Let", ""), (" me", ""), (" think", ""), ("", "The"), ("", " answer"), ("", " is 42")]
            for reasoning, answer in script:
                await asyncio.sleep(self.pause)
                yield StreamDelta(reasoning, answer)
                self.clock.now += self.step
            yield StreamDone(STATS)
        finally:
            self.active -= 1


async def test_one_run_measures_client_and_server_figures() -> None:
    clock = FakeClock()
    backend = ScriptedBackend(clock)
    run = ModelRun("deepseek-r1:7b", "Chickens and rabbits?", clock=clock, gpu_reader=lambda: ([], "no GPU"))
    result = await run.execute(backend)  # type: ignore[arg-type]
    assert run.state is TurnState.DONE and result.error is None
    assert result.ttft_s == pytest.approx(2.0)  # from the request, not from /api/show
    assert result.think_s == pytest.approx(1.5)  # first thought to first answer chunk: 3 chunks of 0.5 s
    assert result.total_s == pytest.approx(2.0 + 6 * 0.5)
    assert (result.reasoning_tokens, result.answer_tokens) == (3, 3)
    assert result.eval_count == 6
    assert result.eval_tps == pytest.approx(3.0)  # the server's 6 tokens / 2 s, not the client's clock
    assert result.prompt_eval_tps == pytest.approx(300.0)
    assert result.load_s == pytest.approx(1.5)
    assert result.peak_vram_bytes is None  # no GPU
    assert run.turn.reasoning == "Let me think" and run.turn.answer == "The answer is 42"


async def test_failing_model_is_an_error_entry_and_the_next_model_runs() -> None:
    clock = FakeClock()
    backend = ScriptedBackend(clock, missing={"deepseek-r1:99b"})
    seen: list[tuple[Job, str | None]] = []
    results = await run_bench(
        backend, ["deepseek-r1:7b", "deepseek-r1:99b", "deepseek-r1:14b"], ["Q"],  # type: ignore[arg-type]
        clock=clock, gpu_reader=lambda: ([], None), on_result=lambda job, r: seen.append((job, r.error)))
    assert [r.model for r in results] == ["deepseek-r1:7b", "deepseek-r1:99b", "deepseek-r1:14b"]
    failed = results[1]
    assert failed.error and "not installed" in failed.error
    assert (failed.eval_count, failed.eval_tps, failed.ttft_s, failed.total_s, failed.prompt_eval_tps) == (0, 0.0, 0.0, 0.0, None)
    assert results[2].error is None and results[2].eval_count == 6
    assert backend.calls == ["deepseek-r1:7b", "deepseek-r1:14b"]
    assert [error is None for _, error in seen] == [True, False, True]


async def test_models_run_one_after_another_unless_concurrent() -> None:
    models = ["a:1", "b:1", "c:1"]
    backend = ScriptedBackend(FakeClock(), pause=0.005)
    await run_bench(backend, models, ["Q"], gpu_reader=lambda: ([], None))  # type: ignore[arg-type]
    assert backend.most_active == 1
    backend = ScriptedBackend(FakeClock(), pause=0.005)
    results = await run_bench(backend, models, ["Q"], concurrent=True, gpu_reader=lambda: ([], None))  # type: ignore[arg-type]
    assert backend.most_active == 3
    assert [r.model for r in results] == models


def test_plan_loads_each_model_once_in_sequence() -> None:
    sequential = plan(["a", "b"], prompt_count=2, runs=2)
    assert [(j.model, j.prompt_index, j.run) for [j] in sequential] == [
        ("a", 1, 1), ("a", 1, 2), ("a", 2, 1), ("a", 2, 2), ("b", 1, 1), ("b", 1, 2), ("b", 2, 1), ("b", 2, 2)]
    concurrent = plan(["a", "b"], prompt_count=1, runs=2, concurrent=True)
    assert [[j.model for j in batch] for batch in concurrent] == [["a", "b"], ["a", "b"]]


async def test_stopped_run_keeps_its_partial_figures() -> None:
    clock = FakeClock()
    backend = ScriptedBackend(clock, pause=0.01)
    run = ModelRun("deepseek-r1:7b", "Q", clock=clock, gpu_reader=lambda: ([], None))
    task = asyncio.create_task(run.execute(backend))  # type: ignore[arg-type]
    while run.meter.reasoning_tokens < 2:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = run.result()
    assert run.state is TurnState.STOPPED and result.error == "stopped"
    assert result.reasoning_tokens >= 2 and result.eval_count == 0  # the server never sent its figures


def _gpu(used_gib: float) -> GpuSnapshot:
    return GpuSnapshot(0, "NVIDIA RTX 4090", 24 * 2**30, int(used_gib * 2**30))


def test_peak_vram_is_the_highest_sample() -> None:
    readings = iter([[_gpu(2.0)], [_gpu(9.5)], [_gpu(6.0)]])

    def reader() -> tuple[list[GpuSnapshot], str | None]:
        return next(readings, [_gpu(1.0)]), None

    sampler = VramPeak(reader, interval=0.001).start()
    deadline = time.monotonic() + 5
    while sampler.peak != int(9.5 * 2**30) and time.monotonic() < deadline:
        time.sleep(0.001)
    assert sampler.stop() == int(9.5 * 2**30)  # later, lower readings do not lower the peak


async def test_run_reports_peak_vram_summed_over_gpus() -> None:
    def two_gpus() -> tuple[list[GpuSnapshot], str | None]:
        return [_gpu(5.0), GpuSnapshot(1, "NVIDIA RTX 4090", 24 * 2**30, 3 * 2**30)], None

    clock = FakeClock()
    result = await ModelRun("m", "Q", clock=clock, gpu_reader=two_gpus).execute(ScriptedBackend(clock))  # type: ignore[arg-type]
    assert result.peak_vram_bytes == 8 * 2**30


async def test_remote_server_has_no_peak_vram() -> None:
    calls = []

    def reader() -> tuple[list[GpuSnapshot], str | None]:
        calls.append(1)
        return [_gpu(9.0)], None

    clock = FakeClock()
    result = await ModelRun("m", "Q", clock=clock, gpu_reader=reader).execute(
        ScriptedBackend(clock, local=False))  # type: ignore[arg-type]
    assert result.peak_vram_bytes is None and not calls  # this machine's GPU says nothing about the server


def test_gpu_reader_failure_does_not_fail_the_run() -> None:
    def broken() -> tuple[list[GpuSnapshot], str | None]:
        raise RuntimeError("GPU is lost")

    sampler = VramPeak(broken, interval=0.001).start()
    assert sampler.stop() is None


def test_json_shape_keeps_types_for_failed_runs() -> None:
    from tui.core.benchrun import RunResult

    row = RunResult(model="x", error="boom").to_json()
    nullable = ("prompt_eval_tps", "peak_vram_bytes", "error", "correct", "extracted", "energy_j", "thinking_cut",
                "done_reason")
    assert {k: type(v) for k, v in row.items() if k not in nullable} == {
        "model": str, "run": int, "load_s": float, "ttft_s": float, "think_s": float, "reasoning_tokens": int,
        "answer_tokens": int, "eval_count": int, "eval_tps": float, "total_s": float, "prompt": int,
        "think_budget": int, "loop_flagged": bool, "context_used": int, "context_size": int}
    assert row["prompt_eval_tps"] is None and row["peak_vram_bytes"] is None and row["error"] == "boom"
    assert row["correct"] is None and row["extracted"] is None and row["energy_j"] is None


# -- prompt sets ------------------------------------------------------------------------------


def test_classic_set_has_the_four_classic_checks() -> None:
    prompts = get_builtin("classic").prompts
    assert len(prompts) == 4
    assert "35 heads" in prompts[0] and "94 legs" in prompts[0]
    assert "die" in prompts[1] and "probability" in prompts[1]
    assert "palindrome" in prompts[2]
    assert "All bloops are razzies" in prompts[3]
    assert {"classic", "math", "code"} <= set(BUILTIN_SETS)


def test_unknown_set_names_the_ones_that_exist() -> None:
    with pytest.raises(PromptSetError, match="classic, math, code"):
        get_builtin("nope")


def test_prompts_split_on_blank_lines_or_dashes() -> None:
    assert parse_prompts("first question\nstill first\n\n\nsecond\n") == ["first question\nstill first", "second"]
    text = "Fix this:\n\n```python\nx = 1\n```\n---\nSecond\n\n  with a blank line\n---\n\n"
    assert parse_prompts(text) == ["Fix this:\n\n```python\nx = 1\n```", "Second\n\n  with a blank line"]


def test_prompt_file_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PromptSetError, match="does not exist"):
        load_prompt_file(tmp_path / "missing.txt")
    binary = tmp_path / "weights.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(PromptSetError, match="not UTF-8"):
        load_prompt_file(binary)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n   \n")
    with pytest.raises(PromptSetError, match="holds no prompt"):
        load_prompt_file(empty)
    with pytest.raises(PromptSetError, match="is a folder"):
        load_prompt_file(tmp_path)
    good = tmp_path / "mine.txt"
    good.write_text("\ufeffOne?\n\nTwo?\n", encoding="utf-8")
    assert load_prompt_file(good).prompts == ("One?", "Two?")


def _powered(watts: float) -> GpuSnapshot:
    return GpuSnapshot(0, "NVIDIA RTX 4090", 24 * 2**30, 2**30, power_watts=watts)


def test_energy_is_power_integrated_over_the_run() -> None:
    clock = FakeClock()
    readings = iter([100.0, 300.0, 300.0])

    def reader() -> tuple[list[GpuSnapshot], str | None]:
        clock.now += 1.0  # one second between samples
        return [_powered(next(readings, 300.0))], None

    sampler = VramPeak(reader, interval=3600, clock=clock).start()  # first sample now, last at stop
    sampler.stop()
    assert sampler.energy_joules == pytest.approx(200.0)  # (100 + 300) / 2 W for 1 s


def test_energy_is_unknown_where_the_board_reports_no_power() -> None:
    sampler = VramPeak(lambda: ([_gpu(2.0)], None), interval=3600).start()
    sampler.stop()
    assert sampler.energy_joules is None and sampler.peak == 2 * 2**30


async def test_runs_are_graded_against_their_references() -> None:
    clock = FakeClock()
    results = await run_bench(ScriptedBackend(clock), ["m:1"], ["Q1", "Q2", "Q3"],  # type: ignore[arg-type]
                              references=["42", "41", None], clock=clock, gpu_reader=lambda: ([], None))
    assert [(r.correct, r.extracted) for r in results] == [(True, "42"), (False, "42"), (None, "42")]
    assert results[0].to_json()["correct"] is True and results[0].to_json()["extracted"] == "42"
