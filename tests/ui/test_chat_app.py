"""The chat screen driven like a user would, through the simulated server over a real socket."""

from __future__ import annotations

import re

import pytest

from tests.apphelpers import (
    make_app, screen_text, send_and_wait, type_and_send, wait_connected, wait_for, wait_for_text,
    wait_turn_finished,
)
from tui.core.conversation import TurnState
from tui.demo import Faults, Reply, SimulatedOllama
from tui.widgets.turn import ReasoningText, TurnView

REPLY = Reply(
    reasoning="Chickens have two legs.\n\nRabbits have four legs, so r = 12.",
    answer="There are **23 chickens** and 12 rabbits.\n\n```python\nprint(23 + 12)\n```\n",
)


def last_view(app) -> TurnView:
    return app.screen.query(TurnView).last()


@pytest.mark.parametrize("style", ["thinking", "inline", "closing"])
async def test_reasoning_and_answer_land_in_their_panes(sim: SimulatedOllama, style: str) -> None:
    sim.style, sim.reply = style, REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "How many chickens?")
        view = last_view(app)
        assert view.query_one(ReasoningText).text.strip() == REPLY.reasoning
        assert view.answer_source == REPLY.answer
        shown = await wait_for_text(pilot, "Rabbits have four legs", "23 chickens", "print(23 + 12)", "tok/s · prompt")
        assert "<think>" not in shown and "</think>" not in shown
        turn = app.screen.conversation.turns[-1]
        stats = turn.stats
        # Every token the server counted is either reasoning or answer, and the figures say which.
        assert turn.reasoning_tokens > 0 and turn.answer_tokens > 0
        if style == "thinking":
            assert turn.reasoning_tokens + turn.answer_tokens == stats.eval_count
        else:  # the <think> tags are tokens the server counted too
            assert stats.eval_count - 4 <= turn.reasoning_tokens + turn.answer_tokens < stats.eval_count
        assert f"thought for {turn.think_seconds:.1f} s · {turn.reasoning_tokens} tokens" in shown
        rate = stats.eval_count / (stats.eval_duration_ns / 1e9)  # the server's eval rate after the turn
        prompt_rate = stats.prompt_eval_count / (stats.prompt_eval_duration_ns / 1e9)
        assert (f"{turn.reasoning_tokens} reasoning + {turn.answer_tokens} answer tokens · {rate:.1f} tok/s"
                f" · prompt {prompt_rate:.0f} tok/s · first token {turn.ttft_seconds:.2f} s") in shown
        # side by side at 120 columns: reasoning left of the answer on the same rows
        reasoning_region = view.query_one(".reasoning-pane").region
        answer_region = view.query_one(".answer-pane").region
        assert reasoning_region.right <= answer_region.x and reasoning_region.y == answer_region.y


async def test_narrow_terminal_stacks_reasoning_above_answer(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "How many chickens?")
        view = last_view(app)
        reasoning_region = view.query_one(".reasoning-pane").region
        answer_region = view.query_one(".answer-pane").region
        assert answer_region.y >= reasoning_region.bottom


async def test_reasoning_streams_live_before_the_answer(sim: SimulatedOllama) -> None:
    sim.rate = 40
    sim.reply = Reply("thinking hard " * 30, "done")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, "q")
        await wait_for(pilot, lambda: "thinking hard" in screen_text(pilot.app))
        shown = screen_text(app)
        assert re.search(r"▼ thinking \d+\.\d s", shown)  # the live "thinking 0.4 s" header
        assert "thought for" not in shown
        assert not app.screen.conversation.turns[-1].finished
        await wait_turn_finished(pilot)
        await wait_for_text(pilot, "thought for")


