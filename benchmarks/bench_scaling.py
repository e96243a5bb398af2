"""Flat with length: time per token late in a 50,000-token turn vs early, and memory after it.

Target (issue 9): in a 50,000-token turn (40k reasoning + 10k Markdown answer with
code blocks and tables), the time per token over the last 10,000 tokens is ≤ 1.3×
that over the first 10,000; resident memory ≤ 200 MB after the turn.

The real app runs headless (Textual's run_test) against the simulated server in
its own process at a fast fixed rate (2,000 tokens/s), with the hardware panel on
as users have it. The figure is the app's own CPU time per token in each window:
it includes every frame drawn in that window, and the last window runs until the
finished turn is drawn, so a UI that re-renders more as the answer grows, or
does more work once the stream ends, shows up as a ratio above 1.

    python benchmarks/bench_scaling.py [--runs 3] [--reasoning 40000] [--answer 10000] [--sizes 160x50,80x24]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from harness import SimProcess, as_launched, in_fresh_process, median, print_table, send_quietly, sizes_argument  # noqa: E402

from tests.apphelpers import make_app, wait_connected  # noqa: E402
from tui.core.backend import OllamaBackend, StreamDelta  # noqa: E402
from tui.widgets.answer import AnswerMarkdown  # noqa: E402

RATE = 2000.0


class TimedBackend(OllamaBackend):
    """Records when the app's stream loop takes each token."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.cpu: list[float] = []
        self.reasoning_chunks = 0  # the stream's chunks before the answer began

    async def chat(self, *args, **kwargs):  # type: ignore[override]
        async for event in super().chat(*args, **kwargs):
            if isinstance(event, StreamDelta):
                self.cpu.append(time.process_time())
                if event.reasoning and not event.answer and self.reasoning_chunks == len(self.cpu) - 1:
                    self.reasoning_chunks += 1
            yield event


async def one_run(reasoning: int, answer: int, cols: int = 160, rows: int = 50) -> dict[str, float]:
    sim = SimProcess(RATE, reasoning, answer)
    try:
        app = as_launched(make_app(sim.url, show_panel=True))  # as users run it: the hardware panel on
        backend = TimedBackend(sim.url)
        app.backend = backend
        async with app.run_test(size=(cols, rows), headless=True) as pilot:
            await wait_connected(pilot)
            await send_quietly(pilot, "long answer please")
            # The finished turn drawn whole: its last frame, and every row of the answer (folded to the chat's
            # width at the turn's end, it is drawn again from its end, the rest in the background).
            while not all(answer.drawn for answer in app.screen.query(AnswerMarkdown)):
                await asyncio.sleep(0.01)
            await pilot.pause()
            finished = time.process_time()
            rss = psutil.Process().memory_info().rss
        times = backend.cpu
        window = min(10_000, len(times) // 5)
        first = (times[window] - times[0]) / window
        # The last window runs to the end of the turn on screen: the work after the last token
        # (its final render, the figures line) is part of what the late tokens cost.
        last = (finished - times[-1 - window]) / window
        # Like with like: the reasoning's last window against its first (both plain text; the ratio
        # above sets plain reasoning against Markdown, which costs more to draw at any length).
        reasoning_end = backend.reasoning_chunks
        late = (times[reasoning_end - 1] - times[reasoning_end - 1 - window]) / window
        return {"ratio": last / first, "first_us": first * 1e6, "last_us": last * 1e6,
                "late_reasoning_us": late * 1e6, "reasoning_ratio": late / first,
                "tokens": len(times), "rss_mb": rss / 2**20}
    finally:
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reasoning", type=int, default=40_000)
    parser.add_argument("--answer", type=int, default=10_000)
    sizes_argument(parser)
    parser.add_argument("--single-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single_run:
        [(cols, rows)] = args.sizes
        print(json.dumps(asyncio.run(one_run(args.reasoning, args.answer, cols, rows))))
        return
    for cols, rows in args.sizes:
        measure(args, cols, rows)


def measure(args: argparse.Namespace, cols: int, rows: int) -> None:
    results = [in_fresh_process(__file__, "--reasoning", str(args.reasoning), "--answer", str(args.answer),
                                "--sizes", f"{cols}x{rows}")
               for _ in range(args.runs)]

    def runs(key: str, fmt: str) -> str:
        values = [r[key] for r in results]
        return f"{fmt.format(median(values))} (runs: {', '.join(fmt.format(v) for v in values)})"

    ratio = median([r["ratio"] for r in results])
    rss = median([r["rss_mb"] for r in results])
    print(f"\nterminal {cols}x{rows}, panel on: {int(results[0]['tokens'])} stream chunks per turn, {args.runs} runs\n")
    print_table([
        ("CPU per token, first 10k (µs)", "informative", runs("first_us", "{:.0f}"), "-"),
        ("CPU per token, last 10k (µs)", "informative", runs("last_us", "{:.0f}"), "-"),
        ("last / first", "<= 1.3", runs("ratio", "{:.2f}"), f"{ratio / 1.3:.2f} (lower is better)"),
        ("  CPU per token, the reasoning's last 10k (µs)", "informative", runs("late_reasoning_us", "{:.0f}"), "-"),
        ("  reasoning: last 10k / first 10k (same kind of text)", "informative", runs("reasoning_ratio", "{:.2f}"), "-"),
        ("resident memory after the turn (MB)", "<= 200", runs("rss_mb", "{:.0f}"), f"{rss / 200:.2f} (lower is better)"),
    ])


if __name__ == "__main__":
    main()
