"""F1: the keys of the screen underneath, readable at 80×24, built from its bindings
(`tui.keymap`), so the help can never list a key that does not exist or miss one that does.
Textual's own key panel lists the prompt's many editing keys first, which buries the app's."""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.keymap import SECTION_ORDER, key_label, section_of
from tui.screens.dialog import Dialog


def help_text(bindings: Iterable[Binding]) -> Content:
    """Sections (Chat, Screens, Everywhere); keys of another screen come first, as "This screen"."""
    sections: dict[str, list[Content]] = {}
    seen: set[tuple[str, str]] = set()
    actions: set[str] = set()
    for binding in bindings:
        what = binding.tooltip or binding.description
        if not what or (binding.key, what) in seen or binding.action.startswith("column("):
            continue
        action = binding.action.split("(")[0]
        if action in actions and not binding.tooltip:
            continue  # a second key for an action already listed (Alt+Enter beside Ctrl+J, Alt+→ beside Alt+←)
        seen.add((binding.key, what))
        actions.add(action)
        title = section_of(binding)
        key = binding.key_display or key_label(binding.key)
        sections.setdefault(title, []).append(Content.assemble((f"  {key:<10}", "bold"), what))
    lines: list[Content] = []
    for title in sorted(sections, key=SECTION_ORDER.index):
        lines.append(Content.styled(title, "bold $accent"))
        lines.extend(sections[title])
        lines.append(Content(""))
    return Content("\n").join(lines[:-1])


class HelpScreen(Dialog[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen > VerticalScroll { width: 84; max-width: 100%; max-height: 100%; }
    """

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self.keys = list(bindings)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_text(self.keys))
