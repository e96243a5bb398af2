"""c on a turn: what to copy (its answer, its reasoning, one code block), or save it to a file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.core.clipboard import Copyable
from tui.core.sanitize import inert
from tui.screens.dialog import Dialog

SAVE = "save"


class CopyMenu(Dialog["tuple[str, int] | None"]):
    """Dismissed with ("copy", index), ("save", index) or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("s", "save", "Save to a file")]
    DEFAULT_CSS = "CopyMenu OptionList { height: auto; max-height: 16; border: none; }"

    def __init__(self, items: list[Copyable]) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Copy", "bold"))
            options = [Option(Content(inert(item.label)), id=str(i)) for i, item in enumerate(self.items)]
            options.append(Option(Content("save the highlighted one to a file instead (s)"), id=SAVE))
            yield OptionList(*options)
            yield Static("Enter copies (OSC 52) · s saves to a private file · Esc cancels", classes="hint")

    def _highlighted(self) -> int:
        highlighted = self.query_one(OptionList).highlighted
        return highlighted if highlighted is not None and highlighted < len(self.items) else 0

    def action_save(self) -> None:
        self.dismiss(("save", self._highlighted()))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == SAVE:
            self.dismiss(("save", self._last))
        else:
            self.dismiss(("copy", int(event.option.id or 0)))

    _last = 0

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id != SAVE:
            self._last = int(event.option.id or 0)
