"""Progress arithmetic for `/api/pull`: per-layer and overall bytes, speed, ETA.

Kept free of Textual and of I/O so `r1tui pull` and the TUI's pull screen
show the same figures, and tests can drive it with a fake clock.

Three things the raw stream gets wrong for a user, handled here:
- a resumed pull reports its first `completed` far above 0; that jump was
  downloaded earlier and must not count as speed (it would show GB/s);
- but a fresh pull's first figure is not 0 either: Ollama reports progress on
  a 60 ms tick after the download has started, so "17.4 MB" may be the first
  thing it says about a layer it never saw before. Ollama's stream has no
  "resuming" status, so a resume is only claimed on evidence (see
  `PullTracker.update`): never on a first figure alone that a fast link could
  have fetched since the previous message;
- speed over the whole pull hides a stall, speed over one message is noise,
  so speed is measured over a sliding window of recent samples.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Mapping

from tui.core.units import human_bytes

__all__ = ["DEFAULT_WINDOW_SECONDS", "FAST_LINK_BYTES_PER_SECOND", "FRESH_START_MARGIN_BYTES", "LayerProgress",
           "PullTracker", "SpeedMeter", "describe_layer", "eta_seconds", "format_bytes", "format_duration",
           "format_speed", "render_bar"]

DEFAULT_WINDOW_SECONDS = 5.0
# What a first progress figure may be without meaning a resume: a fast link
# (10 Gbit/s) running since the previous message, plus a margin for the
# server's tick and the request's set-up.
FAST_LINK_BYTES_PER_SECOND = 1.25e9
FRESH_START_MARGIN_BYTES = 64_000_000


class SpeedMeter:
    """Bytes per second over the last `window` seconds of (time, bytes done) samples."""

    def __init__(self, window: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, done: int) -> None:
        if self._samples and done < self._samples[-1][1]:
            self._samples.clear()  # the server restarted the layer: old samples no longer describe it
        self._samples.append((now, done))
        # Keep one sample at or before the window's start so the span stays a full window.
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.window:
            self._samples.popleft()

    def rate(self) -> float | None:
        """None until two samples at least a moment apart exist: no figure beats a made-up one."""
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        if t1 - t0 <= 1e-3:
            return None
        return max(0.0, (b1 - b0) / (t1 - t0))


def eta_seconds(remaining: int, rate: float | None) -> float | None:
    if remaining <= 0:
        return 0.0
    if not rate:
        return None
    return remaining / rate


@dataclass
class LayerProgress:
    """One blob of the model (weights, template, license…), identified by digest."""

    digest: str
    total: int
    completed: int = 0
    resumed_from: int = 0
    already_present: bool = False
    meter: SpeedMeter = field(default_factory=SpeedMeter, repr=False)

    @property
    def done(self) -> bool:
        return self.total > 0 and self.completed >= self.total

    @property
    def fraction(self) -> float:
        return min(1.0, self.completed / self.total) if self.total else 0.0

    @property
    def speed(self) -> float | None:
        return self.meter.rate()

    @property
    def eta(self) -> float | None:
        return eta_seconds(self.total - self.completed, self.speed)

    @property
    def short_digest(self) -> str:
        """The 12 hex digits `ollama pull` shows."""
        return self.digest.split(":", 1)[-1][:12]


class PullTracker:
    """Folds the `/api/pull` stream (status, digest, total, completed) into a view of the pull."""

    def __init__(self, window: float = DEFAULT_WINDOW_SECONDS, known_partial: Mapping[str, int] | None = None) -> None:
        """`known_partial`: bytes of each layer (by digest) an earlier attempt at this pull had
        downloaded, when known (the TUI re-pulling after a cancel or failure)."""
        self.window = window
        self.known_partial = dict(known_partial or {})
        self._last_message_at: float | None = None
        self.status = ""
        self.layers: dict[str, LayerProgress] = {}
        self.current: LayerProgress | None = None
        self._meter = SpeedMeter(window)
        self.finished = False

    def update(self, now: float, status: str, digest: str | None = None, total: int | None = None,
               completed: int | None = None) -> LayerProgress | None:
        """Record one message; returns the layer it was about, if any.

        A layer first seen already complete was on disk (`already_present`).
        A layer first seen part-way is a resume (`resumed_from` keeps the figure
        for the display) only when an earlier attempt is known to have left
        part of it, or when the figure is more than a fast link could have
        fetched since the previous message; otherwise it is a fresh download
        whose first report came late. Either way the first figure is not speed.
        """
        previous_message_at, self._last_message_at = self._last_message_at, now
        self.status = status or self.status
        if status == "success":
            self.finished = True
        if not digest or total is None:
            return None
        layer = self.layers.get(digest)
        done = int(completed or 0)
        if layer is None:
            total = int(total)
            layer = LayerProgress(digest, total, done, meter=SpeedMeter(self.window))
            if total and done >= total:
                layer.already_present = True
            elif done > 0:
                known = self.known_partial.get(digest, 0)
                since = max(0.0, now - previous_message_at) if previous_message_at is not None else 0.0
                if known > 0:
                    layer.resumed_from = min(done, known)
                elif done > FRESH_START_MARGIN_BYTES + FAST_LINK_BYTES_PER_SECOND * since:
                    layer.resumed_from = done
            self.layers[digest] = layer
        else:
            layer.total = int(total)
            layer.completed = done
        layer.meter.add(now, done)
        self._meter.add(now, self.completed_bytes)
        self.current = layer
        return layer

    @property
    def total_bytes(self) -> int:
        """Bytes of the layers announced so far (the server announces them one by one)."""
        return sum(layer.total for layer in self.layers.values())

    @property
    def completed_bytes(self) -> int:
        return sum(min(layer.completed, layer.total) for layer in self.layers.values())

    @property
    def resumed_bytes(self) -> int:
        return sum(layer.resumed_from for layer in self.layers.values())

    @property
    def fraction(self) -> float:
        total = self.total_bytes
        return min(1.0, self.completed_bytes / total) if total else 0.0

    @property
    def speed(self) -> float | None:
        return self._meter.rate()

    @property
    def eta(self) -> float | None:
        return eta_seconds(self.total_bytes - self.completed_bytes, self.speed)


# -- formatting (shared by the CLI and the TUI) ----------------------------------------


def format_bytes(count: float) -> str:
    """Decimal units, as `ollama pull` and the library page print sizes (`tui.core.units.human_bytes`)."""
    return human_bytes(count)


def format_speed(rate: float | None) -> str:
    return "--" if rate is None else f"{format_bytes(rate)}/s"


def format_duration(seconds: float | None) -> str:
    """ETA text: "42s", "3m05s", "1h02m"; "--" when unknown."""
    if seconds is None or math.isinf(seconds) or math.isnan(seconds):
        return "--"
    whole = max(0, int(math.ceil(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def render_bar(fraction: float, width: int = 24) -> str:
    """A plain-ASCII bar, safe on any terminal an SSH session lands on."""
    fraction = min(1.0, max(0.0, fraction))
    filled = int(round(fraction * width))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def describe_layer(layer: LayerProgress) -> str:
    """`3f1a2b4c5d6e  4.2 GB / 19.9 GB  21%  850.0 MB/s  ETA 18s`: one layer, as text."""
    return (f"{layer.short_digest}  {format_bytes(layer.completed)} / {format_bytes(layer.total)}"
            f"  {layer.fraction:4.0%}  {format_speed(layer.speed)}  ETA {format_duration(layer.eta)}")
