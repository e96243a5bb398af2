"""Exported conversations: Markdown with folded (or no) reasoning, a stable JSON shape, and nothing hostile reaching a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import stat
from pathlib import Path

import pytest

from tui.core.conversation import Turn, TurnState
from tui.core.export import render, to_json, to_markdown, write_output
from tui.core.metrics import GenerationStats
from tui.core.store import ConversationRecord, HistoryStore

HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x9b31m\u202eevil\x7f"


def saved(reasoning: str = "Let c + r = 35 and 2c + 4r = 94.\n\nThen r = 12.",
          answer: str = "There are **23 chickens** and **12 rabbits**.") -> ConversationRecord:
    times = iter([1_700_000_000.0, 1_700_000_001.0, 1_700_000_016.0])
    with HistoryStore(clock=lambda: next(times)) as store:
        conversation_id = store.new_conversation("deepseek-r1:7b")
        turn = Turn("Chickens and rabbits: 35 heads, 94 legs?", "deepseek-r1:7b")
        turn_id = store.start_turn(conversation_id, turn, {"temperature": 0.6, "top_p": 0.95, "num_ctx": 4096})
        turn.reasoning, turn.answer, turn.state = reasoning, answer, TurnState.DONE
        turn.think_seconds, turn.ttft_seconds, turn.reasoning_tokens, turn.answer_tokens = 14.23, 0.314, 812, 213
        turn.stats = GenerationStats(eval_count=1025, eval_duration_ns=22_600_000_000, prompt_eval_count=31,
                                     prompt_eval_duration_ns=25_600_000, total_duration_ns=24_000_000_000,
                                     done_reason="stop")
        store.finish_turn(turn_id, turn)
        return store.load_record(conversation_id)


def test_markdown_folds_the_reasoning_into_a_details_block_before_the_answer() -> None:
    text = to_markdown(saved())
    assert text.startswith("# Chickens and rabbits: 35 heads, 94 legs?\n")
    details = text.index("<details>")
    summary = text.index("<summary>Reasoning (812 tokens, 14.2 s)</summary>\n\nLet c + r = 35")
    closing = text.index("</details>")
    assert text.index("## 1. You\n\nChickens and rabbits") < details < summary < text.index("Then r = 12.") < closing
    assert closing < text.index("There are **23 chickens** and **12 rabbits**.")
    assert "*812 reasoning + 213 answer tokens · 45.4 tok/s · prompt 1211 tok/s · first token 0.31 s*" in text


def test_markdown_without_reasoning_has_no_trace_of_it() -> None:
    text = to_markdown(saved(), reasoning=False)
    assert "<details>" not in text and "Let c + r" not in text and "Then r = 12" not in text
    assert "There are **23 chickens** and **12 rabbits**." in text


def test_a_closing_tag_in_the_reasoning_cannot_end_the_block_early() -> None:
    text = to_markdown(saved(reasoning="I could write </details> here and </DETAILS> too."))
    assert text.count("</details>") == 1
    assert text.index("here and") < text.index("</details>")


def test_json_has_the_documented_shape() -> None:
    data = json.loads(to_json(saved()))
    assert data == {
        "format": "r1tui.conversation",
        "format_version": 1,
        "id": 1,
        "title": "Chickens and rabbits: 35 heads, 94 legs?",
        "model": "deepseek-r1:7b",
        "created_at": "2023-11-14T22:13:20Z",
        "updated_at": "2023-11-14T22:13:36Z",
        "system_prompt": "",
        "turns": [{
            "index": 0,
            "prompt": "Chickens and rabbits: 35 heads, 94 legs?",
            "model": "deepseek-r1:7b",
            "reasoning": "Let c + r = 35 and 2c + 4r = 94.\n\nThen r = 12.",
            "answer": "There are **23 chickens** and **12 rabbits**.",
            "state": "done",
            "error": None,
            "interrupted": False,
            "options": {"num_ctx": 4096, "temperature": 0.6, "top_p": 0.95},
            "started_at": "2023-11-14T22:13:21Z",
            "finished_at": "2023-11-14T22:13:36Z",
            "think_seconds": 14.23,
            "ttft_seconds": 0.314,
            "reasoning_tokens": 812,
            "answer_tokens": 213,
            "server": {"eval_count": 1025, "eval_duration_ns": 22_600_000_000, "prompt_eval_count": 31,
                       "prompt_eval_duration_ns": 25_600_000, "load_duration_ns": 0,
                       "total_duration_ns": 24_000_000_000, "done_reason": "stop", "eval_rate": 45.35,
                       "prompt_eval_rate": 1210.94},
            "reasoning_control": {"think_budget": 0, "thinking_cut": None, "loop_flagged": False,
                                  "thinking_off": False, "context_size": 0},
            "marks": [],
        }],
    }
    assert json.loads(to_json(saved(), reasoning=False))["turns"][0]["reasoning"] is None


def test_json_keeps_hostile_text_exactly_but_never_as_raw_control_characters() -> None:
    hidden = "zero\u200bwidth\u2066isolate\u2069\ufeff\u2028"
    record = saved(reasoning=HOSTILE, answer="中文 " + HOSTILE + hidden)
    text = to_json(record)
    assert json.loads(text)["turns"][0]["answer"] == "中文 " + HOSTILE + hidden  # the data is exact
    assert "中文" in text  # readable, not \\u-escaped
    for char in "\x1b\x07\x9b\u202e\x7f\u200b\u2066\u2069\ufeff\u2028":
        assert char not in text


def test_markdown_is_inert_on_standard_output_and_in_a_file(tmp_path: Path) -> None:
    text = to_markdown(saved(reasoning="think " + HOSTILE, answer="answer " + HOSTILE + " \u200bhidden"))
    stdout = io.StringIO()
    write_output(text, stream=stdout)
    path = tmp_path / "chat.md"
    write_output(text, path)
    for shown in (stdout.getvalue(), path.read_text(encoding="utf-8")):
        for char in "\x1b\x07\x9b\u202e\x7f\u200b":
            assert char not in shown
        assert "␛]52;c;cm0gLXJmIH4=␇" in shown and "<U+202E>evil" in shown and "<U+200B>hidden" in shown
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_exporting_over_an_existing_file_makes_it_private(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"chat.{fmt}"
    path.write_text("an older export, readable by everyone")
    path.chmod(0o644)
    write_output(render(saved(), fmt), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # mode bits: root does not bypass what stat says
    assert "23 chickens" in path.read_text(encoding="utf-8")


def test_a_file_that_is_a_terminal_gets_the_inert_text() -> None:
    controller, terminal = pty.openpty()
    try:
        write_output("answer " + HOSTILE + "\n", os.ttyname(terminal))
        received = os.read(controller, 4096).decode("utf-8")
    finally:
        os.close(controller)
        os.close(terminal)
    assert "\x1b" not in received and "␛[2J" in received


@pytest.mark.parametrize("state, error, shown", [
    (TurnState.FAILED, "model 'deepseek-r1:70b' not found", "> **Failed:** model 'deepseek-r1:70b' not found"),
    (TurnState.STOPPED, None, "> **Stopped** before the reply was finished."),
])
def test_unfinished_turns_say_what_happened(state: TurnState, error: str | None, shown: str) -> None:
    record = saved(answer="Partial")
    record.turns[0].turn.state, record.turns[0].turn.error = state, error
    assert shown in to_markdown(record)


def test_a_saved_copy_is_private_and_inert(tmp_path) -> None:
    """The copy chooser's save-to-file fallback: `cat` on it must not act on the terminal."""
    import os
    import stat

    from tui.core.clipboard import save_text

    path = save_text("ok \x1b]52;c;ZXZpbA==\x07 \x1b[2J done\n\tindented", tmp_path / "saved")
    text = path.read_text()
    assert "\x1b" not in text and "\x07" not in text
    assert "␛]52;c;ZXZpbA==␇" in text and "\tindented" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_cut_reasoning_and_a_length_cut_are_saved_and_exported_in_words() -> None:
    with HistoryStore() as store:
        conversation_id = store.new_conversation("deepseek-r1:7b")
        turn = Turn("Sum of squares?", "deepseek-r1:7b")
        turn_id = store.start_turn(conversation_id, turn, {"num_ctx": 8192})
        turn.reasoning, turn.answer, turn.state, turn.reasoning_tokens = "Step 1.", "The sum is", TurnState.DONE, 300
        turn.think_budget, turn.thinking_cut, turn.loop_flagged, turn.context_size = 300, "budget", True, 8192
        turn.stats = GenerationStats(eval_count=7892, prompt_eval_count=300, done_reason="length")
        store.finish_turn(turn_id, turn)
        record = store.load_record(conversation_id)
    loaded = record.turns[0].turn
    assert (loaded.think_budget, loaded.thinking_cut, loaded.loop_flagged, loaded.context_size) == (
        300, "budget", True, 8192)
    exported = json.loads(to_json(record))["turns"][0]
    assert exported["reasoning_control"]["thinking_cut"] == "budget"
    assert exported["marks"][1:] == ["thinking cut at the 300-token budget", "the reasoning is repeating itself"]
    assert exported["marks"][0].startswith("cut off at the length limit (ctx 8,192)")
    text = to_markdown(record)
    assert "> **Note:** thinking cut at the 300-token budget" in text and "ctx 8,192 / 8,192" in text
