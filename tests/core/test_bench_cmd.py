"""`r1tui bench` against the simulated server at a fixed token rate, checked against what the server reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


import pytest

from tests.fake_nvml import GIB, FakeGpu, FakeNvml, no_library
from tui.cli import main
from tui.demo import Faults, Reply, SimulatedOllama

REPLY = Reply(
    reasoning=" ".join(["Let c be chickens and r rabbits, so c + r = 35 and 2c + 4r = 94."] * 3),
    answer="There are **23 chickens** and **12 rabbits**. Check: 46 + 48 = 94.",
)
CONTRACT = {
    "model": str, "run": int, "load_s": float, "ttft_s": float, "think_s": float, "reasoning_tokens": int,
    "answer_tokens": int, "eval_count": int, "eval_tps": float, "prompt_eval_tps": (float, type(None)),
    "total_s": float, "peak_vram_bytes": (int, type(None)), "error": (str, type(None)),
}


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["bench", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_figures_match_what_the_server_reported(sim: SimulatedOllama, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The same 8 GiB card on every machine (a real GPU box too): its used memory follows the server's loads.
    card = FakeGpu(total=8 * GIB, used=GIB // 2, follows=sim)
    monkeypatch.setattr("tui.core.hardware._import_pynvml", lambda: FakeNvml([card]))
    sim.rate, sim.reply, sim.load_seconds = 200.0, REPLY, 0.3
    code, out, err = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:7b,deepseek-r1:1.5b",
                           "--prompt", "Chickens and rabbits: 35 heads, 94 legs?", "--runs", "2", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["server"] == {"url": sim.url, "version": "0.12.6", "engine": "ollama"}
    results = report["results"]
    assert [(r["model"], r["run"]) for r in results] == [
        ("deepseek-r1:7b", 1), ("deepseek-r1:7b", 2), ("deepseek-r1:1.5b", 1), ("deepseek-r1:1.5b", 2)]
    server_reports = sim.final_chunks
    assert len(server_reports) == 4
    for row, final in zip(results, server_reports):
        assert all(isinstance(row[key], kind) for key, kind in CONTRACT.items()), row
        server_tps = final["eval_count"] / (final["eval_duration"] / 1e9)
        assert row["eval_tps"] == pytest.approx(server_tps, rel=0.01)
        assert row["eval_tps"] == pytest.approx(200.0, rel=0.05)  # the server really paced 200 tokens/s
        assert row["eval_count"] == final["eval_count"]
        assert row["reasoning_tokens"] + row["answer_tokens"] == final["eval_count"]  # every token seen
        assert row["load_s"] == pytest.approx(final["load_duration"] / 1e9, rel=0.01)
        prompt_tps = final["prompt_eval_count"] / (final["prompt_eval_duration"] / 1e9)
        assert row["prompt_eval_tps"] == pytest.approx(prompt_tps, rel=0.01)
        assert row["error"] is None
        # the client's clock: thinking took about reasoning_tokens / rate, the whole run about all tokens / rate
        # (to within what the client's batched reads allow: a stream that keeps pace is read every 50 ms, so
        # either end of the thinking can be seen up to 50 ms late; a CI run under load measured 0.396 s for 0.315)
        assert row["think_s"] == pytest.approx(row["reasoning_tokens"] / 200.0, rel=0.25, abs=0.12)
        assert row["total_s"] >= row["load_s"] + row["eval_count"] / 200.0 * 0.95
    # The peak is what the card held with the model loaded: the desktop's 0.5 GiB, the 7b, then the 1.5b beside it.
    held = {name: entry["size_vram"] for name, entry in sim.loaded.items()}
    assert set(held) == {"deepseek-r1:7b", "deepseek-r1:1.5b"}
    assert [r["peak_vram_bytes"] for r in results] == [GIB // 2 + held["deepseek-r1:7b"]] * 2 + [
        GIB // 2 + held["deepseek-r1:7b"] + held["deepseek-r1:1.5b"]] * 2
    first, second = results[0], results[1]
    assert first["load_s"] == pytest.approx(0.3) and second["load_s"] == 0.0  # loading is the first run's cost
    assert first["ttft_s"] >= 0.3 > second["ttft_s"]  # time to first token includes the load
    assert "[1/4] deepseek-r1:7b run 1/2" in err and "✓" in err  # progress on stderr


def test_without_a_gpu_the_peak_is_null_and_the_runs_still_count(sim: SimulatedOllama, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tui.core.hardware._import_pynvml", no_library)
    code, out, err = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:1.5b", "--prompt", "Hi", "--json")
    assert code == 0, err
    [row] = json.loads(out)["results"]
    assert row["peak_vram_bytes"] is None and row["error"] is None and row["eval_count"] > 0


def test_missing_models_stop_the_bench_before_any_run(sim: SimulatedOllama,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, "--host", sim.url, "--models",
                           "deepseek-r1:7b,deepseek-r1:99b,deepseek-r1:14b,nope:1b", "--prompt", "Hello", "--json")
    assert code == 1
    assert out == ""  # no half report for a script to mistake for a result
    assert [path for _, path, _ in sim.requests if path == "/api/chat"] == []  # nothing ran, not even the 7b
    assert "not installed" in err and "deepseek-r1:99b, nope:1b" in err and "nothing was run" in err
    assert "r1tui pull deepseek-r1:99b" in err and "r1tui pull nope:1b" in err
    named = next(line for line in err.splitlines() if "not installed" in line)
    assert "deepseek-r1:14b" not in named and "deepseek-r1:7b" not in named  # installed ones aren't named
    assert "Traceback" not in err


def test_a_failed_run_is_an_error_entry_and_the_others_still_run(
        sim: SimulatedOllama, capsys: pytest.CaptureFixture[str]) -> None:
    sim.faults = Faults(status_before_stream=500)  # the first run fails (out of memory), once
    code, out, err = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:7b,deepseek-r1:14b",
                           "--prompt", "Hello", "--json")
    assert code == 1  # not every run succeeded
    results = json.loads(out)["results"]
    assert [r["model"] for r in results] == ["deepseek-r1:7b", "deepseek-r1:14b"]
    failed = results[0]
    assert "more system memory" in failed["error"]
    assert all(isinstance(failed[key], kind) for key, kind in CONTRACT.items())
    assert (failed["eval_count"], failed["eval_tps"]) == (0, 0.0)
    assert results[1]["error"] is None and results[1]["eval_count"] > 0 and results[1]["answer_tokens"] > 0
    assert "✖ deepseek-r1:7b" in err and "Traceback" not in err


def test_markdown_table_is_ready_to_paste(sim: SimulatedOllama, capsys: pytest.CaptureFixture[str]) -> None:
    sim.reported_rate = 50.0
    sim.faults = Faults(status_before_stream=500)
    code, out, _ = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:1.5b,deepseek-r1:7b",
                         "--prompt", "Is a | b a pipe?", "--markdown")
    assert code == 1
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| model |"))
    table = lines[header:header + 4]
    assert table[1].startswith("|---|") and "---:" in table[1]
    assert table[2].count(" | ") == table[3].count(" | ") == table[0].count(" | ")  # same number of cells
    assert table[3].startswith("| deepseek-r1:7b |") and "| 50.0 |" in table[3]
    assert table[2].startswith("| deepseek-r1:1.5b ✖ |") and "| — |" in table[2]
    assert "Is a \\| b a pipe?" in out  # the prompt, pipes escaped so the table survives
    assert "more system memory" in out


def test_context_defaults_to_the_configs(sim: SimulatedOllama, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config" / "r1tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[chat]\nnum_ctx = 16384\n")
    code, _, err = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:1.5b", "--prompt", "Hi", "--json")
    assert code == 0, err
    chats = [body for _, path, body in sim.requests if path == "/api/chat"]
    assert chats[-1]["options"]["num_ctx"] == 16384  # as the chat would send, not a fixed 4096


def test_default_output_is_an_aligned_table(sim: SimulatedOllama, capsys: pytest.CaptureFixture[str]) -> None:
    sim.reported_rate = 50.0
    code, out, _ = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:1.5b,deepseek-r1:14b", "--prompt", "Hi")
    assert code == 0
    runs_table = out.split("per model:")[0]  # the summary per model follows; it has columns of its own
    lines = [line for line in runs_table.splitlines() if line.startswith(("model", "deepseek"))]
    assert len(lines) == 3
    end = lines[0].index("eval tok/s") + len("eval tok/s")
    assert all(line[:end].endswith("50.0") for line in lines[1:])  # numbers right-aligned under their header


def test_prompt_sets_and_files_run_every_prompt(sim: SimulatedOllama, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:7b", "--set", "classic", "--json")
    assert code == 0
    assert [r["prompt"] for r in json.loads(out)["results"]] == [1, 2, 3, 4]
    sent = [body["messages"][-1]["content"] for _, path, body in sim.requests if path == "/api/chat"]
    assert "35 heads and 94 legs" in sent[0] and "palindrome" in sent[2]

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("First question?\n---\nSecond, with a blank line:\n\nstill second\n")
    code, out, _ = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:7b", "--prompt-file", str(prompts),
                         "--ctx", "8192", "--json")
    assert code == 0 and len(json.loads(out)["results"]) == 2
    chats = [body for _, path, body in sim.requests if path == "/api/chat"][-2:]
    assert chats[1]["messages"][-1]["content"] == "Second, with a blank line:\n\nstill second"
    assert chats[0]["options"]["num_ctx"] == 8192


def test_bad_inputs_fail_with_a_clear_message(sim: SimulatedOllama, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = bench(capsys, "--host", sim.url, "--models", "deepseek-r1:7b",
                           "--prompt-file", str(tmp_path / "missing.txt"))
    assert code == 2 and out == "" and "does not exist" in err
    with pytest.raises(SystemExit):
        main(["bench", "--models", "x", "--prompt", "a", "--set", "classic"])  # one prompt source only
    assert "not allowed with argument" in capsys.readouterr().err


def test_unreachable_server_exits_1() -> None:
    result = subprocess.run([sys.executable, "-m", "tui", "bench", "--host", "http://127.0.0.1:9",
                             "--models", "deepseek-r1:7b", "--prompt", "Hi", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == ""
    assert "Cannot reach the Ollama server at http://127.0.0.1:9" in result.stderr
