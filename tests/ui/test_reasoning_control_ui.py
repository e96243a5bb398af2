"""Reasoning control as a user meets it in the chat: a budget cut said on the turn, Ctrl+G while the
model thinks, the loop flag, a length cut, the context figure, F9, and the panel's context line."""

from __future__ import annotations

from tests.apphelpers import make_app, screen_text, send_and_wait, type_and_send, wait_connected, wait_for, \
    wait_for_text, wait_turn_finished
from tui.core.conversation import TurnState
from tui.demo import Reply, SimulatedOllama
from tui.demo.reasoning_sim import long_thinker_reply, looping_reply


async def test_a_budget_cuts_the_thinking_and_the_turn_says_so(sim: SimulatedOllama) -> None:
    sim.reply = long_thinker_reply(3000)
    app = make_app(sim.url, think_budget=300, num_ctx=16384)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "Sum the squares", timeout=60)
        turn = app.screen.conversation.turns[-1]
        assert turn.thinking_cut == "budget" and 300 <= turn.reasoning_tokens <= 310
        text = await wait_for_text(pilot, "thinking cut at the 300-token budget", "The sum of the squares")
        assert "ctx " in text and "/ 16,384" in text


async def test_answer_now_by_hand_while_the_model_thinks(sim: SimulatedOllama) -> None:
    sim.reply, sim.rate = long_thinker_reply(3000), 100.0
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, "Sum the squares")
        screen = app.screen

        def thinking_for_a_while() -> bool:
            views = screen.query("TurnView")
            return bool(views) and views.last().meter.reasoning_tokens > 30

        await wait_for(pilot, thinking_for_a_while)
        await wait_for_text(pilot, "the model is thinking… (Ctrl+G: answer now)")
        await pilot.press("ctrl+g")
        await wait_turn_finished(pilot, timeout=60)
        turn = screen.conversation.turns[-1]
        assert turn.state is TurnState.DONE and turn.thinking_cut == "answer_now" and turn.reasoning_tokens < 2000
        await wait_for_text(pilot, "thinking cut by hand (answer now)", "The sum of the squares")


async def test_a_looping_reasoning_is_flagged_with_the_way_out(sim: SimulatedOllama) -> None:
    sim.reply, sim.rate = looping_reply(repeats=200), 400.0
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, "chickens and rabbits")
        await wait_for_text(pilot, "the reasoning is repeating itself", "Ctrl+G: stop thinking and answer now",
                            timeout=60)
        await pilot.press("ctrl+g")
        await wait_turn_finished(pilot, timeout=60)
        turn = app.screen.conversation.turns[-1]
        assert turn.loop_flagged and turn.thinking_cut == "answer_now"
        await wait_for_text(pilot, "the reasoning is repeating itself", "23 chickens")


async def test_an_answer_cut_at_the_length_limit_is_never_shown_as_finished(sim: SimulatedOllama) -> None:
    sim.reply, sim.context_shift = Reply(reasoning="step " * 300, answer="word " * 900), False
    app = make_app(sim.url, num_ctx=1024)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "a long one", timeout=60)
        assert app.screen.conversation.turns[-1].cut_at_length
        await wait_for_text(pilot, "cut off at the length limit (ctx 1,024)", "num_ctx = 2,048",
                            "ctx 1,024 / 1,024")


async def test_f9_cycles_this_chats_budget_and_thinking_off(sim: SimulatedOllama) -> None:
    sim.reply = Reply(reasoning="A thought.", answer="Four.")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("f9")
        await wait_for_text(pilot, "thinking budget 300 tokens")
        for _ in range(4):
            await pilot.press("f9")
        await wait_for_text(pilot, "thinking off (F9)")
        await send_and_wait(pilot, "2+2?")
        turn = app.screen.conversation.turns[-1]
        assert turn.thinking_off and turn.reasoning == "" and turn.answer == "Four."
        chat = [body for _, path, body in sim.requests if path == "/api/chat"][-1]
        assert chat["think"] is False
        await wait_for_text(pilot, "thinking off for this chat")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: "thinking off (F9)" not in screen_text(app))  # a new chat: the config's


async def test_the_panel_says_the_context_chosen_and_used(sim: SimulatedOllama) -> None:
    sim.reply = Reply(reasoning="A thought.", answer="Four.")
    app = make_app(sim.url, show_panel=True, num_ctx=8192)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "2+2?")
        await wait_for_text(pilot, "Context", "num_ctx 8,192 (set in config.toml)", "(0%, last turn)")


async def test_auto_context_is_the_largest_that_fits_this_gpu_and_the_panel_says_why(sim: SimulatedOllama) -> None:
    from tests.fake_nvml import GIB, FakeGpu, FakeNvml

    sim.reply = Reply(reasoning="A thought.", answer="Four.")
    card = FakeGpu(total=8 * GIB, used=GIB // 2, follows=sim)
    app = make_app(sim.url, show_panel=True, nvml=FakeNvml([card]))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "2+2?")
        sent = [body for _, path, body in sim.requests if path == "/api/chat"][-1]["options"]["num_ctx"]
        assert 4096 < sent < 131072 and sent % 1024 == 0  # 7b on an 8 GiB card: more than the floor
        await wait_for_text(pilot, f"num_ctx {sent:,} (auto: largest that", "GiB free)", f"/ {sent:,}")
        await send_and_wait(pilot, "and 3+3?")
        again = [body for _, path, body in sim.requests if path == "/api/chat"][-1]["options"]["num_ctx"]
        assert again == sent  # the same context every turn: a new one would reload the model
