"""The one confirmation dialog for deleting things (a saved chat, a pulled model).

Deleting cannot be undone, so the focused button, and so Enter, keeps it; y deletes.
Callers give the question and the notes; all text arrives as `Content`, never markup.
"""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDeleteScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Delete"),
        Binding("n,escape", "answer(False)", "Keep"),
    ]
    DEFAULT_CSS = """
    ConfirmDeleteScreen { align: center middle; }
    ConfirmDeleteScreen > Vertical {
        width: 70; max-width: 95%; height: auto; border: round $error; background: $surface; padding: 0 1;
    }
    ConfirmDeleteScreen .hint { color: $text-muted; }
    ConfirmDeleteScreen .problem { color: $error; height: auto; }
    ConfirmDeleteScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmDeleteScreen Button { margin-left: 1; }
    """

    def __init__(self, question: Content, notes: Iterable[tuple[Content, str]] = ()) -> None:
        """`notes`: (text, CSS class) lines under the question, e.g. ("…", "problem")."""
        super().__init__()
        self.question = question
        self.notes = list(notes)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            for text, classes in self.notes:
                yield Static(text, classes=classes)
            with Horizontal():
                yield Button("Keep (n)", id="keep")
                yield Button("Delete (y)", id="delete", variant="error")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def action_answer(self, delete: bool) -> None:
        self.dismiss(delete)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "delete")
