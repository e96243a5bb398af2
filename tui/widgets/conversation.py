"""The chat's scrolling conversation: its turns, the welcome text, and how a saved one is drawn."""

from __future__ import annotations

from typing import Callable

from textual import events
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from tui.core.conversation import Conversation, turns_to_summarise
from tui.core.metrics import TokenMeter
from tui.keymap import CHAT_BINDINGS, PROMPT_BINDINGS, documented, key_label
from tui.widgets.answer import AnswerMarkdown
from tui.widgets.backdrop import BackdropVerticalScroll
from tui.widgets.markdown_render import estimated_rows
from tui.widgets.turn import TurnView, reasoning_dwarfs_answer


def welcome_text() -> Content:
    """What an empty chat shows: how it works, then its keys (from the bindings, three to a row)."""
    keys = [(key_label(b.key), b.description.lower()) for b in documented([*PROMPT_BINDINGS, *CHAT_BINDINGS])]
    keys += [("F1", "all keys"), ("Ctrl+P", "palette")]
    cells = [f"{key:<7}{what:<14}" for key, what in keys]
    rows = ["  " + "".join(cells[i:i + 3]).rstrip() for i in range(0, len(cells), 3)]
    intro = ("Ask a question below and press Enter. The model's reasoning streams on the left, "
             "its answer on the right (stacked on narrow terminals).\n\n")
    return Content(intro + "\n".join(rows))


class Welcome(Static):

    DEFAULT_CSS = """
    Welcome {
        color: $text-muted;
        padding: 1 2;
    }
    """
    def __init__(self) -> None:
        super().__init__(welcome_text(), id="welcome")


class ConversationScroll(BackdropVerticalScroll):
    """The chat's scroller; says when its size changes (a terminal resize, the panel shown or hidden),
    so that a streaming turn's live panes can be sized to it again."""

    DEFAULT_CSS = """
    ConversationScroll {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
        /* The scrollbar's column is kept even before it is needed: otherwise its arrival
           changes every answer's width and each one is rendered again. */
        scrollbar-gutter: stable;
    }
    """

    class Resized(Message):
        pass

    def on_resize(self, _: events.Resize) -> None:
        self.post_message(self.Resized())

    def finish_drawing(self) -> bool:
        """Draw whole, now, the answers still drawn from their end in the background (just after a turn's
        end, a resume, F2): their earlier rows are estimated until then, and a scroll counted in them
        would land on blank rows, then elsewhere once they are drawn. Whether any was: a scroll should
        then wait for the layout that drawing asks for (see `when_drawn`)."""
        unfinished = [answer for answer in self.query(AnswerMarkdown) if answer.drawing_in_background]
        for answer in unfinished:
            answer.draw_rest()
        return bool(unfinished)

    def when_drawn(self, scroll: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run `scroll` counted in the answers' real rows: now, or after the layout `finish_drawing` asks for."""
        if self.finish_drawing():
            self.call_after_refresh(scroll, *args, **kwargs)
        else:
            scroll(*args, **kwargs)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.finish_drawing():  # the wheel's scroll, once the answers' rows are real
            event.prevent_default()
            event.stop()
            self.call_after_refresh(self.scroll_relative, y=-self.app.scroll_sensitivity_y, animate=False,
                                    immediate=True)

    async def show_saved(self, conversation: Conversation, clock: Callable[[], float]) -> None:
        """Draw a resumed conversation: older turns folded, those past the drawing budget as summaries,
        and the newest folded too when its reasoning would push its answer out of sight."""
        await self.remove_children()
        turns = conversation.turns
        summarised = set(turns_to_summarise(turns, keep_last=1))
        visible = self.scrollable_content_region
        last_folded = False
        if turns:
            newest, pane_width = turns[-1], max(20, visible.width // 2 - 3)
            last_folded = reasoning_dwarfs_answer(newest, estimated_rows(newest.reasoning, pane_width),
                                                  estimated_rows(newest.answer, pane_width), visible.height)
        def version(index: int) -> tuple[int, int] | None:
            shown = conversation.version_of(index)
            return shown if shown[1] > 1 else None

        await self.mount_all([TurnView(turn, TokenMeter(clock=clock), summarised=index in summarised,
                                       folded=index < len(turns) - 1 or last_folded, version=version(index))
                              for index, turn in enumerate(turns)])
        self.anchor()
