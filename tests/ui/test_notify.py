"""ui.notify_after_seconds: a bell and OSC 9 / OSC 777 when a long answer ends; off by default."""

from __future__ import annotations

import pytest

from tests.apphelpers import make_app, send_and_wait, wait_connected
from tui.core.notify import finished_sequences
from tui.demo import Reply, SimulatedOllama


async def _written(sim: SimulatedOllama, **settings: object) -> str:
    sim.reply = Reply("r", "answer")
    app = make_app(sim.url, **settings)
    written: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        original = app._driver.write
        app._driver.write = lambda data: (written.append(data), original(data))  # type: ignore[method-assign]
        await send_and_wait(pilot, "q")
    return "".join(written)


@pytest.mark.parametrize("after, expected", [(0.001, True), (0.0, False), (3600.0, False)])
async def test_a_long_answer_rings_and_notifies_the_terminal(sim: SimulatedOllama, after: float, expected: bool) -> None:
    written = await _written(sim, notify_after_seconds=after)
    assert ("\x1b]9;r1tui: deepseek-r1:7b answered after" in written) is expected
    assert ("\x1b]777;notify;r1tui;deepseek-r1:7b answered" in written) is expected
    assert ("\a" in written) is expected


def test_a_hostile_model_name_cannot_end_the_sequence() -> None:
    text = finished_sequences("evil\x1b]52;c;AAAA\a\x07name", 12.0)
    assert text.count("\x1b") == 2 and text.count("\a") == 3
