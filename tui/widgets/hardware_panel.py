"""The hardware and speed panel beside the chat: what the model costs while it talks.

The panel only renders what the chat screen hands it: hardware snapshots from
`tui.core.hardware.HardwareSampler` (taken in the sampler's thread), the server's
`/api/ps` rows, and the turn's `TokenMeter`. It never calls NVML, psutil or the
network, so nothing it does can wait on a driver or a socket.

It is a column of a few sections (`tui.widgets.panel_section`). Each `show_*` call
rebuilds only the sections its data feeds (a speed update never touches the GPU
lines), and a rebuilt section reaches the screen only if its text or colours
differ from what is shown; then only its changed lines are drawn again, and the
screen is laid out again (the whole screen, conversation included) only when
the section's height changes.

Sparklines are drawn here as block characters on a fixed scale (VRAM from 0 to
the GPUs' total, tokens/s from 0 to the turn's peak) rather than with Textual's
`Sparkline`, which stretches min..max to full height: a flat 6.00 GiB line that
wobbles by one megabyte would look like the model doubling its memory.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timezone
from typing import Callable, Iterable, Sequence

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.reactive import reactive

from tui.core.backend import LoadedModel
from tui.core.engine_metrics import EngineLoad
from tui.core.context_window import ContextChoice, ContextUsage
from tui.core.hardware import NO_GPU_PREFIX, GpuSnapshot, HardwareSnapshot, ProcessSnapshot
from tui.core.hardware_watch import (
    HISTORY_SECONDS,
    VRAM_FULL_FRACTION,
    HardwareHistory,
    HistoryPoint,
    cpu_share_percent,
    warnings_for,
)
from tui.core.keep_alive import unloads_in
from tui.core.metrics import TokenMeter
from tui.core.sanitize import inert
from tui.core.units import format_gib, ps_size as human_bytes
from tui.widgets.engine_section import engine_section
from tui.widgets.panel_section import PanelSection

LINE_WIDTH = 37  # the full panel's text width (42 columns less border, padding and scrollbar)
BAR_WIDTH = 12
COMPACT_BAR_WIDTH = 8
SPARK_WIDTH = 34
BUSY_FRACTION = 0.80

LEVELS = "▁▂▃▄▅▆▇█"
WallClock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# -- text building blocks (no widget state) --------------------------------------


def gib(value: int | float) -> str:
    return format_gib(value, unit=False)


def level_style(fraction: float) -> str:
    """Green, then amber from 80%, red from 95%: the colours only say how close to full."""
    if fraction >= VRAM_FULL_FRACTION:
        return "$error"
    if fraction >= BUSY_FRACTION:
        return "$warning"
    return "$success"


def bar(fraction: float, width: int) -> Content:
    """A used/total bar in whole cells; the percentage beside it carries the precision."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return Content.assemble(("█" * filled, level_style(fraction)), ("░" * (width - filled), "dim"))


