"""Long conversations stay light: older turns past a drawing budget become one-line summaries."""

from __future__ import annotations

import re

import pytest
from textual import events

import tui.core.conversation
from tests.apphelpers import make_app, screen_text, send_and_wait, wait_connected, wait_for, wait_for_text
from tui.core.conversation import Turn, TurnState, turns_to_summarise
from tui.demo import Reply, SimulatedOllama
from tui.widgets.answer import AnswerMarkdown
from tui.widgets.turn import TurnSummary, TurnView


def finished(reasoning: int, answer: int) -> Turn:
    return Turn(prompt="q", model="m", reasoning="r" * reasoning, answer="a" * answer, state=TurnState.DONE)


def test_newest_turns_stay_drawn_while_they_fit_the_budget() -> None:
    turns = [finished(300, 100) for _ in range(6)]
    assert turns_to_summarise(turns, budget=1000) == [0, 1, 2, 3]  # the last two fit (800 characters)
    assert turns_to_summarise(turns, budget=10_000) == []
    # The last `keep_last` turns are drawn however large they are.
    assert turns_to_summarise([finished(5000, 0), finished(5000, 0)], budget=10) == []


def long_turn(index: int) -> Turn:
    return Turn(prompt=f"question {index}", model="deepseek-r1:7b", reasoning=f"thinking about {index}. " * 600,
                answer=f"Answer number {index} starts here.\n\n" + "More detail. " * 200,
                state=TurnState.DONE, reasoning_tokens=1600, answer_tokens=400)


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tui.core.conversation, "LIVE_CHARACTERS", 30_000)  # about two of `long_turn`


async def test_resumed_long_conversation_draws_older_turns_as_summaries(sim: SimulatedOllama, small_budget: None) -> None:
    sim.reply = Reply("Short thought.", "Short answer.")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        store = app.store
        conversation_id = store.new_conversation("deepseek-r1:7b")
        for index in range(8):
            turn = long_turn(index)
            turn_id = store.start_turn(conversation_id, turn, {})
            store.finish_turn(turn_id, turn)
        await app.screen.resume(conversation_id)
        views = list(app.screen.query(TurnView))
        assert [view.summarised for view in views] == [True] * 6 + [False] * 2
        assert len(list(app.screen.query(AnswerMarkdown))) == 2  # summaries hold no rendered text
        # The last turn's reasoning dwarfs its answer: it comes back folded, the answer's end in sight.
        assert views[-1].folded and not views[-2].summarised
        await wait_for_text(pilot, "More detail. More detail.", "1,600 reasoning + 400 answer tokens")
        app.screen.query_one("#conversation").scroll_home(animate=False)
        shown = await wait_for_text(pilot, "question 0", "1,600 reasoning + 400 answer tokens",
                                    "Answer number 0 starts here.", "(Enter or click to show)")
        assert "thinking about 0" not in shown

        # Enter on a summary draws that turn in full, reasoning folded like any earlier turn.
        views[0].query_one(TurnSummary).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not views[0].summarised)
        await pilot.pause()
        assert views[0].query_one(AnswerMarkdown).source.startswith("Answer number 0 starts here.")
        assert views[0].folded and "▶ thought for" in screen_text(app)

        # The conversation goes on: the model still sees every earlier answer.
        await send_and_wait(pilot, "one more")
        body = [body for _, path, body in sim.requests if path == "/api/chat"][-1]
        assert len(body["messages"]) == 17


async def test_sending_in_a_long_conversation_summarises_turns_past_the_budget(sim: SimulatedOllama, small_budget: None) -> None:
    sim.reply = Reply("think " * 2000, "answer " * 1000)  # ~19,000 characters a turn
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        for prompt in ("one", "two", "three", "four"):
            await send_and_wait(pilot, prompt, timeout=60)
        await pilot.pause()
        views = list(app.screen.query(TurnView))
        # At the fourth send the first two were past the budget; the newest two are drawn.
        assert [view.summarised for view in views] == [True, True, False, False]
        assert views[-1].query_one(AnswerMarkdown).source.startswith("answer answer")


def test_summary_shows_the_answers_first_words_without_markdown() -> None:
    from tui.widgets.turn import plain_line, summary_text

    assert plain_line("## Part 0") == "Part 0"
    assert plain_line("- **Bold** item with `code`") == "Bold item with code"
    assert plain_line("| a | b |") == "a  b"
    turn = Turn(prompt="q", model="m", answer="\n```python\nx = 1\n```\n", state=TurnState.DONE,
                reasoning_tokens=39484, answer_tokens=9747)
    text = summary_text(turn).plain
    assert "39,484 reasoning + 9,747 answer tokens · x = 1" in text and "```" not in text


