"""What a user should act on, from the hardware samples and the server's loaded models: the rules
behind the panel's warnings, and the short history they (and the VRAM sparkline) read.

UI-free so the rules can be tested, and reused (a fleet view, `doctor`), without a screen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Sequence

from tui.core.backend import LoadedModel
from tui.core.hardware import HardwareSnapshot
from tui.core.sanitize import inert
from tui.core.units import MIB, format_gib

__all__ = ["HISTORY_SECONDS", "HardwareHistory", "HistoryPoint", "cpu_share_percent", "swap_growth", "warnings_for"]

HISTORY_SECONDS = 300.0
VRAM_FULL_FRACTION = 0.95
# "Swapping" is swap use growing, not swap being used: Linux parks idle pages in
# swap for days, which costs nothing. Growth this large within the window means
# pages are being pushed out now, which is what stalls generation.
SWAP_GROWTH_BYTES = 32 * MIB
SWAP_WINDOW_SECONDS = 60.0
LOW_AVAILABLE_FRACTION = 0.05


@dataclass(frozen=True)
class HistoryPoint:
    """What is kept of one snapshot, for the VRAM sparkline and swap growth."""

    taken_at: float
    vram_used: int | None
    vram_total: int | None
    swap_used: int


class HardwareHistory:
    """The last `seconds` of snapshots, reduced to what the warnings and sparklines read."""

    def __init__(self, seconds: float = HISTORY_SECONDS) -> None:
        self.seconds = seconds
        self.points: deque[HistoryPoint] = deque()

    def add(self, snapshot: HardwareSnapshot) -> None:
        gpus = snapshot.gpus
        self.points.append(HistoryPoint(
            taken_at=snapshot.taken_at,
            vram_used=sum(g.vram_used_bytes for g in gpus) if gpus else None,
            vram_total=sum(g.vram_total_bytes for g in gpus) if gpus else None,
            swap_used=snapshot.memory.swap_used_bytes,
        ))
        cutoff = snapshot.taken_at - self.seconds
        while self.points and self.points[0].taken_at < cutoff:
            self.points.popleft()


def cpu_share_percent(model: LoadedModel) -> int:
    """The CPU part of `ollama ps`'s PROCESSOR column, rounded the same way."""
    if not model.size:
        return 0
    return 100 - round(model.gpu_fraction * 100)


def swap_growth(history: Sequence[HistoryPoint], window: float = SWAP_WINDOW_SECONDS) -> int:
    """Bytes swap use grew over the last `window` seconds (from its lowest point in it)."""
    if not history:
        return 0
    newest = history[-1]
    recent = [p.swap_used for p in history if p.taken_at >= newest.taken_at - window]
    return newest.swap_used - min(recent)


def warnings_for(
    snapshot: HardwareSnapshot | None, models: Sequence[LoadedModel], history: Sequence[HistoryPoint]
) -> list[str]:
    """What a user should act on, in order of cost to them: CPU offload, full VRAM, swapping."""
    warnings = []
    for model in models:
        share = cpu_share_percent(model)
        if share >= 100:
            warnings.append(f"{inert(model.name)} runs entirely on the CPU: expect several times "
                            "fewer tokens/s than on a GPU")
        elif share > 0:
            warnings.append(f"{inert(model.name)}: {share}% of the model on CPU: expect several "
                            "times fewer tokens/s")
    if snapshot is None:
        return warnings
    for gpu in snapshot.gpus:
        if gpu.vram_fraction > VRAM_FULL_FRACTION:
            warnings.append(f"GPU {gpu.index} VRAM {gpu.vram_fraction * 100:.0f}% full: a longer context "
                            "or a bigger model will spill onto the CPU")
    memory = snapshot.memory
    growth = swap_growth(history)
    if growth >= SWAP_GROWTH_BYTES:
        warnings.append(f"RAM is swapping: swap grew {growth / MIB:.0f} MiB in the last minute "
                        f"({format_gib(memory.swap_used_bytes, unit=False)} GiB in swap); everything slows down")
    elif (memory.swap_used_bytes and memory.total_bytes
          and memory.available_bytes / memory.total_bytes < LOW_AVAILABLE_FRACTION):
        warnings.append(f"RAM almost full ({format_gib(memory.available_bytes, unit=False)} GiB available) "
                        "with swap in use: the system may start swapping")
    return warnings
