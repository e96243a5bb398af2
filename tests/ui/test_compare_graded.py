"""The compare view grading answers (✓/✗) and its blind A/B mode, driven like a user would."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from tests.apphelpers import make_app, open_compare as open_compare_with, screen_text, wait_for
from tui.core.store import HistoryStore
from tui.demo import SimulatedOllama
from tui.demo.answers import AnswerMode
from tui.screens.compare import CompareScreen

PAIR = ["deepseek-r1:1.5b", "deepseek-r1:7b"]


@pytest.fixture
def answering(sim: SimulatedOllama) -> SimulatedOllama:
    sim.answer_mode = AnswerMode(error_rates={"deepseek-r1:1.5b": 1.0})  # the 1.5b is always wrong
    return sim


async def open_compare(pilot, models: list[str]) -> CompareScreen:  # type: ignore[no-untyped-def]
    screen: CompareScreen = await open_compare_with(pilot, models, lambda: ([], None))
    return screen


def graded(screen: CompareScreen) -> bool:
    return not screen.running and all(c.model_run.grade is not None for c in screen.columns)


async def test_each_column_is_graded_against_the_reference(answering: SimulatedOllama) -> None:
    app = make_app(answering.url)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_compare(pilot, PAIR)
        screen.query_one("#compare-preset", Select).value = "math:1"  # Solve for x: … (reference 4)
        await pilot.pause()
        assert screen.query_one("#compare-reference", Input).value == "4"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: graded(screen))
        await wait_for(pilot, lambda: "✓ right: 4" in screen_text(app))
        shown = screen_text(app)
        assert "✗ wrong: 5" in shown  # the 1.5b's answer, and what was found in it
        summary = [line for line in shown.splitlines() if line.strip().startswith(tuple(PAIR))]
        assert summary[0].rstrip().endswith("✗") and summary[1].rstrip().endswith("✓")

        await pilot.press("g")  # the visit's graded runs as a chart
        await wait_for(pilot, lambda: "seconds per answer" in screen_text(app))
        shown = screen_text(app)
        assert "● deepseek-r1:1.5b" in shown and "% right" in shown
        assert {e["model"]: e["accuracy"] for e in screen.session_summary()} == {
            "deepseek-r1:1.5b": 0.0, "deepseek-r1:7b": 1.0}


async def test_without_a_reference_nothing_is_judged(answering: SimulatedOllama) -> None:
    app = make_app(answering.url)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_compare(pilot, PAIR)
        screen.query_one("#compare-reference", Input).value = ""
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not screen.running)
        await pilot.pause()
        shown = screen_text(app)
        header = next(line for line in shown.splitlines() if "model" in line and "state" in line)
        assert "right:" not in shown and "wrong:" not in shown and "right" not in header  # no ✓/✗ column


async def test_blind_vote_hides_names_until_the_vote_and_is_saved(answering: SimulatedOllama, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(answering.url)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_compare(pilot, PAIR)
        screen.query_one("#compare-blind").value = True
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.vote_pending)
        await pilot.pause()
        shown = screen_text(app)
        assert "Which answer is better?" in shown
        assert "╭─ A ─" in shown and "╭─ B ─" in shown
        assert not any(model in shown for model in PAIR)  # no name, no figure that would tell
        assert "tok/s" not in shown and "thought for" not in shown  # nor the reasoning's length
        a_model = screen.columns[0].model_run.model

        await pilot.press("a")
        await wait_for(pilot, lambda: "Vote saved" in screen_text(app))
        shown = screen_text(app)
        assert f"A · {a_model}" in shown and "You preferred A" in shown
        assert all(model in shown for model in PAIR)
        await wait_for(pilot, lambda: "thought for" in screen_text(app))  # the reasoning is back
        path = app.store.path

    with HistoryStore(path) as store:  # after the app is gone: the vote was kept
        [vote] = store.votes()
    assert (vote.model_a, vote.winner) == (a_model, "a") and {vote.model_a, vote.model_b} == set(PAIR)


async def test_blind_mode_needs_exactly_two_models(answering: SimulatedOllama) -> None:
    app = make_app(answering.url)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_compare(pilot, [*PAIR, "deepseek-r1:14b"])
        screen.query_one("#compare-blind").value = True
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not screen.columns and "Blind A/B compares exactly 2 models (3 ticked)" in screen_text(app)
