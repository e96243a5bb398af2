"""`r1tui --demo` keeps its chats apart from the real history, and says so on screen."""

from __future__ import annotations

import argparse

from tests.apphelpers import screen_text, send_and_wait, wait_connected
from tui.app import R1App
from tui.core.store import HistoryStore, default_path


def test_demo_chats_go_to_their_own_history_file(monkeypatch) -> None:
    from tui.launch import run_tui

    seen: dict[str, object] = {}

    async def drive(app: R1App) -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_connected(pilot)
            await send_and_wait(pilot, "a demo question")
            seen["title"] = screen_text(app).splitlines()[0]
            seen["path"] = app.store.path

    def run(self: R1App) -> None:
        import asyncio

        asyncio.run(drive(self))

    monkeypatch.setattr(R1App, "run", run)
    run_tui(argparse.Namespace(config=None, demo=True, host=None, model=None))
    assert "demo history" in str(seen["title"])
    assert seen["path"] != default_path() and "demo" in str(seen["path"])
    with HistoryStore(seen["path"]) as demo:
        assert [c.title for c in demo.list_conversations()] == ["a demo question"]
    if default_path().exists():
        with HistoryStore() as real:
            assert real.list_conversations() == []
