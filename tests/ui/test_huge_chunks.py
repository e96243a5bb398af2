"""A hostile or broken server sends megabytes in one chunk: the app keeps answering keys while it draws them."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.apphelpers import make_app, screen_text, type_and_send, wait_connected, wait_for, wait_turn_finished
from tui.core.conversation import TurnState
from tui.demo import Reply, SimulatedOllama
from tui.widgets.answer import AnswerMarkdown
from tui.widgets.turn import ReasoningText

MB = 1_000_000
# Seconds: a key waits no longer than this. Before the fix these chunks stalled the app for
# seconds to minutes; the margin over "about a second" is for a busy CI machine.
RESPONSIVE = 2.0


@pytest.fixture
def whole_chunks(sim: SimulatedOllama, monkeypatch: pytest.MonkeyPatch) -> SimulatedOllama:
    """The simulated server sends each piece of text between "|" as one chunk, 2 s apart."""
    sim.chunker = lambda text: [piece for piece in text.split("|") if piece]
    sim.rate = 0.5
    return sim


class LoopWatch:
    """The longest time the app's event loop went without running this (keys wait as long)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.longest = max(self.longest, now - last)
            last = now

    def __enter__(self) -> "LoopWatch":
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def last_rows(app) -> str:  # type: ignore[no-untyped-def]
    """The last rows the turn's reasoning and answer panes draw (the end of what arrived)."""
    panes = [*app.screen.query(ReasoningText), *app.screen.query(AnswerMarkdown)]
    return "\n".join(pane.render_line(y).text for pane in panes
                     for y in range(max(0, pane.virtual_size.height - 3), pane.virtual_size.height))


async def stop_while_it_draws(sim: SimulatedOllama, arrived) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(seconds from Esc to the turn shown stopped, longest stall of the app meanwhile), Esc pressed as soon as
    a huge chunk has reached the app; then the end of that chunk (LAST-WORDS) must be drawn."""
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, "say a lot")
        with LoopWatch() as watch:
            await wait_for(pilot, lambda: bool(app.screen.conversation.turns)
                           and arrived(app.screen.conversation.turns[-1]), timeout=30)
            pressed = time.monotonic()
            # Not awaited at once: Pilot's press also waits for every widget to go idle.
            press = asyncio.create_task(pilot.press("escape"))
            await wait_for(pilot, lambda: app.screen.conversation.turns[-1].state is TurnState.STOPPED, timeout=120)
            reaction = time.monotonic() - pressed
            await press
            await wait_turn_finished(pilot, timeout=120)
            await wait_for(pilot, lambda: "LAST-WORDS" in last_rows(app), timeout=20)
            assert "stopped" in screen_text(app)
        return reaction, watch.longest


async def test_one_multi_megabyte_line_of_reasoning_keeps_the_app_responsive(whole_chunks: SimulatedOllama) -> None:
    whole_chunks.reply = Reply(reasoning="thinking " * (2 * MB // 9) + "y" * (2 * MB) + " LAST-WORDS|more",
                                answer="never sent")
    reaction, longest_stall = await stop_while_it_draws(whole_chunks, lambda turn: len(turn.reasoning) > MB)
    assert longest_stall < RESPONSIVE and reaction < RESPONSIVE, (reaction, longest_stall)


async def test_one_multi_megabyte_unbroken_answer_keeps_the_app_responsive(whole_chunks: SimulatedOllama) -> None:
    whole_chunks.reply = Reply(reasoning="Short.", answer="x" * (4 * MB) + " LAST-WORDS|more")
    reaction, longest_stall = await stop_while_it_draws(whole_chunks, lambda turn: len(turn.answer) > MB)
    assert longest_stall < RESPONSIVE and reaction < RESPONSIVE, (reaction, longest_stall)


async def test_a_multi_megabyte_deeply_indented_list_keeps_the_app_responsive(whole_chunks: SimulatedOllama) -> None:
    nested = "\n".join("  " * (line % 300) + f"- item {line}" for line in range(12_000))
    whole_chunks.reply = Reply(reasoning="Short.", answer=nested + "\n\nLAST-WORDS|more")
    reaction, longest_stall = await stop_while_it_draws(whole_chunks, lambda turn: len(turn.answer) > MB)
    assert longest_stall < RESPONSIVE and reaction < RESPONSIVE, (reaction, longest_stall)
