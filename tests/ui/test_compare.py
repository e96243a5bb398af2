"""The compare view driven like a user would, through the simulated server over a real socket."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.apphelpers import make_app, open_compare as open_compare_with, screen_text, wait_for
from tests.fake_nvml import GIB, FakeGpu, FakeNvml
from tui.core.conversation import TurnState
from tui.core.hardware import GpuSnapshot, NvmlReader
from tui.screens.chat import ChatScreen
from tui.screens.compare import CompareScreen, summary_table
from tui.demo import Faults, Reply, SimulatedOllama

REPLY = Reply(
    reasoning="Let c + r = 35 and 2c + 4r = 94.\n\nThen 2r = 24, so r = 12 and c = 23.",
    answer="There are **23 chickens** and **12 rabbits**.\n\n| animal | count |\n|---|---|\n| chicken | 23 |\n| rabbit | 12 |\n",
)
MODELS = ["deepseek-r1:1.5b", "deepseek-r1:7b", "deepseek-r1:14b"]


DESKTOP = GIB // 2  # what the card holds before any model loads


# The GPU each test's server runs on, by server URL: see open_compare.
READERS: dict[str, Callable[[], tuple[list[GpuSnapshot], str | None]]] = {}


@pytest.fixture
def csim(sim: SimulatedOllama) -> Iterator[SimulatedOllama]:
    """The server, on a 24 GiB card whose used memory grows with every model it loads."""
    sim.reply = REPLY
    READERS[sim.url] = NvmlReader(FakeNvml([FakeGpu(total=24 * GIB, used=DESKTOP, follows=sim)]),
                                  retry_seconds=0.0).read
    yield sim
    READERS.pop(sim.url, None)


async def open_compare(pilot: Pilot, models: list[str] = MODELS) -> CompareScreen:
    screen: CompareScreen = await open_compare_with(pilot, models, READERS[pilot.app.backend.url])
    return screen


def settled(screen: CompareScreen) -> bool:
    """Every run over and every column's answer written to its view."""
    if not screen.columns or screen.running:
        return False
    return all(column.view.finished and column.view.answer_source == column.model_run.turn.answer
               for column in screen.columns)


async def run_and_wait(pilot: Pilot, screen: CompareScreen, *, concurrent: bool = False) -> None:
    screen.query_one("#compare-concurrent").value = concurrent
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: settled(screen))
    await pilot.pause()


def _visible(screen: CompareScreen, index: int) -> str:
    """The column's own lines, cut out of the rendered screen."""
    region = screen.columns[index - 1].region
    lines = screen_text(screen.app).splitlines()[region.y:region.bottom]
    return "\n".join(line[region.x:region.right] for line in lines)


