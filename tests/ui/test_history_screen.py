"""The history screen, driven from the keyboard with Pilot over a real SQLite store."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.apphelpers import ScreenHost, screen_text, wait_for
from tui.core.conversation import Turn, TurnState
from tui.core.export import to_markdown
from tui.screens.history import ConfirmDeleteScreen, ExportScreen, HistoryList, HistoryScreen, RenameScreen
from tui.core.store import HistoryStore, StoreError

START = 1_736_935_200.0  # 2025-01-15 10:00 UTC
HOSTILE = "[bold]x[/] \x1b[31m"

CHATS = [  # (prompt, model, reasoning, answer), oldest first
    ("Chickens and rabbits: 35 heads, 94 legs. How many of each?", "deepseek-r1:7b",
     "c + r = 35 and 2c + 4r = 94", "23 chickens and 12 rabbits."),
    ("Prove that the square root of 2 is irrational", "deepseek-r1:70b",
     "Assume sqrt 2 = p/q in lowest terms", "Suppose it were rational; then p and q are both even."),
    (HOSTILE, "deepseek-r1:1.5b", "markup is text", "ok"),
]


Host = ScreenHost


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    """Three conversations an hour apart, on a fixed clock; ids 1, 2, 3 (3 is the newest)."""
    now = [START]
    history = HistoryStore(tmp_path / "history.db", clock=lambda: now[0])
    for prompt, model, reasoning, answer in CHATS:
        conversation = history.new_conversation(model)
        turn = Turn(prompt=prompt, model=model, reasoning=reasoning, answer=answer, state=TurnState.DONE,
                    reasoning_tokens=12, answer_tokens=8, think_seconds=1.5)
        history.finish_turn(history.start_turn(conversation, turn, {"temperature": 0.6}), turn)
        now[0] += 3600
    yield history
    history.close()


def host(store: HistoryStore, current_id: int | None = 1) -> Host:
    return Host(lambda: HistoryScreen(store, current_id, tz=timezone.utc))


def status(app: Host) -> str:
    """The status line's text, whole (on screen a long path wraps)."""
    return str(app.screen.query_one("#history-status").render())


def listed(app: Host) -> list[int]:
    return [info.id for info in app.screen.rows]


