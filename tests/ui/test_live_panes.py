"""While the model writes, reasoning and answer each show their newest lines; after, the answer stays in sight."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from textual.pilot import Pilot

from tests.apphelpers import make_app, screen_text, type_and_send, wait_connected, wait_for, wait_turn_finished
from tui.app import R1App
from tui.core.conversation import TurnState
from tui.demo import Reply, SimulatedOllama
from tui.widgets.turn import ReasoningText, TurnView

LONG_REASONING = Reply(  # the reasoning alone is far taller than the screen
    reasoning="\n\n".join(f"Reasoning step {n} checks one more case." for n in range(1, 61)),
    answer="\n\n".join(f"Answer line {n}." for n in range(1, 41)),
)


@asynccontextmanager
async def streaming(sim: SimulatedOllama, reply: Reply, prompt: str, *, rate: float,
                    size: tuple[int, int] = (120, 40)) -> AsyncIterator[tuple[R1App, Pilot]]:
    """The app connected to `sim`, `prompt` just sent, `reply` streaming at `rate` tokens/s."""
    sim.reply, sim.rate = reply, rate
    app = make_app(sim.url)
    async with app.run_test(size=size) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, prompt)
        yield app, pilot


def streaming_with_answer_in_sight(app: R1App) -> bool:
    """The answer has begun, is still being written, and its words are on screen with the reasoning's last step."""
    turn = app.screen.conversation.turns[-1]
    shown = screen_text(app)
    return (turn.state is TurnState.STREAMING and "Answer line" in turn.answer
            and "Answer line" in shown and "Reasoning step 60 " in shown)


async def test_the_answer_streams_in_sight_beside_a_long_reasoning(sim: SimulatedOllama) -> None:
    async with streaming(sim, LONG_REASONING, "think long", rate=150.0) as (app, pilot):
        screen = app.screen
        # Mid-reasoning: its newest steps are on screen (the pane follows them), the answer is still waiting.
        # Any step past the first screenful: the pane jumps ahead, and a busy machine looks now and then.
        def following_the_reasoning() -> bool:
            shown = screen_text(app)
            return "the model is thinking…" in shown and any(f"Reasoning step {n} " in shown for n in range(25, 61))

        await wait_for(pilot, following_the_reasoning, timeout=30)
        # Mid-answer: the answer's newest lines are on screen beside the reasoning's last ones.
        await wait_for(pilot, lambda: streaming_with_answer_in_sight(app), timeout=30)
        # The reasoning is complete: its last line sits at the bottom of its pane, no blank rows kept below it.
        reasoning = screen.query(TurnView).last().query_one(ReasoningText)
        assert "Reasoning step 60 " in reasoning.render_line(reasoning.size.height - 1).text
        await wait_turn_finished(pilot, timeout=30)
        await pilot.pause()
        shown = screen_text(app)
        view = screen.query(TurnView).last()
        # Finished: a reasoning far taller than its answer folds, so the answer's end is in sight.
        assert view.folded
        assert "Answer line 40." in shown and "Reasoning step 60 " not in shown


async def test_a_live_pane_shows_one_unbroken_stretch_of_its_text_as_it_jumps(sim: SimulatedOllama) -> None:
    """Every jump redraws the whole pane: no row of an earlier position may stay behind."""
    import re

    async with streaming(sim, LONG_REASONING, "think long", rate=150.0) as (app, pilot):
        looks: list[list[int]] = []

        def look() -> bool:
            shown = screen_text(app)
            steps = [int(n) for n in re.findall(r"Reasoning step (\d+) ", shown)]
            if "the model is thinking…" in shown and steps and steps[-1] > 25:
                looks.append(steps)
            return len(looks) >= 5 or bool(app.screen.conversation.turns[-1].answer)

        await wait_for(pilot, look, timeout=30)
        assert looks
        for steps in looks:  # consecutive steps, in order: one stretch of the text
            assert steps == list(range(steps[0], steps[0] + len(steps))), steps
        await pilot.press("escape")
        await wait_turn_finished(pilot, timeout=30)


