"""Chat history in SQLite: it survives restarts, crashes mid-stream, old schemas, and finds what users search for."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.core.conversation import Turn, TurnState
from tui.core.metrics import GenerationStats
from tui.core.store import (
    INTERRUPTED_ERROR,
    MIGRATIONS,
    SCHEMA_VERSION,
    ConversationNotFound,
    HistoryStore,
    StoreError,
    default_path,
)

ROOT = Path(__file__).resolve().parents[2]
STATS = GenerationStats(eval_count=1025, eval_duration_ns=22_600_000_000, prompt_eval_count=31,
                        prompt_eval_duration_ns=25_600_000, load_duration_ns=1_200_000_000,
                        total_duration_ns=24_100_000_000, done_reason="stop")


def streamed_turn(store: HistoryStore, conversation_id: int, prompt: str, reasoning: str, answer: str,
                  *, model: str = "deepseek-r1:7b", stats: GenerationStats | None = STATS) -> Turn:
    """Save a turn the way the chat screen does: start, a few appends, finish."""
    turn = Turn(prompt=prompt, model=model)
    turn_id = store.start_turn(conversation_id, turn, {"temperature": 0.6, "top_p": 0.95, "num_ctx": 4096})
    for i in range(0, len(reasoning), 7):
        store.append(turn_id, reasoning[i:i + 7], "")
    for i in range(0, len(answer), 5):
        store.append(turn_id, "", answer[i:i + 5])
    turn.reasoning, turn.answer, turn.state, turn.stats = reasoning, answer, TurnState.DONE, stats
    turn.think_seconds, turn.ttft_seconds, turn.reasoning_tokens, turn.answer_tokens = 14.2, 0.31, 812, 213
    store.finish_turn(turn_id, turn)
    return turn


def test_history_survives_a_restart_and_the_chat_continues() -> None:
    store = HistoryStore()
    conversation_id = store.new_conversation("deepseek-r1:7b")
    first = streamed_turn(store, conversation_id, "Chickens and rabbits: 35 heads, 94 legs?", "Let c + r = 35.",
                          "23 chickens and 12 rabbits.")
    store.close()

    reopened = HistoryStore()  # a new process would find the same file at the default path
    assert reopened.path == default_path()
    conversation = reopened.load(conversation_id)
    assert conversation.turns == [first]
    loaded = conversation.turns[0]
    assert loaded.stats == STATS and loaded.stats.eval_rate == pytest.approx(45.35, abs=0.01)
    assert (loaded.think_seconds, loaded.ttft_seconds, loaded.reasoning_tokens, loaded.answer_tokens) == (
        14.2, 0.31, 812, 213)

    # Resume: the next prompt goes to the model with the saved answer (without its reasoning) as context.
    second = conversation.start_turn("And with 100 legs?", "deepseek-r1:14b")
    assert conversation.messages_for_next() == [
        {"role": "user", "content": first.prompt},
        {"role": "assistant", "content": "23 chickens and 12 rabbits."},
        {"role": "user", "content": "And with 100 legs?"},
    ]
    turn_id = reopened.start_turn(conversation_id, second, {"temperature": 0.6})
    reopened.append(turn_id, "Now 2r = 30.", "")
    second.reasoning, second.answer, second.state = "Now 2r = 30.", "20 chickens, 15 rabbits.", TurnState.DONE
    reopened.finish_turn(turn_id, second)
    reopened.close()

    again = HistoryStore()
    record = again.load_record(conversation_id)
    assert [r.turn.prompt for r in record.turns] == [first.prompt, "And with 100 legs?"]
    assert [r.index for r in record.turns] == [0, 1]
    assert record.turns[1].turn.answer == "20 chickens, 15 rabbits." and record.turns[1].turn.stats is None
    assert record.turns[1].options == {"temperature": 0.6}
    [info] = again.list_conversations()
    assert (info.turn_count, info.model, info.title) == (2, "deepseek-r1:14b", first.prompt)


def test_a_turn_still_streaming_is_readable_from_another_process() -> None:
    store = HistoryStore()
    conversation_id = store.new_conversation("deepseek-r1:7b")
    turn_id = store.start_turn(conversation_id, Turn("Why is the sky blue?", "deepseek-r1:7b"), {})
    store.append(turn_id, "Rayleigh ", "")
    store.append(turn_id, "scattering.", "Blue light ")
    # Once the answer starts, chunks carry answer text only: a crash then must not lose them.
    store.append(turn_id, "", "scatters ")
    store.append(turn_id, answer_delta="most.")
    with HistoryStore() as reader:
        turn = reader.load(conversation_id).turns[0]
    assert (turn.reasoning, turn.answer) == ("Rayleigh scattering.", "Blue light scatters most.")
    assert turn.finished  # nothing streams it in the reader, so it must not look live there


WRITER = textwrap.dedent("""
    import sys
    from tui.core.conversation import Turn
    from tui.core.store import HistoryStore
    store = HistoryStore()
    conversation_id = store.new_conversation("deepseek-r1:7b")
    turn_id = store.start_turn(conversation_id, Turn("Count for me", "deepseek-r1:7b"), {"temperature": 0.6})
    print(conversation_id, flush=True)
    i = 0
    while True:
        store.append(turn_id, f"r{i:06d} ", f"a{i:06d} " if i % 3 == 0 else "")
        print(i, flush=True)
        i += 1
