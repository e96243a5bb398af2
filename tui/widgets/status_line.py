"""The line above the chat that says where the connection stands; it follows `R1App.status`."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

_LEVEL_STYLES = {"dim": "dim", "success": "$success", "warning": "$warning", "error": "$error"}


class StatusLine(Static):
    """Shows the app's `status` reactive: (text already made inert and redacted, level)."""

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._show)

    def _show(self, status: tuple[str, str]) -> None:
        text, level = status
        self.update(Content.styled(text, _LEVEL_STYLES.get(level, "")))
