"""Regenerate, flip between answers, edit and fork, move between turns: through the real app."""

from __future__ import annotations

from tests.apphelpers import (
    make_app, screen_text, send_and_wait, wait_connected, wait_for, wait_for_text, wait_turn_finished,
)
from tui.core.conversation import TurnState
from tui.demo import Faults, Reply, SimulatedOllama
from tui.widgets.turn import TurnView


def chat_requests(sim: SimulatedOllama) -> list[list[str]]:
    return [[m["content"] for m in body["messages"]] for _, path, body in sim.requests if path == "/api/chat"]


async def test_ctrl_r_answers_again_with_the_new_model_keeping_the_old_answer(sim: SimulatedOllama) -> None:
    sim.reply = Reply("thinking one", "first answer")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "q1")
        app.use_model("deepseek-r1:14b")  # what Ctrl+O does once a tag is chosen
        sim.reply = Reply("thinking two", "second answer")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen.conversation.turns[0].answer == "second answer")
        await wait_turn_finished(pilot)
        screen = app.screen
        assert len(screen.query(TurnView)) == 1
        assert screen.conversation.turns[0].model == "deepseek-r1:14b"
        await wait_for_text(pilot, "answer 2 of 2", "second answer")
        assert chat_requests(sim)[-1] == ["q1"]  # the retry sends the prompt alone, not the old answer

        # The model sees only the answer shown: flip back to the first, then ask on.
        await pilot.press("alt+up")
        assert isinstance(app.focused, TurnView)
        await pilot.press("left_square_bracket")
        await wait_for_text(pilot, "answer 1 of 2", "first answer")
        await pilot.press("escape")  # idle: back to the prompt
        assert app.focused is screen.query_one("#prompt")
        sim.reply = Reply("t", "third")
        await send_and_wait(pilot, "q2")
        assert chat_requests(sim)[-1] == ["q1", "first answer", "q2"]
        await pilot.press("alt+left")  # no earlier answer on the last turn: says so
        await wait_for(pilot, lambda: any("one answer" in n.message for n in app._notifications))

    # History keeps both answers and which one was shown.
    again = make_app(sim.url)
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        info = again.store.list_conversations()[0]
        await again.screen.resume(info.id)
        await wait_for_text(pilot, "answer 1 of 2")
        conversation = again.screen.conversation
        assert [t.answer for t in conversation.versions(0)] == ["first answer", "second answer"]
        assert [t.answer for t in conversation.turns] == ["first answer", "third"]


async def test_a_dropped_stream_says_ctrl_r_and_ctrl_r_retries(sim: SimulatedOllama) -> None:
    sim.reply = Reply("reasoning " * 20, "the answer")
    sim.faults = Faults(drop_after_tokens=6)
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "q")
        assert app.screen.conversation.turns[-1].state is TurnState.FAILED
        shown = await wait_for_text(pilot, "press Ctrl+R to retry")
        assert "send the prompt again" not in shown
        await wait_connected(pilot)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen.conversation.turns[-1].state is TurnState.DONE)
        await wait_for_text(pilot, "the answer", "answer 2 of 2")


async def test_e_on_an_earlier_turn_forks_and_keeps_the_original_in_history(sim: SimulatedOllama) -> None:
    sim.reply = Reply("r", "an answer")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first question")
        await send_and_wait(pilot, "second question")
        await pilot.press("alt+up", "alt+up")
        views = list(app.screen.query(TurnView))
        assert app.focused is views[0]
        await pilot.press("e")
        prompt = app.screen.query_one("#prompt")
        assert app.focused is prompt and prompt.text == "first question"
        await wait_for_text(pilot, "editing turn 1")
        await pilot.press(*", edited", "enter")
        await wait_for(pilot, lambda: len(app.screen.query(TurnView)) == 1
                       and app.screen.conversation.turns[0].prompt == "first question, edited")
        await wait_turn_finished(pilot)
        assert chat_requests(sim)[-1] == ["first question, edited"]
        await app.screen.recorder.flush()
        titles = sorted(c.title for c in app.store.list_conversations())
        assert titles == ["first question", "first question (fork)"]
        original = next(c for c in app.store.list_conversations() if c.title == "first question")
        assert [t.prompt for t in app.store.load(original.id).turns] == ["first question", "second question"]


