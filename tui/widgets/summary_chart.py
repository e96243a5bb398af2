"""The graded summary as a chart: each model's accuracy against its time (or VRAM) per answer.

A thin textual-plotext widget over `tui.chart.plot_summary`, the drawing
`r1tui bench --chart` prints too, so the picture in the TUI and in a terminal
agree. It follows the app's theme (textual-plotext's "auto" theme).
"""

from __future__ import annotations

from typing import Any, Sequence

from textual_plotext import PlotextPlot

from tui.chart import plot_summary

__all__ = ["SummaryChart"]


class SummaryChart(PlotextPlot):
    """Accuracy (% right, up) against seconds per answer or peak VRAM (right), one point per model."""

    DEFAULT_CSS = """
    SummaryChart { height: 16; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self.axis = "time"
        self.has_points = False

    def show_summary(self, summary: Sequence[dict[str, Any]], axis: str | None = None) -> bool:
        """Redraw from `summary` (bench_summary entries); False when no model has a graded answer yet."""
        if axis is not None:
            self.axis = axis
        self.has_points = plot_summary(self.plt, summary, self.axis)
        self.refresh()
        return self.has_points
