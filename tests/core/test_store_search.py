"""History search (F5, `r1tui history --search`): phrases, not loose words, and a snippet per result."""

from __future__ import annotations

from tui.core.conversation import Turn, TurnState
from tui.core.store import HistoryStore, search_phrases, snippet_around


def finished(store: HistoryStore, conversation: int, prompt: str, reasoning: str, answer: str) -> None:
    turn_id = store.start_turn(conversation, Turn(prompt, "deepseek-r1:7b"), {})
    store.finish_turn(turn_id, Turn(prompt, "deepseek-r1:7b", reasoning=reasoning, answer=answer,
                                    state=TurnState.DONE))


def test_query_is_split_into_phrases() -> None:
    assert search_phrases("integration by parts") == ["integration by parts"]
    assert search_phrases('"by parts"  "u substitution"') == ["by parts", "u substitution"]
    assert search_phrases('"by parts" integral') == ["by parts", "integral"]
    assert search_phrases('  ') == [] and search_phrases(None) == []
    assert search_phrases('"unclosed quote') == ["unclosed quote"]


def test_a_multi_word_query_matches_the_phrase_not_every_word() -> None:
    with HistoryStore() as store:
        parts = store.new_conversation("deepseek-r1:7b")
        finished(store, parts, "How do I integrate x·eˣ?", "Use integration by parts with u = x.",
                 "∫x·eˣ dx = (x − 1)eˣ + C")
        scattered = store.new_conversation("deepseek-r1:7b")
        finished(store, scattered, "Integration of 1/x?", "Split the parts of the fraction.", "ln|x| + C, by the rule")

        def found(text: str) -> list[int]:
            return [c.id for c in store.list_conversations(text)]

        assert found("integration by parts") == [parts]  # the other has the three words, apart
        assert found('"Integration By Parts"') == [parts]
        assert found('"by parts" "u = x"') == [parts]  # every quoted phrase must be there
        assert set(found("integration")) == {parts, scattered}


def test_each_result_shows_the_text_around_its_match() -> None:
    with HistoryStore() as store:
        conversation = store.new_conversation("deepseek-r1:7b")
        answer = ("A long preamble that the snippet should not show in full, going on and on about nothing. "
                  "The trick is integration by parts, twice, and then solving for the integral itself. "
                  "More text after it that is also far away from the match.")
        finished(store, conversation, "Integrate eˣ sin x", "thinking…", answer)
        (info,) = store.list_conversations("integration by parts")
        assert "integration by parts" in info.snippet
        assert info.snippet.startswith("…") and info.snippet.endswith("…")
        assert "preamble" not in info.snippet and len(info.snippet) < 140
        assert store.list_conversations()[0].snippet == ""  # no search, no snippet


def test_snippet_is_one_line_and_starts_on_a_word() -> None:
    text = "first line\nsecond line with the MATCH in it\n\nthird line"
    snippet = snippet_around(text, "match", context=15)
    assert snippet is not None and "\n" not in snippet
    assert "MATCH" in snippet and snippet.startswith("…") and not snippet.startswith("…e ")
    assert snippet_around(text, "absent") is None
