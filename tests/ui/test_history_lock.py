"""Another process holding the history file's lock: the chat streams on, says history is waiting,
and saves the turn once the lock is free (the busy wait used to run on the event loop)."""

from __future__ import annotations

import sqlite3
import time

from tests.apphelpers import make_app, screen_text, type_and_send, wait_connected, wait_for, wait_turn_finished
from tui.core.conversation import TurnState
from tui.demo import Reply, SimulatedOllama

REPLY = Reply(reasoning="Counting carefully. " * 20, answer="The answer is forty-two. " * 20)


async def test_a_locked_history_neither_freezes_the_chat_nor_loses_the_turn(sim: SimulatedOllama) -> None:
    sim.reply, sim.rate = REPLY, 60.0
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        assert app.store is not None
        locker = sqlite3.connect(app.store.path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another r1tui (or a backup tool) holds the write lock
        try:
            await type_and_send(pilot, "count")
            started = time.monotonic()
            await wait_for(pilot, lambda: "forty-two" in screen_text(app), timeout=20)
            # Text kept arriving on screen while every history write was blocked.
            assert time.monotonic() - started < 8
            await wait_for(pilot, lambda: any("History not saved yet" in n.message for n in app._notifications),
                           timeout=20)
        finally:
            locker.execute("COMMIT")
            locker.close()
        await wait_turn_finished(pilot, timeout=30)
        assert await app.screen.recorder.saved()
        saved = app.store.load(app.screen.conversation_id)
        assert saved.turns[-1].state is TurnState.DONE
        assert saved.turns[-1].answer == app.screen.conversation.turns[-1].answer
