"""How to install Ollama, shown when nothing answers locally and no `ollama` is on PATH.

Why a screen rather than a status line: the install command is long, differs
per platform, and the user will want to copy it (OSC 52 works over SSH).
Dismisses with True when the user says "check again" after installing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer, Static

from tui.core.runtime import InstallGuide, install_guidance
from tui.screens.dialog import Dialog


def guide_text(guide: InstallGuide) -> Content:
    title = f"Ollama is not installed on this machine ({guide.platform})"
    lines = [Content.styled(title, "bold $warning"), Content("")]

    def step(label: str, command: str) -> None:
        lines.append(Content.styled(label, "bold"))
        lines.append(Content.assemble("   ", (command, "$text-accent")))

    step(f"1. {guide.install[0]}", guide.install[1])
    for what, command in guide.alternatives:
        step(f"   or, {what}:", command)
    for number, (what, command) in enumerate(guide.then, 2):
        step(f"{number}. {what}", command)
    for note in guide.notes:
        lines.extend([Content(""), Content.styled(note, "$text-muted")])
    return Content("\n").join(lines)


class InstallHelpScreen(Dialog[bool]):
    BINDINGS = [
        Binding("escape", "dismiss(False)", "Close"),
        Binding("c", "copy_command", "Copy install command"),
        Binding("r", "dismiss(True)", "Check again"),
    ]
    DEFAULT_CSS = """
    InstallHelpScreen > Vertical { width: 100; max-width: 98%; padding: 1 2; }
    """

    def __init__(self, platform: str | None = None) -> None:
        super().__init__()
        self.guide = install_guidance(platform)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(guide_text(self.guide), id="install-guide")
        yield Footer()

    def action_copy_command(self) -> None:
        command = self.guide.command
        self.app.copy_to_clipboard(command)
        self.notify(f"copied: {command}", markup=False)
