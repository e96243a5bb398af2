"""What the chat does to one turn: regenerate it, flip between its answers, edit its prompt as a
fork, move the focus between turns. A mixin of `ChatScreen`, kept apart so the screen stays short.

What a user sees: Ctrl+R writes a new answer to the last prompt with the model chosen now; the
earlier answers stay, and the turn says "answer 2 of 3" ([ and ] or Alt+←/→ flip). Only the answer
shown goes back to the model. `e` on a focused turn puts its prompt in the prompt box; Enter then
forks: the chat continues from that turn with the new prompt, and the original conversation stays
in the history as it was (the fork is saved as "<title> (fork)").
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from textual import events, work
from textual.actions import SkipAction

from tui.core.metrics import TokenMeter
from tui.widgets.conversation import ConversationScroll
from tui.widgets.prompt import PromptArea
from tui.widgets.turn import TurnView

if TYPE_CHECKING:
    from tui.core.conversation import Turn
    from tui.screens.chat import ChatScreen

    _Base = ChatScreen
else:
    _Base = object


class TurnActions(_Base):
    _fork_from: int | None = None  # the turn whose prompt is being edited (Enter forks from there)

    # -- which turn -----------------------------------------------------------------------

    def _views(self) -> list[TurnView]:
        return list(self.query(TurnView))

    def _target_view(self) -> TurnView | None:
        """The focused turn (or the one holding the focus), else the last turn."""
        node = self.focused
        while node is not None and not isinstance(node, TurnView):
            node = node.parent  # type: ignore[assignment]
        if isinstance(node, TurnView):
            return node
        views = self._views()
        return views[-1] if views else None

    def action_focus_turn(self, step: int) -> None:
        """Alt+Up/Alt+Down (and Up/Down on a turn): move the focus between turns; past the last, the prompt."""
        views = self._views()
        if not views:
            return
        node = self.focused
        while node is not None and not isinstance(node, TurnView):
            node = node.parent  # type: ignore[assignment]
        if isinstance(node, TurnView) and node in views:
            index = views.index(node) + step
        else:
            index = len(views) if step > 0 else len(views) - 1
        if index >= len(views):
            self.query_one(PromptArea).focus()
            self.query_one(ConversationScroll).scroll_end(animate=False)
            return
        view = views[max(0, index)]
        view.focus()
        self.query_one(ConversationScroll).scroll_to_widget(view, animate=False, top=True)

    # -- a long answer ended --------------------------------------------------------------------

    def notify_finished(self, turn: "Turn", meter: "TokenMeter") -> None:
        """ui.notify_after_seconds: ring and notify the terminal when a long answer ends."""
        from tui.core.notify import finished_sequences, should_notify

        sent, done = meter.sent_at, meter.finished_at
        elapsed = done - sent if sent is not None and done is not None else None
        driver = self.app._driver
        if driver is None or elapsed is None or not should_notify(self.app.settings.notify_after_seconds, elapsed):
            return
        driver.write(finished_sequences(turn.model, elapsed, {"done": "answered"}.get(turn.state.value, turn.state.value)))

    # -- scrolling and typing from anywhere -----------------------------------------------------

    def action_scroll_chat(self, pages: int) -> None:
        """PgUp/PgDn scroll the chat, wherever the focus is (the prompt too)."""
        chat = self.query_one(ConversationScroll)
        if pages < 0:
            chat.scroll_page_up(animate=False)
        else:
            chat.scroll_page_down(animate=False)

    def action_chat_edge(self, side: int) -> None:
        """Home/End: the top or bottom of the chat, except in a prompt with text (the line's start/end)."""
        prompt = self.query_one(PromptArea)
        if self.focused is prompt and prompt.text:
            raise SkipAction()
        chat = self.query_one(ConversationScroll)
        if side < 0:
            chat.scroll_home(animate=False)
        else:
            chat.scroll_end(animate=False)
            chat.anchor()

    def on_key(self, event: events.Key) -> None:
        """A printable key typed while a turn or the chat has the focus goes to the prompt (unless bound there)."""
        prompt = self.query_one(PromptArea)
        if (self.focused is prompt or not event.is_printable or event.character is None
                or event.key in self.app.active_bindings):
            return
        event.stop()
        event.prevent_default()
        prompt.focus()
        prompt.insert(event.character)

    # -- regenerate and flip ----------------------------------------------------------------

    def action_regenerate(self) -> None:
        """Ctrl+R: a new answer to the last prompt (on an earlier turn: its prompt again, as a fork)."""
        view = self._target_view()
        if view is None:
            self.notify("Nothing to regenerate yet: send a prompt first.", severity="warning")
            return
        if not self.ready_to_send():
            return
        views = self._views()
        index = views.index(view)
        if index < len(views) - 1:
            self.run_worker(self.fork_at(index, view.turn.prompt), group="fork")
            return
        model = self.app.model or ""
        self.query_one(PromptArea).focus()  # the turn's view is replaced
        turn = self.conversation.regenerate(model)
        store, conversation_id = self.app.store, self.conversation_id
        if store is not None and conversation_id is not None:
            store.expect_alternative(conversation_id, index)
        self.start_turn_view(turn, replacing=view)

    async def action_flip_answer(self, step: int) -> None:
        """[ and ] (or Alt+←/→): show an earlier or later answer of the turn; the model sees that one."""
        view = self._target_view()
        if view is None or not self._idle_or_warn():
            return
        index = self._views().index(view)
        number, count = self.conversation.version_of(index)
        if count == 1:
            self.notify("This turn has one answer: Ctrl+R on the last turn writes another.", severity="warning")
            return
        wanted = max(1, min(count, number + step))
        if wanted == number:
            return
        turn = self.conversation.show_version(index, wanted)
        new = TurnView(turn, TokenMeter(clock=self.app.clock), folded=view.folded, version=(wanted, count))
        had_focus = view.has_focus_within
        await self.query_one(ConversationScroll).mount(new, after=view)
        await view.remove()
        if had_focus:
            new.focus()
        store, conversation_id = self.app.store, self.conversation_id
        if store is not None and conversation_id is not None:
            from tui.core.store import StoreError

            try:
                await asyncio.to_thread(store.show_alternative, conversation_id, index, wanted)
            except (StoreError, LookupError) as error:
                self.app.report(f"Which answer is shown was not saved: {error}", severity="warning")

    # -- edit and fork ------------------------------------------------------------------------

    def action_edit_prompt(self) -> None:
        """e on a turn: its prompt into the prompt box; Enter forks the chat from that turn."""
        view = self._target_view()
        if view is None:
            return
        prompt = self.query_one(PromptArea)
        self._fork_from = self._views().index(view)
        prompt.load_text(view.turn.prompt)
        prompt.move_cursor(prompt.document.end)
        prompt.border_title = f"editing turn {self._fork_from + 1}: Enter forks the chat from there · Esc cancels"
        prompt.add_class("-forking")
        prompt.focus()

    def cancel_edit(self) -> bool:
        if self._fork_from is None:
            return False
        self._fork_from = None
        prompt = self.query_one(PromptArea)
        prompt.border_title = None
        prompt.remove_class("-forking")
        return True

    async def fork_at(self, index: int, prompt_text: str) -> None:
        """Continue from before turn `index` with `prompt_text`; the original stays in the history."""
        self.cancel_edit()
        store, conversation_id = self.app.store, self.conversation_id
        new_id = None
        if store is not None and conversation_id is not None:
            from tui.core.store import StoreError

            try:
                new_id = await asyncio.to_thread(store.fork, conversation_id, index)
            except (StoreError, LookupError) as error:
                self.app.report(f"The fork could not be saved apart: {error}", severity="warning")
        self.recorder = self._new_recorder(new_id)
        for view in self._views()[index:]:
            await view.remove()
        turn = self.conversation.fork(index, prompt_text, self.app.model or "")
        self.start_turn_view(turn)
        where = "; the original conversation is kept in history (F5)" if new_id is not None else ""
        self.notify(f"Forked from turn {index + 1}{where}.", timeout=6)

    # -- copy ----------------------------------------------------------------------------------

    def copy_text(self, what: str, text: str) -> None:
        """Copy by OSC 52 and say honestly what that did (inside tmux it may not arrive)."""
        from tui.core.clipboard import copy_notice

        self.app.copy_to_clipboard(text)
        tmux = bool(os.environ.get("TMUX"))
        self.notify(copy_notice(what, len(text), tmux=tmux), severity="warning" if tmux else "information",
                    timeout=12 if tmux else 5, markup=False)

    def action_copy_answer(self) -> None:
        """Ctrl+Y: the focused turn's answer, else the last answer."""
        view = self._target_view() if isinstance(self.focused, TurnView) else None
        turns = [view.turn] if view is not None else [t for t in self.conversation.turns if t.answer]
        if not turns or not turns[-1].answer:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_text("the answer" if view is not None else "the last answer", turns[-1].answer)

    @work(group="copy")
    async def action_copy_menu(self) -> None:
        """c on a turn: copy its answer, its reasoning or one code block, or save one to a file."""
        from tui.core.clipboard import copyables, save_text
        from tui.core.config import data_dir
        from tui.screens.copy_menu import CopyMenu

        view = self._target_view()
        items = copyables(view.turn.answer, view.turn.reasoning) if view is not None else []
        if not items:
            self.notify("Nothing to copy in this turn yet.", severity="warning")
            return
        choice = await self.app.push_screen_wait(CopyMenu(items))
        if choice is None:
            return
        how, index = choice
        item = items[index]
        if how == "copy":
            self.copy_text(item.label.split(" (")[0], item.text)
            return
        try:
            path = await asyncio.to_thread(save_text, item.text, data_dir() / "saved")
        except OSError as error:
            self.app.report(f"Could not save it: {error}")
            return
        self.app.report(f"Saved {item.label} to {path} (readable only by you).", severity="information", timeout=20)