async def test_escape_stops_generation_and_the_server_sees_it(sim: SimulatedOllama) -> None:
    sim.rate = 100
    sim.reply = Reply("step " * 400, "answer " * 400)
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, "long question")
        await wait_for(pilot, lambda: "step step" in screen_text(pilot.app))
        await pilot.press("escape")
        await wait_turn_finished(pilot)
        turn = app.screen.conversation.turns[-1]
        assert turn.state is TurnState.STOPPED
        await wait_for_text(pilot, "step step", "stopped")  # what streamed is kept
        await wait_for(pilot, lambda: sim.abandoned_streams == 1)
        assert sim.completed_streams == 0
        sim.rate, sim.reply = 0, REPLY
        await send_and_wait(pilot, "next")
        assert app.screen.conversation.turns[-1].state is TurnState.DONE


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (Faults(error_after_tokens=6), "unexpected EOF"),
        (Faults(drop_after_tokens=6), "connection to the server dropped"),
        (Faults(status_before_stream=500), "Out of memory"),
    ],
)
async def test_failures_keep_partial_text_and_next_prompt_works(sim: SimulatedOllama, faults: Faults, message: str) -> None:
    sim.reply = REPLY
    sim.faults = faults
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first")
        turn = app.screen.conversation.turns[-1]
        assert turn.state is TurnState.FAILED
        shown = await wait_for_text(pilot, message)
        if faults.status_before_stream is None:
            assert "Chickens have two" in shown  # partial reasoning stays on screen
        await wait_connected(pilot)
        await send_and_wait(pilot, "second")
        assert app.screen.conversation.turns[-1].state is TurnState.DONE
        await wait_for_text(pilot, "23 chickens")


async def test_missing_model_says_so(sim: SimulatedOllama) -> None:
    app = make_app(sim.url, model="deepseek-r1:99b")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await wait_for(pilot, lambda: "not installed" in screen_text(pilot.app))
        await send_and_wait(pilot, "hello")
        turn = app.screen.conversation.turns[-1]
        assert turn.state is TurnState.FAILED
        assert f"Model deepseek-r1:99b is not installed on {sim.url}" in turn.error
        shown = " ".join(line.strip() for line in (await wait_for_text(pilot, "⚠ Model")).splitlines())
        assert f"⚠ Model deepseek-r1:99b is not installed on {sim.url}" in shown
        assert "(`ollama pull deepseek-r1:99b` or `r1tui pull deepseek-r1:99b`)" in shown  # what to run


async def test_unreachable_server_keeps_retrying_and_keeps_typing() -> None:
    server = SimulatedOllama(reply=REPLY)
    server.start()
    url, port = server.url, int(server.url.rsplit(":", 1)[1])
    server.stop()
    app = make_app(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "Cannot reach" in screen_text(pilot.app))
        assert url in screen_text(app) and "retrying" in screen_text(app)
        await type_and_send(pilot, "typed while down")
        await pilot.pause()
        assert app.screen.query_one("#prompt").text == "typed while down"  # not lost
        revived = SimulatedOllama(reply=REPLY, port=port).start()
        try:
            await wait_connected(pilot)
            await pilot.press("enter")
            await wait_for(pilot, lambda: bool(app.screen.conversation.turns))
            await wait_turn_finished(pilot)
            await wait_for_text(pilot, "23 chickens")
        finally:
            revived.stop()


HOSTILE = Reply(
    reasoning="[bold red]styled?[/] \x1b[2J\x1b[31mred\x1b[0m \x08\x7f\r\x9b6n " + "long" * 150,
    answer="[link=https://evil.example]click[/link] \x1b]52;c;cm0gLXJm\x07 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ [b]x[/b]",
)


async def test_model_output_is_shown_literally(sim: SimulatedOllama) -> None:
    sim.reply = HOSTILE
    app = make_app(sim.url)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "be hostile")
        shown = await wait_for_text(pilot, "styled?", "click")
        assert "[bold red]styled?[/]" in shown
        assert "␛[2J␛[31mred␛[0m" in shown
        assert "[link=https://evil.example]click[/link]" in shown
        assert "␛]52;c;cm0gLXJm␇" in shown
        assert "[b]x[/b]" in shown
        assert "␈␡␍<U+009B>6n" in shown  # backspace, delete, carriage return, C1 CSI: all visible
        assert "longlonglong" in shown  # a 600-character line wraps instead of breaking the screen
        for char in ("\x1b", "\x07", "\x08", "\r", "\x9b"):
            assert char not in shown