async def test_every_column_shows_its_answer_and_figures(csim: SimulatedOllama) -> None:
    csim.reported_rate = 40.0
    app = make_app(csim.url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_compare(pilot)
        await run_and_wait(pilot, screen)
        shown = screen_text(app)
        for index, model in enumerate(MODELS, 1):
            text = _visible(screen, index)
            assert model in text and "23 chickens" in text and "chicken" in text.split("23 chickens")[1]
            assert "✓ done" in text and "40.0 tok/s" in text
            assert "thought for" in text and "c + r = 35" not in text  # reasoning folded by default
        summary = [line for line in shown.splitlines() if line.strip().startswith(tuple(MODELS))]
        assert len(summary) == 3
        # Peak VRAM per run: the card's desktop share plus every model the server holds by then
        # (one after another, the earlier ones stay loaded).
        held = [csim.loaded[model]["size_vram"] for model in MODELS]
        peaks = [f"{(DESKTOP + sum(held[:i + 1])) / GIB:.1f}G" for i in range(len(MODELS))]
        assert len(set(peaks)) == 3
        for line, model, peak in zip(summary, MODELS, peaks):
            assert line.split()[0] == model and "40.0" in line and peak in line.split() and "done" in line
        chats = [body["model"] for _, path, body in csim.requests if path == "/api/chat"]
        assert chats == MODELS  # one prompt, every model, in the list's order
        assert all(r.error is None and r.eval_tps == pytest.approx(40.0) for r in screen.results())


def stall_every_stream(sim: SimulatedOllama, after: int, seconds: float, once: bool = False) -> None:
    """Streams go quiet mid-answer for a while: a window to look at (or act on) a run in progress.

    Pilot's key presses and clicks wait for the app to go idle, which it never does
    while tokens stream; during a stall it does (with a frozen clock, nothing ticks),
    so keys and clicks land mid-run.
    """
    sim.faults = Faults(stall_after_tokens=after, stall_seconds=seconds, once=once)


async def test_models_run_one_after_another_unless_asked(csim: SimulatedOllama) -> None:
    stall_every_stream(csim, after=3, seconds=1.5, once=True)
    app = make_app(csim.url, frozen_clock=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_compare(pilot, MODELS[:2])
        await screen.action_run()
        first, second = (c.model_run for c in screen.columns)
        await wait_for(pilot, lambda: first.meter.reasoning_tokens >= 3)
        assert second.state is TurnState.QUEUED  # sequential by default: one GPU, clean figures
        await wait_for(pilot, lambda: not screen.running)

        stall_every_stream(csim, after=3, seconds=1.5)
        screen.action_edit()
        screen.query_one("#compare-concurrent").value = True
        await screen.action_run()
        first, second = (c.model_run for c in screen.columns)
        await wait_for(pilot, lambda: first.meter.reasoning_tokens >= 3 and second.meter.reasoning_tokens >= 3)
        assert first.state is second.state is TurnState.STREAMING
        assert "at the same time" in screen_text(app)
        await wait_for(pilot, lambda: not screen.running)


async def test_stopping_one_column_leaves_the_others_running(csim: SimulatedOllama) -> None:
    stall_every_stream(csim, after=5, seconds=5.0, once=True)  # only the first column's stream stalls
    app = make_app(csim.url, frozen_clock=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_compare(pilot)
        await screen.action_run()
        first = screen.columns[0].model_run
        await wait_for(pilot, lambda: first.meter.reasoning_tokens >= 5)
        await pilot.click("#stop-1")
        await wait_for(pilot, lambda: settled(screen))
        assert [c.model_run.state for c in screen.columns] == [TurnState.STOPPED, TurnState.DONE, TurnState.DONE]
        # the screen paints the finished answers a frame later (a loaded machine may be between frames)
        await wait_for(pilot, lambda: "23 chickens" in _visible(screen, 2) and "23 chickens" in _visible(screen, 3))
        assert "■ stopped" in _visible(screen, 1) and "23 chickens" not in _visible(screen, 1)
        assert csim.completed_streams == 2  # the stopped stream never finished on the server either

        # the keyboard does it too: column 2 of a concurrent run
        stall_every_stream(csim, after=5, seconds=2.5)
        screen.action_edit()
        screen.query_one("#compare-concurrent").value = True
        await screen.action_run()
        second = screen.columns[1].model_run
        await wait_for(pilot, lambda: second.meter.reasoning_tokens >= 5)
        await pilot.press("2", "s")
        await wait_for(pilot, lambda: not screen.running)
        assert [c.model_run.state for c in screen.columns] == [TurnState.DONE, TurnState.STOPPED, TurnState.DONE]


async def test_a_failing_column_shows_its_error_and_the_others_finish(csim: SimulatedOllama) -> None:
    csim.faults = Faults(error_after_tokens=5)  # the first request fails mid-stream, the next ones work
    app = make_app(csim.url)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_compare(pilot)
        await run_and_wait(pilot, screen)
        failed = _visible(screen, 1)
        assert "✖ failed" in failed and "unexpected EOF" in failed
        for index in (2, 3):
            assert "23 chickens" in _visible(screen, index) and "✓ done" in _visible(screen, index)
        assert "1 failed" in app.screen.sub_title


async def test_narrow_terminal_shows_one_column_at_a_time_with_tabs(csim: SimulatedOllama) -> None:
    csim.reported_rate = 40.0
    app = make_app(csim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(pilot)
        await run_and_wait(pilot, screen)
        shown = screen_text(app)
        assert "1 deepseek-r1:1.5b ✓" in shown and "3 deepseek-r1:14b ✓" in shown  # the tabs, with states
        visible = [c for c in screen.columns if c.display]
        assert visible == [screen.columns[0]] and visible[0].region.width >= 70
        assert "23 chickens" in shown
        await pilot.press("3")
        assert [c for c in screen.columns if c.display] == [screen.columns[2]]
        assert "╭─ 3 deepseek-r1:14b" in screen_text(app)
        summary = [line for line in shown.splitlines() if line.strip().startswith(tuple(MODELS))]
        assert len(summary) == 3 and all("40.0" in line for line in summary)  # every model's figures, in view


async def test_setup_checks_the_choice_and_offers_built_in_prompts(csim: SimulatedOllama) -> None:
    app = make_app(csim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot, MODELS[:1])
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not screen.columns and "Tick 2 to 4 models (1 ticked)" in screen_text(app)
        screen.query_one("#compare-preset", Select).value = "classic:2"
        await pilot.pause()
        assert "is_palindrome" in screen.query_one("#compare-prompt", Input).value
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)  # Esc goes back when nothing runs


def test_summary_marks_what_is_not_measured_yet() -> None:
    from tui.core.benchrun import ModelRun

    queued = ModelRun("deepseek-r1:7b", "Q")
    table = summary_table([queued])
    row = table.splitlines()[1].split()
    assert row[:2] == ["deepseek-r1:7b", "queued"] and set(row[2:]) == {"—"}


# -- snapshots --------------------------------------------------------------------------------


@pytest.fixture
def snapshot_sim() -> Iterator[SimulatedOllama]:
    server = SimulatedOllama(rate=0.0, reply=REPLY)
    server.reported_rate = 50.0
    server.start()
    # A steady 5.5 GiB in use: the snapshot must not depend on the loaded models' sizes.
    READERS[server.url] = lambda: ([GpuSnapshot(0, "NVIDIA RTX 4090", 24 * GIB, int(5.5 * GIB))], None)
    yield server
    READERS.pop(server.url, None)
    server.stop()


def compared(url: str):
    app = make_app(url, frozen_clock=True)

    async def run_before(pilot: Pilot) -> None:
        screen = await open_compare(pilot)
        await run_and_wait(pilot, screen)

    return app, run_before


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
def test_compare_view(snap_compare, snapshot_sim: SimulatedOllama, size: tuple[int, int]) -> None:
    app, run_before = compared(snapshot_sim.url)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_model_boxes_say_ticked_by_glyph_not_colour_alone(csim: SimulatedOllama) -> None:
    app = make_app(csim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_compare(pilot, MODELS[:2])
        lines = screen_text(app).splitlines()
        ticked = [line for line in lines if "▐✓▌" in line]
        unticked = [line for line in lines if "▐ ▌" in line]
        assert any("deepseek-r1:1.5b" in line for line in ticked) and any("deepseek-r1:7b" in line for line in ticked)
        assert unticked and not any(m in line for line in unticked for m in MODELS[:2])
        assert "▐X▌" not in screen_text(app)


async def test_reasoning_shows_while_a_model_streams_and_folds_after(csim: SimulatedOllama) -> None:
    stall_every_stream(csim, after=12, seconds=1.5, once=True)
    app = make_app(csim.url, frozen_clock=True)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_compare(pilot, MODELS[:2])
        await screen.action_run()
        first = screen.columns[0].model_run
        await wait_for(pilot, lambda: first.meter.reasoning_tokens >= 12)
        await wait_for(pilot, lambda: "c + r = 35" in _visible(screen, 1))  # the reasoning, as it streams
        await wait_for(pilot, lambda: settled(screen))
        assert "c + r = 35" not in _visible(screen, 1)  # folded once done: the answers line up