async def test_a_turn_left_streaming_by_a_killed_r1tui_says_it_was_interrupted(sim: SimulatedOllama,
                                                                               small_budget: None) -> None:
    """kill -9 mid-reply leaves the turn `streaming` in the file; resumed, it says so (not "the server was told")."""
    from tui.core.store import HistoryStore

    with HistoryStore() as store:  # the file a killed r1tui left behind
        conversation_id = store.new_conversation("deepseek-r1:7b")
        for index in range(3):  # the oldest, interrupted, becomes a summary; the newest is drawn in full
            turn = long_turn(index)
            turn_id = store.start_turn(conversation_id, Turn(turn.prompt, turn.model), {})
            store.append(turn_id, turn.reasoning, turn.answer)
            if index == 1:
                store.finish_turn(turn_id, turn)
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await app.screen.resume(conversation_id)
        views = list(app.screen.query(TurnView))
        assert [view.summarised for view in views] == [True, False, False]
        shown = await wait_for_text(pilot, "■ interrupted: r1tui exited while it streamed")
        assert "told to stop" not in shown
        app.screen.query_one("#conversation").scroll_home(animate=False)
        shown = await wait_for_text(pilot, "question 0", "(Enter or click to show)")
        assert "■ interrupted: r1tui exited while it streamed" in shown.split("question 1")[0]


# A long answer (a few hundred rows at 100 columns) whose visible part says where it is ("Part N").
PARTS = "".join(f"## Part {n}\n\nProse for part {n}, long enough to wrap at this width once.\n\n"
                f"| n | n² |\n|---|---|\n| {n} | {n * n} |\n\n" for n in range(150))


async def resume_parts(pilot, *prompts: str) -> None:  # type: ignore[no-untyped-def]
    """Once connected, resume a saved conversation whose turns (one per prompt) each answer PARTS."""
    await wait_connected(pilot)
    store = pilot.app.store
    conversation_id = store.new_conversation("deepseek-r1:7b")
    for prompt in prompts:
        turn = Turn(prompt=prompt, model="deepseek-r1:7b", reasoning="Short.", answer=PARTS,
                    state=TurnState.DONE, reasoning_tokens=2, answer_tokens=3000)
        store.finish_turn(store.start_turn(conversation_id, turn, {}), turn)
    await pilot.app.screen.resume(conversation_id)


@pytest.mark.parametrize("how", ["pageup", "wheel"])
async def test_scrolling_while_an_answer_is_drawn_from_its_end_counts_its_real_rows(
        sim: SimulatedOllama, how: str) -> None:
    """A long answer just shown (a resume, a turn's end) is drawn from its end, its earlier rows estimated
    while the rest is drawn in the background: PgUp or the wheel then must not land on blank rows, nor
    elsewhere once they are drawn."""
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await resume_parts(pilot, "list the parts")
        answer = app.screen.query_one(AnswerMarkdown)
        await wait_for(pilot, lambda: answer.drawing_in_background)
        chat = app.screen.query_one("#conversation")
        if how == "pageup":
            await pilot.press("pageup")
            rows = chat.container_size.height
        else:
            chat.post_message(events.MouseScrollUp(chat, 5, 5, 0, -1, 0, False, False, False))
            rows = int(app.scroll_sensitivity_y)
        await pilot.pause()
        assert not answer.drawing_in_background  # drawn whole before the scroll
        assert chat.scroll_y == chat.max_scroll_y - rows  # above the end by the scroll's rows, counted in real rows
        seen = [int(number) for number in re.findall(r"Part (\d+)\b", screen_text(app))]
        assert seen and seen == list(range(seen[0], seen[0] + len(seen)))  # text in sight, in order
        assert 140 <= seen[0] and seen[-1] < 149 if how == "pageup" else seen[-1] == 149


async def test_focusing_a_turn_below_an_answer_drawn_from_its_end_lands_on_that_turn(sim: SimulatedOllama) -> None:
    """Alt+Up just after a resume: the turn's place is counted in the answers' real rows, not in the
    estimated ones of an earlier answer still drawn in the background (the view would then slide)."""
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await resume_parts(pilot, "first question", "second question")
        answers = list(app.screen.query(AnswerMarkdown))
        await wait_for(pilot, lambda: any(answer.drawing_in_background for answer in answers))
        await pilot.press("alt+up")
        await pilot.pause()
        views = list(app.screen.query(TurnView))
        chat = app.screen.query_one("#conversation")
        assert app.screen.focused is views[-1]
        assert chat.scroll_y == min(views[-1].virtual_region_with_margin.y, chat.max_scroll_y)
        assert "second question" in screen_text(app)
