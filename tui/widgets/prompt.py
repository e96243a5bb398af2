"""The prompt box: Enter sends, Ctrl+J (or Alt+Enter) adds a newline.

Many terminals cannot tell Shift+Enter from Enter, so the newline key is one
that every terminal sends distinctly over SSH: Ctrl+J (a raw line feed).
The cursor does not blink: a blink is a redraw twice a second over the SSH link.
"""

from __future__ import annotations

from typing import Callable, Sequence

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tui.core.prompt_recall import PromptRecall
from tui.keymap import PROMPT_BINDINGS


class PromptArea(TextArea):

    DEFAULT_CSS = """
    PromptArea {
        height: auto;
        min-height: 3;
        max-height: 10;
        padding: 0 1;
        /* Over TextArea's own focus and compact borders: the prompt always shows where to type. */
        &, &:focus, &.-textual-compact { border: tall $accent !important; }
        &.-forking, &.-forking:focus { border: tall $warning !important; }
    }
    """
    BINDINGS = PROMPT_BINDINGS  # Enter and Ctrl+J are also caught in _on_key, ahead of typed keys

    class Submitted(Message):
        def __init__(self, prompt: "PromptArea", text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder="Ask DeepSeek-R1…  (Enter sends · Ctrl+J newline)",
            compact=True,
            **kwargs,  # type: ignore[arg-type]
        )
        self.cursor_blink = False
        self.recall = PromptRecall()
        self.recall_source: Callable[[], Sequence[str]] = lambda: ()  # earlier prompts, oldest first

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        if event.key in ("ctrl+j", "alt+enter"):
            # Here, not only as a binding: a binding runs later than typed keys, so a
            # fast burst ("a", ctrl+j, "b") would put the newline after the "b".
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        if event.key in ("up", "down") and self._recall(older=event.key == "up"):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def _recall(self, *, older: bool) -> bool:
        """Up on the first row: an earlier prompt; Down on the last row: a later one, then the draft."""
        start, cursor = self.selection
        if start != cursor:
            return False
        if older:
            if not self.navigator.is_first_wrapped_line(cursor):
                return False
            text = self.recall.older(self.recall_source(), self.text)
        else:
            if not self.navigator.is_last_wrapped_line(cursor):
                return False
            text = self.recall.newer()
        if text is None:
            return False
        self.replace(text, self.document.start, self.document.end)
        self.move_cursor(self.document.end)
        return True

    def action_submit(self) -> None:
        self.recall.reset()
        self.post_message(self.Submitted(self, self.text))

    def remove_sent(self, sent: str) -> None:
        """Clear what was sent, and only that: keys typed in the same burst after Enter reach the
        prompt before the screen handles the send, and stay."""
        text = self.text
        if not text.startswith(sent):
            return  # edited meanwhile: leave it to the user
        end = self.document.get_location_from_index(len(sent))
        self.delete((0, 0), end)

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)