def spark(values: Sequence[float | None], width: int, top: float, summary: Callable[[list[float]], float] = max) -> str:
    """Values as block characters scaled 0..top, bucketed to `width` cells; None (no reading) is blank."""
    if not values:
        return ""
    count = len(values)
    if count <= width:
        buckets: Iterable[Sequence[float | None]] = ([value] for value in values)
    else:
        buckets = (values[i * count // width:(i + 1) * count // width] for i in range(width))
    cells = []
    for bucket in buckets:
        known = [v for v in bucket if v is not None]
        if not known:
            cells.append(" ")
            continue
        level = int(summary(known) / top * len(LEVELS)) if top > 0 else 0
        cells.append(LEVELS[min(len(LEVELS) - 1, max(0, level))])
    return "".join(cells)


def core_blocks(per_core: Sequence[float]) -> str:
    """One block per core, so a single saturated core (a CPU-bound runner) stands out."""
    return "".join(LEVELS[min(len(LEVELS) - 1, int(p / 100 * len(LEVELS)))] for p in per_core)


def format_rate(rate: float) -> str:
    """At least three significant digits, so the figure shown is within 0.5% of the exact one."""
    if rate >= 100:
        return f"{rate:.0f}"
    if rate >= 10:
        return f"{rate:.1f}"
    if rate >= 1:
        return f"{rate:.2f}"
    return f"{rate:.3f}"


def short_gpu_name(name: str) -> str:
    """Every name here is NVIDIA's; dropping the prefix leaves room for the model number."""
    name = inert(name)
    return name[len("NVIDIA "):] if name.startswith("NVIDIA ") else name


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- sections ----------------------------------------------------------------------


def _title(text: str) -> Content:
    return Content.styled(text, "bold $accent")


def _lines(lines: Iterable[Content | str]) -> Content:
    return Content("\n").join(line if isinstance(line, Content) else Content(line) for line in lines)


def _gpu_figures(gpu: GpuSnapshot, with_limit: bool = True) -> list[str]:
    parts = []
    if gpu.utilization_percent is not None:
        parts.append(f"util {gpu.utilization_percent:.0f}%")
    if gpu.temperature_c is not None:
        parts.append(f"{gpu.temperature_c:.0f}°C")
    if gpu.power_watts is not None:
        limit = gpu.power_limit_watts
        shown = limit if with_limit else None
        parts.append(f"{gpu.power_watts:.0f}/{shown:.0f} W" if shown else f"{gpu.power_watts:.0f} W")
    return parts


def _vram_line(gpu: GpuSnapshot, width: int, label: str = "VRAM ") -> Content:
    fraction = gpu.vram_fraction
    return Content.assemble(
        label, bar(fraction, width),
        (f" {fraction * 100:3.0f}%", level_style(fraction)),
        f" {gib(gpu.vram_used_bytes)}/{gib(gpu.vram_total_bytes)} GiB",
    )


def _span_words(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def gpu_section(snapshot: HardwareSnapshot | None, history: Sequence[HistoryPoint], compact: bool) -> Content:
    if snapshot is None:
        return Content.styled("reading the hardware…", "dim")
    if not snapshot.gpus:
        error = inert(snapshot.gpu_error or NO_GPU_PREFIX.rstrip())
        if compact:
            return Content.styled(error, "$warning")
        # The reason on a line of its own: NVML's texts are long and wrap badly after the prefix.
        head, _, reason = error.partition(": ")
        said = [f" {head}:", f" {reason}"] if reason else [f" {head}"]
        return _lines([_title("GPU"), *(Content.styled(line, "$warning") for line in said)])
    if compact:
        return _lines(
            Content.assemble(f"GPU{gpu.index} {clip(short_gpu_name(gpu.name), 16)} ",
                             _vram_line(gpu, COMPACT_BAR_WIDTH, label=""),
                             *(f" · {part}" for part in _gpu_figures(gpu, with_limit=False)))
            for gpu in snapshot.gpus
        )
    lines: list[Content | str] = [_title("GPU" if len(snapshot.gpus) == 1 else f"GPUs ({len(snapshot.gpus)})")]
    for gpu in snapshot.gpus:
        label = f"{gpu.index} · "
        lines.append(Content.styled(" " + label + clip(short_gpu_name(gpu.name), LINE_WIDTH - 1 - len(label)), "bold"))
        lines.append(Content(" ") + _vram_line(gpu, BAR_WIDTH))
        figures = _gpu_figures(gpu)
        if figures:
            lines.append(" " + " · ".join(figures))
        held = snapshot.ollama_vram_bytes(gpu)
        if held is not None:
            lines.append(f" ollama holds {gib(held)} GiB")
    known = [p for p in history if p.vram_used is not None]
    if len(known) >= 2:
        total = max(p.vram_total or 0 for p in known)
        span = known[-1].taken_at - known[0].taken_at
        lines.append(Content.styled(f" VRAM used, last {_span_words(span)} (0–{gib(total)} GiB)", "dim"))
        lines.append(Content.styled(" " + spark([p.vram_used for p in history], SPARK_WIDTH, total), "$accent"))
    return _lines(lines)


def _process_line(process: ProcessSnapshot) -> str:
    return f" {clip(inert(process.name), 13):<13} {gib(process.rss_bytes):>4} GiB RSS {process.cpu_percent:4.0f}% CPU"


def _memory_line(label: str, used: int, total: int, width: int) -> Content:
    fraction = used / total if total else 0.0
    return Content.assemble(label, bar(fraction, width), (f" {fraction * 100:3.0f}%", level_style(fraction)),
                            f" {gib(used)}/{gib(total)} GiB")


def cpu_section(snapshot: HardwareSnapshot | None, compact: bool) -> Content | None:
    if snapshot is None:
        return None
    cpu, memory = snapshot.cpu, snapshot.memory
    load = cpu.load_average
    if compact:
        swap = ""
        if memory.swap_total_bytes:
            swap = f" · swap {gib(memory.swap_used_bytes)}/{gib(memory.swap_total_bytes)} GiB"
        load_text = f" · load {load[0]:.2f}" if load else ""
        return Content.assemble(f"CPU {cpu.percent:.0f}% ×{cpu.count}{load_text} · ",
                                _memory_line("RAM ", memory.used_bytes, memory.total_bytes, COMPACT_BAR_WIDTH), swap)
    lines: list[Content | str] = [_title("CPU and memory"), f" CPU {cpu.percent:3.0f}% of {cpu.count} cores"]
    blocks = core_blocks(cpu.per_core)
    width = LINE_WIDTH - 1
    lines += [Content.styled(" " + blocks[i:i + width], "$accent") for i in range(0, len(blocks), width)]
    if load:
        lines.append(f" load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)")
    lines.append(Content(" ") + _memory_line("RAM  ", memory.used_bytes, memory.total_bytes, BAR_WIDTH))
    if memory.swap_total_bytes:
        lines.append(Content(" ") + _memory_line("swap ", memory.swap_used_bytes, memory.swap_total_bytes, BAR_WIDTH))
    else:
        lines.append(" swap none")
    lines += [_process_line(process) for process in snapshot.ollama_processes]
    return _lines(lines)


def models_section(models: Sequence[LoadedModel] | None, error: str | None, now: datetime, compact: bool) -> Content:
    """The server's own view (/api/ps), figures as it reports them."""
    served = bool(models) and not any(model.size for model in models or ())
    title = "Served models (/v1/models)" if served else "Loaded models (/api/ps)"
    if error or not models:
        if error:
            body = Content.styled(f"/api/ps failed: {inert(error)}", "$error")
        elif models is None:
            body = Content.styled("asking the server…", "dim")
        else:
            body = Content.styled("no model loaded (the next prompt loads it)", "dim")
        return body if compact else _lines([_title(title), Content(" ") + body])
    lines: list[Content | str] = [] if compact else [_title(title)]
    for model in models:
        name = inert(model.name)
        if not model.size:  # an engine's served model: no Ollama-style size or CPU/GPU split to show
            context = f"max_model_len {model.context_length:,}" if model.context_length else "served"
            lines.append(Content.assemble((name, "bold"), " · " if compact else "\n  ", context))
            continue
        processor = Content.styled(model.processor, "$warning" if cpu_share_percent(model) else "$success")
        context = f"ctx {model.context_length}" if model.context_length else ""
        until = unloads_in(model.expires_at, now)
        if compact:
            tail = " · ".join(part for part in (human_bytes(model.size), context, until) if part)
            lines.append(Content.assemble((name, "bold"), " · ", processor, " · " + tail))
            continue
        lines.append(Content.styled(" " + name, "bold"))
        lines.append(Content.assemble("  ", processor, f" · {context}" if context else ""))
        lines.append(f"  size {human_bytes(model.size)} · in VRAM {human_bytes(model.size_vram)}")
        if until:
            lines.append("  " + until)
    return _lines(lines)


def speed_section(meter: TokenMeter | None, streaming: bool, compact: bool) -> Content:
    """Live rate while streaming; the server's exact figures once the final chunk came.

    Compact form: one line, leaving out what the turn's own figures line already
    shows under the answer (load time, token counts).
    """
    if meter is None:
        return Content.styled("Speed: no turn yet", "dim") if compact else _lines(
            [_title("Speed"), Content.styled(" no turn yet", "dim")])
    stats = None if streaming else meter.stats
    title = "Speed · generating" if streaming else "Speed · last turn"
    rates: list[str] = []
    if streaming and meter.first_token_at is None:
        headline = Content.styled("waiting for the first token…", "dim")
    elif streaming:
        note = " live" if compact else " live (last 2 s)"
        headline = Content.assemble((f"{format_rate(meter.live_rate())} tok/s", "bold"), note)
    elif stats is not None and stats.eval_rate is not None:
        note = " (server)" if compact else " eval rate (server)"
        headline = Content.assemble((f"{format_rate(stats.eval_rate)} tok/s", "bold"), note)
        if stats.prompt_eval_rate:
            rates.append(f"prompt {format_rate(stats.prompt_eval_rate)} tok/s")
        if not compact:
            rates.append(f"load {stats.load_seconds:.1f} s" if stats.load_seconds >= 0.05 else "model already loaded")
    else:
        headline = Content.styled("stopped before the server's figures", "$warning")
    timing = []
    if meter.ttft_seconds is not None:
        timing.append(f"first token {meter.ttft_seconds:.2f} s")
    if meter.reasoning_started_at is not None:
        timing.append(f"{'thinking' if meter.thinking and streaming else 'thought'} {meter.think_seconds:.1f} s")
    if compact:
        return Content(" · ").join([headline, *(Content(part) for part in rates + timing)])
    # While streaming, every line has its place from the start (what is not known yet is a dim
    # placeholder): the section is redrawn twice a second and keeps its height, and a change of
    # height would lay out the whole screen, the streaming conversation included.
    details: list[Content | str] = [" · ".join(group) for group in (rates, timing) if group]
    if streaming and not timing:
        details.append(Content.styled("first token …", "dim"))
    if meter.reasoning_tokens or meter.answer_tokens or streaming:
        details.append(f"{meter.reasoning_tokens} reasoning + {meter.answer_tokens} answer tokens")
    lines: list[Content | str] = [_title(title), Content(" ") + headline, *(Content(" ") + d for d in details)]
    history = meter.rate_history
    if history and max(history) > 0:
        peak = max(history)
        lines.append(Content.styled(f" tok/s over the turn (peak {format_rate(peak)})", "dim"))
        lines.append(Content.styled(" " + spark(history, SPARK_WIDTH, peak, statistics.fmean), "$accent"))
    elif streaming:
        lines += [Content.styled(" tok/s over the turn", "dim"), Content(" ")]
    return _lines(lines)


def context_section(choice: ContextChoice | None, usage: ContextUsage | None, compact: bool) -> Content | None:
    """The chat's context: what the last turn used of it (the server's counts), and the size chosen and why."""
    if choice is None and usage is None:
        return None
    parts: list[Content] = []
    if usage is not None:
        style = "bold $warning" if usage.nearly_full else "bold"
        parts.append(Content.assemble((usage.label, style), f" ({usage.share:.0%}, last turn)"))
    if choice is not None:
        parts.append(Content.styled(choice.label, "dim"))
    if usage is not None and (warning := usage.warning()):
        parts.append(Content.styled(f"⚠ {warning}", "$warning"))
    if compact:
        return Content(" · ").join(parts)
    return _lines([_title("Context"), *(Content(" ") + part for part in parts)])


def remote_section(url: str | None, compact: bool) -> Content | None:
    if url is None:
        return None
    where = inert(url)
    if compact:
        return Content.styled(f"server {where} is remote: hardware figures are of this machine; "
                              "the model's are the server's /api/ps", "$warning")
    return Content.styled(f"Server {where} is remote: the hardware figures are of this machine; "
                          "the loaded models below are the server's own view (/api/ps), the source "
                          "of truth for the model.", "$warning")


def warnings_section(warnings: Sequence[str]) -> Content | None:
    if not warnings:
        return None
    return _lines(Content.styled(f"⚠ {warning}", "bold $warning") for warning in warnings)


# -- the widget ---------------------------------------------------------------------


SECTIONS = ("remote", "engine", "warnings", "gpus", "cpu", "models", "context", "speed")


class HardwarePanel(VerticalScroll, can_focus=False):
    """GPU, CPU, RAM, loaded models and tokens/s, docked beside the chat.

    The chat screen calls the `show_*` methods from the event loop whenever it
    has new data; each call re-renders only the sections that data feeds, and
    a section reaches the screen only if its text or colours changed. Set
    `compact` for small terminals: one line per GPU, model and figure group,
    no titles or sparklines, docked along the bottom of its container instead
    of its right side. Either way it docks inside its parent, so put it in the
    container beside the conversation, not directly on the screen, where it
    would slide under the Header and Footer.
    """

    DEFAULT_CSS = """
    HardwarePanel {
        dock: right;
        width: 42;
        height: 1fr;
        padding: 0 1;
        border-left: vkey $panel-lighten-2;
        scrollbar-size-vertical: 1;
    }
    HardwarePanel > .hp-section { height: auto; margin-bottom: 1; }
    HardwarePanel > .hp-remote { margin-bottom: 1; }
    HardwarePanel.-compact {
        dock: bottom;
        width: 100%;
        height: auto;
        max-height: 8;
        padding: 0 1;
        border-left: none;
        border-top: hkey $panel-lighten-2;
    }
    HardwarePanel.-compact > .hp-section { margin-bottom: 0; }
    """

    compact: reactive[bool] = reactive(False)

    def __init__(
        self,
        *,
        wall_clock: WallClock = _utc_now,
        history_seconds: float = HISTORY_SECONDS,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's name for it
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._wall_clock = wall_clock
        self._history = HardwareHistory(history_seconds)
        self._snapshot: HardwareSnapshot | None = None
        self._models: list[LoadedModel] | None = None
        self._models_error: str | None = None
        self._meter: TokenMeter | None = None
        self._streaming = False
        self._remote: str | None = None
        self._engine: tuple[str, str, EngineLoad | None] = ("", "", None)
        self._context_choice: ContextChoice | None = None
        self._context_usage: ContextUsage | None = None
        self._stale_sections: set[str] = set()
        self._sections = {name: PanelSection(classes=f"hp-section hp-{name}") for name in SECTIONS}
        self._shown: dict[str, tuple[str, tuple[object, ...]] | None] = {}

    def compose(self) -> ComposeResult:
        yield from self._sections.values()

    def on_mount(self) -> None:
        self._update_sections(*SECTIONS)

    # -- what the chat screen calls ------------------------------------------------

    def show_hardware(self, snapshot: HardwareSnapshot | None) -> None:
        """A new sample (e.g. `sampler.latest` on a timer); the same one twice is ignored."""
        if snapshot is None or snapshot is self._snapshot:
            return
        self._snapshot = snapshot
        self._history.add(snapshot)
        self._update_sections("gpus", "cpu", "warnings", "models")  # models: "unloads in" moves with time

    def show_loaded(self, models: list[LoadedModel], error: str | None = None) -> None:
        """The server's `/api/ps` answer, or the error that replaced it."""
        self._models = list(models)
        self._models_error = error
        self._update_sections("models", "warnings")

    def show_speed(self, meter: TokenMeter | None, streaming: bool) -> None:
        """Show the turn's meter (its rate history is the sparkline; the caller samples it), then once after."""
        self._meter = meter
        self._streaming = streaming
        self._update_sections("speed")

    def show_context(self, choice: ContextChoice | None, usage: ContextUsage | None = None) -> None:
        """The context size the chat sends (and why), and what the last turn used of it."""
        self._context_choice = choice
        self._context_usage = usage
        self._update_sections("context")

    def set_remote(self, url: str | None) -> None:
        """The server's URL when it is not on this machine (`not is_local_host(url)`), else None."""
        self._remote = url
        self._update_sections("remote")

    def show_engine(self, label: str, version: str, load: EngineLoad | None) -> None:
        """The engine serving the chat and its /metrics load; an empty label (Ollama) hides the section."""
        self._engine = (label, version, load)
        self._update_sections("engine")

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")
        self._update_sections(*SECTIONS)

    # -- rendering -----------------------------------------------------------------

    def _update_sections(self, *names: str) -> None:
        if not self.display:
            # Hidden (F2, or a small terminal): drawing would only cost a relayout of the
            # whole screen, conversation included. Catch up when shown again.
            self._stale_sections.update(names)
            return
        for name in names:
            self._put(name, self._section_content(name))

    def on_show(self) -> None:
        # After the refresh that shows the panel, not during it: a layout asked for from here was not done
        # (a section whose text changed while hidden, compact then full size, kept the height of its old
        # text and showed only that many rows of the new one).
        self.call_after_refresh(self._catch_up)

    def _catch_up(self) -> None:
        stale, self._stale_sections = self._stale_sections, set()
        self._update_sections(*(name for name in SECTIONS if name in stale))

    def _section_content(self, name: str) -> Content | None:
        compact = self.compact
        if name == "remote":
            return remote_section(self._remote, compact)
        if name == "engine":
            return engine_section(*self._engine, compact)
        if name == "warnings":
            return warnings_section(warnings_for(self._snapshot, self._models or (), self._history.points))
        if name == "gpus":
            return gpu_section(self._snapshot, self._history.points, compact)
        if name == "cpu":
            return cpu_section(self._snapshot, compact)
        if name == "models":
            return models_section(self._models, self._models_error, self._wall_clock(), compact)
        if name == "context":
            return context_section(self._context_choice, self._context_usage, compact)
        return speed_section(self._meter, self._streaming, compact)

    def _put(self, name: str, content: Content | None) -> None:
        """Update a section only when its text or styles changed (Content's == compares text only).

        The section itself repaints only the lines that changed, and lays the screen out again
        only when its height changes: a relayout reflows the whole screen, conversation included,
        and most seconds only digits change.
        """
        key = None if content is None else (content.plain, tuple(content.spans))
        if self._shown.get(name, False) == key:
            return
        self._shown[name] = key
        section = self._sections[name]
        section.display = content is not None
        if content is not None:
            section.update(content)
