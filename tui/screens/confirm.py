"""Confirmation dialogs: deleting things (a saved chat, a pulled model), and pulling a model.

Deleting cannot be undone, so the focused button, and so Enter, keeps it; y deletes.
Callers give the question and the notes; all text arrives as `Content`, never markup.
"""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from tui.screens.dialog import Dialog


class ConfirmDeleteScreen(Dialog[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Delete"),
        Binding("n,escape", "answer(False)", "Keep"),
    ]
    DEFAULT_CSS = """
    ConfirmDeleteScreen > Vertical { border: round $error; }
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


class ConfirmPullScreen(Dialog[bool]):
    """Before a download of gigabytes: its size, whether it will run here, and the free disk.

    y (or the focused Pull button) pulls; n or Esc does not. When the disk cannot
    hold it (`refusal`), the dialog only explains, and any key closes it.
    Callers give every line as `Content`, never markup.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Pull"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]
    DEFAULT_CSS = """
    ConfirmPullScreen > Vertical { width: 76; }
    ConfirmPullScreen .warning { color: $warning; height: auto; }
    ConfirmPullScreen .hint { height: auto; }
    """

    def __init__(self, question: Content, notes: Iterable[tuple[Content, str]] = (), *,
                 refusal: Content | None = None) -> None:
        """`notes`: (text, CSS class) lines under the question; `refusal`: why it cannot be pulled."""
        super().__init__()
        self.question = question
        self.notes = list(notes)
        self.refusal = refusal

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question)
            for text, classes in self.notes:
                yield Static(text, classes=classes)
            if self.refusal is not None:
                yield Static(self.refusal, classes="problem")
            with Horizontal():
                if self.allowed:
                    yield Button("Cancel (n)", id="cancel")
                    yield Button("Pull (y)", id="pull", variant="primary")
                else:
                    yield Button("Close", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#pull" if self.allowed else "#cancel", Button).focus()

    def action_answer(self, pull: bool) -> None:
        self.dismiss(pull and self.allowed)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "pull" and self.allowed)
