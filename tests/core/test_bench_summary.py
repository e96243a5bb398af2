"""The per-model summary of a bench (accuracy, pass@k, costs, energy) and its verdict."""

from __future__ import annotations

from typing import Any

import pytest

from tui.core.bench_summary import summarize, verdict


def row(model: str, prompt: int, correct: bool | None, *, run: int = 1, total_s: float = 2.0,
        energy_j: float | None = None, error: str | None = None, vram: int | None = None) -> dict[str, Any]:
    return {"model": model, "prompt": prompt, "run": run, "correct": correct, "total_s": total_s, "error": error,
            "reasoning_tokens": 100, "answer_tokens": 20, "eval_tps": 50.0, "energy_j": energy_j,
            "peak_vram_bytes": vram}


def test_accuracy_is_over_graded_prompts_only() -> None:
    rows = [row("m", 1, True), row("m", 2, True), row("m", 3, False), row("m", 4, True), row("m", 5, None)]
    [entry] = summarize(rows)
    assert (entry["accuracy"], entry["correct"], entry["graded_runs"], entry["graded_prompts"]) == (0.75, 3, 4, 4)
    assert entry["pass_at_k"] is None  # one run: pass@1 is the accuracy
    assert entry["mean_reasoning_tokens"] == 100 and entry["mean_total_s"] == 2.0


def test_several_runs_give_mean_accuracy_and_pass_at_k() -> None:
    rows = [row("m", 1, True, run=1), row("m", 1, False, run=2),
            row("m", 2, False, run=1), row("m", 2, False, run=2)]
    [entry] = summarize(rows)
    assert entry["accuracy"] == 0.25 and entry["k"] == 2
    assert entry["pass_at_k"] == 0.5  # prompt 1 was right at least once in two runs, prompt 2 never


def test_energy_per_answer_and_per_correct_answer() -> None:
    rows = [row("m", 1, True, energy_j=300.0), row("m", 2, False, energy_j=100.0), row("m", 3, True, energy_j=200.0)]
    [entry] = summarize(rows)
    assert entry["energy_j"] == 200.0
    assert entry["joules_per_correct"] == 300.0  # 600 J spent for 2 right answers
    no_power = summarize([row("m", 1, True, energy_j=300.0), row("m", 2, True)])[0]
    assert no_power["energy_j"] is None and no_power["joules_per_correct"] is None  # partial sums would mislead


def test_a_failed_run_on_a_graded_prompt_counts_as_wrong_but_not_in_the_costs() -> None:
    rows = [row("m", 1, True, total_s=2.0), row("m", 2, False, total_s=0.0, error="out of memory")]
    [entry] = summarize(rows)
    assert entry["accuracy"] == 0.5 and entry["errors"] == 1 and entry["mean_total_s"] == 2.0


def test_verdict_names_the_fastest_model_within_the_margin() -> None:
    summary = summarize(
        [row("big", p, p != 4, total_s=20.0) for p in range(1, 21)]  # 95 %, slow
        + [row("mid", p, p not in (4, 5), total_s=5.0) for p in range(1, 21)]  # 90 %, fast
        + [row("tiny", p, p % 2 == 0, total_s=1.0) for p in range(1, 21)])  # 50 %, fastest
    line = verdict(summary, margin=0.05)
    assert line is not None and line.startswith("verdict: mid: 90% right, 5.0 s per answer")
    assert "big: 95%" in line
    assert verdict(summary, margin=0.0).startswith("verdict: big")  # no margin: the most accurate
    assert verdict(summary, margin=0.5).startswith("verdict: tiny")


def test_no_verdict_when_nothing_was_graded() -> None:
    assert verdict(summarize([row("a", 1, None), row("b", 1, None)])) is None
    assert summarize([row("a", 1, None)])[0]["accuracy"] is None
