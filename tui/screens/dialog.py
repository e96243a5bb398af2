"""The look of every dialog in one place: a bordered box centred over the screen.

Subclasses only say what differs (a width, a border colour). Textual matches a
type selector against a widget's base classes too, so these rules reach every
subclass of `Dialog`.
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

ResultType = TypeVar("ResultType")


class Dialog(ModalScreen[ResultType]):
    """A modal box: its first container is the dialog, its `.hint` lines muted, `.problem` lines in red."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical, Dialog > VerticalScroll {
        width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    Dialog .hint { color: $text-muted; }
    Dialog .problem { color: $error; height: auto; }
    Dialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog Button { margin-left: 1; }
    """
