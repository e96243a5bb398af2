"""Copying: honest about tmux, a chooser for answer / reasoning / code block, and a file to fall back on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.apphelpers import make_app, send_and_wait, wait_connected, wait_for
from tui.core.clipboard import code_blocks
from tui.demo import Reply, SimulatedOllama

ANSWER = "Here:\n\n```python\nprint(1)\nprint(2)\n```\n\nand\n\n```sh\nls\n```\n"


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_ctrl_y_inside_tmux_says_what_tmux_needs(sim: SimulatedOllama, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,123,0")
    sim.reply = Reply("r", "the answer")
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "q")
        await pilot.press("ctrl+y")
        assert app.clipboard == "the answer"
        await wait_for(pilot, lambda: any("set-clipboard on" in m for m in messages(app)))
        assert not any(m.startswith("Copied") for m in messages(app))


async def test_c_on_a_turn_copies_a_code_block_or_saves_a_private_file(sim: SimulatedOllama,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    sim.reply = Reply("the reasoning", ANSWER)
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await send_and_wait(pilot, "q")
        await pilot.press("alt+up", "c")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CopyMenu")
        await pilot.press("down", "down", "enter")  # answer, reasoning, code block 1
        await wait_for(pilot, lambda: app.clipboard == "print(1)\nprint(2)\n")
        assert any(m.startswith("Copied code block 1") for m in messages(app))
        await pilot.press("alt+up", "c")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CopyMenu")
        await pilot.press("down", "s")  # the reasoning, to a file
        await wait_for(pilot, lambda: any(m.startswith("Saved the reasoning") for m in messages(app)))
        path = Path(re.search(r" to (\S+\.md)", next(m for m in messages(app) if m.startswith("Saved"))).group(1))
        assert path.read_text() == "the reasoning"
        assert path.stat().st_mode & 0o777 == 0o600


def test_code_blocks_are_found_in_order() -> None:
    assert code_blocks(ANSWER) == [("python", "print(1)\nprint(2)\n"), ("sh", "ls\n")]
