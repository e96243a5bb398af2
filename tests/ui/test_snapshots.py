"""SVG snapshots of the main screens (pytest-textual-snapshot). Regenerate with --snapshot-update."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.apphelpers import make_app, send_and_wait, wait_connected
from tui.demo import Reply, SimulatedOllama

REPLY = Reply(
    reasoning="The user asks for chickens and rabbits. Let c + r = 35 and 2c + 4r = 94.\n\n"
              "Then 2r = 24, so r = 12 and c = 23. 中文也可以。",
    answer="There are **23 chickens** and **12 rabbits**.\n\n| animal | count |\n|---|---|\n| chicken | 23 |\n| rabbit | 12 |\n\n"
           "```python\nprint(23 * 2 + 12 * 4)  # 94\n```\n",
)


@pytest.fixture
def snapshot_sim() -> Iterator[SimulatedOllama]:
    server = SimulatedOllama(rate=0.0, reply=REPLY)
    server.reported_rate = 50.0
    server.start()
    yield server
    server.stop()


def chat_after_one_turn(url: str, theme: str = "r1-dark"):
    app = make_app(url, frozen_clock=True, theme=theme, num_ctx=4096)  # the same context with or without a GPU

    async def run_before(pilot) -> None:
        await wait_connected(pilot)
        await send_and_wait(pilot, "Chickens and rabbits: 35 heads, 94 legs. How many of each?")
        app.sub_title = "deepseek-r1:7b @ simulated server"
        app.screen.query_one("#status").update("● connected to the simulated server (Ollama 0.12.6) · 4 models installed")
        await pilot.pause(0.3)  # let the layout settle (scroll anchoring, last Markdown block)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_chat_screen(snap_compare, snapshot_sim: SimulatedOllama, size: tuple[int, int]) -> None:
    app, run_before = chat_after_one_turn(snapshot_sim.url)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("theme", ["r1-light", "r1-ansi"])
def test_chat_screen_in_each_theme(snap_compare, snapshot_sim: SimulatedOllama, theme: str) -> None:
    """r1-dark is the default above; the others at 80×24, the size an SSH user is likeliest to have."""
    app, run_before = chat_after_one_turn(snapshot_sim.url, theme)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
