"""`r1tui history` and `r1tui export` as a script or a user runs them: real subprocesses on a real history file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tui.core.conversation import Turn, TurnState
from tui.core.store import HistoryStore, default_path

ROOT = Path(__file__).resolve().parents[2]


def r1tui(*args: str) -> subprocess.CompletedProcess[str]:
    # The XDG_* variables set by conftest's autouse fixture are inherited: the child sees this test's history.
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture
def history() -> Iterator[dict[str, int]]:
    """Two saved conversations: a maths one, then (newer) one whose prompt and answer hold escape sequences."""
    times = iter(float(t) for t in range(1_700_000_000, 1_700_001_000, 60))
    with HistoryStore(clock=lambda: next(times)) as store:
        ids = {}
        for key, prompt, reasoning, answer in [
            ("maths", "Primes below 20?", "2, 3, 5, 7, 11, 13, 17, 19.", "There are **8** primes."),
            ("hostile", "Print \x1b[31mred\x1b[0m please", "OSC 52 next.", "\x1b]52;c;ZXZpbA==\x07Done"),
        ]:
            ids[key] = store.new_conversation("deepseek-r1:7b")
            turn = Turn(prompt, "deepseek-r1:7b")
            turn_id = store.start_turn(ids[key], turn, {"temperature": 0.6})
            store.append(turn_id, reasoning, answer)
            turn.reasoning, turn.answer, turn.state = reasoning, answer, TurnState.DONE
            store.finish_turn(turn_id, turn)
    yield ids


def test_history_json_lists_conversations_newest_first(history: dict[str, int]) -> None:
    result = r1tui("history", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["database"] == str(default_path())
    assert [c["id"] for c in data["conversations"]] == [history["hostile"], history["maths"]]
    maths = data["conversations"][1]
    assert maths == {"id": history["maths"], "title": "Primes below 20?", "model": "deepseek-r1:7b",
                     "created_at": "2023-11-14T22:13:20Z", "updated_at": "2023-11-14T22:15:20Z", "turns": 1}
    searched = json.loads(r1tui("history", "--search", "PRIMES", "--json").stdout)
    assert [c["id"] for c in searched["conversations"]] == [history["maths"]]


def test_history_table_shows_titles_without_acting_on_the_terminal(history: dict[str, int]) -> None:
    result = r1tui("history")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "UPDATED", "MODEL", "TURNS", "TITLE"]
    assert rows[1].split()[0] == str(history["maths"]) and rows[1].endswith("Primes below 20?")
    assert "\x1b" not in result.stdout and "Print ␛[31mred␛[0m please" in rows[0]


def test_history_without_any_saved_chat_says_so_and_creates_nothing() -> None:
    result = r1tui("history")
    assert result.returncode == 0 and "No saved conversations yet" in result.stdout
    assert not default_path().exists()
    assert json.loads(r1tui("history", "--json").stdout)["conversations"] == []
    export = r1tui("export", "1")
    assert export.returncode == 1 and "no saved conversation has the id 1" in export.stderr
    assert not default_path().exists()


def test_export_markdown_and_json(history: dict[str, int], tmp_path: Path) -> None:
    markdown = r1tui("export", str(history["maths"]), "--format", "md")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("# Primes below 20?\n")
    assert "<summary>Reasoning</summary>" in markdown.stdout and "There are **8** primes." in markdown.stdout
    bare = r1tui("export", str(history["maths"]), "--no-reasoning")
    assert "<details>" not in bare.stdout and "11, 13" not in bare.stdout and "There are **8** primes." in bare.stdout

    data = json.loads(r1tui("export", str(history["hostile"]), "--format", "json").stdout)
    assert data["format"] == "r1tui.conversation" and data["turns"][0]["answer"] == "\x1b]52;c;ZXZpbA==\x07Done"

    target = tmp_path / "chat.md"
    written = r1tui("export", str(history["hostile"]), "-o", str(target))
    assert written.returncode == 0 and f"to {target}" in written.stderr and written.stdout == ""
    assert "\x1b" not in target.read_text(encoding="utf-8")  # Markdown is for people: inert in a file too
    assert "␛]52;c;ZXZpbA==␇Done" in target.read_text(encoding="utf-8")

    target = tmp_path / "chat.json"
    target.write_text("an older export")
    target.chmod(0o644)
    written = r1tui("export", str(history["hostile"]), "--format", "json", "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600  # replaced, and private now
    assert json.loads(target.read_text(encoding="utf-8"))["turns"][0]["answer"] == "\x1b]52;c;ZXZpbA==\x07Done"


def test_export_to_standard_output_is_inert(history: dict[str, int]) -> None:
    result = r1tui("export", str(history["hostile"]))
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "␛]52;c;ZXZpbA==␇Done" in result.stdout


def test_export_of_an_unknown_id_fails_with_a_clear_message(history: dict[str, int]) -> None:
    result = r1tui("export", "999", "--format", "json")
    assert result.returncode == 1 and result.stdout == ""
    assert "no saved conversation has the id 999" in result.stderr and "r1tui history" in result.stderr


def test_a_damaged_history_file_fails_with_a_clear_message() -> None:
    default_path().parent.mkdir(parents=True)
    default_path().write_bytes(b"garbage" * 200)
    for command in (["history"], ["export", "1"]):
        result = r1tui(*command)
        assert result.returncode == 1 and "damaged or not a database" in result.stderr
        assert "Traceback" not in result.stderr