async def test_multi_turn_labels_models_and_folds_earlier_reasoning(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first question")
        app.model = "deepseek-r1:8b"
        await send_and_wait(pilot, "second question")
        views = list(app.screen.query(TurnView))
        assert [v.turn.model for v in views] == ["deepseek-r1:7b", "deepseek-r1:8b"]
        assert views[0].folded and not views[1].folded
        assert not views[0].query_one(".reasoning-body").display  # earlier reasoning is folded away
        bodies = [body for _, path, body in sim.requests if path == "/api/chat"]
        second = bodies[-1]
        assert second["model"] == "deepseek-r1:8b"
        assert second["messages"] == [
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": REPLY.answer},
            {"role": "user", "content": "second question"},
        ]
        assert second["options"]["temperature"] == 0.6 and second["options"]["top_p"] == 0.95
        await wait_for_text(pilot, "deepseek-r1:8b")
        await pilot.press("ctrl+t")
        assert views[1].folded


async def test_copy_and_new_chat(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "q")
        await pilot.press("ctrl+y")
        assert app.clipboard == REPLY.answer
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not app.screen.query(TurnView)
        assert app.screen.conversation.turns == []


async def test_ctrl_j_adds_a_newline_and_enter_sends(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("l", "i", "n", "e", "1", "ctrl+j", "l", "i", "n", "e", "2")
        assert app.screen.query_one("#prompt").text == "line1\nline2"
        await pilot.press("enter")
        await wait_turn_finished(pilot)
        assert app.screen.conversation.turns[0].prompt == "line1\nline2"


async def test_function_keys_open_their_screens_from_the_prompt(sim: SimulatedOllama) -> None:
    """F-keys work while typing: the prompt must not swallow them (TextArea binds F6/F7 itself)."""
    from tui.screens.compare import CompareScreen
    from tui.screens.history import HistoryScreen
    from tui.screens.settings import SettingsScreen

    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        assert app.focused is app.screen.query_one("#prompt")
        for key, screen_type in (("f4", CompareScreen), ("f5", HistoryScreen), ("f7", SettingsScreen)):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, screen_type))
            app.pop_screen()
            await pilot.pause()
        await pilot.press("f2")
        assert app.screen.query_one("#hardware").display  # hidden in tests until toggled on


async def test_history_keeps_a_conversation_across_restarts(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "remember this question")
    again = make_app(sim.url)
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        conversations = again.store.list_conversations()
        assert [c.title for c in conversations] == ["remember this question"]
        await again.screen.resume(conversations[0].id)
        await wait_for_text(pilot, "remember this question", "23 chickens")
        await send_and_wait(pilot, "and a follow-up")
        body = [body for _, path, body in sim.requests if path == "/api/chat"][-1]
        assert [m["content"] for m in body["messages"]] == ["remember this question", REPLY.answer, "and a follow-up"]
        assert again.store.info(conversations[0].id).turn_count == 2


async def test_quick_switch_shows_fit_and_loaded_and_switches(sim: SimulatedOllama) -> None:
    """Ctrl+O: installed tags with their fit on this GPU and whether they are loaded; the chat goes on."""
    from tests.fake_nvml import one_gpu

    GIB = 2**30
    sim.reply = REPLY
    app = make_app(sim.url, nvml=one_gpu(total=8 * GIB, used=1 * GIB))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first")  # loads deepseek-r1:7b
        await wait_for(pilot, lambda: app.sampler.latest is not None)
        await pilot.press("ctrl+o")
        shown = await wait_for_text(pilot, "deepseek-r1:14b", "loaded")
        line_7b = next(line for line in shown.splitlines() if "deepseek-r1:7b " in line and "GiB" in line)
        line_14b = next(line for line in shown.splitlines() if "deepseek-r1:14b" in line)
        assert "fits on GPU" in line_7b and "loaded" in line_7b
        assert "partial" in line_14b  # 9 GB of weights cannot fit in 7 GiB free
        await pilot.press("down", "down", "enter")  # 7b is highlighted: 8b, then 14b
        await wait_for(pilot, lambda: app.model == "deepseek-r1:14b")
        await send_and_wait(pilot, "second")
        views = list(app.screen.query(TurnView))
        assert [v.turn.model for v in views] == ["deepseek-r1:7b", "deepseek-r1:14b"]


