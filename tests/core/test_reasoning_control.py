"""Reasoning control over a real socket: the thinking budget, answer now, the loop flag, thinking off,
and the length limit, each through the one stream path against the simulated server."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from tui.core.backend import OllamaBackend
from tui.core.conversation import Conversation, Turn, TurnState
from tui.core.metrics import TokenMeter
from tui.core.r1_template import continuation_prompt
from tui.core.session import stream_turn
from tui.core.turn_marks import context_line, turn_marks
from tui.core.thinking_budget import BUDGET_CUT, MANUAL_CUT, ReasoningControl, cut_text, next_budget_step
from tui.demo import Faults, Reply, SimulatedOllama, demo_reply
from tui.demo.reasoning_sim import long_thinker_reply, looping_reply, parse_raw_prompt

MESSAGES = [{"role": "user", "content": "What is the sum of the squares?"}]


async def run(sim: SimulatedOllama, control: ReasoningControl | None = None, *, options: dict | None = None,
              messages: list[dict] | None = None, on_delta=None) -> Turn:
    backend = OllamaBackend(sim.url, stall_timeout=30)
    turn = Turn("What is the sum of the squares?", "deepseek-r1:7b")
    try:
        await stream_turn(backend, turn, messages or MESSAGES, meter=TokenMeter(), control=control,
                          options=options if options is not None else {"num_ctx": 16384}, on_delta=on_delta)
    finally:
        await backend.aclose()
    return turn


def posts(sim: SimulatedOllama) -> list[tuple[str, dict]]:
    return [(path, body) for method, path, body in sim.requests if method == "POST" and path != "/api/show"]


@pytest.mark.parametrize("style", ["thinking", "inline", "closing"])
async def test_a_budget_cuts_the_reasoning_near_it_and_the_answer_follows(style: str) -> None:
    # A finite rate: unthrottled, the simulated server writes the whole reply into the socket before the
    # client can close it, and nothing would show that the first request was abandoned.
    with SimulatedOllama(style=style, reply=long_thinker_reply(3000), rate=3000.0) as sim:
        turn = await run(sim, ReasoningControl(budget=300))
        for _ in range(100):  # the server notices the closed stream at its next write
            if sim.abandoned_streams:
                break
            await asyncio.sleep(0.02)
    assert turn.state is TurnState.DONE and turn.thinking_cut == BUDGET_CUT and turn.think_budget == 300
    assert 300 <= turn.reasoning_tokens <= 310  # it would have thought for 3,000
    assert turn.answer.startswith("The sum of the squares") and not turn.cut_at_length
    last_step = int(re.findall(r"step (\d+):", turn.reasoning)[-1])
    assert turn.answer.startswith(f"The sum of the squares from 1 to {last_step} ")  # from what it had thought
    (first, _), (second, body) = posts(sim)
    assert (first, second) == ("/api/chat", "/api/generate") and body["raw"] is True
    assert body["prompt"].endswith(turn.reasoning.strip() + "\n</think>\n\n")  # the reasoning so far, closed
    assert sim.abandoned_streams == 1  # the first request was closed: the server stopped thinking
    assert cut_text(turn.thinking_cut, 300, turn.reasoning_tokens) == "thinking cut at the 300-token budget"


async def test_without_a_budget_the_long_thinker_thinks_to_the_end_and_is_not_flagged(sim: SimulatedOllama) -> None:
    sim.reply = long_thinker_reply(3000)
    turn = await run(sim)
    assert turn.reasoning_tokens >= 3000 and turn.thinking_cut is None and not turn.loop_flagged
    assert [path for path, _ in posts(sim)] == ["/api/chat"]


async def test_a_model_without_deepseeks_template_is_continued_through_the_chat(sim: SimulatedOllama) -> None:
    sim.reply = long_thinker_reply(3000)
    sim.template = lambda: "{{ range .Messages }}{{ .Role }}: {{ .Content }}{{ end }}"  # type: ignore[method-assign]
    turn = await run(sim, ReasoningControl(budget=200))
    assert turn.thinking_cut == BUDGET_CUT and turn.answer.startswith("The sum of the squares")
    path, body = posts(sim)[-1]
    assert path == "/api/chat" and body["messages"][-1]["role"] == "assistant"
    assert body["messages"][-1]["content"].rstrip().endswith("</think>") and "think" not in body


async def test_answer_now_cuts_by_hand_while_the_model_thinks(sim: SimulatedOllama) -> None:
    sim.reply, sim.rate = long_thinker_reply(3000), 400.0
    control = ReasoningControl()

    def on_delta(reasoning: str, answer: str) -> None:
        if control.loop_watch.words_seen > 60:
            control.answer_now()

    turn = await run(sim, control, on_delta=on_delta)
    assert turn.state is TurnState.DONE and turn.thinking_cut == MANUAL_CUT
    assert turn.reasoning_tokens < 1000 and turn.answer.startswith("The sum of the squares")
    assert "by hand" in cut_text(turn.thinking_cut, 0, turn.reasoning_tokens)


async def test_answer_now_acts_while_no_token_arrives(sim: SimulatedOllama) -> None:
    sim.reply = long_thinker_reply(3000)
    sim.faults = Faults(stall_after_tokens=40, stall_seconds=60)
    control = ReasoningControl()
    task = asyncio.ensure_future(run(sim, control))
    deadline = time.monotonic() + 30
    while not sim.requests or not any(path == "/api/chat" for _, path, _ in sim.requests):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # the stream is now silent
    started = time.monotonic()
    control.answer_now()
    turn = await asyncio.wait_for(task, 30)
    assert time.monotonic() - started < 20  # not the 60 s stall
    assert turn.thinking_cut == MANUAL_CUT and turn.answer.startswith("The sum")


async def test_answer_now_after_the_answer_began_changes_nothing(sim: SimulatedOllama) -> None:
    sim.reply, sim.rate = Reply(reasoning="Short thought.", answer="word " * 200), 400.0
    control = ReasoningControl()

    def on_delta(reasoning: str, answer: str) -> None:
        if answer:
            control.answer_now()

    turn = await run(sim, control, on_delta=on_delta)
    assert turn.thinking_cut is None and turn.answer == "word " * 200
    assert [path for path, _ in posts(sim)] == ["/api/chat"]


async def test_a_looping_reasoning_is_flagged_once(sim: SimulatedOllama) -> None:
    sim.reply = looping_reply()
    flagged: list[bool] = []
    turn = await run(sim, ReasoningControl(on_loop=lambda: flagged.append(True)))
    assert turn.loop_flagged and flagged == [True]


@pytest.mark.parametrize("prompt", ["how many chickens and rabbits", "is 97 prime?", "write a palindrome check",
                                    "tell me about the sea"])
async def test_ordinary_reasoning_is_not_flagged(sim: SimulatedOllama, prompt: str) -> None:
    sim.reply = demo_reply
    turn = await run(sim, messages=[{"role": "user", "content": prompt}])
    assert turn.reasoning and not turn.loop_flagged


async def test_thinking_off_sends_think_false_and_the_model_answers_directly(sim: SimulatedOllama) -> None:
    sim.reply = Reply(reasoning="Long thought.", answer="Four.")
    turn = await run(sim, ReasoningControl(think=False))
    assert turn.thinking_off and turn.reasoning == "" and turn.answer == "Four."
    assert posts(sim)[0][1]["think"] is False


async def test_thinking_off_where_the_server_cannot_is_not_claimed() -> None:
    with SimulatedOllama(style="inline", reply=Reply(reasoning="Long thought.", answer="Four.")) as sim:
        turn = await run(sim, ReasoningControl(think=False))
    assert not turn.thinking_off and turn.reasoning.strip() == "Long thought." and turn.answer == "Four."
    assert "think" not in posts(sim)[0][1]


async def test_an_answer_cut_by_the_context_is_marked_cut_at_the_length_limit(sim: SimulatedOllama) -> None:
    sim.reply, sim.context_shift = long_thinker_reply(3000), False  # Ollama with `shift: false`
    turn = await run(sim, options={"num_ctx": 2048})
    assert turn.state is TurnState.DONE and turn.cut_at_length and turn.context_size == 2048
    assert turn.stats is not None and turn.stats.prompt_eval_count + turn.stats.eval_count == 2048
    assert "cut off at the length limit" in turn_marks(turn)[0]


async def test_a_shifted_context_finishes_but_says_the_start_was_dropped(sim: SimulatedOllama) -> None:
    sim.reply = long_thinker_reply(3000)  # Ollama's default: the context shifts and generation goes on
    turn = await run(sim, options={"num_ctx": 2048})
    assert turn.state is TurnState.DONE and not turn.cut_at_length and turn.answer.startswith("The sum")
    label, warning = context_line(turn)
    assert label.startswith("ctx 3,") and label.endswith("/ 2,048") and "dropped the start" in (warning or "")


async def test_num_predict_cuts_the_continuation_too(sim: SimulatedOllama) -> None:
    sim.reply = Reply(reasoning="step " * 400, answer="word " * 300)
    turn = await run(sim, ReasoningControl(budget=50), options={"num_ctx": 8192, "num_predict": 100})
    assert turn.thinking_cut == BUDGET_CUT and turn.cut_at_length and turn.stats.eval_count == 100


async def test_prompt_eval_count_grows_with_the_conversation(sim: SimulatedOllama) -> None:
    sim.reply = Reply(reasoning="Thinking.", answer="An answer of a few words.")
    conversation = Conversation()
    counts = []
    backend = OllamaBackend(sim.url)
    for prompt in ("first question", "second question", "third question"):
        turn = conversation.start_turn(prompt, "deepseek-r1:7b")
        await stream_turn(backend, turn, conversation.messages_for_next(), meter=TokenMeter(),
                          options={"num_ctx": 4096})
        counts.append(turn.stats.prompt_eval_count)
    await backend.aclose()
    assert counts[0] < counts[1] < counts[2]


def test_the_raw_continuation_prompt_reads_back_as_the_conversation() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "a?"},
                {"role": "assistant", "content": "A."}, {"role": "user", "content": "b?"}]
    prompt = continuation_prompt(messages, "  I think b.  ")
    assert prompt == ("Be brief.<｜User｜>a?<｜Assistant｜>A.<｜end▁of▁sentence｜><｜User｜>b?<｜Assistant｜>"
                      "<think>\nI think b.\n</think>\n\n")
    parsed = parse_raw_prompt(prompt)
    assert parsed.messages == messages and parsed.reasoning == "I think b." and parsed.closed


def test_the_budget_key_cycles_through_budgets_and_thinking_off() -> None:
    steps = [0]
    for _ in range(6):
        steps.append(next_budget_step(steps[-1]))
    assert steps == [0, 300, 1000, 3000, 8000, "off", 0]
    assert next_budget_step(450) == 0


def test_the_demo_has_a_long_thinker_and_a_looping_model_to_try() -> None:
    from tui.core.loop_watch import LoopWatch
    from tui.demo import tokens

    long = demo_reply([{"role": "user", "content": "What is the sum of squares up to 100? Think long."}])
    assert len(tokens(long.reasoning)) >= 3000 and not LoopWatch().feed(long.reasoning + " ")
    looping = demo_reply([{"role": "user", "content": "show me a loop"}])
    assert LoopWatch().feed(looping.reasoning + " ") and "canned" in looping.answer
    assert "```python" in demo_reply([{"role": "user", "content": "write a python for loop"}]).answer
