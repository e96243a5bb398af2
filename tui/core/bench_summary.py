"""One line per model out of a bench's runs: how often right, at what cost; and a verdict.

This answers the question users bring to `r1tui bench`: "which tag should I run
here?". Accuracy is over the graded prompts only (those with a reference);
a failed or stopped run on a graded prompt counts as wrong (it gave no
answer). With several runs per prompt, `accuracy` is the mean over every
graded run, and `pass_at_k` the share of graded prompts answered right in at
least one of the k runs. Costs (tokens, time, tokens/s, energy) are means
over the runs that finished; peak VRAM is the highest seen.

The verdict names the cheapest model (least mean time per answer) whose
accuracy is within `margin` of the best: a model two points less accurate
but three times faster is usually the one to run.

Input and output are the `--json` report's own dicts (a contract: keys are
added, never renamed).
"""

from __future__ import annotations

from statistics import fmean
from typing import Any, Sequence

__all__ = ["DEFAULT_MARGIN", "summarize", "verdict"]

DEFAULT_MARGIN = 0.05


def _mean(values: Sequence[float]) -> float | None:
    return round(fmean(values), 4) if values else None


def _model_summary(model: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [row for row in rows if not row.get("error")]
    graded = [row for row in rows if row.get("correct") is not None]
    correct = sum(1 for row in graded if row["correct"])
    by_prompt: dict[int, list[bool]] = {}
    for row in graded:
        by_prompt.setdefault(row.get("prompt", 1), []).append(bool(row["correct"]))
    runs = max((len(v) for v in by_prompt.values()), default=0)
    energies = [row["energy_j"] for row in ok if row.get("energy_j") is not None]
    energy = _mean(energies) if energies and len(energies) == len(ok) else None
    total_energy = sum(energies) if energy is not None else None
    vram = [row["peak_vram_bytes"] for row in rows if row.get("peak_vram_bytes") is not None]
    return {
        "model": model,
        "runs": len(rows),
        "errors": len(rows) - len(ok),
        "graded_prompts": len(by_prompt),
        "graded_runs": len(graded),
        "correct": correct,
        "accuracy": round(correct / len(graded), 4) if graded else None,
        "k": runs,
        "pass_at_k": (round(sum(1 for v in by_prompt.values() if any(v)) / len(by_prompt), 4)
                      if by_prompt and runs > 1 else None),
        "mean_reasoning_tokens": _mean([row["reasoning_tokens"] for row in ok]),
        "mean_answer_tokens": _mean([row["answer_tokens"] for row in ok]),
        "mean_total_s": _mean([row["total_s"] for row in ok]),
        "eval_tps": _mean([row["eval_tps"] for row in ok if row["eval_tps"]]),
        "peak_vram_bytes": max(vram) if vram else None,
        "energy_j": energy,
        "joules_per_correct": round(total_energy / correct, 2) if total_energy is not None and correct else None,
    }


def summarize(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per model, in the order models first appear in `results`."""
    models: dict[str, list[dict[str, Any]]] = {}
    for row in results:
        models.setdefault(row["model"], []).append(row)
    return [_model_summary(model, rows) for model, rows in models.items()]


def verdict(summary: Sequence[dict[str, Any]], margin: float = DEFAULT_MARGIN) -> str | None:
    """One line naming the fastest model within `margin` of the best accuracy; None when nothing was graded."""
    graded = [entry for entry in summary if entry["accuracy"] is not None and entry["mean_total_s"] is not None]
    if not graded:
        return None
    best = max(entry["accuracy"] for entry in graded)
    leader = next(entry for entry in graded if entry["accuracy"] == best)
    within = [entry for entry in graded if entry["accuracy"] >= best - margin - 1e-9]
    pick = min(within, key=lambda entry: entry["mean_total_s"])
    line = f"verdict: {pick['model']}: {pick['accuracy']:.0%} right, {pick['mean_total_s']:.1f} s per answer"
    if len(graded) == 1:
        return line
    line += f", the fastest within {margin * 100:g} points of the best accuracy"
    if pick is not leader and pick["accuracy"] < best:
        line += f" ({leader['model']}: {best:.0%}, {leader['mean_total_s']:.1f} s)"
    return line