async def test_f1_lists_the_app_keys_and_esc_closes_it(sim: SimulatedOllama) -> None:
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        await pilot.press("f1")
        shown = await wait_for_text(pilot, "Ctrl+T", "fold or unfold", "F3")
        assert re.search(r"Esc +stop generating", shown)
        # At 80×24 the list is taller than the screen: it scrolls, and every key is in it.
        from textual.containers import VerticalScroll

        scroller = app.screen.query_one(VerticalScroll)
        seen = shown
        while scroller.scroll_y < scroller.max_scroll_y:
            await pilot.press("pagedown")
            await pilot.pause()
            seen += screen_text(app)
        for key in ("Enter", "Ctrl+J", "Ctrl+Y", "Ctrl+N", "Ctrl+O", "Ctrl+R", "F2", "F4", "F5", "F6", "F7"):
            assert re.search(rf"│ +{re.escape(key)} +\w", seen), key  # each key with what it does
        await pilot.press("escape")
        await wait_for(pilot, lambda: "fold or unfold" not in screen_text(app))


async def test_ctrl_t_unfolds_what_it_folded(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "q")
        view = app.screen.query(TurnView).last()
        await pilot.press("ctrl+t")
        assert view.folded
        await pilot.press("ctrl+t")
        assert not view.folded
        await wait_for_text(pilot, "▼ thought for", "Rabbits have four legs")


async def test_newline_stays_where_it_was_typed_in_a_burst(sim: SimulatedOllama) -> None:
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await pilot.press("a", "ctrl+j", "b")
        assert app.screen.query_one("#prompt").text == "a\nb"


async def test_server_restart_mid_answer_then_next_prompt_works() -> None:
    """The server dies while streaming: the partial answer stays, the app reconnects by itself."""
    server = SimulatedOllama(rate=100, reply=Reply("thinking " * 200, "answer"))
    server.start()
    port = int(server.url.rsplit(":", 1)[1])
    app = make_app(server.url)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_connected(pilot)
            await type_and_send(pilot, "q")
            await wait_for_text(pilot, "thinking thinking")
            server.stop()
            await wait_turn_finished(pilot)
            turn = app.screen.conversation.turns[-1]
            assert turn.state is TurnState.FAILED and "thinking thinking" in turn.reasoning
            await wait_for_text(pilot, "dropped", "thinking thinking")
            server = SimulatedOllama(rate=0, reply=REPLY, port=port).start()
            await wait_connected(pilot)
            await send_and_wait(pilot, "again")
            assert app.screen.conversation.turns[-1].state is TurnState.DONE
            await wait_for_text(pilot, "23 chickens")
    finally:
        server.stop()


