"""Regenerated answers and forks in the history: every answer kept, the shown one restored, old files load."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.core.test_store import streamed_turn
from tui.core.conversation import Conversation, Turn
from tui.core.store import MIGRATIONS, HistoryStore


def test_a_regenerated_answer_is_kept_beside_the_first_and_the_shown_one_comes_back(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with HistoryStore(path) as store:
        cid = store.new_conversation("deepseek-r1:7b")
        streamed_turn(store, cid, "Q1", "r", "first answer")
        store.expect_alternative(cid, 0)
        streamed_turn(store, cid, "Q1", "r", "second answer", model="deepseek-r1:14b")
        streamed_turn(store, cid, "Q2", "r", "answer two")
        assert store.info(cid).turn_count == 2 == store.list_conversations()[0].turn_count  # not 3
    with HistoryStore(path) as store:
        conversation = store.load(cid)
        assert [t.answer for t in conversation.turns] == ["second answer", "answer two"]
        assert [t.answer for t in conversation.versions(0)] == ["first answer", "second answer"]
        assert conversation.version_of(0) == (2, 2)
        assert [m["content"] for m in Conversation(turns=[*conversation.turns, Turn("Q3", "m")],
                                                   alternatives=conversation.alternatives).messages_for_next()
                ] == ["Q1", "second answer", "Q2", "answer two", "Q3"]
        store.show_alternative(cid, 0, 1)
    with HistoryStore(path) as store:
        conversation = store.load(cid)
        assert [t.answer for t in conversation.turns] == ["first answer", "answer two"]
        assert conversation.version_of(0) == (1, 2)


def test_a_fork_copies_the_turns_before_it_and_leaves_the_original(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.db") as store:
        cid = store.new_conversation("deepseek-r1:7b")
        for prompt in ("Q1", "Q2", "Q3"):
            streamed_turn(store, cid, prompt, "r", f"A{prompt[1]}")
        fork = store.fork(cid, 1)
        streamed_turn(store, fork, "Q2 edited", "r", "A2'")
        assert [t.prompt for t in store.load(cid).turns] == ["Q1", "Q2", "Q3"]
        assert [t.prompt for t in store.load(fork).turns] == ["Q1", "Q2 edited"]
        assert store.info(fork).title == "Q1 (fork)"


def test_a_schema_2_file_loads_and_takes_alternatives(tmp_path: Path) -> None:
    old = tmp_path / "v2.db"
    db = sqlite3.connect(old)
    for migration in MIGRATIONS[:2]:
        for statement in migration:
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO conversations (id, title, model, created_at, updated_at) VALUES (3, 'T', 'm', 1, 1)")
    for idx in (0, 1):
        db.execute("INSERT INTO turns (conversation_id, idx, prompt, model, answer, state, started_at)"
                   f" VALUES (3, {idx}, 'P{idx}', 'm', 'A{idx}', 'done', 1)")
    db.commit()
    db.close()
    with HistoryStore(old) as store:
        assert [t.answer for t in store.load(3).turns] == ["A0", "A1"]
        store.expect_alternative(3, 1)
        streamed_turn(store, 3, "P1", "r", "A1 again")
        conversation = store.load(3)
        assert [t.answer for t in conversation.turns] == ["A0", "A1 again"]
        assert conversation.version_of(1) == (2, 2)


def test_a_regenerated_answer_saved_after_a_failed_try_is_still_an_alternative(tmp_path: Path) -> None:
    import pytest

    with HistoryStore(tmp_path / "h.db") as store:
        cid = store.new_conversation("m")
        streamed_turn(store, cid, "Q", "r", "first")
        store.expect_alternative(cid, 0)
        with pytest.raises(TypeError):  # the write fails midway (here: options it cannot encode)
            store.start_turn(cid, Turn("Q", "m"), {"bad": object()})
        streamed_turn(store, cid, "Q", "r", "second")  # the recorder's retry
        record = store.load_record(cid)
        assert [r.turn.answer for r in record.turns] == ["second"]
        assert [r.turn.answer for r in record.alternatives[0]] == ["first", "second"]
        assert [r.index for r in record.alternatives[0]] == [0, 0]
