"""Blank containers (tui.widgets.backdrop): drawn as one blank strip, they must look exactly as a full render would."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from rich.segment import Segment

from tests.apphelpers import make_app, send_and_wait, wait_connected
from tui.demo import Reply, SimulatedOllama
from tui.widgets.backdrop import Backdrop

REPLY = Reply(reasoning="Two and two.\n\nFour.", answer="It is **4**.\n\n| a | b |\n|---|---|\n| 2 | 2 |\n")


def cells(app) -> list[list[tuple[str, object, object]]]:
    """Every cell of the screen: its character, its background, and its colour where a character shows."""
    grid = []
    for strip in app.screen._compositor.render_strips():
        row = []
        for text, style, _ in Segment.filter_control(strip):
            for character in text:
                shown = character.strip()
                row.append((character, style.bgcolor if style else None, style.color if style and shown else None))
        grid.append(row)
    return grid


async def settled_cells(pilot) -> list[list[tuple[str, object, object]]]:
    """The screen's cells once two looks 0.1 s apart agree (the conversation's scroll settles after a focus)."""
    previous = None
    for _ in range(50):
        await pilot.pause(0.1)
        now = cells(pilot.app)
        if now == previous:
            return now
        previous = now
    raise AssertionError("the screen never settled")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_blank_containers_look_as_a_full_render_would(sim: SimulatedOllama, size) -> None:
    """A focused turn (its tinted background), the panes, the chat column and the screen: the same cells either way.
    A container given a border or content of its own would lose it when drawn blank: this fails then."""
    sim.reply = REPLY
    app = make_app(sim.url)
    async with app.run_test(size=size) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "What is two and two?")
        app.screen.query_one(".turn").focus()
        await pilot.pause(0.3)  # focusing scrolls the turn into view
        await pilot.wait_for_scheduled_animations()
        drawn_blank = await settled_cells(pilot)
        assert any(isinstance(node, Backdrop) for node in app.screen.walk_children()) and app.screen.BLANK
        with patch.object(Backdrop, "BLANK", new=property(lambda self: False)):
            for node in [app.screen, *app.screen.walk_children()]:
                node.refresh()
            drawn_in_full = await settled_cells(pilot)
        assert drawn_blank == drawn_in_full


async def test_no_color_draws_containers_through_the_filters(sim: SimulatedOllama, monkeypatch) -> None:
    """NO_COLOR: the monochrome filter must reach the containers' backgrounds too, so they are not drawn blank."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        backdrops = [node for node in app.screen.walk_children() if isinstance(node, Backdrop)]
        assert backdrops and not any(node.BLANK for node in backdrops)
        colours = {cell[1] for row in cells(app) for cell in row if cell[1] is not None}
        assert all(colour.triplet is None or len(set(colour.triplet)) == 1 for colour in colours), colours


async def test_a_frame_that_changes_the_answer_leaves_the_lines_around_it_alone(sim: SimulatedOllama) -> None:
    """The header, footer, status line, prompt and panel sit in holders: streaming does not render them again.

    Counted, not timed: while the answer is drawn fifteen times, each of the others is drawn only when it
    changes itself (the panel: its figures, every 0.5 s and 1 s), or in the
    odd frame that also changes something beside it.
    """
    from collections import Counter

    from textual.widget import Widget
    from textual.widgets import Footer, Header

    from tests.apphelpers import type_and_send, wait_for, wait_turn_finished
    from tui.widgets.answer import AnswerMarkdown
    from tui.widgets.hardware_panel import HardwarePanel
    from tui.widgets.prompt import PromptArea
    from tui.widgets.status_line import StatusLine

    sim.reply, sim.rate = Reply(reasoning="A thought.", answer="word " * 400), 100.0
    app = make_app(sim.url, show_panel=True)
    counts: Counter[type] = Counter()
    real_render_lines = Widget.render_lines

    def counted(self: Widget, crop):  # type: ignore[no-untyped-def]
        counts[type(self)] += 1
        return real_render_lines(self, crop)

    async with app.run_test(size=(160, 50)) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, "q")
        turns = app.screen.conversation.turns
        await wait_for(pilot, lambda: bool(turns) and len(turns[-1].answer) > 20)
        with patch.object(Widget, "render_lines", counted):
            # Frames, not seconds: a busy machine draws fewer of them in a second, the panel's clock does not slow.
            await wait_for(pilot, lambda: counts[AnswerMarkdown] >= 15, timeout=15)
        answer_frames = counts[AnswerMarkdown]
        for kind in (Header, Footer, StatusLine, PromptArea, HardwarePanel):  # their own updates at most
            assert counts[kind] <= answer_frames * 2 // 3, (kind, counts)
        await pilot.press("escape")
        await wait_turn_finished(pilot)