async def test_a_short_turn_keeps_reasoning_and_answer_side_by_side(sim: SimulatedOllama) -> None:
    reply = Reply("Two legs each.\n\nFour legs each.", "There are 23 chickens.")
    async with streaming(sim, reply, "short", rate=0.0) as (app, pilot):
        await wait_turn_finished(pilot)
        view = app.screen.query(TurnView).last()
        assert not view.folded
        line = next(line for line in screen_text(app).splitlines() if "Two legs each." in line)
        assert "There are 23 chickens." in line


async def test_narrow_terminal_stacks_live_panes_and_shows_both(sim: SimulatedOllama) -> None:
    async with streaming(sim, LONG_REASONING, "think long", rate=150.0, size=(80, 24)) as (app, pilot):
        seen: list[str] = []

        def in_sight() -> bool:
            if streaming_with_answer_in_sight(app):
                seen.append(screen_text(app))
            return bool(seen)

        await wait_for(pilot, in_sight, timeout=30)
        assert seen[0].index("Reasoning step 60 ") < seen[0].index("Answer line")  # reasoning above the answer
        await wait_turn_finished(pilot, timeout=30)


async def test_scrolling_up_in_a_live_pane_stops_it_following_until_back_at_the_bottom(sim: SimulatedOllama) -> None:
    from textual import events

    from tui.widgets.turn import ReasoningText

    async with streaming(sim, LONG_REASONING, "think long", rate=60.0) as (app, pilot):
        await wait_for(pilot, lambda: "Reasoning step 20 " in screen_text(app), timeout=30)
        text = app.screen.query(TurnView).last().query_one(ReasoningText)
        for _ in range(5):  # the mouse wheel, over the reasoning pane
            text.post_message(events.MouseScrollUp(text, 2, 2, 0, -1, 0, False, False, False))
        await pilot.pause()
        held, shown = text.top, screen_text(app)
        assert not text.following
        assert "more rows below · wheel down to follow" in shown  # where the newest text went, and the way back
        await wait_for(pilot, lambda: "Reasoning step 30 " in app.screen.conversation.turns[-1].reasoning)
        await pilot.pause(0.5)
        assert text.top == held  # the text the user scrolled to stays put while more arrives
        first_row_shown = next(row for row in shown.splitlines() if "Reasoning step" in row)
        assert first_row_shown in screen_text(app)
        for _ in range(100):  # wheel down to the bottom (and on: no further): following again
            text.post_message(events.MouseScrollDown(text, 2, 2, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert text.following
        await wait_for(pilot, lambda: "Reasoning step 36 " in screen_text(app), timeout=30)  # following again
        assert "more rows below" not in screen_text(app)
        await pilot.press("escape")
        await wait_turn_finished(pilot, timeout=30)


async def test_live_text_starts_at_the_top_of_its_pane(sim: SimulatedOllama) -> None:
    async with streaming(sim, Reply("First thought here.\n\nSecond thought.", "The answer."), "slowly", rate=8.0) as (app, pilot):
        await wait_for(pilot, lambda: "First thought" in screen_text(app), timeout=30)
        rows = screen_text(app).splitlines()
        # The header row ("▼ Reasoning" until its timer first ticks, then "▼ thinking 0.4 s"): under
        # load the text can be drawn before the header's first tick.
        # On a very busy machine the ten tokens may all be in before the screen is read ("▼ thought for").
        header = next(index for index, row in enumerate(rows)
                      if "▼ thinking" in row or "▼ Reasoning" in row or "▼ thought for" in row)
        assert "First thought" in rows[header + 1]  # right under the header, not at the pane's bottom
        await pilot.press("escape")
        await wait_turn_finished(pilot)


async def test_a_long_answer_beside_a_long_reasoning_shows_from_its_top_once_finished(sim: SimulatedOllama) -> None:
    """Leaving the live height, a pane keeps no scroll offset: nothing at the top is hidden."""
    reply = Reply("\n\n".join(f"Thought {n} of the chain." for n in range(1, 41)),
                  "\n\n".join(f"Answer block {n}." for n in range(1, 41)))
    async with streaming(sim, reply, "both long", rate=0.0) as (app, pilot):
        await wait_turn_finished(pilot)
        view = app.screen.query(TurnView).last()
        assert not view.folded  # about as tall as each other: side by side
        app.screen.query_one("#conversation").scroll_home(animate=False)
        await pilot.pause()
        line = next(row for row in screen_text(app).splitlines() if "Thought 1 of" in row)
        assert "Answer block 1." in line


async def test_live_panes_follow_the_chat_height_when_the_panel_is_toggled(sim: SimulatedOllama) -> None:
    async with streaming(sim, LONG_REASONING, "think long", rate=60.0) as (app, pilot):
        # Well into the reasoning (read from the turn: on a loaded machine step 5 can scroll past between looks).
        await wait_for(pilot, lambda: any("Reasoning step 5 " in turn.reasoning for turn in app.screen.conversation.turns)
                       and app.screen.query(TurnView).last().live_rows is not None, timeout=30)
        view = app.screen.query(TurnView).last()
        before = view.live_rows
        assert before is not None
        await pilot.press("f2")  # the hardware strip takes rows from the chat
        await wait_for(pilot, lambda: view.live_rows is not None and view.live_rows < before)
        await pilot.pause()
        assert "You think long" in screen_text(app)  # the whole live turn still fits: its prompt stays in view
        await pilot.press("escape")
        await wait_turn_finished(pilot)


async def test_an_answer_without_reasoning_takes_the_whole_live_area(sim: SimulatedOllama) -> None:
    reply = Reply("", "\n\n".join(f"Direct answer line {n}." for n in range(1, 30)))
    async with streaming(sim, reply, "straight to it", rate=40.0, size=(80, 24)) as (app, pilot):
        # Any of its lines: on a very busy machine the first ones may have scrolled by before a look.
        await wait_for(pilot, lambda: "Direct answer line" in screen_text(app), timeout=30)
        view = app.screen.query(TurnView).last()
        assert not view.query_one(".reasoning-pane").display  # hidden with the first answer text
        # On screen a frame later at worst (a loaded machine can paint the answer's text first).
        await wait_for(pilot, lambda: "Reasoning" not in screen_text(app) and "thinking" not in screen_text(app),
                       timeout=5)
        await pilot.press("escape")
        await wait_turn_finished(pilot)


async def test_a_fast_stream_reaches_the_screen_many_times_a_second(sim: SimulatedOllama, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Frames are paced by time, not by the token rate: 300 tokens/s does not look jerkier than 30."""
    import time

    from tui.demo import synthetic_reply

    shown: list[float] = []
    flush = TurnView._flush_pending

    async def counting_flush(self: TurnView) -> None:
        if self._pending_reasoning or self._pending_answer:
            shown.append(time.monotonic())
        await flush(self)

    monkeypatch.setattr(TurnView, "_flush_pending", counting_flush)
    async with streaming(sim, synthetic_reply(1500, 300), "fast", rate=300.0) as (app, pilot):
        await wait_for(pilot, lambda: len(shown) > 0, timeout=30)
        start = time.monotonic()
        await pilot.pause(3.0)
        frames = [at for at in shown if start <= at <= start + 3.0]
        assert app.screen.conversation.turns[-1].state is TurnState.STREAMING
        assert len(frames) >= 3.0 * 8, len(frames)  # 15 a second when the loop keeps up; 3 a second before
        await pilot.press("escape")
        await wait_turn_finished(pilot)


async def test_the_answer_s_first_line_takes_the_placeholder_s_row(sim: SimulatedOllama) -> None:
    """"the model is thinking…" sits where the answer will begin: the first words replace it in place,
    and nothing on screen moves (hiding a line above the answer used to shift it, a layout mid-stream)."""
    from tui.widgets.answer import AnswerMarkdown

    reply = Reply("Let me think it through. " * 20, "The result is forty-two.\n\n" + "More words follow. " * 200)
    async with streaming(sim, reply, "think, then answer", rate=80.0) as (app, pilot):
        await wait_for(pilot, lambda: "the model is thinking…" in screen_text(app))
        answer = app.screen.query(TurnView).last().query_one(AnswerMarkdown)
        before = answer.region
        lines = screen_text(app).splitlines()
        row = next(y for y, line in enumerate(lines) if "the model is thinking…" in line)
        await wait_for(pilot, lambda: "The result is forty-two." in screen_text(app), timeout=30)
        assert answer.region == before
        assert "The result is forty-two." in screen_text(app).splitlines()[row]
        assert "the model is thinking" not in screen_text(app)
        await pilot.press("escape")
        await wait_turn_finished(pilot)
