"""`r1tui history --search`: a phrase, and the text around each match (inert), in the table and in JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.conversation import Turn, TurnState
from tui.core.store import HistoryStore

ROOT = Path(__file__).resolve().parents[2]


def r1tui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture
def saved() -> dict[str, int]:
    chats = {
        "parts": ("Integrate x·eˣ", "The standard move here is integration by parts with u = x and dv = eˣ dx.",
                  "(x − 1)eˣ + C"),
        "scattered": ("Integration of 1/x?", "Split it into parts: no need.", "ln|x| + C, by the log rule"),
        "hostile": ("Colours?", "thinking", "by parts \x1b[31mred\x1b[0m and \x1b]52;c;ZXZpbA==\x07 done"),
    }
    ids = {}
    with HistoryStore() as store:
        for key, (prompt, reasoning, answer) in chats.items():
            ids[key] = store.new_conversation("deepseek-r1:7b")
            turn = Turn(prompt, "deepseek-r1:7b", reasoning=reasoning, answer=answer, state=TurnState.DONE)
            store.finish_turn(store.start_turn(ids[key], Turn(prompt, "deepseek-r1:7b"), {}), turn)
    return ids


def test_a_phrase_finds_the_phrase_and_shows_where(saved: dict[str, int]) -> None:
    result = r1tui("history", "--search", "integration by parts")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rows = [line for line in lines if "deepseek-r1:7b" in line]
    assert [row.split()[0] for row in rows] == [str(saved["parts"])]
    snippet = lines[lines.index(rows[0]) + 1]  # under its row, indented past the id
    assert snippet.startswith("   ") and "integration by parts with u = x" in snippet


def test_json_carries_the_snippet(saved: dict[str, int]) -> None:
    data = json.loads(r1tui("history", "--search", '"by parts"', "--json").stdout)
    by_id = {c["id"]: c for c in data["conversations"]}
    assert set(by_id) == {saved["parts"], saved["hostile"]}
    assert "integration by parts" in by_id[saved["parts"]]["snippet"]
    assert {"id", "title", "model", "created_at", "updated_at", "turns"} <= set(by_id[saved["parts"]])
    assert "snippet" not in json.loads(r1tui("history", "--json").stdout)["conversations"][0]


def test_snippets_do_not_act_on_the_terminal(saved: dict[str, int]) -> None:
    out = r1tui("history", "--search", "by parts").stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "␛[31mred" in out
