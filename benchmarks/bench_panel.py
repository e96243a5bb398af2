"""Does the hardware panel stall the chat? Event-loop lateness with and without it.

Issue #4 asks that the panel never stall the chat. What a user would feel as a
stall is the event loop being busy: keys, stream chunks and frames all wait on
it. So a probe asks the loop to call it back every 10 ms and records how late
each call comes, in a headless app that streams a reasoning turn at 50 tokens/s
into the real `TurnView`, flushed 12 times a second as the chat screen does:

- "chat only": that streaming turn beside an empty column as wide as the panel;
- "chat + panel": the same, plus a `HardwareSampler` at 1 s in its thread and a
  `HardwarePanel` fed as the chat screen feeds it (the latest snapshot every
  sampling interval, the speed every 0.5 s, `/api/ps` rows every 5 s).

Headless Textual still lays out and renders every widget into the compositor;
only writing the escape sequences to a terminal is skipped, which costs the
same with or without the panel. Also reported: the time spent inside the
panel's `show_*` calls, and the process's CPU time in each setup, which unlike
lateness does not depend on what else the machine is running.

    python benchmarks/bench_panel.py [--seconds 10] [--runs 3] [--interval 1.0] [--nvml fake|real]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # for the stand-in NVML

from textual.app import App, ComposeResult  # noqa: E402
from textual.containers import Horizontal, VerticalScroll  # noqa: E402
from textual.widgets import Static  # noqa: E402

from tui.core.backend import LoadedModel  # noqa: E402
from tui.core.conversation import Turn  # noqa: E402
from tui.core.hardware import HardwareSampler  # noqa: E402
from tui.core.metrics import TokenMeter  # noqa: E402
from tui.widgets.hardware_panel import HardwarePanel  # noqa: E402
from tui.widgets.turn import TurnView  # noqa: E402

PROBE_SECONDS = 0.010
FRAME_SECONDS = 1 / 12  # how often the chat screen flushes a stream this slow to the screen
TOKEN_SECONDS = 1 / 50
SPEED_SECONDS = 0.5
PS_SECONDS = 5.0
PARAGRAPH_TOKENS = 60
# Targets, as what sampler + panel add to the chat alone: under a millisecond
# typically, and under half a 60 Hz frame for the worst 1% of callbacks, so a
# key press or a stream chunk is never held back a visible amount. One show_*
# call must stay well under a millisecond: it runs on the loop.
TARGET_MEDIAN_MS = 1.0
TARGET_P99_ADDED_MS = 8.3
TARGET_SHOW_MS = 1.0
# Rendering the panel is work on the loop that the chat would otherwise get.
TARGET_PANEL_CPU_PERCENT = 3.0
WORDS = ("Let me think about this step by step. The user wants the number of chickens and rabbits, "
         "so I set up two equations and solve them by substitution. ").split(" ")


class ChatLoad(App[None]):
    """A streaming turn, optionally beside a fed hardware panel, and a lateness probe."""

    CSS = ".blank-column { dock: right; width: 42; height: 1fr; }"

    def __init__(self, with_sampler: bool, with_panel: bool, interval: float, nvml: Any | None) -> None:
        super().__init__()
        self.with_sampler = with_sampler
        self.interval = interval
        self.nvml = nvml
        self.meter = TokenMeter()
        self.view = TurnView(Turn(prompt="Chickens and rabbits?", model="deepseek-r1:7b"), self.meter)
        self.panel = HardwarePanel() if with_panel else None
        self.sampler: HardwareSampler | None = None
        self.lateness_ms: list[float] = []
        self.show_ms: list[float] = []
        self.tokens = 0
        self.tokens_per_second = 0.0
        self.cpu_percent = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal():
            with VerticalScroll():
                yield self.view
            # Without the panel, an empty column as wide keeps the chat as narrow: a
            # narrower chat wraps into more rows and costs more to draw, which is the
            # layout's price, not the panel's.
            yield self.panel if self.panel is not None else Static(classes="blank-column")

    def start_load(self) -> None:
        """Start streaming and sampling; called once the turn view has composed its parts."""
        self.set_interval(TOKEN_SECONDS, self._token)
        self.set_interval(FRAME_SECONDS, self.view.flush)
        if self.with_sampler:
            self.sampler = HardwareSampler(interval=self.interval, nvml=self.nvml).start()
        if self.panel is not None and self.sampler is not None:
            self.set_interval(self.interval, lambda: self._timed(self.panel.show_hardware, self.sampler.latest))
            self.set_interval(SPEED_SECONDS, lambda: self._timed(self.panel.show_speed, self.meter, True))
            self.set_interval(PS_SECONDS, self._show_loaded)
            self._show_loaded()

    def _token(self) -> None:
        word = WORDS[self.tokens % len(WORDS)] + " "
        self.tokens += 1
        if self.tokens % PARAGRAPH_TOKENS == 0:
            word += "\n\n"  # R1 thinks in paragraphs; one endless paragraph would measure re-wrapping instead
        self.meter.record(reasoning=True, answer=False)
        self.view.add(word, "")

    def _show_loaded(self) -> None:
        expires = datetime.now(timezone.utc) + timedelta(minutes=5)
        models = [LoadedModel("deepseek-r1:7b", 5_600_000_000, 5_600_000_000, 4096, expires)]
        self._timed(self.panel.show_loaded, models)  # type: ignore[union-attr]

    def _timed(self, call: Callable[..., None], *args: Any) -> None:
        start = time.perf_counter()
        call(*args)
        self.show_ms.append(1000.0 * (time.perf_counter() - start))

    async def probe(self, seconds: float) -> None:
        """Ask for a callback every 10 ms; record how late each one runs."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        end = loop.time() + seconds
        state = {"due": loop.time() + PROBE_SECONDS}

        def tick() -> None:
            now = loop.time()
            self.lateness_ms.append(1000.0 * (now - state["due"]))
            if now >= end:
                done.set_result(None)
                return
            # Next one 10 ms after this one ran, so one stall is counted once, not as a burst.
            state["due"] = now + PROBE_SECONDS
            loop.call_at(state["due"], tick)

        loop.call_at(state["due"], tick)
        await done

    def stop_sampler(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()


async def measure(with_sampler: bool, with_panel: bool, seconds: float, interval: float,
                  nvml: Any | None) -> ChatLoad:
    app = ChatLoad(with_sampler, with_panel, interval, nvml)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.start_load()
        await pilot.pause(1.0)  # let the turn start and the sampler take its first snapshots
        tokens, cpu = app.tokens, time.process_time()
        await app.probe(seconds)
        app.cpu_percent = 100.0 * (time.process_time() - cpu) / seconds
        app.tokens_per_second = (app.tokens - tokens) / seconds
        app.stop_sampler()
    return app


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def make_nvml(kind: str) -> Any | None:
    if kind == "real":
        return None
    from fake_nvml import FakeProcess, two_gpus

    nvml = two_gpus()
    nvml.gpus[0].processes = [FakeProcess(1, 5 * 1024**3)]
    return nvml


# (label, sampler running, panel fed)
SETUPS = (("chat only", False, False), ("chat + sampler, no panel", True, False),
          ("chat + sampler + panel", True, True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured window")
    parser.add_argument("--runs", type=int, default=3, help="windows per setup, the setups taking turns")
    parser.add_argument("--interval", type=float, default=1.0, help="sampling interval in seconds")
    parser.add_argument("--nvml", choices=("fake", "real"), default="fake",
                        help="stand-in NVML with two GPUs (default) or this machine's pynvml")
    args = parser.parse_args()

    results: dict[str, list[ChatLoad]] = {label: [] for label, _, _ in SETUPS}
    for run in range(args.runs):
        for label, with_sampler, with_panel in SETUPS:
            print(f"run {run + 1}/{args.runs}: {label}, {args.seconds:.0f} s ...", file=sys.stderr, flush=True)
            app = asyncio.run(measure(with_sampler, with_panel, args.seconds, args.interval, make_nvml(args.nvml)))
            results[label].append(app)

    def pooled(label: str, attribute: str) -> list[float]:
        return [value for app in results[label] for value in getattr(app, attribute)]

    base_label, sampler_label, panel_label = (label for label, _, _ in SETUPS)
    base, panel = pooled(base_label, "lateness_ms"), pooled(panel_label, "lateness_ms")
    base_median, base_p99 = statistics.median(base), percentile(base, 0.99)
    median_added = statistics.median(panel) - base_median
    p99_added = percentile(panel, 0.99) - base_p99
    shows = pooled(panel_label, "show_ms")
    cpu = {label: statistics.median(app.cpu_percent for app in results[label]) for label, _, _ in SETUPS}
    panel_cpu = cpu[panel_label] - cpu[sampler_label]
    rows = []
    for label, _, _ in SETUPS:
        late = pooled(label, "lateness_ms")
        rows.append((f"loop lateness, {label}", "(informative)",
                     f"median {statistics.median(late):.2f} · p99 {percentile(late, 0.99):.2f} · "
                     f"max {max(late):.1f} ms ({len(late)} probes)", "-"))
    for label, _, _ in SETUPS:
        rows.append((f"process CPU, {label}", "(informative)", f"{cpu[label]:.1f}% of a core (median run)", "-"))
    rows.append(("CPU added by the panel (vs sampler only)", f"< {TARGET_PANEL_CPU_PERCENT:g}% of a core",
                 f"{panel_cpu:+.1f}%", f"{max(0.0, panel_cpu) / TARGET_PANEL_CPU_PERCENT:.2f}"))
    rows += [
        ("median added by sampler + panel", f"< {TARGET_MEDIAN_MS:g} ms", f"{median_added:+.2f} ms",
         f"{max(0.0, median_added) / TARGET_MEDIAN_MS:.2f}"),
        ("p99 added by sampler + panel", f"< {TARGET_P99_ADDED_MS:g} ms", f"{p99_added:+.2f} ms",
         f"{max(0.0, p99_added) / TARGET_P99_ADDED_MS:.2f}"),
        ("one show_* call, median", "(informative)", f"{statistics.median(shows):.3f} ms", "-"),
        ("one show_* call, p99", f"< {TARGET_SHOW_MS:g} ms", f"{percentile(shows, 0.99):.3f} ms",
         f"{percentile(shows, 0.99) / TARGET_SHOW_MS:.2f}"),
        ("stream kept up, slowest window", "(informative)",
         f"{min(app.tokens_per_second for apps in results.values() for app in apps):.1f} of 50 tok/s", "-"),
    ]
    header = ("figure", "target", "measured", "ratio to target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    print(f"sampler at {args.interval:g} s, {args.nvml} NVML, {args.runs} x {args.seconds:g} s per setup, "
          f"probe every {PROBE_SECONDS * 1000:.0f} ms")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
