"""A turn is in history.db while it streams, so a crash or a dropped SSH session loses next to nothing."""

from __future__ import annotations

import sqlite3

from tests.apphelpers import make_app, screen_text, type_and_send, wait_connected, wait_for, wait_turn_finished
from tui.core.store import HistoryStore, default_path
from tui.demo import Reply, SimulatedOllama

ANSWER_WORDS = [f"w{i:03d}" for i in range(400)]


def saved_answer_while_streaming() -> tuple[str, str, bool]:
    """The last turn as another r1tui process would read it now: (reasoning, answer, interrupted)."""
    with HistoryStore(default_path()) as reader:
        conversations = reader.list_conversations()
        if not conversations:  # the first write lands within half a second of the turn starting
            return "", "", False
        [info] = conversations
        record = reader.load_record(info.id).turns[-1]
    return record.turn.reasoning, record.turn.answer, record.interrupted


async def test_the_answer_is_in_the_history_file_while_it_streams(sim: SimulatedOllama) -> None:
    sim.rate = 50  # tokens per second: a reply of 400 words takes seconds
    sim.reply = Reply(reasoning="Count the words one by one.", answer=" ".join(ANSWER_WORDS))
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        await type_and_send(pilot, "Say four hundred words")
        await wait_for(pilot, lambda: "w010" in screen_text(pilot.app))
        turn = app.screen.conversation.turns[-1]
        assert not turn.finished
        # Some answer text is saved; read it as a second process would, from its own connection.
        await wait_for(pilot, lambda: "w005" in saved_answer_while_streaming()[1], timeout=5)
        reasoning, answer, interrupted = saved_answer_while_streaming()
        assert not app.screen.conversation.turns[-1].finished  # still streaming while we read
        assert reasoning == "Count the words one by one."
        assert interrupted  # not finished in the file: a reader shows it as interrupted
        words = answer.split()
        assert 5 < len(words) < len(ANSWER_WORDS)
        assert words[:-1] == ANSWER_WORDS[:len(words) - 1]  # in order, nothing skipped (the last may be cut)
        assert ANSWER_WORDS[len(words) - 1].startswith(words[-1])
        # The raw rows agree: the turn is marked streaming and its chunks carry the answer.
        db = sqlite3.connect(default_path())
        try:
            assert db.execute("SELECT state FROM turns").fetchall() == [("streaming",)]
            assert "w005" in "".join(row[0] for row in db.execute("SELECT answer FROM turn_chunks ORDER BY id"))
        finally:
            db.close()
        await pilot.press("escape")
        await wait_turn_finished(pilot)