async def test_lists_newest_first_with_title_model_date_and_turns(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert listed(app) == [3, 2, 1]
        lines = screen_text(app).splitlines()
        rows = [line for line in lines if "deepseek-r1:" in line]
        assert "Prove that the square root of 2" in rows[1] and "2025-01-15 11:00" in rows[1]
        assert rows[2].startswith("  ● Chickens and rabbits")  # the conversation open now is marked
        assert rows[2].rstrip().endswith("1")
        assert all(len(line) <= 80 for line in lines)


async def test_search_filters_as_you_type_including_answer_text(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"rabbits")
        assert isinstance(app.screen.focused, Input)
        await wait_for(pilot, lambda: listed(app) == [1])
        # The list is filtered first and repainted a frame later: wait for the screen to show it.
        await wait_for(pilot, lambda: "Prove that" not in screen_text(app) and "1 matching “rabbits”" in screen_text(app))

        search = app.screen.query_one("#history-search", Input)
        search.value = "both even"  # only in an answer
        await wait_for(pilot, lambda: listed(app) == [2])

        search.value = "nothing like this"
        await wait_for(pilot, lambda: "No conversation matches “nothing like this”" in screen_text(app))
        assert listed(app) == []

        search.value = ""
        await wait_for(pilot, lambda: listed(app) == [3, 2, 1])


async def test_enter_resumes_the_selected_conversation(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.result == ("resume", 2)


async def test_enter_in_the_search_box_resumes_the_best_match_at_once(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"irrational", "enter")  # before the debounce has run
        await pilot.pause()
        assert app.result == ("resume", 2)


async def test_down_from_the_search_box_moves_into_the_results(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"is", "down")  # before the debounce has run
        assert isinstance(app.screen.focused, HistoryList) and listed(app) == [3, 2]
        await pilot.press("down", "r")  # letter keys act again once out of the search box
        await pilot.pause()
        assert isinstance(app.screen, RenameScreen) and app.screen.current_title.startswith("Prove that")


async def test_escape_goes_back_with_nothing(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


async def test_rename_is_prefilled_and_persists_in_the_store(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "r")
        await pilot.pause()
        assert isinstance(app.screen, RenameScreen)
        field = app.screen.query_one(Input)
        assert field.value == "Prove that the square root of 2 is irrational"
        field.value = ""
        await pilot.press(*"Root two", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and "Root two" in screen_text(app))
        assert store.info(2).title == "Root two"
        assert app.screen.selected_id == 2  # still on the renamed one


async def test_an_empty_title_is_refused_in_the_dialog(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(Input).value = "   "
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RenameScreen) and "cannot be empty" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert store.info(3).title == HOSTILE


async def test_delete_asks_first_then_removes(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDeleteScreen)
        assert "open in the chat now" not in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert [info.id for info in store.list_conversations()] == [3, 2, 1]

        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: listed(app) == [3, 1])
        assert [info.id for info in store.list_conversations()] == [3, 1]
        assert app.screen.deleted == {2} and "Deleted “Prove that" in screen_text(app)
        assert app.screen.selected_id == 1  # the cursor stays where the deleted row was


async def test_deleting_the_open_conversation_says_so(store) -> None:
    app = host(store, current_id=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "x")
        await pilot.pause()
        assert "It is the conversation open in the chat now" in screen_text(app)
        await pilot.press("enter")  # the focused button keeps it
        await pilot.pause()
        assert listed(app) == [3, 2, 1] and app.screen.deleted == set()


async def test_export_writes_the_markdown_into_the_current_folder(store, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "e")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("enter")
        target = tmp_path / "r1tui-2-prove-that-the-square-root-of-2-is-irrat.md"  # cut to 40
        await wait_for(pilot, lambda: target.exists())
        text = target.read_text()
        assert text == to_markdown(store.load_record(2), reasoning=True)
        assert "<details>" in text and "Assume sqrt 2" in text
        assert status(app) == f"Exported to {target}"


async def test_export_to_a_typed_path_without_reasoning_and_asks_before_replacing(store, tmp_path,
                                                                                  monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "sqrt.md"
    target.write_text("keep me")
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down", "e")
        await pilot.pause()
        app.screen.query_one(Input).value = "out/sqrt.md"
        await pilot.press("tab", "space", "shift+tab", "enter")  # untick "include the reasoning"
        await pilot.pause()
        assert "exists: Enter again replaces it" in screen_text(app) and target.read_text() == "keep me"
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.read_text() != "keep me")
        assert target.read_text() == to_markdown(store.load_record(2), reasoning=False)
        assert "<details>" not in target.read_text()


async def test_export_of_hostile_text_is_inert_and_private_even_over_an_old_file(store, tmp_path,
                                                                                    monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "hostile.md"
    target.write_text("an old, world-readable export")
    target.chmod(0o644)
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")  # the newest: its prompt (the title) holds an escape sequence
        await pilot.pause()
        app.screen.query_one(Input).value = "hostile.md"
        await pilot.press("enter", "enter")  # the second Enter replaces the old file
        await wait_for(pilot, lambda: "Exported to" in status(app))
    text = target.read_text(encoding="utf-8")
    assert "\x1b" not in text and "[bold]x[/] ␛[31m" in text
    assert target.stat().st_mode & 0o777 == 0o600


async def test_an_export_that_cannot_be_written_says_why(store, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one(Input).value = "no/such/folder/x.md"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Not exported: cannot write" in screen_text(app))
        assert isinstance(app.screen, HistoryScreen)


async def test_hostile_titles_are_shown_literally(store) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]x[/] ␛[31m" in text and "\x1b" not in text
        await pilot.press("x")
        await pilot.pause()
        assert "Delete “[bold]x[/] ␛[31m” (1 turn)?" in screen_text(app)


async def test_store_errors_are_shown_and_the_screen_keeps_working(store, monkeypatch) -> None:
    app = host(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()

        def locked(*args: object, **kwargs: object) -> None:
            raise StoreError("chat history /x/history.db: database is locked")

        monkeypatch.setattr(store, "delete", locked)
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: status(app) == "Not deleted: chat history /x/history.db: database is locked")
        assert listed(app) == [3, 2, 1]

        monkeypatch.setattr(store, "list_conversations", locked)
        app.screen.query_one("#history-search", Input).value = "anything"
        await wait_for(pilot, lambda: "database is locked" in screen_text(app) and listed(app) == [])
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


async def test_an_empty_history_says_how_it_fills(tmp_path) -> None:
    with HistoryStore(tmp_path / "empty.db") as empty:
        app = host(empty, current_id=None)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "No saved conversations yet" in screen_text(app)
            assert isinstance(app.screen.focused, Input)
            await pilot.press("enter", "x", "e")  # nothing to act on: no dialog, no crash
            await pilot.pause()
            assert isinstance(app.screen, HistoryScreen) and app.result == "not dismissed"


def test_history_screen_snapshot(snap_compare, store) -> None:
    assert snap_compare(host(store), terminal_size=(80, 24))
