"""The bench summary as a picture: each model's accuracy against its time (or VRAM) per answer.

"Which model is right often enough, fast enough?" is a question of where a
point sits: up and to the left is better. The same drawing serves the
terminal (`r1tui bench --chart`, plain `plotext`, no colour codes) and the
TUI (`tui.widgets.summary_chart`, textual-plotext), through `plot_summary`,
which only uses calls both `plt` objects share.

Model names come from the server: they are drawn inert (`tui.core.sanitize`).
"""

from __future__ import annotations

from typing import Any, Sequence

from tui.core.sanitize import inert
from tui.core.units import GIB

__all__ = ["MARKERS", "X_AXES", "chart_points", "legend", "plot_summary", "summary_chart_text"]

# One shape per model, so points read apart without colour (16-colour terminals, files, colour-blind
# readers), and named in the legend: labels written beside the points collide when two models score alike.
MARKERS = ("●", "■", "▲", "◆", "★", "✚", "○", "□")

# What the horizontal axis may show: (summary key, axis label, unit scale).
X_AXES: dict[str, tuple[str, str, float]] = {
    "time": ("mean_total_s", "seconds per answer", 1.0),
    "vram": ("peak_vram_bytes", "peak VRAM (GiB)", float(GIB)),
}


def chart_points(summary: Sequence[dict[str, Any]], x: str = "time") -> list[tuple[str, float, float]]:
    """(model, x value, accuracy in %) for every model with both figures."""
    key, _, scale = X_AXES[x]
    return [(inert(entry["model"]), entry[key] / scale, entry["accuracy"] * 100)
            for entry in summary if entry.get("accuracy") is not None and entry.get(key) is not None]


def legend(summary: Sequence[dict[str, Any]], x: str = "time") -> str:
    """Which shape is which model: `● deepseek-r1:7b  ■ deepseek-r1:14b`."""
    return "  ".join(f"{MARKERS[i % len(MARKERS)]} {model}" for i, (model, _, _) in enumerate(chart_points(summary, x)))


def plot_summary(plt: Any, summary: Sequence[dict[str, Any]], x: str = "time") -> bool:
    """Draw on `plt` (plotext, or a PlotextPlot's `plt`); False when nothing was graded (nothing drawn)."""
    points = chart_points(summary, x)
    plt.clear_data()
    _, label, _ = X_AXES[x]
    plt.title(legend(summary, x) or "accuracy")
    plt.xlabel(f"{label} · up and left is better")
    plt.ylabel("% right")
    if not points:
        return False
    highest = max(value for _, value, _ in points)
    plt.xlim(0, highest * 1.1 or 1.0)
    plt.ylim(0, 105)
    plt.yticks([0, 25, 50, 75, 100])
    for index, (_, value, accuracy) in enumerate(points):
        plt.scatter([value], [accuracy], marker=MARKERS[index % len(MARKERS)])
    return True


def summary_chart_text(summary: Sequence[dict[str, Any]], width: int = 80, height: int = 18, x: str = "time") -> str:
    """The chart as plain text for a terminal or a file (no colour codes)."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    if not plot_summary(plt, summary, x):
        if x == "vram" and any(entry.get("accuracy") is not None for entry in summary):
            return "(no chart: no peak VRAM was measured: no NVIDIA GPU here, or the server is remote)"
        return "(no chart: no prompt had a reference answer, so nothing was graded)"
    return "\n".join(line.rstrip() for line in plt.uncolorize(plt.build()).splitlines())