async def test_stalled_stream_is_reported_and_the_next_prompt_works(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    sim.faults = Faults(stall_after_tokens=5, stall_seconds=10)
    app = make_app(sim.url, stall_timeout=5.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first", timeout=30)
        turn = app.screen.conversation.turns[-1]
        assert turn.state is TurnState.FAILED and turn.reasoning  # what streamed is kept
        await wait_for_text(pilot, "stalled")
        await send_and_wait(pilot, "second")
        assert app.screen.conversation.turns[-1].state is TurnState.DONE


async def test_partial_fit_is_said_before_the_first_prompt(sim: SimulatedOllama) -> None:
    from tests.fake_nvml import one_gpu

    GIB = 2**30
    app = make_app(sim.url, model="deepseek-r1:14b", nvml=one_gpu(total=8 * GIB, used=1 * GIB))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await wait_for(pilot, lambda: any("only partly fit" in str(n.message) for n in app._notifications))
        message = next(str(n.message) for n in app._notifications if "only partly fit" in str(n.message))
        assert "deepseek-r1:14b" in message and "of its layers run on the CPU" in message
        assert not app.screen.conversation.turns  # before any prompt


async def test_status_counts_a_model_pulled_in_the_background(sim: SimulatedOllama) -> None:
    sim.pull_bytes_per_second = 100e9
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await wait_for_text(pilot, "4 models installed")
        app.pulls.start("deepseek-r1:32b")
        await wait_for_text(pilot, "5 models installed")


async def test_ctrl_n_on_the_welcome_screen_keeps_the_app_and_the_draft(sim: SimulatedOllama) -> None:
    """It used to quit with DuplicateIds('welcome'), losing the draft."""
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_connected(pilot)
        prompt = app.screen.query_one("#prompt")
        prompt.insert("a draft I care about")
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.is_running and prompt.text == "a draft I care about"
        assert len(app.screen.query("#welcome")) == 1
        await send_and_wait(pilot, "first")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.is_running and len(app.screen.query("#welcome")) == 1 and not app.screen.conversation.turns


async def test_quick_switch_judges_a_loaded_model_with_its_own_memory(sim: SimulatedOllama) -> None:
    """An 8 GiB card whose used memory grows with what the server loads (as a real card's does):
    the loaded 7b still "fits on GPU" in Ctrl+O; it used to read "partial, 82% of layers on CPU"."""
    from tests.fake_nvml import GIB, FakeGpu, FakeNvml

    card = FakeNvml([FakeGpu(name="NVIDIA GeForce RTX 3070", total=8 * GIB, used=int(0.6 * GIB), processes=[])])
    card.gpus[0].follows = sim
    sim.reply = REPLY
    app = make_app(sim.url, nvml=card)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first")  # loads deepseek-r1:7b: the card's used memory grows by its size
        await wait_for(pilot, lambda: app.sampler.latest is not None
                       and app.sampler.latest.gpus[0].vram_used_bytes > 4 * GIB, timeout=20)
        await pilot.press("ctrl+o")
        shown = await wait_for_text(pilot, "deepseek-r1:14b", "loaded")
        line_7b = next(line for line in shown.splitlines() if "deepseek-r1:7b " in line and "GiB" in line)
        assert "fits on GPU" in line_7b and "loaded" in line_7b


async def _feed_terminal(pilot, data: str) -> None:
    """Bytes as the terminal sends them, read by the parser the app's driver uses."""
    import time as _time

    from textual.drivers import linux_driver

    parser = linux_driver.XTermParser()
    keys = list(parser.feed(data))
    _time.sleep(0.15)  # past Textual's ESC delay: the parser decides what a lone ESC was
    keys += list(parser.tick())
    for key in keys:
        pilot.app._driver.send_message(key)
    await pilot.pause(0.1)


async def test_alt_enter_from_tmux_adds_a_newline_and_lone_esc_still_stops(sim: SimulatedOllama) -> None:
    """tmux and xterm send Alt+Enter as ESC CR: a new line, not a sent prompt; a lone ESC stops."""
    sim.reply = Reply("thinking " * 400, "answer")
    sim.rate = 200
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await _feed_terminal(pilot, "line1\x1b\rline2")
        assert app.screen.query_one("#prompt").text == "line1\nline2"
        assert app.screen.conversation.turns == []
        await _feed_terminal(pilot, "\r")
        await wait_for(pilot, lambda: app.screen.conversation.streaming)
        await _feed_terminal(pilot, "\x1b")
        await wait_for(pilot, lambda: app.screen.conversation.turns[-1].state is TurnState.STOPPED)


async def test_keys_typed_in_a_burst_after_enter_stay_in_the_prompt(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await _feed_terminal(pilot, "abc\rdef")
        await wait_turn_finished(pilot)
        assert app.screen.conversation.turns[0].prompt == "abc"
        assert app.screen.query_one("#prompt").text == "def"


async def test_up_and_down_recall_earlier_prompts_and_keep_the_draft(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "first question")
        await send_and_wait(pilot, "second\nquestion")
        prompt = app.screen.query_one("#prompt")
        await pilot.press("d", "r", "a", "f", "t")
        await pilot.press("up")
        assert prompt.text == "second\nquestion"
        await pilot.press("up")  # the cursor is on the recalled prompt's last line: up moves within it
        assert prompt.text == "second\nquestion"
        await pilot.press("up")
        assert prompt.text == "first question"
        await pilot.press("up")  # the oldest: stays
        assert prompt.text == "first question"
        await pilot.press("down")
        assert prompt.text == "second\nquestion"
        await pilot.press("down")
        assert prompt.text == "draft"
        await pilot.press("up", "up", "up", "enter")
        await wait_turn_finished(pilot)
        assert app.screen.conversation.turns[-1].prompt == "first question"
        assert prompt.text == ""


async def test_model_flag_counts_while_the_server_is_down_at_start() -> None:
    """`--model deepseek-r1:14b` with nothing answering yet: the title says 14b, and the first prompt
    once the server is back goes to 14b, not to the last-used or first installed tag."""
    server = SimulatedOllama(reply=REPLY)
    server.start()
    url, port = server.url, int(server.url.rsplit(":", 1)[1])
    server.stop()
    app = make_app(url, model="deepseek-r1:14b")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "Cannot reach" in screen_text(pilot.app))
        assert app.model == "deepseek-r1:14b"
        assert "deepseek-r1:14b @" in screen_text(app)
        revived = SimulatedOllama(reply=REPLY, port=port).start()
        try:
            await wait_connected(pilot)
            await send_and_wait(pilot, "q")
            assert app.screen.conversation.turns[-1].model == "deepseek-r1:14b"
            body = [body for _, path, body in revived.requests if path == "/api/chat"][-1]
            assert body["model"] == "deepseek-r1:14b"
        finally:
            revived.stop()


async def test_the_panel_speed_sparkline_gets_a_point_each_tick_while_streaming(sim: SimulatedOllama) -> None:
    sim.reply, sim.rate = REPLY, 25.0
    app = make_app(sim.url, show_panel=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "q", timeout=30)
        meter = app.screen.query(TurnView).last().meter
        seconds = meter.finished_at - meter.sent_at
        assert len(meter.rate_history) >= int(seconds / 0.5) - 1 >= 1  # one per 0.5 s tick


async def test_the_panel_s_gpu_figures_keep_changing_while_a_turn_streams(sim: SimulatedOllama) -> None:
    """While a turn streams, the hardware figures are drawn at the stream's ticks: they must still be drawn."""
    from tests.fake_nvml import FakeGpu, FakeNvml

    sim.reply, sim.rate = Reply(reasoning="step " * 150, answer="done " * 50), 40.0
    card = FakeGpu(utilization=11)
    app = make_app(sim.url, show_panel=True, nvml=FakeNvml([card]), sample_interval=0.2)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_connected(pilot)
        await wait_for_text(pilot, "util 11%")
        await type_and_send(pilot, "q")
        turns = app.screen.conversation.turns
        await wait_for(pilot, lambda: bool(turns) and bool(turns[-1].reasoning))
        card.utilization = 93
        await wait_for_text(pilot, "util 93%", timeout=5)
        assert turns[-1].state is TurnState.STREAMING  # drawn while the stream runs, not only after it
        await wait_turn_finished(pilot, timeout=30)


async def test_code_lexers_are_built_in_the_background_soon_after_start_up(sim: SimulatedOllama) -> None:
    """Not at the first code block, on the event loop, in the middle of a stream (a 30-ms hitch for Python)."""
    from tui.widgets import markdown_elements

    markdown_elements._lexer.cache_clear()
    app = make_app(sim.url)
    async with app.run_test() as pilot:
        await wait_connected(pilot)
        assert not app.screen.conversation.turns
        await wait_for(pilot, lambda: markdown_elements._lexer.cache_info().currsize >= len(markdown_elements.COMMON_LANGUAGES),
                       timeout=5)
