"""Does the hardware panel stall the chat? Event-loop lateness with and without it.

Issue #4 asks that the panel never stall the chat. What a user would feel as a
stall is the event loop being busy: keys, stream chunks and frames all wait on
it. So a probe asks the loop to call it back every 10 ms and records how late
each call comes, in a headless app that streams a reasoning turn at 50 tokens/s
into the real `TurnView`, flushed 12 times a second as the chat screen does:

- "chat only": that streaming turn beside an empty column as wide as the panel;
- "chat + panel": the same, plus a `HardwareSampler` at 1 s in its thread and a
  `HardwarePanel` fed as the chat screen feeds it (the latest snapshot every
  sampling interval, the speed every 0.5 s, `/api/ps` rows every 5 s), in a blank
  holder as the chat screen has it, so that the chat's frames do not draw it again.

Headless Textual still lays out and renders every widget into the compositor;
only writing the escape sequences to a terminal is skipped, which costs the
same with or without the panel. Also reported: the time spent inside the
panel's `show_*` calls, and the process's CPU time in each setup, which unlike
lateness does not depend on what else the machine is running.

At 160 columns the app shows the full panel, at 80 the compact strip: each size
is measured as the app draws it. Besides the setters, the time the compositor
spends in the panel's `render_lines` is counted: drawing is where the cost is.
The real NVML is the default (on a box without a GPU the panel then shows why).

    python benchmarks/bench_panel.py [--seconds 10] [--runs 3] [--interval 1.0] [--nvml real|fake] [--sizes 160x50,80x24]
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

sys.path.insert(0, str(ROOT / "benchmarks"))
from harness import USER_SIZES, as_launched, parse_sizes  # noqa: E402  (also: its own config/history folders)

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Static  # noqa: E402

from tui.core.backend import LoadedModel  # noqa: E402
from tui.core.conversation import Turn  # noqa: E402
from tui.core.hardware import HardwareSampler  # noqa: E402
from tui.core.metrics import TokenMeter  # noqa: E402
from tui.widgets.backdrop import BackdropHorizontal, BackdropVertical, BackdropVerticalScroll  # noqa: E402
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

    # The panel sits in a blank holder laid out by the app's own stylesheet (#panel-holder), as in the chat
    # screen: a frame of the chat then does not render the panel again, only the panel's own updates do.
    CSS_PATH = ROOT / "tui" / "app.tcss"
    CSS = """
    .blank-column { dock: right; width: 42; height: 1fr; }
    .blank-column.-compact { dock: bottom; width: 100%; height: 6; }
    """

    def __init__(self, with_sampler: bool, with_panel: bool, interval: float, nvml: Any | None,
                 compact: bool = False) -> None:
        super().__init__()
        self.compact = compact
        self.render_ms = 0.0  # time inside the panel's (and its sections') render_lines: drawing it
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
        with BackdropHorizontal():
            with BackdropVerticalScroll():
                yield self.view
            # Without the panel, an empty column as wide keeps the chat as narrow: a
            # narrower chat wraps into more rows and costs more to draw, which is the
            # layout's price, not the panel's.
            # Below the chat screen's PANEL_MIN_WIDTH the app shows the compact strip: so does this.
            if self.panel is not None:
                self.panel.compact = self.compact
                with BackdropVertical(id="panel-holder", classes="-compact" if self.compact else ""):
                    yield self.panel
            else:
                yield Static(classes="blank-column" + (" -compact" if self.compact else ""))

    def time_rendering(self) -> None:
        """Count the time the compositor spends drawing the panel, not only its setters."""
        if self.panel is None:
            return
        for widget in [self.panel, *self.panel.query("*")]:
            original = widget.render_lines

            def timed(crop: Any, original: Callable[[Any], Any] = original) -> Any:
                start = time.perf_counter()
                try:
                    return original(crop)
                finally:
                    self.render_ms += 1000.0 * (time.perf_counter() - start)

            widget.render_lines = timed  # type: ignore[method-assign]

    def start_load(self) -> None:
        """Start streaming and sampling; called once the turn view has composed its parts."""
        self.time_rendering()
        self.set_interval(TOKEN_SECONDS, self._token)
        self.set_interval(FRAME_SECONDS, self.view.flush)
        if self.with_sampler:
            self.sampler = HardwareSampler(interval=self.interval, nvml=self.nvml).start()
        if self.panel is not None and self.sampler is not None:
            self.set_interval(self.interval, lambda: self._timed(self.panel.show_hardware, self.sampler.latest))
            self.set_interval(SPEED_SECONDS, self._show_speed)
            self.set_interval(PS_SECONDS, self._show_loaded)
            self._show_loaded()

    def _show_speed(self) -> None:
        self.meter.sample_rate()  # as the chat does each tick
        self._timed(self.panel.show_speed, self.meter, True)

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
                  nvml: Any | None, size: tuple[int, int]) -> ChatLoad:
    from tui.screens.chat import PANEL_MIN_WIDTH

    app = as_launched(ChatLoad(with_sampler, with_panel, interval, nvml, compact=size[0] < PANEL_MIN_WIDTH))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.start_load()
        await pilot.pause(1.0)  # let the turn start and the sampler take its first snapshots
        tokens, cpu = app.tokens, time.process_time()
        app.show_ms.clear()
        app.render_ms = 0.0
        await app.probe(seconds)
        app.cpu_percent = 100.0 * (time.process_time() - cpu) / seconds
        app.tokens_per_second = (app.tokens - tokens) / seconds
        app.stop_sampler()
    return app


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def make_nvml(kind: str) -> Any | None:
    """None: this machine's pynvml (what users run); "fake": two stand-in A100s, for a box without a GPU."""
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
    parser.add_argument("--nvml", choices=("fake", "real"), default="real",
                        help="this machine's pynvml (default, as users run it) or a stand-in with two GPUs")
    parser.add_argument("--sizes", type=parse_sizes, default=list(USER_SIZES),
                        help="terminal sizes COLSxROWS (default 160x50,80x24: the full panel, then the strip)")
    args = parser.parse_args()
    if args.nvml == "real":
        from tui.core.hardware import read_gpus

        gpus, error = read_gpus()
        print(f"real NVML: {', '.join(g.name for g in gpus) if gpus else error}", file=sys.stderr)
    for size in args.sizes:
        report(args, size)


