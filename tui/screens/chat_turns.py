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
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.actions import SkipAction

from tui.core.backend import BackendError
from tui.core.context_window import CONTEXT_FLOOR, ContextChoice, ContextUsage, auto_context
from tui.core.conversation import TurnState
from tui.core.metrics import TokenMeter
from tui.core.thinking_budget import ReasoningControl, describe_step, next_budget_step
from tui.widgets.conversation import ConversationScroll
from tui.widgets.hardware_panel import HardwarePanel
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
    _think_step: int | str | None = None  # this chat's budget (F9): tokens, "off", or None for the config's
    _control: ReasoningControl | None = None  # the streaming turn's reasoning control (Ctrl+G acts on it)
    _context_choices: dict[str, ContextChoice] | None = None  # per model, for this chat: the same num_ctx every turn

    # -- reasoning control: budget (F9), answer now (Ctrl+G), context ----------------------------

    @property
    def think_step(self) -> int | str:
        """This chat's reasoning setting: a budget in tokens (0: none) or "off"."""
        return self.app.settings.think_budget if self._think_step is None else self._think_step

    def reasoning_control(self, view: TurnView) -> ReasoningControl:
        """The streaming turn's control, from this chat's setting; a loop flag shows on `view` at once."""
        step = self.think_step
        self._control = ReasoningControl(budget=step if isinstance(step, int) else 0,
                                         think=False if step == "off" else None, on_loop=view.show_loop_flag)
        view.show_live_mark(describe_step(step))  # (no budget: the "thinking…" placeholder names Ctrl+G)
        return self._control

    def action_answer_now(self) -> None:
        """Ctrl+G: cut the reasoning now and have the model answer from what it has thought."""
        control, turn = self._control, self.conversation.turns[-1] if self.conversation.turns else None
        if control is None or turn is None or turn.finished:
            self.notify("Nothing is thinking now: Ctrl+G cuts the reasoning while the model thinks.",
                        severity="warning")
        elif turn.answer:
            self.notify("The model has finished thinking and is answering already.", severity="warning")
        else:
            control.answer_now()
            self.notify("Answering now from the reasoning so far…", timeout=4)

    def action_think_budget(self) -> None:
        """F9: the next thinking budget for this chat (none → 300 → 1,000 → 3,000 → 8,000 → thinking off)."""
        self._think_step = next_budget_step(self.think_step)
        self.show_think_step()
        self.notify(f"This chat: {describe_step(self._think_step)} (from the next prompt).", timeout=5)

    def show_think_step(self) -> None:
        """The chat's reasoning setting under the prompt, when it is not the plain default."""
        self.query_one(PromptArea).border_subtitle = describe_step(self.think_step) or None

    def reset_reasoning_setting(self) -> None:
        """A new chat starts from the config's budget again."""
        self._think_step = None
        self._context_choices = None
        self.show_think_step()

    async def request_options(self, turn: "Turn") -> dict[str, Any]:
        """The options for this turn's request: the settings, with `num_ctx = "auto"` resolved for its model
        (and said in the panel). Esc meanwhile stops the turn like Esc during the stream."""
        try:
            choice = await self._context_choice(turn.model)
        except asyncio.CancelledError:
            turn.state = TurnState.STOPPED
            raise
        self.query_one(HardwarePanel).show_context(choice, self._last_usage())
        return self.app.settings.chat_options(num_ctx=choice.ctx)

    async def _context_choice(self, model: str) -> ContextChoice:
        """The context for `model` in this chat: a number from the config, or the auto choice (kept per model:
        a new num_ctx would make the server reload the model)."""
        setting = self.app.settings.num_ctx
        choices = self._context_choices = self._context_choices or {}
        if not self.app.backend.manages_models:  # vLLM, SGLang, llama.cpp: fixed when the engine started
            served = await self.app.backend.context_length(model)
            choices[model] = ContextChoice(served or CONTEXT_FLOOR, "the engine's own, set when it started",
                                           auto=False, setting="max_model_len")
            return choices[model]
        if isinstance(setting, int):
            return ContextChoice(setting, "set in config.toml", auto=False)
        if model in choices:
            return choices[model]
        app = self.app
        if not app.backend.is_local or app.sampler is None:
            choice = ContextChoice(CONTEXT_FLOOR, "the server is not on this machine: its GPU is unknown")
        else:
            snapshot = await app.hardware_now()
            try:
                details = await app.backend.show(model)
            except BackendError:
                details = None
            size = next((m.size for m in app.server.installed if m.name == model), None)
            gpus = snapshot.gpus if snapshot is not None else []
            choice = auto_context(model, gpu_free_bytes=[g.vram_free_bytes for g in gpus],
                                  model_info=details.model_info if details else None, size=size,
                                  loaded=app.loaded, gpu_total_bytes=[g.vram_total_bytes for g in gpus])
        choices[model] = choice
        return choice

    def _last_usage(self) -> ContextUsage | None:
        done = [turn for turn in self.conversation.turns if turn.finished and turn.stats is not None]
        return ContextUsage.of(done[-1].stats, done[-1].context_size) if done else None

    def turn_ended(self, turn: "Turn", view: TurnView) -> None:
        """After a turn: the panel's context figures, a word when thinking off was not possible, the bell."""
        self._control = None
        choice = (self._context_choices or {}).get(turn.model)
        if choice is None and turn.context_size:
            choice = ContextChoice(turn.context_size, "set in config.toml", auto=False)
        self.query_one(HardwarePanel).show_context(choice, self._last_usage())
        if self.think_step == "off" and turn.state is TurnState.DONE and not turn.thinking_off:
            self.notify("Thinking off needs Ollama 0.9 or later and a thinking-capable model: this one thought "
                        "as usual.", severity="warning", timeout=8)
        self.notify_finished(turn, view.meter)

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
        view.focus()  # deferred by Textual: the scroll below decides where the view lands
        chat = self.query_one(ConversationScroll)
        chat.when_drawn(chat.scroll_to_widget, view, animate=False, top=True)  # in real rows, not estimated ones

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
        chat.when_drawn(chat.scroll_page_up if pages < 0 else chat.scroll_page_down, animate=False)

    def action_chat_edge(self, side: int) -> None:
        """Home/End: the top or bottom of the chat, except in a prompt with text (the line's start/end)."""
        prompt = self.query_one(PromptArea)
        if self.focused is prompt and prompt.text:
            raise SkipAction()
        chat = self.query_one(ConversationScroll)
        if side < 0:
            chat.when_drawn(chat.scroll_home, animate=False)
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
