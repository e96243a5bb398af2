"""F5 history: a multi-word search matches the phrase and each result shows the text around its match."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path

from tests.apphelpers import ScreenHost, screen_text, wait_for
from tui.core.conversation import Turn, TurnState
from tui.core.store import HistoryStore
from tui.screens.history import HistoryScreen


def make_store(tmp_path: Path) -> HistoryStore:
    store = HistoryStore(tmp_path / "history.db")
    for prompt, answer in [
        ("Integrate x·eˣ", "Use integration by parts with u = x, then [bold]simplify[/]."),
        ("Integration of 1/x?", "Split into parts; by the log rule it is ln|x| + C."),
    ]:
        conversation = store.new_conversation("deepseek-r1:7b")
        turn = Turn(prompt, "deepseek-r1:7b", reasoning="thinking", answer=answer, state=TurnState.DONE)
        store.finish_turn(store.start_turn(conversation, Turn(prompt, "deepseek-r1:7b"), {}), turn)
    return store


async def test_phrase_search_lists_the_match_with_its_snippet(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    app = ScreenHost(lambda: HistoryScreen(store, None, tz=timezone.utc))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"integration by parts")
            await wait_for(pilot, lambda: [info.id for info in app.screen.rows] == [1])
            await pilot.pause()
            text = screen_text(app)
            assert "Integrate x·eˣ" in text and "Integration of 1/x?" not in text
            assert "Use integration by parts with u = x, then [bold]simplify[/]." in text  # literal, not markup
            assert all(len(line) <= 80 for line in text.splitlines())
    finally:
        store.close()