def report(args: argparse.Namespace, size: tuple[int, int]) -> None:
    results: dict[str, list[ChatLoad]] = {label: [] for label, _, _ in SETUPS}
    for run in range(args.runs):
        for label, with_sampler, with_panel in SETUPS:
            print(f"{size[0]}x{size[1]} run {run + 1}/{args.runs}: {label}, {args.seconds:.0f} s ...",
                  file=sys.stderr, flush=True)
            app = asyncio.run(measure(with_sampler, with_panel, args.seconds, args.interval, make_nvml(args.nvml),
                                      size))
            results[label].append(app)

    def pooled(label: str, attribute: str) -> list[float]:
        return [value for app in results[label] for value in getattr(app, attribute)]

    base_label, sampler_label, panel_label = (label for label, _, _ in SETUPS)
    base, panel = pooled(base_label, "lateness_ms"), pooled(panel_label, "lateness_ms")
    base_median, base_p99 = statistics.median(base), percentile(base, 0.99)
    median_added = statistics.median(panel) - base_median
    p99_added = percentile(panel, 0.99) - base_p99
    shows = pooled(panel_label, "show_ms")
    panel_apps = results[panel_label]
    rendered = sum(app.render_ms for app in panel_apps)
    panel_render_ms = rendered / (args.seconds * len(panel_apps))
    per_update_ms = (sum(shows) + rendered) / max(1, len(shows))
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
        ("one show_* call (setter only), median", "(informative)", f"{statistics.median(shows):.3f} ms", "-"),
        ("one show_* call (setter only), p99", "(informative)", f"{percentile(shows, 0.99):.3f} ms", "-"),
        ("drawing the panel (render_lines), per second", "(informative)", f"{panel_render_ms:.2f} ms/s", "-"),
        ("one update: setter + its share of drawing, mean", f"< {TARGET_SHOW_MS:g} ms", f"{per_update_ms:.3f} ms",
         f"{per_update_ms / TARGET_SHOW_MS:.2f}"),
        ("stream kept up, slowest window", "(informative)",
         f"{min(app.tokens_per_second for apps in results.values() for app in apps):.1f} of 50 tok/s", "-"),
    ]
    header = ("figure", "target", "measured", "ratio to target")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    from tui.screens.chat import PANEL_MIN_WIDTH

    shape = "compact strip" if size[0] < PANEL_MIN_WIDTH else "full panel"
    print(f"\n{size[0]}x{size[1]} ({shape}), sampler at {args.interval:g} s, {args.nvml} NVML, "
          f"{args.runs} x {args.seconds:g} s per setup, probe every {PROBE_SECONDS * 1000:.0f} ms")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
