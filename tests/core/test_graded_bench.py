"""`r1tui bench` grading answers, as a new user would try it: a JSON Lines file against the simulated
server in answer mode (boxed answers, one wrong on purpose), and every output agreeing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fake_nvml import GIB, FakeGpu, FakeNvml
from tui.cli import main
from tui.core.store import HistoryStore, default_path
from tui.demo import SimulatedOllama
from tui.demo.answers import AnswerMode

QUIZ = [
    {"prompt": "What is 6 times 7?", "answer": "42", "source": "my notes"},
    {"prompt": "What is one half, as a decimal?", "answer": "0.5"},
    {"prompt": "What is 84 divided by 2?", "answer": 42},
    {"prompt": "Solve 3x + 7 = 6x - 5 for x.", "answer": "x = 4"},
    {"prompt": "Describe your favourite prime number."},
]
# What the simulated model answers: equal to the references, written differently.
KEY = {"What is 6 times 7?": "84/2", "What is one half, as a decimal?": "\\frac{1}{2}",
       "What is 84 divided by 2?": "42", "Solve 3x + 7 = 6x - 5 for x.": "4"}
MODELS = "deepseek-r1:7b,deepseek-r1:1.5b"


@pytest.fixture
def quiz(tmp_path: Path) -> Path:
    path = tmp_path / "quiz.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in QUIZ), encoding="utf-8")
    return path


@pytest.fixture
def answering(sim: SimulatedOllama) -> SimulatedOllama:
    # Every model gets "84 divided" wrong on purpose; the 1.5b also the decimal one.
    sim.answer_mode = AnswerMode(key=KEY, wrong=("84 divided",))
    return sim


def line_answer(line: str, header: str) -> str:
    """The "answer" cell of a table row: the answer the grader found."""
    return line[header.index("answer", header.index("right")):].strip()


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["bench", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_grades_each_answer_and_sums_up_each_model(answering: SimulatedOllama, quiz: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, "--host", answering.url, "--models", MODELS, "--prompt-file", str(quiz), "--json")
    assert code == 0, err
    report = json.loads(out)
    rows = [r for r in report["results"] if r["model"] == "deepseek-r1:7b"]
    assert [r["correct"] for r in rows] == [True, True, False, True, None]  # the 5th has no reference
    assert rows[0]["extracted"] == "\\frac{84}{2}" and rows[2]["extracted"] == "43"
    summary = {entry["model"]: entry for entry in report["summary"]}
    assert list(summary) == ["deepseek-r1:7b", "deepseek-r1:1.5b"]
    entry = summary["deepseek-r1:7b"]
    assert entry["accuracy"] == 0.75 and (entry["correct"], entry["graded_runs"]) == (3, 4)
    assert entry["mean_reasoning_tokens"] > summary["deepseek-r1:1.5b"]["mean_reasoning_tokens"]  # bigger thinks longer
    assert report["verdict"].startswith("verdict: deepseek-r1:")
    assert ", wrong" in err and ", right" in err  # progress says how each went


def test_table_markdown_and_chart_agree(answering: SimulatedOllama, quiz: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    answering.reported_rate = 50.0
    args = ("--host", answering.url, "--models", MODELS, "--prompt-file", str(quiz))
    _, table, _ = bench(capsys, *args)
    runs, _, per_model = table.partition("per model:")
    header = next(line for line in runs.splitlines() if line.startswith("model"))
    right = header.index("right")
    rows = [line for line in runs.splitlines() if line.startswith("deepseek-r1:7b")]
    assert [line[right] for line in rows] == ["✓", "✓", "✗", "✓", "—"]  # the 5th: ungraded, not judged
    assert line_answer(rows[2], header) == "43" and line_answer(rows[0], header) == "\\frac{84}{2}"
    assert "deepseek-r1:7b    3/4 75%" in per_model or "3/4 75%" in per_model.splitlines()[2]
    assert "verdict: deepseek-r1:" in per_model

    _, markdown, _ = bench(capsys, *args, "--markdown")
    assert "| right |" in markdown and "| ✗ |" in markdown
    assert "| deepseek-r1:7b | 3/4 75% |" in markdown and "**verdict: deepseek-r1:" in markdown

    _, charted, _ = bench(capsys, *args, "--chart")
    chart = charted.split("per model:")[1]
    assert "● deepseek-r1:7b  ■ deepseek-r1:1.5b" in chart and "% right" in chart  # the legend
    row_75 = next(line for line in chart.splitlines() if line.strip().startswith("75"))
    assert "●" in row_75 or "■" in row_75  # both are right 3 times in 4: drawn at 75 % (one may hide the other)
    assert not any(mark in line for line in chart.splitlines() if line.strip()[:3].isdigit()
                   and not line.strip().startswith("75") for mark in "●■")
    assert "\x1b" not in charted  # no colour codes in a file or a pipe


def test_energy_per_answer_where_nvml_reports_power(answering: SimulatedOllama, quiz: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    card = FakeGpu(total=24 * GIB, used=GIB, power_mw=250_000, follows=answering)  # a steady 250 W
    monkeypatch.setattr("tui.core.hardware._import_pynvml", lambda: FakeNvml([card]))
    answering.rate = 400.0  # runs long enough for several samples
    code, out, err = bench(capsys, "--host", answering.url, "--models", "deepseek-r1:7b", "--prompt-file",
                           str(quiz), "--json")
    assert code == 0, err
    report = json.loads(out)
    for row in report["results"]:
        assert row["energy_j"] == pytest.approx(250.0 * row["total_s"], rel=0.5)
    [entry] = report["summary"]
    spent = sum(row["energy_j"] for row in report["results"])
    assert entry["joules_per_correct"] == pytest.approx(spent / 3, rel=0.01)

    monkeypatch.setattr("tui.core.hardware._import_pynvml",
                        lambda: FakeNvml([FakeGpu(power_mw=None, follows=answering)]))
    _, out, _ = bench(capsys, "--host", answering.url, "--models", "deepseek-r1:7b", "--prompt", "Hi", "--json")
    assert json.loads(out)["results"][0]["energy_j"] is None  # the board does not say: no guess


def test_generated_set_is_graded_and_reproducible(sim: SimulatedOllama, capsys: pytest.CaptureFixture[str]) -> None:
    sim.answer_mode = AnswerMode(error_rates={"deepseek-r1:1.5b": 0.5})
    args = ("--host", sim.url, "--models", "deepseek-r1:7b,deepseek-r1:1.5b", "--set", "generated",
            "--seed", "3", "--count", "8", "--json")
    code, out, err = bench(capsys, *args)
    assert code == 0, err
    first = json.loads(out)
    sent = [body["messages"][-1]["content"] for _, path, body in sim.requests if path == "/api/chat"]
    summary = {entry["model"]: entry for entry in first["summary"]}
    assert summary["deepseek-r1:7b"]["accuracy"] == 1.0 and summary["deepseek-r1:7b"]["graded_runs"] == 8
    assert summary["deepseek-r1:1.5b"]["accuracy"] < 1.0
    assert first["verdict"].startswith("verdict: deepseek-r1:7b")
    _, again, _ = bench(capsys, *args)
    sent_again = [body["messages"][-1]["content"] for _, path, body in sim.requests if path == "/api/chat"]
    assert sent_again[len(sent):] == sent  # the same seed, the same problems
    assert [r["correct"] for r in json.loads(again)["results"]] == [r["correct"] for r in first["results"]]


def test_runs_give_pass_at_k(answering: SimulatedOllama, quiz: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = bench(capsys, "--host", answering.url, "--models", "deepseek-r1:7b", "--prompt-file", str(quiz),
                         "--runs", "2", "--json")
    [entry] = json.loads(out)["summary"]
    assert (entry["accuracy"], entry["k"], entry["pass_at_k"], entry["graded_runs"]) == (0.75, 2, 0.75, 8)


def test_leaderboard_ranks_the_stored_votes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, "--leaderboard")
    assert code == 1 and "no votes yet" in err
    with HistoryStore(default_path()) as store:
        for _ in range(3):
            store.add_vote("deepseek-r1:14b", "deepseek-r1:1.5b", "a")
        store.add_vote("deepseek-r1:7b", "deepseek-r1:14b", "tie")
    code, out, _ = bench(capsys, "--leaderboard")
    assert code == 0
    ranking = [line.split()[1] for line in out.splitlines() if line.split()[1:2] and "deepseek" in line.split()[1]]
    assert ranking == ["deepseek-r1:14b", "deepseek-r1:7b", "deepseek-r1:1.5b"]
    code, out, _ = bench(capsys, "--leaderboard", "--json")
    board = json.loads(out)
    assert board["votes"] == 4 and board["leaderboard"][0]["model"] == "deepseek-r1:14b"
    assert board["leaderboard"][0]["wins"] == 3 and board["leaderboard"][0]["ties"] == 1


def test_bench_without_prompts_or_models_says_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = bench(capsys, "--models", "deepseek-r1:7b")
    assert code == 2 and "--prompt TEXT, --prompt-file FILE or --set NAME" in err
    code, _, err = bench(capsys, "--set", "math")
    assert code == 2 and "--models needs at least one tag" in err


def test_chart_against_vram_on_a_gpu_box(answering: SimulatedOllama, quiz: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("--host", answering.url, "--models", MODELS, "--prompt-file", str(quiz), "--chart", "vram")
    monkeypatch.setattr("tui.core.hardware._import_pynvml", lambda: FakeNvml([]))
    _, out, _ = bench(capsys, *args)
    assert "no peak VRAM was measured" in out  # graded, but nothing to put on that axis
    card = FakeGpu(total=24 * GIB, used=GIB, follows=answering)
    monkeypatch.setattr("tui.core.hardware._import_pynvml", lambda: FakeNvml([card]))
    _, out, _ = bench(capsys, *args)
    chart = out.split("per model:")[1]
    assert "peak VRAM (GiB)" in chart and "● deepseek-r1:7b  ■ deepseek-r1:1.5b" in chart
