"""F1: the keys of r1tui in one place, readable at 80×24 (Textual's own key panel lists
the prompt's many editing keys first, which buries the app's)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Chat", (
        ("Enter", "send the prompt"),
        ("Ctrl+J", "new line in the prompt (also Alt+Enter)"),
        ("Esc", "stop generating (the server stops too)"),
        ("Ctrl+T", "fold or unfold the last turn's reasoning (or click its header)"),
        ("Ctrl+Y", "copy the last answer"),
        ("Ctrl+N", "new chat"),
        ("Ctrl+O", "switch model: installed tags, their fit and whether loaded"),
        ("PgUp/PgDn", "scroll (Shift+Tab first to leave the prompt); End follows again"),
        ("Enter", "on an older turn shown as a one-line summary (Tab to it): show it in full"),
    )),
    ("Screens", (
        ("F2", "hardware panel: VRAM, GPU, CPU, RAM, loaded models, tokens/s"),
        ("F3", "model library: GPU fit of every tag; pull, delete, details"),
        ("F4", "compare one prompt on 2–4 models"),
        ("F5", "history: search, resume, rename, export, delete"),
        ("F6", "the Ollama server: version, log, restart (or how to install it)"),
        ("F7", "settings"),
    )),
    ("Everywhere", (
        ("F1", "this help (Esc closes it)"),
        ("Ctrl+P", "command palette: themes, unload/preload model, switch host, …"),
        ("Esc", "back / close"),
        ("Ctrl+Q", "quit"),
    )),
)


def help_text() -> Content:
    lines: list[Content] = []
    for title, keys in KEYS:
        lines.append(Content.styled(title, "bold $accent"))
        for key, what in keys:
            lines.append(Content.assemble((f"  {key:<10}", "bold"), what))
        lines.append(Content(""))
    return Content("\n").join(lines[:-1])


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_text())