""")


def test_a_write_killed_mid_stream_leaves_a_readable_history_missing_at_most_the_last_chunk() -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert writer.stdout is not None
    conversation_id = int(writer.stdout.readline())
    acknowledged = -1
    while acknowledged < 300:
        acknowledged = int(writer.stdout.readline())
    writer.send_signal(signal.SIGKILL)  # what a dropped SSH session or an OOM kill does: no cleanup at all
    writer.wait(timeout=10)
    writer.stdout.close()

    with HistoryStore() as store:
        record = store.load_record(conversation_id)
        [saved] = record.turns
        chunks = saved.turn.reasoning.split()
        count = len(chunks)
        # Every chunk committed before the kill is there, in order, and none is torn.
        assert count > acknowledged
        assert chunks == [f"r{i:06d}" for i in range(count)]
        assert saved.turn.answer.split() == [f"a{i:06d}" for i in range(0, count, 3)]
        assert saved.interrupted and saved.turn.state is TurnState.STOPPED and saved.turn.error == INTERRUPTED_ERROR
        assert [c.id for c in store.list_conversations(f"r{acknowledged:06d}")] == [conversation_id]
        # The chat goes on after the crash.
        next_id = store.start_turn(conversation_id, Turn("Go on", "deepseek-r1:7b"), {})
        store.finish_turn(next_id, Turn("Go on", "deepseek-r1:7b", answer="OK", state=TurnState.DONE))
        assert [t.answer for t in store.load(conversation_id).turns][1] == "OK"
    assert sqlite3.connect(default_path()).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_new_files_are_private_to_the_user() -> None:
    with HistoryStore() as store:
        streamed_turn(store, store.new_conversation("deepseek-r1:7b"), "secret plans", "hm", "ok")
        files = sorted(default_path().parent.glob("history.db*"))
        assert [f.name for f in files] == ["history.db", "history.db-shm", "history.db-wal"]
        for file in files:
            assert file.stat().st_mode & 0o777 == 0o600, file
        assert os.stat(default_path().parent).st_mode & 0o777 == 0o700


def test_a_schema_0_file_is_set_up_and_a_schema_1_file_is_migrated_keeping_its_chats(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with HistoryStore(empty) as store:
        assert store.list_conversations() == []
    assert sqlite3.connect(empty).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION

    old = tmp_path / "v1.db"
    db = sqlite3.connect(old)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO conversations (id, title, model, created_at, updated_at) VALUES (7, 'Primes', "
               "'deepseek-r1:8b', 1700000000, 1700000100)")
    db.execute("INSERT INTO turns (conversation_id, idx, prompt, model, reasoning, answer, state, options, started_at,"
               " eval_count, eval_duration_ns) VALUES (7, 0, 'Primes below 20?', 'deepseek-r1:8b', 'List them.',"
               " '8 primes.', 'done', '{\"temperature\": 0.6}', 1700000000, 100, 2000000000)")
    db.commit()
    db.close()

    with HistoryStore(old) as store:
        record = store.load_record(7)
        assert record.info.title == "Primes" and record.system_prompt == ""
        turn = record.turns[0].turn
        assert (turn.prompt, turn.reasoning, turn.answer, turn.state) == (
            "Primes below 20?", "List them.", "8 primes.", TurnState.DONE)
        assert turn.stats is not None and turn.stats.eval_rate == 50.0 and turn.stats.done_reason is None
        assert [c.id for c in store.list_conversations("primes")] == [7]
        streamed_turn(store, 7, "And below 30?", "Add 23 and 29.", "10 primes.")
        assert store.load(7).turns[1].stats == STATS  # the new column is written too
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_file_from_a_newer_r1tui_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with HistoryStore(path):
        pass
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer r1tui"):
        HistoryStore(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_a_damaged_or_foreign_file_gives_a_message_naming_it(tmp_path: Path) -> None:
    garbage = tmp_path / "history.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=f"{garbage}.*damaged or not a database.*move it aside") as caught:
        HistoryStore(garbage)
    assert str(caught.value).endswith("; move it aside and r1tui will start a new one")
    assert garbage.read_bytes() == b"this is not sqlite at all" * 100

    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).execute("CREATE TABLE notes (body TEXT)").connection.commit()
    with pytest.raises(StoreError, match="another program"):
        HistoryStore(foreign)


def test_a_history_folder_that_cannot_be_made_gives_a_message(tmp_path: Path) -> None:
    in_the_way = tmp_path / "data"
    in_the_way.write_text("a file where the folder should be")
    with pytest.raises(StoreError) as caught:
        HistoryStore(in_the_way / "history.db")
    assert str(caught.value) == f"cannot open the chat history {in_the_way / 'history.db'}: File exists"


def test_a_folder_that_cannot_be_written_gives_a_message(tmp_path: Path, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert os.stat(locked).st_mode & 0o777 == 0o500
    if os.geteuid() == 0:
        # Root writes into a 0500 folder anyway (CI runs as root): refuse the way the kernel
        # refuses anyone else, so the message is still checked.
        real_open = os.open

        def refusing_open(path, flags, *args):
            if Path(path).parent == locked and flags & os.O_CREAT:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args)

        monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(StoreError, match=f"cannot open the chat history {locked}.*Permission denied"):
        HistoryStore(locked / "history.db")
    assert list(locked.iterdir()) == []


def test_search_finds_words_anywhere_in_a_conversation() -> None:
    with HistoryStore() as store:
        birds = store.new_conversation("deepseek-r1:7b")
        streamed_turn(store, birds, "Why do geese fly in a V?", "Drafting reduces drag.", "To save energy.")
        maths = store.new_conversation("deepseek-r1:7b")
        streamed_turn(store, maths, "Integrate x^2", "Power rule: x^3/3.", "x³/3 + C (100% sure)")
        store.rename(maths, "Calculus homework")
        live = store.new_conversation("deepseek-r1:7b")
        live_turn = store.start_turn(live, Turn("Tell me about comets", "deepseek-r1:7b"), {})
        store.append(live_turn, "Ice and dust, a coma and a tail.", "")

        def found(text: str) -> set[int]:
            return {c.id for c in store.list_conversations(text)}

        assert found("GEESE") == {birds}  # prompt, case-insensitive
        assert found("drafting") == {birds}  # reasoning
        assert found("energy") == {birds}  # answer
        assert found("calculus") == {maths}  # title given by rename
        assert found("coma") == {live}  # reasoning of a turn still streaming
        assert found("power energy") == set()
        assert found("drag energy") == set()  # several words are a phrase: together, in that order
        assert found("reduces  DRAG") == {birds}
        assert found("100%") == {maths} and found("%") == {maths}  # LIKE wildcards are literal text
        assert found("_") == set()
        assert found("") == found("  ") == {birds, maths, live}


def test_listing_is_newest_first_without_empty_chats_and_respects_the_limit() -> None:
    times = iter(range(1000, 2000, 10))
    with HistoryStore(clock=lambda: float(next(times))) as store:
        first = store.new_conversation("deepseek-r1:7b")
        streamed_turn(store, first, "one", "", "1")
        second = store.new_conversation("deepseek-r1:7b")
        streamed_turn(store, second, "two", "", "2")
        store.new_conversation("deepseek-r1:7b")  # Ctrl+N and never sent: nothing to list
        streamed_turn(store, first, "one again", "", "1 again")  # talking in it brings it to the top
        assert [c.id for c in store.list_conversations()] == [first, second]
        assert [c.id for c in store.list_conversations(limit=1)] == [first]
        assert store.info(first).created_at < store.info(second).created_at < store.info(first).updated_at


def test_title_comes_from_the_first_prompt_until_renamed() -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("deepseek-r1:7b")
        long_prompt = "Explain   the\nproof that there are infinitely many primes, step by step, with care please"
        streamed_turn(store, conversation_id, long_prompt, "", "Suppose finitely many.")
        title = store.info(conversation_id).title
        assert title.startswith("Explain the proof that there are infinitely many primes") and title.endswith("…")
        assert len(title) <= 60 and "\n" not in title
        store.rename(conversation_id, "  Euclid's  primes ")
        streamed_turn(store, conversation_id, "Now twin primes?", "", "Open problem.")
        assert store.info(conversation_id).title == "Euclid's primes"
        with pytest.raises(ValueError, match="empty"):
            store.rename(conversation_id, "   ")
        with pytest.raises(ConversationNotFound):
            store.rename(999, "nothing")


def test_delete_removes_the_conversation_and_all_its_text() -> None:
    with HistoryStore() as store:
        keep = store.new_conversation("deepseek-r1:7b")
        streamed_turn(store, keep, "keep me", "", "kept")
        gone = store.new_conversation("deepseek-r1:7b")
        streamed_turn(store, gone, "forget me", "private thoughts", "gone")
        unfinished = store.start_turn(gone, Turn("and this", "deepseek-r1:7b"), {})
        store.append(unfinished, "half a thought", "")
        store.delete(gone)
        assert [c.id for c in store.list_conversations()] == [keep]
        assert store.list_conversations("private") == []
        with pytest.raises(ConversationNotFound):
            store.load(gone)
        with pytest.raises(ConversationNotFound):
            store.delete(gone)
    db = sqlite3.connect(default_path())
    assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM turn_chunks").fetchone()[0] == 0


def test_failed_and_stopped_turns_keep_their_state_and_message() -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("deepseek-r1:70b")
        failed = Turn("Hi", "deepseek-r1:70b")
        turn_id = store.start_turn(conversation_id, failed, {})
        failed.state, failed.error = TurnState.FAILED, "model requires more system memory (40 GiB) than is available"
        store.finish_turn(turn_id, failed)
        stopped = Turn("Hi again", "deepseek-r1:70b", reasoning="Let me", state=TurnState.STOPPED)
        store.finish_turn(store.start_turn(conversation_id, stopped, {}), stopped)
        loaded = store.load(conversation_id).turns
    assert (loaded[0].state, loaded[0].error) == (TurnState.FAILED, failed.error)
    assert (loaded[1].state, loaded[1].reasoning, loaded[1].error) == (TurnState.STOPPED, "Let me", None)


def test_unknown_ids_raise_conversation_not_found() -> None:
    with HistoryStore() as store:
        for call in (store.load, store.load_record, store.info, store.delete):
            with pytest.raises(ConversationNotFound, match="42"):
                call(42)
        with pytest.raises(ConversationNotFound):
            store.start_turn(42, Turn("x", "m"), {})


# -- cases the mutation run found unpinned (benchmarks/MUTATION.md) ------------------------------------


def test_titles_are_cut_at_sixty_characters_without_a_space_before_the_ellipsis() -> None:
    from tui.core.store import TITLE_LENGTH, make_title

    exact = "x" * TITLE_LENGTH
    assert make_title(exact) == exact
    assert make_title(exact + "y") == "x" * (TITLE_LENGTH - 1) + "…"
    spaced = "a" * (TITLE_LENGTH - 2) + " bcd"  # character 59 is the space
    assert make_title(spaced) == "a" * (TITLE_LENGTH - 2) + "…"


def test_unknown_ids_are_named_in_the_exception() -> None:
    with HistoryStore() as store:
        for call in (lambda: store.start_turn(42, Turn("x", "m"), {}), lambda: store.rename(42, "t"),
                     lambda: store.delete(42), lambda: store.info(42)):
            with pytest.raises(ConversationNotFound) as caught:
                call()
            assert caught.value.conversation_id == 42
        with pytest.raises(LookupError, match="^no saved turn has the id 7$"):
            store.finish_turn(7, Turn("x", "m", state=TurnState.DONE))
        conversation_id = store.new_conversation("m")
        streamed_turn(store, conversation_id, "q", "r", "a")
        with pytest.raises(ValueError, match="^a conversation's title cannot be empty$"):
            store.rename(conversation_id, " ")


def test_search_takes_percent_underscore_and_backslash_literally() -> None:
    with HistoryStore() as store:
        plain = store.new_conversation("m")
        streamed_turn(store, plain, "axb and a-b and path c:xdir", "", "ok")
        special = store.new_conversation("m")
        streamed_turn(store, special, "a_b and 50% and c:\\dir", "", "ok")

        def found(text: str) -> set[int]:
            return {c.id for c in store.list_conversations(text)}

        assert found("a_b") == {special}
        assert found("50%") == {special}
        assert found("c:\\dir") == {special}


def test_listing_without_a_limit_and_the_default_limit() -> None:
    with HistoryStore() as store:
        for index in range(201):
            conversation_id = store.new_conversation("m")
            store.start_turn(conversation_id, Turn(f"q{index}", "m"), {})
        assert len(store.list_conversations()) == 200
        assert len(store.list_conversations(limit=None)) == 201


def test_the_system_prompt_comes_back_with_the_conversation() -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("m", system_prompt="Answer in French.")
        streamed_turn(store, conversation_id, "q", "r", "a")
        assert store.load_record(conversation_id).system_prompt == "Answer in French."
        assert store.load(conversation_id).system_prompt == "Answer in French."


def test_an_interrupted_turn_keeps_the_text_it_started_with_and_its_chunks() -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("m")
        turn_id = store.start_turn(conversation_id, Turn("q", "m", reasoning="Pre-filled. ", answer="So: "), {})
        store.append(turn_id, "More.")  # the answer defaults to nothing
        store.append(turn_id, answer_delta="42")
        [record] = store.load_record(conversation_id).turns
        assert (record.turn.reasoning, record.turn.answer, record.interrupted) == ("Pre-filled. More.", "So: 42", True)


def test_finishing_a_turn_still_marked_streaming_saves_it_as_stopped() -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("m")
        turn_id = store.start_turn(conversation_id, Turn("q", "m"), {})
        store.finish_turn(turn_id, Turn("q", "m", answer="partial", state=TurnState.STREAMING))
        [record] = store.load_record(conversation_id).turns
        assert record.turn.state is TurnState.STOPPED and not record.interrupted and record.turn.answer == "partial"


def test_a_foreign_file_with_tables_but_no_version_is_refused_with_what_to_do(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.db"
    sqlite3.connect(foreign).execute("CREATE TABLE notes (body TEXT)").connection.commit()
    with pytest.raises(StoreError, match=f"^{foreign} is an SQLite file of another program, not an r1tui history; "
                                         "move it aside and r1tui will start a new one$"):
        HistoryStore(foreign)


def test_a_file_marked_by_another_program_is_refused_untouched(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    db = sqlite3.connect(other)
    db.execute("PRAGMA application_id = 1234")
    db.commit()
    db.close()
    before = other.read_bytes()
    with pytest.raises(StoreError) as caught:
        HistoryStore(other)
    assert str(caught.value) == (f"{other} is an SQLite file of another program, not an r1tui history; "
                                 "move it aside and r1tui will start a new one")
    assert other.read_bytes() == before


def test_turn_records_carry_their_row_ids_and_options() -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("m")
        turn_id = store.start_turn(conversation_id, Turn("q", "m"), {"temperature": 0.2, "num_ctx": 8192})
        store.finish_turn(turn_id, Turn("q", "m", answer="a", state=TurnState.DONE))
        [record] = store.load_record(conversation_id).turns
        assert (record.id, record.index, record.options) == (turn_id, 0, {"num_ctx": 8192, "temperature": 0.2})


@pytest.mark.parametrize("stored", ["not json", "[1, 2]", "null"])
def test_options_that_are_not_a_json_object_read_as_none_given(stored: str) -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("m")
        turn_id = store.start_turn(conversation_id, Turn("q", "m"), {"temperature": 0.2})
        store.finish_turn(turn_id, Turn("q", "m", answer="a", state=TurnState.DONE))
    db = sqlite3.connect(default_path())
    db.execute("UPDATE turns SET options = ? WHERE id = ?", (stored, turn_id))
    db.commit()
    db.close()
    with HistoryStore() as store:
        [record] = store.load_record(conversation_id).turns
        assert record.options == {} and record.turn.answer == "a"