async def test_up_and_down_on_a_focused_turn_move_between_turns(sim: SimulatedOllama) -> None:
    sim.reply = Reply("r", "an answer")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        for prompt in ("one", "two", "three"):
            await send_and_wait(pilot, prompt)
        views = list(app.screen.query(TurnView))
        await pilot.press("alt+up")
        assert app.focused is views[2]
        await pilot.press("up", "up")
        assert app.focused is views[0]
        assert views[0].styles.background != views[1].styles.background  # the focused turn stands out
        assert "one" in screen_text(app)
        await pilot.press("t")
        assert not views[0].folded  # earlier turns are folded; t unfolds
        await pilot.press("down", "down", "down")
        assert app.focused is app.screen.query_one("#prompt")


async def test_page_keys_scroll_the_chat_from_the_prompt_and_typing_on_a_turn_goes_to_the_prompt(
        sim: SimulatedOllama) -> None:
    sim.reply = Reply("r", "\n\n".join(f"paragraph {i}" for i in range(30)))
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "one")
        await send_and_wait(pilot, "two")
        chat = app.screen.query_one("#conversation")
        prompt = app.screen.query_one("#prompt")
        await wait_for(pilot, lambda: chat.scroll_y == chat.max_scroll_y and chat.max_scroll_y > 20)
        bottom = chat.scroll_y
        await pilot.press("pageup")
        assert app.focused is prompt and chat.scroll_y < bottom
        await pilot.press("home")  # empty prompt: the top of the chat
        await wait_for(pilot, lambda: chat.scroll_y == 0)
        await pilot.press("end")
        await wait_for(pilot, lambda: chat.scroll_y == chat.max_scroll_y)
        await pilot.press("a", "b", "home")  # a typed prompt: Home is the line's start
        assert prompt.cursor_location == (0, 0) and chat.scroll_y == chat.max_scroll_y
        await pilot.press("end", "alt+up")
        assert isinstance(app.focused, TurnView)
        await pilot.press("t", "d")  # t is bound on a turn (fold); d is typed into the prompt
        assert app.focused is prompt and prompt.text == "abd"


async def test_while_reasoning_streams_the_answer_pane_says_thinking_and_header_and_panel_agree(
        sim: SimulatedOllama) -> None:
    import re

    sim.reply = Reply("step " * 400, "done")
    sim.rate = 40
    app = make_app(sim.url, show_panel=True)
    now = [1000.0]
    app.clock = lambda: now[0]
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_connected(pilot)
        await pilot.press(*"q", "enter")
        await wait_for_text(pilot, "the model is thinking…")
        assert "waiting for the model" not in screen_text(app)
        for _ in range(6):
            now[0] += 0.37
            await pilot.pause(0.2)
            shown = set(re.findall(r"thinking (\d+\.\d) s", screen_text(app)))
            assert len(shown) == 1, shown  # the turn's header and the panel: one number
        await pilot.press("escape")


async def test_esc_cancels_an_edit_and_r_on_an_earlier_turn_forks_with_its_prompt(sim: SimulatedOllama) -> None:
    sim.reply = Reply("r", "an answer")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first")
        await send_and_wait(pilot, "second")
        await pilot.press("alt+up", "alt+up", "e")
        await wait_for_text(pilot, "editing turn 1")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "editing turn 1" not in screen_text(app))
        prompt = app.screen.query_one("#prompt")
        prompt.clear()
        await send_and_wait(pilot, "third")  # an ordinary send again, not a fork
        assert [t.prompt for t in app.screen.conversation.turns] == ["first", "second", "third"]
        await pilot.press("alt+up", "alt+up", "alt+up", "r")
        await wait_for(pilot, lambda: len(app.screen.conversation.turns) == 1
                       and app.screen.conversation.turns[0].answer == "an answer")
        await wait_turn_finished(pilot)
        assert chat_requests(sim)[-1] == ["first"]
        await app.screen.recorder.flush()
        assert sorted(c.title for c in app.store.list_conversations()) == ["first", "first (fork)"]


async def test_f1_lists_the_turn_keys(sim: SimulatedOllama) -> None:
    app = make_app(sim.url)
    async with app.run_test(size=(120, 60)) as pilot:
        await wait_connected(pilot)
        await pilot.press("f1")
        shown = await wait_for_text(pilot, "Ctrl+R", "Alt+Up", "Alt+←", "PgUp", "Home")
        for what in ("edit its prompt", "earlier answer", "fold or unfold its reasoning", "copy its answer",
                     "answer it again", "earlier prompts"):
            assert what in shown, what
