"""A conversation of 100 long turns stays usable: memory, resume time, scrolling, and the cost of the next turn.

Target (issue 9): "a conversation with 100 such turns [50,000 tokens each: 40k
reasoning + 10k Markdown answer] stays usable (older turns virtualised or
folded)". Usable is measured here as:
- resident memory after resuming 99 such turns and streaming the 100th ≤ 200 MB
  (the same limit as after one turn);
- CPU per token of the 100th turn ≤ 1.3× that of the same turn in a new
  conversation (the flatness rule of the scaling target, across turns);
- resuming the conversation from history (until its last answer is on screen),
  and scrolling from its newest turn to its oldest, each take under a second.

The 99 earlier turns are written straight into a scratch history database
(`HistoryStore`, as the app would have saved them), then the real app runs
headless (Textual's run_test) against the simulated server in its own process
at 2,000 tokens/s.

    python benchmarks/bench_conversation.py [--runs 3] [--turns 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from bench_scaling import RATE, TimedBackend  # noqa: E402
from harness import SimProcess, as_launched, in_fresh_process, median, print_table, send_quietly, sizes_argument  # noqa: E402

from tests.apphelpers import make_app, wait_connected  # noqa: E402
from tui.core.conversation import Turn, TurnState  # noqa: E402
from tui.demo import synthetic_reply  # noqa: E402
from tui.core.store import HistoryStore  # noqa: E402

if TYPE_CHECKING:
    from tui.app import R1App

REASONING, ANSWER = 40_000, 10_000


def seed_history(turns: int) -> int:
    """Write `turns` finished long turns into the (scratch) history; returns the conversation id."""
    reply = synthetic_reply(REASONING, ANSWER)
    with HistoryStore() as store:
        conversation_id = store.new_conversation("deepseek-r1:1.5b")
        for index in range(turns):
            turn = Turn(prompt=f"long question {index}", model="deepseek-r1:1.5b", reasoning=reply.reasoning,
                        answer=reply.answer, state=TurnState.DONE, reasoning_tokens=REASONING,
                        answer_tokens=ANSWER, think_seconds=20.0)
            store.finish_turn(store.start_turn(conversation_id, turn, {}), turn)
    return conversation_id


async def last_answer_in_sight(app: "R1App") -> None:
    """Until the last turn's answer is laid out with the conversation scrolled to its end."""
    from tui.widgets.answer import AnswerMarkdown

    scroll = app.screen.query_one("#conversation")
    while True:
        answers = list(app.screen.query(AnswerMarkdown))
        if answers and answers[-1].size.height > 0 and scroll.max_scroll_y > 0 and scroll.scroll_y >= scroll.max_scroll_y:
            return
        await asyncio.sleep(0.01)


async def one_run(conversation_id: int | None, cols: int = 160, rows: int = 50) -> dict[str, float]:
    """Stream one long turn, in a new conversation or after resuming `conversation_id`."""
    sim = SimProcess(RATE, REASONING, ANSWER)
    try:
        app = as_launched(make_app(sim.url, model="deepseek-r1:1.5b", show_panel=True))  # the panel on, as users have it
        backend = TimedBackend(sim.url)
        app.backend = backend
        figures: dict[str, float] = {}
        async with app.run_test(size=(cols, rows), headless=True) as pilot:
            await wait_connected(pilot)
            if conversation_id is not None:
                started = time.perf_counter()
                await app.screen.resume(conversation_id)
                await last_answer_in_sight(app)
                figures["resume_s"] = time.perf_counter() - started
                await pilot.pause()  # waits for the app to be idle: earlier text drawn in the background
                figures["resume_idle_s"] = time.perf_counter() - started
            await send_quietly(pilot, "one more long answer please")
            await pilot.pause()  # the finished turn's last frame
            finished = time.process_time()
            figures["rss_mb"] = psutil.Process().memory_info().rss / 2**20
            scroll = app.screen.query_one("#conversation")
            await pilot.pause()  # let the finished turn's background drawing end first
            started = time.perf_counter()
            scroll.scroll_home(animate=False)
            await pilot.pause()
            figures["scroll_s"] = time.perf_counter() - started
            scroll.scroll_end(animate=False)
            await pilot.pause()
        times = backend.cpu
        # From the first token to the finished turn on screen: the work after the last token counts too.
        figures["cpu_us"] = (finished - times[0]) / (len(times) - 1) * 1e6
        return figures
    finally:
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--turns", type=int, default=100)
    sizes_argument(parser)
    parser.add_argument("--single-run", metavar="CONVERSATION_ID", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single_run is not None:  # one measured run, in a process of its own (see in_fresh_process)
        [(cols, rows)] = args.sizes
        print(json.dumps(asyncio.run(one_run(args.single_run or None, cols, rows))))
        return
    # The scratch history of harness.SCRATCH (never the user's), shared with the measured processes.
    conversation_id = seed_history(args.turns - 1)
    for cols, rows in args.sizes:
        measure(args, conversation_id, cols, rows)


def measure(args: argparse.Namespace, conversation_id: int, cols: int, rows: int) -> None:
    size = f"{cols}x{rows}"
    fresh, long = [], []
    for _ in range(args.runs):
        fresh.append(in_fresh_process(__file__, "0", "--sizes", size))
        long.append(in_fresh_process(__file__, str(conversation_id), "--sizes", size))
    ratios = [late["cpu_us"] / first["cpu_us"] for first, late in zip(fresh, long)]

    def runs(results: list[dict[str, float]], key: str, fmt: str) -> str:
        values = [r[key] for r in results]
        return f"{fmt.format(median(values))} (runs: {', '.join(fmt.format(v) for v in values)})"

    rss = median([r["rss_mb"] for r in long])
    resume = median([r["resume_s"] for r in long])
    resume_idle = median([r["resume_idle_s"] for r in long])
    scroll = median([r["scroll_s"] for r in long])
    ratio = median(ratios)
    print(f"\nterminal {size}, panel on: {args.turns} turns of {REASONING:,} + {ANSWER:,} tokens, {args.runs} runs\n")
    print_table([
        ("CPU per token, turn 1 of a new chat (µs)", "informative", runs(fresh, "cpu_us", "{:.0f}"), "-"),
        (f"CPU per token, turn {args.turns} (µs)", "informative", runs(long, "cpu_us", "{:.0f}"), "-"),
        (f"turn {args.turns} / turn 1", "<= 1.3",
         f"{ratio:.2f} (runs: {', '.join(f'{r:.2f}' for r in ratios)})", f"{ratio / 1.3:.2f} (lower is better)"),
        (f"resident memory after turn {args.turns} (MB)", "<= 200", runs(long, "rss_mb", "{:.0f}"),
         f"{rss / 200:.2f} (lower is better)"),
        (f"resume {args.turns - 1} turns: last answer on screen (s)", "<= 1", runs(long, "resume_s", "{:.2f}"),
         f"{resume:.2f} (lower is better)"),
        ("resume: all drawn, app idle (s)", "informative", runs(long, "resume_idle_s", "{:.2f}"), f"{resume_idle:.2f}"),
        ("scroll newest → oldest turn (s)", "<= 1", runs(long, "scroll_s", "{:.3f}"),
         f"{scroll:.2f} (lower is better)"),
    ])


if __name__ == "__main__":
    main()
